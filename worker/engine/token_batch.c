/* token_batch.c — see token_batch.h. */
#include "token_batch.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void hpt_token_ids_init(hpt_token_ids_t *seq) { memset(seq, 0, sizeof *seq); }

int hpt_token_ids_push(hpt_token_ids_t *seq, int32_t id, hpt_error_t *error) {
  if (seq->count == seq->capacity) {
    size_t capacity = seq->capacity ? seq->capacity * 2 : 64;
    int32_t *ids = realloc(seq->ids, capacity * sizeof *ids);
    if (ids == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "tokenizer: out of memory");
    seq->ids = ids;
    seq->capacity = capacity;
  }
  seq->ids[seq->count++] = id;
  return 0;
}

void hpt_token_ids_close(hpt_token_ids_t *seq) {
  if (seq == NULL)
    return;
  free(seq->ids);
  hpt_token_ids_init(seq);
}

void hpt_token_batch_close(hpt_token_batch_t *batch) {
  if (batch == NULL)
    return;
  free(batch->ids);
  free(batch->attention_mask);
  free(batch->lengths);
  memset(batch, 0, sizeof *batch);
}

int hpt_token_batch_encode(hpt_token_encode_fn encode, const void *tokenizer,
                           const char *const *texts, size_t n_texts,
                           size_t max_length, int32_t pad_id,
                           hpt_token_batch_t *batch, hpt_error_t *error) {
  int rc = 0;
  memset(batch, 0, sizeof *batch);
  hpt_token_ids_t *rows = calloc(n_texts ? n_texts : 1, sizeof *rows);
  if (rows == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "tokenizer: out of memory");
  size_t longest = 0;
  for (size_t i = 0; i < n_texts; i++) {
    rc = encode(tokenizer, texts[i], max_length, &rows[i], error);
    if (rc != 0) {
      hpt_error_prefix(error, "text %zu", i);
      goto out;
    }
    if (rows[i].count > longest)
      longest = rows[i].count;
  }
  batch->n_rows = n_texts;
  batch->seq_len = longest;
  size_t cells = n_texts * longest;
  batch->ids = malloc((cells ? cells : 1) * sizeof *batch->ids);
  batch->attention_mask =
      malloc((cells ? cells : 1) * sizeof *batch->attention_mask);
  batch->lengths = malloc((n_texts ? n_texts : 1) * sizeof *batch->lengths);
  if (batch->ids == NULL || batch->attention_mask == NULL ||
      batch->lengths == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "tokenizer: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n_texts; i++) {
    int32_t *ids = batch->ids + i * longest;
    int32_t *mask = batch->attention_mask + i * longest;
    for (size_t j = 0; j < longest; j++) {
      bool real = j < rows[i].count;
      ids[j] = real ? rows[i].ids[j] : pad_id;
      mask[j] = real;
    }
    batch->lengths[i] = rows[i].count;
  }
out:
  for (size_t i = 0; i < n_texts; i++)
    hpt_token_ids_close(&rows[i]);
  free(rows);
  if (rc != 0)
    hpt_token_batch_close(batch);
  return rc;
}

/* ---- length-bucketed batch plans ---------------------------------------- */

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

int hpt_token_batch_plan(const hpt_token_ids_t *seqs, size_t n,
                         size_t batch_size, size_t window_batches,
                         hpt_rng_t *rng, size_t *order, size_t *starts,
                         size_t *n_batches, hpt_error_t *error) {
  assert(n >= 1 && batch_size >= 1 && window_batches >= 1);
  size_t B = batch_size, n_b = (n + B - 1) / B;
  int *perm = malloc(n * sizeof *perm);
  keyed_t *keyed = malloc(n * sizeof *keyed);
  int *batch_perm = malloc(n_b * sizeof *batch_perm);
  int rc = 0;
  if (!perm || !keyed || !batch_perm) {
    rc = HPT_ERR(error, HPT_ENOMEM, "batch plan: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    perm[i] = (int)i;
  hpt_rng_shuffle_ints(rng, perm, n);
  for (size_t i = 0; i < n; i++)
    keyed[i] = (keyed_t){seqs[perm[i]].count, (size_t)perm[i]};
  size_t window = B * window_batches;
  for (size_t w = 0; w < n; w += window) {
    size_t len = n - w < window ? n - w : window;
    qsort(keyed + w, len, sizeof *keyed, by_length_desc);
  }
  for (size_t b = 0; b < n_b; b++)
    batch_perm[b] = (int)b;
  hpt_rng_shuffle_ints(rng, batch_perm, n_b);
  size_t at = 0;
  for (size_t b = 0; b < n_b; b++) {
    size_t from = (size_t)batch_perm[b] * B;
    size_t to = from + B < n ? from + B : n;
    starts[b] = at;
    for (size_t i = from; i < to; i++)
      order[at++] = keyed[i].index;
  }
  starts[n_b] = at;
  *n_batches = n_b;
out:
  free(perm);
  free(keyed);
  free(batch_perm);
  return rc;
}

int hpt_token_batch_sort_by_length(const hpt_token_ids_t *seqs, size_t n,
                                   size_t *rows, hpt_error_t *error) {
  keyed_t *keyed = malloc((n ? n : 1) * sizeof *keyed);
  if (keyed == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "batch plan: out of memory");
  for (size_t i = 0; i < n; i++)
    keyed[i] = (keyed_t){seqs[i].count, i};
  qsort(keyed, n, sizeof *keyed, by_length_desc);
  for (size_t i = 0; i < n; i++)
    rows[i] = keyed[i].index;
  free(keyed);
  return 0;
}
