/* train.c — the fine-tuning loop (see train.h for what it does and in
 * which order): options, the run's setup and the per-epoch bookkeeping
 * that both devices share, then the CPU loop, which reads top to bottom,
 * and hpt_train_run, which picks the device. The data side (tokenising,
 * batch plans, padding) is train_data.c; the GPU loop is train_gpu.c. */
#include "train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "train_internal.h"

void hpt_train_options_default(hpt_train_options_t *o) {
  memset(o, 0, sizeof *o);
  o->epochs = 3;
  o->batch_size = 16;
  o->gradient_accumulation_steps = 1;
  o->warmup_ratio = 0.1;
  o->dropout = -1.0;
  o->label_smoothing = 0.0;
  o->patience = 0;
  o->eval_batch_size = 64;
  o->threads = 0;
  o->seed = 42;
  hpt_optimizer_defaults(&o->optimizer);
  o->optimizer.lr_backbone = 5e-5;
  o->optimizer.lr_head = 1e-3;
  o->augment = NULL;
  o->aug_p = 0.1;
  o->device = NULL;
  o->amp = HPT_GPU_AMP_OFF;
}

int hpt_train_options_check(const hpt_train_options_t *o, hpt_error_t *error) {
  const char *bad = NULL;
  if (o->epochs < 1 || o->epochs > 10000)
    bad = "epochs must be in 1..10000";
  else if (o->batch_size < 1 || o->batch_size > 65536)
    bad = "batch_size must be in 1..65536";
  else if (o->gradient_accumulation_steps < 1 ||
           o->gradient_accumulation_steps > 65536)
    bad = "gradient_accumulation_steps must be in 1..65536";
  else if (!(o->warmup_ratio >= 0.0 && o->warmup_ratio <= 1.0))
    bad = "warmup_ratio must be in [0, 1]";
  else if (!(o->dropout < 1.0) || isnan(o->dropout))
    bad = "dropout must be in [0, 1)";
  else if (!(o->label_smoothing >= 0.0 && o->label_smoothing < 1.0))
    bad = "label_smoothing must be in [0, 1)";
  else if (o->patience < 0)
    bad = "patience must be >= 0";
  else if (o->eval_batch_size < 1)
    bad = "eval_batch_size must be >= 1";
  else if (o->threads < 0)
    bad = "threads must be >= 0";
  else if (!(o->aug_p >= 0.0 && o->aug_p <= 1.0))
    bad = "aug_p must be in [0, 1]";
  else if (o->amp != HPT_GPU_AMP_OFF && o->amp != HPT_GPU_AMP_BF16 &&
           o->amp != HPT_GPU_AMP_FP16)
    bad = "amp must be off, bf16 or fp16";
  if (bad != NULL)
    return HPT_ERR(error, HPT_EINVAL, "train: %s", bad);
  int ordinal = -1;
  if (o->device != NULL &&
      hpt_gpu_device_parse(o->device, &ordinal, error) != 0) {
    hpt_error_prefix(error, "train");
    return HPT_EINVAL;
  }
  if (ordinal < 0 && o->amp != HPT_GPU_AMP_OFF)
    return HPT_ERR(error, HPT_EINVAL,
                   "train: amp %s needs a cuda device (the CPU engine "
                   "trains in fp32)",
                   hpt_gpu_amp_name(o->amp));
  return 0;
}

double hpt__train_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the run's setup ---------------------------------------------------- */

/* Checks that labels fit the head and sets the dropout override. */
static int prepare_model(hpt_model_t *model, const hpt_train_data_t *train,
                         const hpt_train_data_t *val, double dropout,
                         hpt_error_t *error) {
  const hpt_model_config_t *c = hpt_model_config(model);
  const hpt_train_data_t *sets[2] = {train, val};
  for (int s = 0; s < 2; s++) {
    if (sets[s]->n == 0)
      return HPT_ERR(error, HPT_EINVAL, "train: no %s examples",
                     s == 0 ? "training" : "validation");
    for (size_t i = 0; i < sets[s]->n; i++)
      if (sets[s]->labels[i] < 0 || sets[s]->labels[i] >= c->num_labels)
        return HPT_ERR(error, HPT_EINVAL,
                       "train: label %d of %s example %zu is not in [0, %d)",
                       sets[s]->labels[i], s == 0 ? "training" : "validation",
                       i, c->num_labels);
  }
  if (dropout >= 0.0) {
    /* model.h has no setter; the passes read these fields at every
     * forward (and a GPU model copies them when it is made), so
     * overriding them between passes is safe. */
    hpt_model_config_t *mc = (hpt_model_config_t *)c;
    mc->hidden_dropout = mc->attention_dropout = mc->classifier_dropout =
        dropout;
  }
  return 0;
}

/* The longest sequence the position table takes (RoBERTa's positions
 * start after the pad id). */
static size_t position_limit(const hpt_model_t *model) {
  const hpt_model_config_t *c = hpt_model_config(model);
  if (c->model_type == HPT_MODEL_ROBERTA)
    return (size_t)(c->max_positions - c->pad_token_id - 1);
  return (size_t)c->max_positions;
}

/* The optimizer's options with the schedule of train.h's top: total =
 * epochs x ceil(micro-batches / accumulation), warm-up = ceil(ratio x
 * total), at most total - 1. The same for both devices. */
static hpt_optimizer_options_t schedule(const hpt_train_options_t *o,
                                        size_t n_train) {
  size_t B = (size_t)o->batch_size, A = (size_t)o->gradient_accumulation_steps;
  size_t n_micro_max = (n_train + B - 1) / B;
  long steps_per_epoch = (long)((n_micro_max + A - 1) / A);
  hpt_optimizer_options_t oo = o->optimizer;
  oo.total_steps = steps_per_epoch * o->epochs;
  oo.warmup_steps = (long)ceil(o->warmup_ratio * (double)oo.total_steps);
  if (oo.warmup_steps >= oo.total_steps)
    oo.warmup_steps = oo.total_steps - 1;
  return oo;
}

/* Everything both loops need (train_internal.h): checks, tokenising
 * (validation once; training once unless augmenting), the schedule, the
 * buffers and the seeded streams. On failure the caller still runs
 * teardown. */
static int setup(hpt__train_t *t, hpt_error_t *error) {
  const hpt_train_options_t *o = t->o;
  int rc;
  t->device = -1;
  if ((rc = hpt_train_options_check(o, error)) != 0 ||
      (rc = prepare_model(t->model, t->train, t->val, o->dropout, error)) != 0)
    return rc;
  if (t->encoder->max_length < 2)
    return HPT_ERR(error, HPT_EINVAL, "train: max_length must be >= 2");
  if (o->device != NULL &&
      (rc = hpt_gpu_device_parse(o->device, &t->device, error)) != 0)
    return rc; /* checked above: cannot happen */
  long threads = o->threads ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
  openblas_set_num_threads(threads > 0 ? (int)threads : 1);
  t->max_length = t->encoder->max_length < position_limit(t->model)
                      ? t->encoder->max_length
                      : position_limit(t->model);

  if ((rc = hpt__train_encode_all(t->encoder, t->max_length, t->val->texts,
                                  t->val->n, &t->va, &t->longest, error)) != 0)
    return rc;
  if (o->augment == NULL && (rc = hpt__train_encode_all(
                                 t->encoder, t->max_length, t->train->texts,
                                 t->train->n, &t->tr, &t->longest, error)) != 0)
    return rc;

  t->optimizer = schedule(o, t->train->n);
  size_t B = (size_t)o->batch_size, n = t->train->n;
  size_t rows = B > (size_t)o->eval_batch_size ? B : (size_t)o->eval_batch_size;
  t->K = (size_t)hpt_model_config(t->model)->num_labels;
  t->order = malloc(n * sizeof *t->order);
  t->starts = malloc(((n + B - 1) / B + 1) * sizeof *t->starts);
  t->eval_rows = malloc(t->val->n * sizeof *t->eval_rows);
  if (o->val_probabilities != NULL)
    t->probs = malloc(t->val->n * t->K * sizeof *t->probs);
  if (!t->order || !t->starts || !t->eval_rows ||
      (o->val_probabilities != NULL && !t->probs))
    return HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
  if ((rc = hpt__train_batch_buf_init(&t->buf, rows, t->max_length, error)) !=
          0 ||
      (rc = hpt_token_batch_sort_by_length(t->va.seqs, t->va.n, t->eval_rows,
                                           error)) != 0)
    return rc;
  hpt_rng_seed2(&t->shuffle_rng, o->seed, 1);
  hpt_rng_seed2(&t->dropout_rng, o->seed, 2);
  return 0;
}

static void teardown(hpt__train_t *t) {
  free(t->probs);
  free(t->order);
  free(t->starts);
  free(t->eval_rows);
  hpt__train_batch_buf_close(&t->buf);
  hpt__train_examples_close(&t->tr);
  hpt__train_examples_close(&t->va);
}

/* ---- after each epoch, on either device --------------------------------- */

bool hpt__train_epoch_end(hpt__train_t *t, int epoch, double val_accuracy,
                          double val_loss, hpt_train_epoch_fn on_epoch,
                          void *user, hpt_train_result_t *result,
                          bool *improved) {
  const hpt_train_options_t *o = t->o;
  result->epochs_run = epoch;
  result->last_val_accuracy = val_accuracy;
  result->val_loss = val_loss;
  result->samples_per_second =
      (double)t->trained_samples / fmax(result->train_seconds, 1e-9);
  hpt_log(HPT_LOG_DEBUG, "train_epoch",
          "epoch=%d train_loss=%.4f val_loss=%.4f val_acc=%.4f "
          "samples_per_s=%.1f device=%s",
          epoch, result->train_loss, val_loss, val_accuracy,
          result->samples_per_second, o->device ? o->device : "cpu");
  if (on_epoch != NULL)
    on_epoch(user, epoch, val_accuracy, result->train_loss);

  /* Keep the best epoch; early stopping on validation accuracy. */
  *improved = val_accuracy > result->best_val_accuracy;
  if (*improved) {
    result->best_val_accuracy = val_accuracy;
    result->best_val_loss = val_loss;
    result->best_epoch = epoch;
    t->since_best = 0;
    if (t->probs != NULL)
      memcpy(o->val_probabilities, t->probs,
             t->val->n * t->K * sizeof *t->probs);
    return false;
  }
  return o->patience > 0 && ++t->since_best >= o->patience;
}

/* ---- the CPU loop ------------------------------------------------------- */

static void scale_grads(hpt_model_t *model, float factor) {
  if (factor == 1.0f)
    return;
  for (size_t i = 0; i < hpt_model_param_count(model); i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    for (size_t j = 0; j < p->numel; j++)
      p->grad[j] *= factor;
  }
}

/* Copies every parameter's values into snapshot (hpt_model_num_floats),
 * or back from it into the model when `restore`. */
static void copy_weights(hpt_model_t *model, float *snapshot, bool restore) {
  size_t at = 0;
  for (size_t i = 0; i < hpt_model_param_count(model); i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    if (restore)
      memcpy(p->value, snapshot + at, p->numel * sizeof *p->value);
    else
      memcpy(snapshot + at, p->value, p->numel * sizeof *p->value);
    at += p->numel;
  }
}

/* Accuracy and mean cross-entropy (no dropout, no smoothing) on the
 * validation set, in batches of similar length (t->eval_rows); the
 * probabilities go to t->probs when set. */
static int evaluate(hpt__train_t *t, double *accuracy, double *loss,
                    hpt_error_t *error) {
  size_t n = t->va.n, EB = (size_t)t->o->eval_batch_size, correct = 0;
  double loss_sum = 0.0;
  int rc = 0;
  for (size_t from = 0; from < n; from += EB) {
    size_t count = n - from < EB ? n - from : EB;
    const size_t *rows = t->eval_rows + from;
    hpt_model_batch_t batch;
    hpt__train_fill_batch(t, &t->va, rows, count, &batch);
    if ((rc = hpt_model_forward(t->model, &batch, NULL, error)) != 0)
      break;
    hpt__train_eval_batch(t, rows, count, hpt_model_logits(t->model),
                          hpt_model_loss(t->model), &correct, &loss_sum);
  }
  *accuracy = (double)correct / (double)n;
  *loss = loss_sum / (double)n;
  return rc;
}

static int train_loop_cpu(hpt__train_t *t, hpt_train_epoch_fn on_epoch,
                          void *user, hpt_train_result_t *result,
                          hpt_error_t *error) {
  const hpt_train_options_t *o = t->o;
  hpt_model_t *model = t->model;
  hpt_optimizer_t *opt = NULL;
  float *snapshot = NULL; /* the best epoch's weights (restore_best) */
  int rc;

  if ((rc = hpt_optimizer_new(model, &t->optimizer, &opt, error)) != 0)
    goto out;
  if (o->restore_best && (snapshot = malloc(hpt_model_num_floats(model) *
                                            sizeof *snapshot)) == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
    goto out;
  }
  hpt_model_mode_t mode = {.train = true,
                           .label_smoothing = (float)o->label_smoothing,
                           .rng = &t->dropout_rng};
  size_t A = (size_t)o->gradient_accumulation_steps;

  for (int epoch = 1; epoch <= o->epochs; epoch++) {
    /* Augment (when asked), plan the epoch's micro-batches. */
    if ((rc = hpt__train_epoch_plan(t, epoch, error)) != 0)
      goto out;

    double t0 = hpt__train_now(), loss_sum = 0.0;
    for (size_t m0 = 0; m0 < t->n_micro; m0 += A) {
      size_t m1 = m0 + A < t->n_micro ? m0 + A : t->n_micro;
      size_t step_examples = t->starts[m1] - t->starts[m0];
      size_t prev = 0; /* examples in the previous micro-batch */
      hpt_model_zero_grad(model);
      for (size_t m = m0; m < m1; m++) {
        size_t count = t->starts[m + 1] - t->starts[m];
        hpt_model_batch_t batch;
        hpt__train_fill_batch(t, &t->tr, t->order + t->starts[m], count,
                              &batch);
        if ((rc = hpt_model_forward(model, &batch, &mode, error)) != 0)
          goto out;
        loss_sum += (double)hpt_model_loss(model) * (double)count;
        /* Keep the running sum weighted so that, after the final scale,
         * micro-batch k counts count_k / step_examples (its mean loss's
         * gradient is per example). */
        if (prev != 0)
          scale_grads(model, (float)((double)prev / (double)count));
        if ((rc = hpt_model_backward(model, error)) != 0)
          goto out;
        prev = count;
      }
      scale_grads(model, (float)((double)prev / (double)step_examples));
      if ((rc = hpt_optimizer_step(opt, NULL, error)) != 0) {
        hpt_error_prefix(error, "train: epoch %d", epoch);
        goto out;
      }
      t->trained_samples += step_examples;
    }
    result->train_seconds += hpt__train_now() - t0;
    result->train_loss = loss_sum / (double)t->tr.n;
    result->steps = hpt_optimizer_steps(opt);

    double val_acc = 0.0, val_loss = 0.0;
    if ((rc = evaluate(t, &val_acc, &val_loss, error)) != 0)
      goto out;
    bool improved = false;
    bool stop = hpt__train_epoch_end(t, epoch, val_acc, val_loss, on_epoch,
                                     user, result, &improved);
    if (improved && snapshot != NULL)
      copy_weights(model, snapshot, false);
    if (stop)
      break;
  }
  if (snapshot != NULL && result->best_epoch != result->epochs_run)
    copy_weights(model, snapshot, true);

out:
  free(snapshot);
  hpt_optimizer_destroy(&opt);
  return rc;
}

/* ---- the run ------------------------------------------------------------ */

int hpt_train_run(hpt_model_t *model, const hpt_train_encoder_t *encoder,
                  const hpt_train_data_t *train, const hpt_train_data_t *val,
                  const hpt_train_options_t *o, hpt_train_epoch_fn on_epoch,
                  void *user, hpt_train_result_t *result, hpt_error_t *error) {
  hpt__train_t t = {.model = model,
                    .encoder = encoder,
                    .train = train,
                    .val = val,
                    .o = o,
                    .tr = {.labels = train->labels},
                    .va = {.labels = val->labels}};
  memset(result, 0, sizeof *result);
  int rc = setup(&t, error);
  result->best_val_accuracy = -1.0; /* any first epoch improves on it */
  if (rc == 0)
    rc = t.device >= 0 ? hpt__train_loop_gpu(&t, on_epoch, user, result, error)
                       : train_loop_cpu(&t, on_epoch, user, result, error);
  teardown(&t);
  return rc;
}
