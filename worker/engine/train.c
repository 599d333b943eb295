/* train.c — the fine-tuning loop (see train.h for what it does and in
 * which order). Helpers come first, in the order the loop uses them; the
 * loop itself, hpt_train_run, is last and reads top to bottom. */
#include "train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define BUCKET_BATCHES 50 /* transformers' group_by_length megabatch */
#define AUGMENT_STREAM 1000u

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
  if (bad != NULL)
    return HPT_ERR(error, HPT_EINVAL, "train: %s", bad);
  return 0;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- tokenised examples ------------------------------------------------- */

/* n token sequences (owned) with their borrowed labels. */
typedef struct examples {
  hpt_token_ids_t *seqs;
  const int *labels;
  size_t n;
} examples_t;

static void examples_close(examples_t *ex) {
  for (size_t i = 0; ex->seqs && i < ex->n; i++)
    hpt_token_ids_close(&ex->seqs[i]);
  free(ex->seqs);
  memset(ex, 0, sizeof *ex);
}

/* Tokenises texts[0..n) into ex->seqs (allocated on first use). */
static int encode_all(const hpt_train_encoder_t *enc, size_t max_length,
                      const char *const *texts, size_t n, examples_t *ex,
                      hpt_error_t *error) {
  if (ex->seqs == NULL) {
    ex->seqs = calloc(n ? n : 1, sizeof *ex->seqs);
    if (ex->seqs == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
    ex->n = n;
  }
  for (size_t i = 0; i < n; i++) {
    int rc =
        enc->encode(enc->tokenizer, texts[i], max_length, &ex->seqs[i], error);
    if (rc != 0) {
      hpt_error_prefix(error, "train: text %zu", i);
      return rc;
    }
  }
  return 0;
}

/* Augments every training text with a stream fixed by (seed, epoch), then
 * tokenises the results. Validation never comes here. */
static int augment_and_encode(const hpt_train_options_t *o, int epoch,
                              const hpt_train_encoder_t *enc, size_t max_length,
                              const hpt_train_data_t *train, examples_t *ex,
                              hpt_error_t *error) {
  hpt_rng_t rng;
  hpt_rng_seed2(&rng, o->seed, AUGMENT_STREAM + (uint64_t)epoch);
  char **texts = calloc(train->n, sizeof *texts);
  if (texts == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
  int rc = 0;
  for (size_t i = 0; i < train->n && rc == 0; i++)
    rc = hpt_augment_text(o->augment, train->texts[i], o->aug_p, &rng,
                          &texts[i], error);
  if (rc == 0)
    rc = encode_all(enc, max_length, (const char *const *)texts, train->n, ex,
                    error);
  for (size_t i = 0; i < train->n; i++)
    free(texts[i]);
  free(texts);
  return rc;
}

/* ---- length-bucketed micro-batches ------------------------------------- */

typedef struct keyed {
  size_t length, index;
} keyed_t;

/* Longest first; ties by position, so the order is total. */
static int by_length_desc(const void *pa, const void *pb) {
  const keyed_t *a = pa, *b = pb;
  if (a->length != b->length)
    return a->length > b->length ? -1 : 1;
  return (a->index > b->index) - (a->index < b->index);
}

/* The epoch's micro-batches: order (n example indices) holds them back to
 * back, micro-batch m being order[starts[m] .. starts[m + 1]). Shuffle,
 * sort windows of BUCKET_BATCHES micro-batches by length, cut, then
 * shuffle the micro-batches. */
static int plan_batches(const examples_t *ex, int batch_size, hpt_rng_t *rng,
                        size_t *order, size_t *starts, size_t *n_micro,
                        hpt_error_t *error) {
  size_t n = ex->n, B = (size_t)batch_size;
  size_t n_batches = (n + B - 1) / B;
  int *perm = malloc(n * sizeof *perm);
  keyed_t *keyed = malloc(n * sizeof *keyed);
  int *batch_perm = malloc(n_batches * sizeof *batch_perm);
  size_t *sorted = malloc(n * sizeof *sorted);
  if (!perm || !keyed || !batch_perm || !sorted) {
    free(perm);
    free(keyed);
    free(batch_perm);
    free(sorted);
    return HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
  }
  for (size_t i = 0; i < n; i++)
    perm[i] = (int)i;
  hpt_rng_shuffle_ints(rng, perm, n);
  for (size_t i = 0; i < n; i++)
    keyed[i] = (keyed_t){ex->seqs[perm[i]].count, (size_t)perm[i]};
  size_t window = B * BUCKET_BATCHES;
  for (size_t w = 0; w < n; w += window) {
    size_t len = n - w < window ? n - w : window;
    qsort(keyed + w, len, sizeof *keyed, by_length_desc);
  }
  for (size_t i = 0; i < n; i++)
    sorted[i] = keyed[i].index;
  for (size_t b = 0; b < n_batches; b++)
    batch_perm[b] = (int)b;
  hpt_rng_shuffle_ints(rng, batch_perm, n_batches);
  size_t at = 0;
  for (size_t b = 0; b < n_batches; b++) {
    size_t from = (size_t)batch_perm[b] * B;
    size_t to = from + B < n ? from + B : n;
    starts[b] = at;
    for (size_t i = from; i < to; i++)
      order[at++] = sorted[i];
  }
  starts[n_batches] = at;
  *n_micro = n_batches;
  free(perm);
  free(keyed);
  free(batch_perm);
  free(sorted);
  return 0;
}

/* ---- padded batch buffers ----------------------------------------------- */

typedef struct batch_buf {
  int32_t *ids, *mask, *labels; /* (cap_rows, cap_len), ..., (cap_rows) */
  size_t cap_rows, cap_len;
} batch_buf_t;

static int batch_buf_init(batch_buf_t *buf, size_t rows, size_t len,
                          hpt_error_t *error) {
  buf->cap_rows = rows;
  buf->cap_len = len;
  buf->ids = malloc(rows * len * sizeof *buf->ids);
  buf->mask = malloc(rows * len * sizeof *buf->mask);
  buf->labels = malloc(rows * sizeof *buf->labels);
  if (!buf->ids || !buf->mask || !buf->labels)
    return HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
  return 0;
}

static void batch_buf_close(batch_buf_t *buf) {
  free(buf->ids);
  free(buf->mask);
  free(buf->labels);
  memset(buf, 0, sizeof *buf);
}

/* Pads examples rows[0..count) to their longest (dynamic padding) into
 * buf and describes them in *batch. */
static void fill_batch(batch_buf_t *buf, const examples_t *ex,
                       const size_t *rows, size_t count, int32_t pad_id,
                       hpt_model_batch_t *batch) {
  size_t T = 1;
  for (size_t r = 0; r < count; r++)
    if (ex->seqs[rows[r]].count > T)
      T = ex->seqs[rows[r]].count;
  for (size_t r = 0; r < count; r++) {
    const hpt_token_ids_t *s = &ex->seqs[rows[r]];
    for (size_t t = 0; t < T; t++) {
      bool real = t < s->count;
      buf->ids[r * T + t] = real ? s->ids[t] : pad_id;
      buf->mask[r * T + t] = real ? 1 : 0;
    }
    buf->labels[r] = ex->labels[rows[r]];
  }
  *batch = (hpt_model_batch_t){.B = (int)count,
                               .T = (int)T,
                               .input_ids = buf->ids,
                               .attention_mask = buf->mask,
                               .token_type_ids = NULL,
                               .labels = buf->labels};
}

/* ---- gradients, evaluation ---------------------------------------------- */

static void scale_grads(hpt_model_t *model, float factor) {
  if (factor == 1.0f)
    return;
  for (size_t i = 0; i < hpt_model_param_count(model); i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    for (size_t j = 0; j < p->numel; j++)
      p->grad[j] *= factor;
  }
}

/* out[0..K) = softmax(logits[0..K)), computed in double. */
static void softmax_row(const float *logits, int K, float *out) {
  double max = logits[0], sum = 0.0;
  for (int k = 1; k < K; k++)
    if (logits[k] > max)
      max = logits[k];
  for (int k = 0; k < K; k++)
    sum += exp((double)logits[k] - max);
  for (int k = 0; k < K; k++)
    out[k] = (float)(exp((double)logits[k] - max) / sum);
}

/* ---- the best epoch's weights ------------------------------------------- */

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

/* Accuracy and mean cross-entropy (no dropout, no smoothing) on `val`, in
 * batches of similar length; when probs is not NULL also the softmax of
 * every row's logits into probs (val->n, num_labels), in val order. */
static int evaluate(hpt_model_t *model, const examples_t *val, int batch_size,
                    int32_t pad_id, batch_buf_t *buf, double *accuracy,
                    double *loss, float *probs, hpt_error_t *error) {
  keyed_t *keyed = malloc(val->n * sizeof *keyed);
  size_t *rows = malloc(val->n * sizeof *rows);
  if (!keyed || !rows) {
    free(keyed);
    free(rows);
    return HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
  }
  for (size_t i = 0; i < val->n; i++)
    keyed[i] = (keyed_t){val->seqs[i].count, i};
  qsort(keyed, val->n, sizeof *keyed, by_length_desc);
  for (size_t i = 0; i < val->n; i++)
    rows[i] = keyed[i].index;
  int K = hpt_model_config(model)->num_labels, rc = 0;
  size_t correct = 0;
  double loss_sum = 0.0;
  for (size_t from = 0; from < val->n && rc == 0; from += (size_t)batch_size) {
    size_t count =
        val->n - from < (size_t)batch_size ? val->n - from : (size_t)batch_size;
    hpt_model_batch_t batch;
    fill_batch(buf, val, rows + from, count, pad_id, &batch);
    if ((rc = hpt_model_forward(model, &batch, NULL, error)) != 0)
      break;
    const float *logits = hpt_model_logits(model);
    for (size_t r = 0; r < count; r++) {
      int best = 0;
      for (int k = 1; k < K; k++)
        if (logits[r * (size_t)K + k] > logits[r * (size_t)K + best])
          best = k;
      correct += best == batch.labels[r];
      if (probs != NULL)
        softmax_row(logits + r * (size_t)K, K,
                    probs + rows[from + r] * (size_t)K);
    }
    loss_sum += (double)hpt_model_loss(model) * (double)count;
  }
  *accuracy = (double)correct / (double)val->n;
  *loss = loss_sum / (double)val->n;
  free(keyed);
  free(rows);
  return rc;
}

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
     * forward, so overriding them between passes is safe. */
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

/* ---- the loop ----------------------------------------------------------- */

int hpt_train_run(hpt_model_t *model, const hpt_train_encoder_t *encoder,
                  const hpt_train_data_t *train, const hpt_train_data_t *val,
                  const hpt_train_options_t *o, hpt_train_epoch_fn on_epoch,
                  void *user, hpt_train_result_t *result, hpt_error_t *error) {
  examples_t tr = {.labels = train->labels}, va = {.labels = val->labels};
  hpt_optimizer_t *opt = NULL;
  batch_buf_t buf = {0};
  size_t *order = NULL, *starts = NULL;
  float *snapshot = NULL, *probs = NULL; /* best weights; epoch's probs */
  int rc;

  memset(result, 0, sizeof *result);
  if ((rc = hpt_train_options_check(o, error)) != 0 ||
      (rc = prepare_model(model, train, val, o->dropout, error)) != 0)
    return rc;
  if (encoder->max_length < 2)
    return HPT_ERR(error, HPT_EINVAL, "train: max_length must be >= 2");
  long threads = o->threads ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
  openblas_set_num_threads(threads > 0 ? (int)threads : 1);
  size_t max_length = encoder->max_length < position_limit(model)
                          ? encoder->max_length
                          : position_limit(model);

  /* Tokenise: validation once, training once unless augmenting. */
  if ((rc = encode_all(encoder, max_length, val->texts, val->n, &va, error)) !=
      0)
    goto out;
  if (o->augment == NULL && (rc = encode_all(encoder, max_length, train->texts,
                                             train->n, &tr, error)) != 0)
    goto out;

  /* Schedule and optimizer. */
  size_t B = (size_t)o->batch_size, A = (size_t)o->gradient_accumulation_steps;
  size_t n_micro_max = (train->n + B - 1) / B;
  long steps_per_epoch = (long)((n_micro_max + A - 1) / A);
  hpt_optimizer_options_t oo = o->optimizer;
  oo.total_steps = steps_per_epoch * o->epochs;
  oo.warmup_steps = (long)ceil(o->warmup_ratio * (double)oo.total_steps);
  if (oo.warmup_steps >= oo.total_steps)
    oo.warmup_steps = oo.total_steps - 1;
  if ((rc = hpt_optimizer_new(model, &oo, &opt, error)) != 0)
    goto out;
  size_t buf_rows =
      B > (size_t)o->eval_batch_size ? B : (size_t)o->eval_batch_size;
  order = malloc(train->n * sizeof *order);
  starts = malloc((n_micro_max + 1) * sizeof *starts);
  if (!order || !starts) {
    rc = HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
    goto out;
  }
  if ((rc = batch_buf_init(&buf, buf_rows, max_length, error)) != 0)
    goto out;
  size_t K = (size_t)hpt_model_config(model)->num_labels;
  if ((o->restore_best && (snapshot = malloc(hpt_model_num_floats(model) *
                                             sizeof *snapshot)) == NULL) ||
      (o->val_probabilities != NULL &&
       (probs = malloc(val->n * K * sizeof *probs)) == NULL)) {
    rc = HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
    goto out;
  }

  hpt_rng_t shuffle_rng, dropout_rng;
  hpt_rng_seed2(&shuffle_rng, o->seed, 1);
  hpt_rng_seed2(&dropout_rng, o->seed, 2);
  hpt_model_mode_t mode = {.train = true,
                           .label_smoothing = (float)o->label_smoothing,
                           .rng = &dropout_rng};
  size_t trained_samples = 0;
  int since_best = 0;
  result->best_val_accuracy = -1.0;

  for (int epoch = 1; epoch <= o->epochs; epoch++) {
    /* Fresh augmentations of the training texts only. */
    if (o->augment != NULL &&
        (rc = augment_and_encode(o, epoch, encoder, max_length, train, &tr,
                                 error)) != 0)
      goto out;

    size_t n_micro = 0;
    if ((rc = plan_batches(&tr, o->batch_size, &shuffle_rng, order, starts,
                           &n_micro, error)) != 0)
      goto out;

    double t0 = now_seconds(), loss_sum = 0.0;
    for (size_t m0 = 0; m0 < n_micro; m0 += A) {
      size_t m1 = m0 + A < n_micro ? m0 + A : n_micro;
      size_t step_examples = starts[m1] - starts[m0];
      size_t prev = 0; /* examples in the previous micro-batch */
      hpt_model_zero_grad(model);
      for (size_t m = m0; m < m1; m++) {
        size_t count = starts[m + 1] - starts[m];
        hpt_model_batch_t batch;
        fill_batch(&buf, &tr, order + starts[m], count, encoder->pad_id,
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
      trained_samples += step_examples;
    }
    result->train_seconds += now_seconds() - t0;
    result->train_loss = loss_sum / (double)tr.n;

    double val_acc = 0.0, val_loss = 0.0;
    if ((rc = evaluate(model, &va, o->eval_batch_size, encoder->pad_id, &buf,
                       &val_acc, &val_loss, probs, error)) != 0)
      goto out;
    result->epochs_run = epoch;
    result->last_val_accuracy = val_acc;
    result->val_loss = val_loss;
    result->steps = hpt_optimizer_steps(opt);
    result->samples_per_second =
        (double)trained_samples / fmax(result->train_seconds, 1e-9);
    hpt_log(HPT_LOG_DEBUG, "train_epoch",
            "epoch=%d train_loss=%.4f val_loss=%.4f val_acc=%.4f "
            "samples_per_s=%.1f",
            epoch, result->train_loss, val_loss, val_acc,
            result->samples_per_second);
    if (on_epoch != NULL)
      on_epoch(user, epoch, val_acc, result->train_loss);

    /* Keep the best epoch; early stopping on validation accuracy. */
    if (val_acc > result->best_val_accuracy) {
      result->best_val_accuracy = val_acc;
      result->best_val_loss = val_loss;
      result->best_epoch = epoch;
      since_best = 0;
      if (snapshot != NULL)
        copy_weights(model, snapshot, false);
      if (probs != NULL)
        memcpy(o->val_probabilities, probs, val->n * K * sizeof *probs);
    } else if (o->patience > 0 && ++since_best >= o->patience) {
      break;
    }
  }
  if (snapshot != NULL && result->best_epoch != result->epochs_run)
    copy_weights(model, snapshot, true);

out:
  free(snapshot);
  free(probs);
  free(order);
  free(starts);
  batch_buf_close(&buf);
  hpt_optimizer_destroy(&opt);
  examples_close(&tr);
  examples_close(&va);
  return rc;
}
