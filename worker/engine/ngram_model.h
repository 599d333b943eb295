/* ngram_model.h — binary logistic regression on sparse n-gram features
 * (ngram_features.h), trained with minibatch AdamW or SGD.
 *
 * Model: p(y = 1 | x) = sigmoid(w . x + b), w has one weight per feature,
 * all start at 0 (the loss is convex). Loss: mean binary cross-entropy.
 *
 * Training, per epoch: shuffle the training rows (hpt_rng seeded with
 * `seed`), then for each minibatch: forward, mean gradient, update:
 *   adamw: Adam (beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected) plus
 *          decoupled decay w -= lr * weight_decay * w;
 *   sgd:   w -= lr * (grad + weight_decay * w)   (classic L2).
 * lr follows the schedule (constant, linear or cosine decay to 0 over all
 * steps of all epochs; step t = 0 uses the full lr).
 * The update is dense over all features (untouched ones decay and, with
 * AdamW, keep their momentum), i.e. exactly the textbook optimisers; the
 * bias is never decayed. After the epoch, loss and accuracy are computed on
 * the training and validation matrices and handed to the epoch callback.
 *
 * One model is used by one thread at a time; read-only calls (predict,
 * evaluate) may run concurrently.
 */
#ifndef HPT_NGRAM_MODEL_H
#define HPT_NGRAM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ngram_features.h"

typedef enum hpt_ngram_optimizer {
  HPT_NGRAM_ADAMW = 0,
  HPT_NGRAM_SGD = 1,
} hpt_ngram_optimizer_t;

typedef enum hpt_ngram_schedule {
  HPT_NGRAM_CONSTANT = 0, /* lr throughout */
  HPT_NGRAM_LINEAR = 1,   /* lr * (1 - t / T) over the T steps of training */
  HPT_NGRAM_COSINE = 2,   /* lr * (1 + cos(pi t / T)) / 2 */
} hpt_ngram_schedule_t;

typedef struct hpt_ngram_train_config {
  hpt_ngram_optimizer_t optimizer;
  hpt_ngram_schedule_t schedule;
  double lr;           /* > 0, peak learning rate */
  double weight_decay; /* >= 0; AdamW decay or SGD's L2 coefficient */
  int epochs;          /* >= 1 */
  int batch_size;      /* >= 1 (clamped to the number of rows) */
  uint64_t seed;       /* shuffling */
} hpt_ngram_train_config_t;

typedef struct hpt_ngram_epoch_stats {
  int epoch; /* 1-based */
  double train_loss, train_accuracy;
  double val_loss, val_accuracy; /* NAN when there is no validation set */
} hpt_ngram_epoch_stats_t;

/* Called after each epoch, on the training thread. The stats are borrowed
 * for the duration of the call. */
typedef void (*hpt_ngram_epoch_fn)(void *user,
                                   const hpt_ngram_epoch_stats_t *stats);

typedef struct hpt_ngram_model hpt_ngram_model_t;

/* AdamW, constant lr 0.01, weight_decay 1e-4, 10 epochs, batch 32, seed
 * 42. Cannot fail. */
void hpt_ngram_train_config_default(hpt_ngram_train_config_t *config);

/* HPT_EINVAL naming the bad field, or 0. */
int hpt_ngram_train_config_check(const hpt_ngram_train_config_t *config,
                                 hpt_error_t *error);

/* Trains on `train` with 0/1 `train_labels` (one per row). `val` and
 * `val_labels` may be NULL; otherwise val must have train's column count.
 * on_epoch may be NULL. On success *out is a new caller-owned model (free
 * with hpt_ngram_model_destroy). On failure *out is NULL, on_epoch has not
 * been called, and the return value is HPT_EINVAL (bad config, shapes or
 * labels, no rows) or HPT_ENOMEM. */
int hpt_ngram_model_train(const hpt_ngram_matrix_t *train,
                          const int *train_labels,
                          const hpt_ngram_matrix_t *val, const int *val_labels,
                          const hpt_ngram_train_config_t *config,
                          hpt_ngram_epoch_fn on_epoch, void *user,
                          hpt_ngram_model_t **out, hpt_error_t *error);

/* p(label 1) for row `row` of `matrix` (columns as in training). Cannot
 * fail. */
double hpt_ngram_model_predict_row(const hpt_ngram_model_t *model,
                                   const hpt_ngram_matrix_t *matrix,
                                   size_t row);

/* p(label 1) for sparse features (e.g. from hpt_ngram_vocab_vectorize).
 * Cannot fail. */
double hpt_ngram_model_predict_terms(const hpt_ngram_model_t *model,
                                     const hpt_ngram_terms_t *terms);

/* p(label 1) for a raw text, featurised with `vocab` (the vocabulary the
 * model was trained with). Returns 0 or HPT_ENOMEM. */
int hpt_ngram_model_predict_text(const hpt_ngram_model_t *model,
                                 const hpt_ngram_vocab_t *vocab,
                                 const char *text, double *probability,
                                 hpt_error_t *error);

/* Mean cross-entropy and accuracy (threshold 0.5) over all rows of
 * `matrix`; both NAN for an empty matrix. Cannot fail. */
void hpt_ngram_model_evaluate(const hpt_ngram_model_t *model,
                              const hpt_ngram_matrix_t *matrix,
                              const int *labels, double *loss,
                              double *accuracy);

/* Frees and sets *model to NULL. Accepts NULL. Cannot fail. */
void hpt_ngram_model_destroy(hpt_ngram_model_t **model);

/* The model's parts, borrowed (for ngram_artifact.c). */
void hpt_ngram_model_parts(const hpt_ngram_model_t *model, size_t *n_features,
                           const float **weight, double *bias);

/* A model from parts (copied); every weight must be finite. */
int hpt_ngram_model_from_parts(size_t n_features, const float *weight,
                               double bias, hpt_ngram_model_t **model,
                               hpt_error_t *error);

#endif
