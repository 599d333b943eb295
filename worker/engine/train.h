/* train.h — fine-tuning a transformer classifier (model.h) on labelled
 * texts, on the CPU or on a CUDA GPU, as the usual transformers recipe
 * does it; the loop in train.c reads top to bottom like llm.c's
 * train_gpt2.c main:
 *
 *   tokenise validation once (and training once, unless augmenting)
 *   for each epoch:
 *     augment + tokenise the training texts (when augmenting; fresh draws
 *       every epoch, validation never touched)
 *     shuffle (hpt_rng), cut length-bucketed micro-batches (windows of 50
 *       micro-batches sorted by length, as transformers' group_by_length;
 *       hpt_token_batch_plan), pad each micro-batch to its own longest
 *       row, shuffle the batches
 *     for each optimizer step: zero grad; for each of its
 *       gradient_accumulation_steps micro-batches: forward (dropout on,
 *       label smoothing) and backward; scale the summed gradients so the
 *       step sees the mean over all its examples (exactly one big batch);
 *       clip the global norm and take an AdamW step with warm-up + cosine
 *       (optimizer.h)
 *     evaluate validation accuracy and loss (dropout off)
 *     on_epoch(user, epoch, val_accuracy, train_loss)
 *     when the validation accuracy improves: keep a copy of the weights
 *       (restore_best) and of the validation probabilities
 *       (val_probabilities)
 *     early stopping: stop after `patience` epochs without a better
 *       validation accuracy
 *   restore the best epoch's weights (restore_best)
 *
 * Schedule length: steps_per_epoch = ceil(ceil(n_train / batch_size) /
 * gradient_accumulation_steps); total = epochs x steps_per_epoch (also when
 * early stopping ends sooner, as transformers' Trainer); warm-up =
 * ceil(warmup_ratio x total), at most total - 1.
 *
 * Devices: `device` NULL or "cpu" runs the loop above on the CPU engine
 * (layers_cpu.c, OpenBLAS). "cuda" / "cuda:N" runs the same loop
 * (train_gpu.c) on GPU N through gpu_model.h: the model's weights are
 * copied to the device once, the same batches come in the same order (same
 * seed), the optimizer gets the same parameter groups, learning rates,
 * layer-wise decay, weight decay, clipping and schedule, each micro-batch
 * is weighted count / step_examples, evaluation reads the logits back, and
 * the weights come back to `model` at the best epoch (restore_best) and at
 * the end, so the caller saves the trained model as after a CPU run.
 * Differences on a GPU: `amp` (bf16 / fp16 compute with fp32 master
 * weights; off: fp32), dropout masks from the backend's Philox stream (not
 * hpt_rng, so the same seed trains differently from the CPU), and a
 * non-finite gradient skips that step on the device; the run then fails
 * HPT_ESTATE at the epoch's end (with fp16 only when no step of the epoch
 * applied: the loss scaler skips overflowing steps by design).
 *
 * Threads: OpenBLAS runs the CPU GEMMs on `threads` threads (0: every
 * online core); everything else runs on the calling thread (a GPU run
 * drives its device from it). Not thread-safe; the model is borrowed and
 * driven by the calling thread only.
 */
#ifndef HPT_TRAIN_H
#define HPT_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "augment.h"
#include "error.h"
#include "gpu_model.h"
#include "model.h"
#include "optimizer.h"
#include "token_batch.h"

/* Texts and labels, borrowed for the call. */
typedef struct hpt_train_data {
  const char *const *texts; /* n NUL-terminated UTF-8 strings */
  const int *labels;        /* n labels in [0, num_labels) */
  size_t n;
} hpt_train_data_t;

/* How texts become token ids: a tokenizer's encode (tokenizer_wordpiece.h,
 * tokenizer_bpe.h or any function of that shape) and its pad id. */
typedef struct hpt_train_encoder {
  hpt_token_encode_fn encode;
  const void *tokenizer; /* borrowed */
  int32_t pad_id;
  size_t max_length; /* >= 2; cut to the model's position table */
} hpt_train_encoder_t;

typedef struct hpt_train_options {
  int epochs;                        /* >= 1 */
  int batch_size;                    /* micro-batch size, >= 1 */
  int gradient_accumulation_steps;   /* >= 1: micro-batches per update */
  double warmup_ratio;               /* in [0, 1] */
  double dropout;                    /* in [0, 1): hidden, attention and
                                        classifier dropout; < 0: the config's */
  double label_smoothing;            /* in [0, 1) */
  int patience;                      /* >= 1; 0: no early stopping */
  int eval_batch_size;               /* >= 1 */
  int threads;                       /* OpenBLAS threads; 0: online cores */
  uint64_t seed;                     /* shuffling, dropout, augmentation */
  hpt_optimizer_options_t optimizer; /* lrs, decay, betas, eps, clipping;
                                        warmup/total steps are set here */
  hpt_augment_t *augment;            /* NULL: no augmentation (borrowed) */
  double aug_p;                      /* augmentation probability, [0, 1] */
  bool restore_best;        /* at the end the model holds the weights of the
                               best epoch, not the last one (costs one copy
                               of the weights in memory); false */
  float *val_probabilities; /* NULL, or (val->n, num_labels) floats that
                               receive the softmax of the best epoch's
                               validation logits, in val order (borrowed) */
  const char *device;       /* NULL or "cpu": the CPU engine; "cuda" or
                               "cuda:N": CUDA device N (borrowed) */
  hpt_gpu_amp_t amp;        /* precision on a GPU (gpu_model.h); must be
                               OFF on the CPU, which trains in fp32 */
} hpt_train_options_t;

/* What a run produced. */
typedef struct hpt_train_result {
  int epochs_run;
  int best_epoch; /* 1-based epoch of best_val_accuracy */
  double best_val_accuracy;
  double last_val_accuracy;
  double train_loss;         /* last epoch's mean training loss */
  double val_loss;           /* last epoch's mean validation loss */
  double best_val_loss;      /* validation loss at best_epoch */
  double train_seconds;      /* time in forward/backward/update only */
  double samples_per_second; /* training examples per train_seconds */
  long steps;                /* optimizer updates taken (on a GPU:
                                requested; see train.h's top) */
  size_t peak_gpu_bytes;     /* on a GPU: the most device memory the
                                model held (gpu_model.h); 0 on the CPU */
} hpt_train_result_t;

/* Called after every epoch (1-based) with the validation accuracy and the
 * epoch's mean training loss, on the calling thread. */
typedef void (*hpt_train_epoch_fn)(void *user, int epoch, double val_accuracy,
                                   double train_loss);

/* Fills *options with the reference notebook's defaults: 3 epochs, batch
 * 16, no accumulation, warm-up 0.1, config dropout, no smoothing, no early
 * stopping, eval batch 64, all cores, seed 42, AdamW per
 * hpt_optimizer_defaults with lr 2e-5 (backbone) / 1e-3 (head); the last
 * epoch's weights are kept and no probabilities are returned; CPU, amp
 * off. Cannot fail. */
void hpt_train_options_default(hpt_train_options_t *options);

/* Checks every option (HPT_EINVAL naming the first bad one; a device
 * other than cpu / cuda / cuda:N, or amp on the CPU, is one). Does not
 * look for the device: hpt_train_run fails when it is missing. */
int hpt_train_options_check(const hpt_train_options_t *options,
                            hpt_error_t *error);

/* Fine-tunes `model` in place on `train`, evaluating on `val` (n >= 1 each)
 * after every epoch and calling on_epoch (may be NULL). The model's dropout
 * probabilities are set from options->dropout when it is >= 0. On success
 * *result is filled; on failure it holds what was done so far and the
 * return value is HPT_EINVAL (options, labels, token ids), HPT_EPARSE (a
 * text the tokenizer refuses), HPT_ESTATE (a non-finite gradient: the run
 * diverged) or HPT_ENOMEM; the model then holds a partial update (also
 * with restore_best). On a GPU also the backend's errors, with its
 * one-line message (gpu_model.h): HPT_EUNSUPPORTED (built without CUDA, or
 * bf16 on a GPU without it), HPT_ENOTFOUND (no such device), HPT_ENOMEM
 * (out of device memory: what was asked and what would fit), HPT_ESYSTEM
 * (any other CUDA error); the model then holds its initial weights or
 * those of the best epoch so far. */
int hpt_train_run(hpt_model_t *model, const hpt_train_encoder_t *encoder,
                  const hpt_train_data_t *train, const hpt_train_data_t *val,
                  const hpt_train_options_t *options,
                  hpt_train_epoch_fn on_epoch, void *user,
                  hpt_train_result_t *result, hpt_error_t *error);

#endif
