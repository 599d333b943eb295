/* train_gpu.c — hpt_train_run's loop on a CUDA device (train.h's top
 * says what it does; gpu_model.h is the backend). It mirrors the CPU loop
 * in train.c step for step, on the same batches (train_data.c) with the
 * same schedule and the same per-epoch bookkeeping (hpt__train_epoch_end):
 *
 *   copy the model to the device; reserve for the largest batch (or
 *     evaluate in training-sized batches when a larger one does not fit);
 *     AdamW
 *   for each epoch:
 *     plan the epoch's micro-batches (augmenting first when asked)
 *     for each optimizer step: zero grad; for each micro-batch: forward
 *       (dropout, label smoothing) and backward weighted count /
 *       step_examples (so the step sees the mean over its examples);
 *       AdamW step (clipping and schedule on the device)
 *     read the epoch's loss sum (the one sync of the training pass) and
 *       the optimizer's state (a non-finite gradient ends the run)
 *     evaluate: forward + read the logits back, batch by batch
 *     bookkeeping; at a new best epoch with restore_best, read the
 *       weights back into the host model (that is the snapshot)
 *   read the final weights back (without restore_best)
 *
 * Everything here is queued on the device's stream and waits only where
 * it reads something back. Every call into gpu_model.h is checked; its
 * messages are one line and name the CUDA call, and they reach the caller
 * prefixed with "train: cuda:N".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_model.h"
#include "train_internal.h"

/* rc of a gpu_model.h call, its message prefixed with "train: cuda:N"
 * when it failed. */
static int on_device(int rc, const hpt__train_t *t, hpt_error_t *error) {
  if (rc != 0)
    hpt_error_prefix(error, "train: %s", t->o->device);
  return rc;
}

/* Accuracy and mean cross-entropy (no dropout, no smoothing) on the
 * validation set, in batches of EB rows as the CPU loop's evaluate;
 * logits is host storage for (EB, K) floats. */
static int evaluate(hpt__train_t *t, hpt_gpu_model_t *g, size_t EB,
                    float *logits, double *accuracy, double *loss,
                    hpt_error_t *error) {
  size_t n = t->va.n, correct = 0;
  double loss_sum = 0.0;
  int rc = 0;
  for (size_t from = 0; from < n; from += EB) {
    size_t count = n - from < EB ? n - from : EB;
    const size_t *rows = t->eval_rows + from;
    hpt_model_batch_t batch;
    float batch_loss = 0.0f;
    hpt__train_fill_batch(t, &t->va, rows, count, &batch);
    if ((rc = on_device(hpt_gpu_model_forward(g, &batch, NULL, error), t,
                        error)) != 0 ||
        (rc = on_device(
             hpt_gpu_model_read_outputs(g, logits, &batch_loss, error), t,
             error)) != 0)
      break;
    hpt__train_eval_batch(t, rows, count, logits, batch_loss, &correct,
                          &loss_sum);
  }
  *accuracy = (double)correct / (double)n;
  *loss = loss_sum / (double)n;
  return rc;
}

/* HPT_ESTATE when the epoch's steps met a non-finite gradient: in fp32
 * and bf16 any such step (the CPU engine fails at the first), in fp16
 * once the loss scale has fallen below 1 (gradients overflow even
 * unscaled; until then skipping is GradScaler's normal work). */
static int check_finite(const hpt__train_t *t, const hpt_gpu_step_info_t *info,
                        int epoch, hpt_error_t *error) {
  bool fp16 = t->o->amp == HPT_GPU_AMP_FP16;
  if (fp16 ? info->loss_scale < 1.0f : info->nonfinite_steps > 0)
    return HPT_ERR(error, HPT_ESTATE,
                   "train: epoch %d: %ld of %ld steps had a non-finite "
                   "gradient and were skipped (amp %s, last norm %g, loss "
                   "scale %g): the run diverged",
                   epoch, info->nonfinite_steps, info->steps,
                   hpt_gpu_amp_name(t->o->amp), info->grad_norm,
                   (double)info->loss_scale);
  return 0;
}

int hpt__train_loop_gpu(hpt__train_t *t, hpt_train_epoch_fn on_epoch,
                        void *user, hpt_train_result_t *result,
                        hpt_error_t *error) {
  const hpt_train_options_t *o = t->o;
  hpt_gpu_model_t *g = NULL;
  float *logits = NULL; /* (eval_B, K): one evaluation batch */
  int rc;

  /* The device copy: weights, optimizer state, activations for the
   * largest batch (training or evaluation, longest sequence; with
   * augmentation the longest is not known yet, so max_length). An
   * evaluation batch larger than the training batch is a convenience:
   * when the device cannot hold it, evaluation goes in batches of the
   * training size instead, so that what must fit is batch_size, the one
   * the study chose, and an out-of-memory message is about it. */
  hpt_gpu_options_t go = {.device = t->device, .amp = o->amp, .graphs = true};
  int eval_B = o->eval_batch_size;
  size_t max_T =
      o->augment != NULL || t->longest == 0 ? t->max_length : t->longest;
  if ((rc = on_device(hpt_gpu_model_new(t->model, &go, &g, error), t, error)) !=
      0)
    goto out;
  hpt_gpu_model_set_dropout(g, o->dropout);
  rc = hpt_gpu_model_reserve(g, o->batch_size > eval_B ? o->batch_size : eval_B,
                             (int)max_T, error);
  if (rc == HPT_ENOMEM && eval_B > o->batch_size) {
    eval_B = o->batch_size;
    rc = hpt_gpu_model_reserve(g, o->batch_size, (int)max_T, error);
  }
  if ((rc = on_device(rc, t, error)) != 0 ||
      (rc = on_device(hpt_gpu_model_optimizer_init(g, &t->optimizer, error), t,
                      error)) != 0)
    goto out;
  logits = malloc((size_t)eval_B * t->K * sizeof *logits);
  if (logits == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
    goto out;
  }
  hpt_gpu_mode_t mode = {.train = true,
                         .label_smoothing = (float)o->label_smoothing,
                         .seed = hpt_rng_next(&t->dropout_rng)};
  size_t A = (size_t)o->gradient_accumulation_steps;

  for (int epoch = 1; epoch <= o->epochs; epoch++) {
    /* Augment (when asked), plan the epoch's micro-batches. */
    if ((rc = hpt__train_epoch_plan(t, epoch, error)) != 0)
      goto out;
    double loss_sum = 0.0; /* first: drop the last evaluation's losses */
    if ((rc = on_device(hpt_gpu_model_take_loss_sum(g, &loss_sum, error), t,
                        error)) != 0)
      goto out;

    double t0 = hpt__train_now();
    for (size_t m0 = 0; m0 < t->n_micro; m0 += A) {
      size_t m1 = m0 + A < t->n_micro ? m0 + A : t->n_micro;
      size_t step_examples = t->starts[m1] - t->starts[m0];
      if ((rc = on_device(hpt_gpu_model_zero_grad(g, error), t, error)) != 0)
        goto out;
      for (size_t m = m0; m < m1; m++) {
        size_t count = t->starts[m + 1] - t->starts[m];
        hpt_model_batch_t batch;
        hpt__train_fill_batch(t, &t->tr, t->order + t->starts[m], count,
                              &batch);
        float weight = (float)((double)count / (double)step_examples);
        if ((rc = on_device(hpt_gpu_model_forward(g, &batch, &mode, error), t,
                            error)) != 0 ||
            (rc = on_device(hpt_gpu_model_backward(g, weight, error), t,
                            error)) != 0)
          goto out;
      }
      if ((rc = on_device(hpt_gpu_model_step(g, error), t, error)) != 0)
        goto out;
      t->trained_samples += step_examples;
    }
    /* Waits for the epoch's work: the loss, then the optimizer's state. */
    hpt_gpu_step_info_t info;
    if ((rc = on_device(hpt_gpu_model_take_loss_sum(g, &loss_sum, error), t,
                        error)) != 0 ||
        (rc = on_device(hpt_gpu_model_step_info(g, &info, error), t, error)) !=
            0)
      goto out;
    result->train_seconds += hpt__train_now() - t0;
    result->train_loss = loss_sum / (double)t->tr.n;
    result->steps = info.steps;
    if ((rc = check_finite(t, &info, epoch, error)) != 0)
      goto out;

    double val_acc = 0.0, val_loss = 0.0;
    if ((rc = evaluate(t, g, (size_t)eval_B, logits, &val_acc, &val_loss,
                       error)) != 0)
      goto out;
    bool improved = false;
    bool stop = hpt__train_epoch_end(t, epoch, val_acc, val_loss, on_epoch,
                                     user, result, &improved);
    /* The host model is idle during the run: it is the snapshot. */
    if (improved && o->restore_best &&
        (rc = on_device(hpt_gpu_model_read_params(g, t->model, true, error), t,
                        error)) != 0)
      goto out;
    if (stop)
      break;
  }
  /* With restore_best the host model already holds the best epoch's. */
  if (!o->restore_best &&
      (rc = on_device(hpt_gpu_model_read_params(g, t->model, true, error), t,
                      error)) != 0)
    goto out;

out:
  if (g != NULL)
    result->peak_gpu_bytes = hpt_gpu_model_peak_bytes(g);
  free(logits);
  hpt_gpu_model_destroy(&g);
  return rc;
}
