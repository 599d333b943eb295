/* token_batch.h — token id sequences and padded batches, shared by the
 * tokenizers (tokenizer_wordpiece.h, tokenizer_bpe.h), and the training
 * loop's length-bucketed batch plan (train.h, on the CPU and on a GPU).
 *
 * A batch is padded dynamically: to the longest sequence in the batch,
 * not to max_length, on the right, with the tokenizer's pad id. Batches
 * of similar lengths waste little on padding; hpt_token_batch_plan cuts
 * them that way without giving up the shuffle.
 */
#ifndef HPT_TOKEN_BATCH_H
#define HPT_TOKEN_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rng.h"

/* A growable id sequence; caller storage. Fields are read-only for
 * callers; ids is owned by the struct. */
typedef struct hpt_token_ids {
  int32_t *ids;
  size_t count;
  size_t capacity;
} hpt_token_ids_t;

/* Empties *seq without allocating. Cannot fail. */
void hpt_token_ids_init(hpt_token_ids_t *seq);

/* Appends `id`. Returns 0, or HPT_ENOMEM with *seq unchanged. */
int hpt_token_ids_push(hpt_token_ids_t *seq, int32_t id, hpt_error_t *error);

/* Frees the ids and re-initialises *seq. Accepts NULL. Cannot fail. */
void hpt_token_ids_close(hpt_token_ids_t *seq);

/* A padded batch; caller storage; owns its arrays. Row r is
 * ids[r * seq_len .. (r + 1) * seq_len). */
typedef struct hpt_token_batch {
  size_t n_rows;
  size_t seq_len;          /* longest row (0 only when n_rows == 0) */
  int32_t *ids;            /* [n_rows, seq_len], padded with pad_id */
  int32_t *attention_mask; /* [n_rows, seq_len], 1 real token, 0 padding */
  size_t *lengths;         /* [n_rows], real tokens per row */
} hpt_token_batch_t;

/* Encodes `text` into *out (replacing its content); see
 * hpt_wordpiece_encode. */
typedef int (*hpt_token_encode_fn)(const void *tokenizer, const char *text,
                                   size_t max_length, hpt_token_ids_t *out,
                                   hpt_error_t *error);

/* Encodes texts[0..n_texts) with `encode` and pads them into *batch
 * (caller storage, any prior content ignored). On success the caller must
 * hpt_token_batch_close it. On failure *batch is zeroed and the error of
 * the failing text is returned, its message prefixed with "text <i>".
 * Thread-safe if `encode` is. */
int hpt_token_batch_encode(hpt_token_encode_fn encode, const void *tokenizer,
                           const char *const *texts, size_t n_texts,
                           size_t max_length, int32_t pad_id,
                           hpt_token_batch_t *batch, hpt_error_t *error);

/* Frees the batch's arrays and zeroes it. Accepts NULL. Cannot fail. */
void hpt_token_batch_close(hpt_token_batch_t *batch);

/* Length-bucketed micro-batches for one epoch, as transformers'
 * group_by_length: shuffle the n sequences seqs[0..n) with `rng`; cut the
 * shuffled order into windows of window_batches x batch_size; sort each
 * window by length, longest first (ties by index, so the order is total);
 * cut into micro-batches of batch_size (the very last one may be short);
 * shuffle the micro-batches with `rng`. On success order[0..n) (caller
 * storage) holds every index once, micro-batch m being
 * order[starts[m] .. starts[m + 1]) (starts: caller storage for
 * ceil(n / batch_size) + 1 entries), and *n_batches = ceil(n /
 * batch_size). The same rng state gives the same plan. Needs n >= 1,
 * batch_size >= 1, window_batches >= 1 (asserted). Returns 0 or
 * HPT_ENOMEM (outputs then unspecified; rng advanced or not). */
int hpt_token_batch_plan(const hpt_token_ids_t *seqs, size_t n,
                         size_t batch_size, size_t window_batches,
                         hpt_rng_t *rng, size_t *order, size_t *starts,
                         size_t *n_batches, hpt_error_t *error);

/* rows[0..n) (caller storage) = 0..n-1 ordered by seqs[i].count, longest
 * first, ties by index: evaluation batches of similar lengths in a fixed
 * order. Returns 0 or HPT_ENOMEM. */
int hpt_token_batch_sort_by_length(const hpt_token_ids_t *seqs, size_t n,
                                   size_t *rows, hpt_error_t *error);

#endif
