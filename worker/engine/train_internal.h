/* train_internal.h — what the fine-tuning loop's files share (private to
 * the train room; nothing outside worker/engine/train*.c includes it):
 *
 *   train.c       options, the run's setup (tokenise, schedule, buffers),
 *                 the per-epoch bookkeeping and the CPU loop
 *   train_data.c  tokenised examples, augmentation, the epoch's batch plan,
 *                 padded batch buffers, scoring evaluation batches
 *   train_gpu.c   the same loop on a CUDA device (gpu_model.h)
 *
 * Both loops take the same batches in the same order (same seed, same
 * plan), the same schedule and the same parameter groups; only the device
 * that runs forward, backward and the AdamW step differs.
 */
#ifndef HPT_TRAIN_INTERNAL_H
#define HPT_TRAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "train.h"

#define HPT__TRAIN_BUCKET_BATCHES 50 /* transformers' group_by_length */

/* n token sequences (owned) with their borrowed labels. */
typedef struct hpt__train_examples {
  hpt_token_ids_t *seqs;
  const int *labels;
  size_t n;
} hpt__train_examples_t;

/* Host buffers for one padded batch. */
typedef struct hpt__train_batch_buf {
  int32_t *ids, *mask, *labels; /* (cap_rows, cap_len), same, (cap_rows) */
  size_t cap_rows, cap_len;
} hpt__train_batch_buf_t;

/* One run's state; set up by train.c's setup, read by both loops. Every
 * pointer to a caller's object is borrowed for the run; arrays are owned
 * and freed by train.c. */
typedef struct hpt__train {
  hpt_model_t *model;
  const hpt_train_encoder_t *encoder;
  const hpt_train_data_t *train, *val;
  const hpt_train_options_t *o;
  int device;                        /* -1: CPU; >= 0: CUDA ordinal */
  size_t max_length;                 /* encoder's, cut to the position table */
  size_t longest;                    /* longest tokenised sequence so far */
  hpt__train_examples_t tr, va;      /* tr is re-tokenised per epoch when
                                        augmenting; va once */
  hpt_optimizer_options_t optimizer; /* o->optimizer with the schedule's
                                        warmup_steps and total_steps */
  size_t *order, *starts;     /* the epoch's plan (hpt_token_batch_plan) */
  size_t n_micro;             /* micro-batches this epoch */
  size_t *eval_rows;          /* validation rows, longest first */
  hpt__train_batch_buf_t buf; /* max(batch, eval batch) x max_length */
  size_t K;                   /* labels */
  float *probs;               /* (val->n, K) this epoch's probabilities;
                                 NULL unless o->val_probabilities */
  hpt_rng_t shuffle_rng, dropout_rng;
  size_t trained_samples;
  int since_best; /* epochs since the best one (early stopping) */
} hpt__train_t;

/* ---- train_data.c ------------------------------------------------------ */

/* Frees ex's sequences and zeroes it. Cannot fail. */
void hpt__train_examples_close(hpt__train_examples_t *ex);

/* Tokenises texts[0..n) into ex->seqs (allocated on first use) and raises
 * *longest to the longest result. HPT_EPARSE (a text the tokenizer
 * refuses, prefixed "train: text I") or HPT_ENOMEM. */
int hpt__train_encode_all(const hpt_train_encoder_t *enc, size_t max_length,
                          const char *const *texts, size_t n,
                          hpt__train_examples_t *ex, size_t *longest,
                          hpt_error_t *error);

/* The epoch's batches: when augmenting, fresh augmentations of the
 * training texts (a stream fixed by seed and epoch; validation never
 * comes here) tokenised into t->tr; then t->order, t->starts and
 * t->n_micro from hpt_token_batch_plan with t->shuffle_rng. */
int hpt__train_epoch_plan(hpt__train_t *t, int epoch, hpt_error_t *error);

/* Allocates buf for rows x len. HPT_ENOMEM (buf then half set: close it). */
int hpt__train_batch_buf_init(hpt__train_batch_buf_t *buf, size_t rows,
                              size_t len, hpt_error_t *error);
void hpt__train_batch_buf_close(hpt__train_batch_buf_t *buf);

/* Pads examples rows[0..count) of ex to their longest (dynamic padding)
 * into t->buf and describes them in *batch (arrays borrowed from t->buf
 * until the next call). Cannot fail. */
void hpt__train_fill_batch(hpt__train_t *t, const hpt__train_examples_t *ex,
                           const size_t *rows, size_t count,
                           hpt_model_batch_t *batch);

/* Scores one evaluation batch: validation rows[0..count), their logits
 * (count, K) and mean loss; adds to *correct and *loss_sum, and writes the
 * softmax of each row into t->probs (when set) at the row's val position.
 * Cannot fail. */
void hpt__train_eval_batch(hpt__train_t *t, const size_t *rows, size_t count,
                           const float *logits, float loss, size_t *correct,
                           double *loss_sum);

/* ---- train.c ----------------------------------------------------------- */

/* Monotonic clock in seconds. Cannot fail. */
double hpt__train_now(void);

/* After an epoch's training and evaluation (result->train_loss,
 * train_seconds and steps already set by the loop): fills the rest of
 * *result, logs, calls on_epoch, and tracks the best epoch, copying
 * t->probs to o->val_probabilities when it improves. *improved: this
 * epoch is the new best (the loop then keeps its weights when
 * o->restore_best). Returns true when early stopping ends the run. Cannot
 * fail. */
bool hpt__train_epoch_end(hpt__train_t *t, int epoch, double val_accuracy,
                          double val_loss, hpt_train_epoch_fn on_epoch,
                          void *user, hpt_train_result_t *result,
                          bool *improved);

/* ---- train_gpu.c ------------------------------------------------------- */

/* The loop of hpt_train_run on CUDA device t->device: same plan, schedule
 * and bookkeeping as the CPU loop; see train.h for the contract. At the
 * end (also on failure) result->peak_gpu_bytes is set; on success
 * t->model holds the trained weights (the best epoch's with
 * o->restore_best). Errors are the backend's (gpu_model.h): HPT_EUNSUPPORTED
 * built without CUDA, HPT_ENOTFOUND no such device, HPT_ENOMEM out of
 * device memory, HPT_ESYSTEM other CUDA errors; HPT_ESTATE when the run
 * diverged. */
int hpt__train_loop_gpu(hpt__train_t *t, hpt_train_epoch_fn on_epoch,
                        void *user, hpt_train_result_t *result,
                        hpt_error_t *error);

#endif
