/* train_data.c — the fine-tuning loop's data side (train_internal.h):
 * tokenised examples, augmentation, the epoch's length-bucketed batch
 * plan, padded batch buffers and the scoring of evaluation batches. Used
 * alike by the CPU loop (train.c) and the GPU loop (train_gpu.c), so both
 * see the same batches for the same seed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_internal.h"

#define AUGMENT_STREAM 1000u

/* ---- tokenised examples ------------------------------------------------- */

void hpt__train_examples_close(hpt__train_examples_t *ex) {
  for (size_t i = 0; ex->seqs && i < ex->n; i++)
    hpt_token_ids_close(&ex->seqs[i]);
  free(ex->seqs);
  memset(ex, 0, sizeof *ex);
}

int hpt__train_encode_all(const hpt_train_encoder_t *enc, size_t max_length,
                          const char *const *texts, size_t n,
                          hpt__train_examples_t *ex, size_t *longest,
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
    if (ex->seqs[i].count > *longest)
      *longest = ex->seqs[i].count;
  }
  return 0;
}

/* Augments every training text with a stream fixed by (seed, epoch), then
 * tokenises the results. Validation never comes here. */
static int augment_and_encode(hpt__train_t *t, int epoch, hpt_error_t *error) {
  const hpt_train_options_t *o = t->o;
  const hpt_train_data_t *train = t->train;
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
    rc = hpt__train_encode_all(t->encoder, t->max_length,
                               (const char *const *)texts, train->n, &t->tr,
                               &t->longest, error);
  for (size_t i = 0; i < train->n; i++)
    free(texts[i]);
  free(texts);
  return rc;
}

int hpt__train_epoch_plan(hpt__train_t *t, int epoch, hpt_error_t *error) {
  int rc;
  if (t->o->augment != NULL && (rc = augment_and_encode(t, epoch, error)) != 0)
    return rc;
  if ((rc = hpt_token_batch_plan(t->tr.seqs, t->tr.n, (size_t)t->o->batch_size,
                                 HPT__TRAIN_BUCKET_BATCHES, &t->shuffle_rng,
                                 t->order, t->starts, &t->n_micro, error)) != 0)
    hpt_error_prefix(error, "train");
  return rc;
}

/* ---- padded batch buffers ----------------------------------------------- */

int hpt__train_batch_buf_init(hpt__train_batch_buf_t *buf, size_t rows,
                              size_t len, hpt_error_t *error) {
  buf->cap_rows = rows;
  buf->cap_len = len;
  buf->ids = malloc(rows * len * sizeof *buf->ids);
  buf->mask = malloc(rows * len * sizeof *buf->mask);
  buf->labels = malloc(rows * sizeof *buf->labels);
  if (!buf->ids || !buf->mask || !buf->labels)
    return HPT_ERR(error, HPT_ENOMEM, "train: out of memory");
  return 0;
}

void hpt__train_batch_buf_close(hpt__train_batch_buf_t *buf) {
  free(buf->ids);
  free(buf->mask);
  free(buf->labels);
  memset(buf, 0, sizeof *buf);
}

void hpt__train_fill_batch(hpt__train_t *t, const hpt__train_examples_t *ex,
                           const size_t *rows, size_t count,
                           hpt_model_batch_t *batch) {
  hpt__train_batch_buf_t *buf = &t->buf;
  int32_t pad_id = t->encoder->pad_id;
  size_t T = 1;
  for (size_t r = 0; r < count; r++)
    if (ex->seqs[rows[r]].count > T)
      T = ex->seqs[rows[r]].count;
  for (size_t r = 0; r < count; r++) {
    const hpt_token_ids_t *s = &ex->seqs[rows[r]];
    for (size_t i = 0; i < T; i++) {
      bool real = i < s->count;
      buf->ids[r * T + i] = real ? s->ids[i] : pad_id;
      buf->mask[r * T + i] = real ? 1 : 0;
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

/* ---- scoring evaluation batches ----------------------------------------- */

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

void hpt__train_eval_batch(hpt__train_t *t, const size_t *rows, size_t count,
                           const float *logits, float loss, size_t *correct,
                           double *loss_sum) {
  int K = (int)t->K;
  for (size_t r = 0; r < count; r++) {
    int best = 0;
    for (int k = 1; k < K; k++)
      if (logits[r * (size_t)K + k] > logits[r * (size_t)K + best])
        best = k;
    *correct += best == t->va.labels[rows[r]];
    if (t->probs != NULL)
      softmax_row(logits + r * (size_t)K, K, t->probs + rows[r] * (size_t)K);
  }
  *loss_sum += (double)loss * (double)count;
}
