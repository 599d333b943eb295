/* ngram_model.c — see ngram_model.h. */
#include "ngram_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

struct hpt_ngram_model {
  size_t n_features;
  float *weight; /* n_features */
  double bias;
};

void hpt_ngram_train_config_default(hpt_ngram_train_config_t *config) {
  config->optimizer = HPT_NGRAM_ADAMW;
  config->schedule = HPT_NGRAM_CONSTANT;
  config->lr = 0.01;
  config->weight_decay = 1e-4;
  config->epochs = 10;
  config->batch_size = 32;
  config->seed = 42;
}

int hpt_ngram_train_config_check(const hpt_ngram_train_config_t *config,
                                 hpt_error_t *error) {
  if (config->optimizer != HPT_NGRAM_ADAMW &&
      config->optimizer != HPT_NGRAM_SGD)
    return HPT_ERR(error, HPT_EINVAL, "unknown optimizer %d",
                   (int)config->optimizer);
  if (config->schedule != HPT_NGRAM_CONSTANT &&
      config->schedule != HPT_NGRAM_LINEAR &&
      config->schedule != HPT_NGRAM_COSINE)
    return HPT_ERR(error, HPT_EINVAL, "unknown schedule %d",
                   (int)config->schedule);
  if (!(config->lr > 0) || !isfinite(config->lr))
    return HPT_ERR(error, HPT_EINVAL, "lr %g must be > 0", config->lr);
  if (!(config->weight_decay >= 0) || !isfinite(config->weight_decay))
    return HPT_ERR(error, HPT_EINVAL, "weight_decay %g must be >= 0",
                   config->weight_decay);
  if (config->epochs < 1)
    return HPT_ERR(error, HPT_EINVAL, "epochs %d must be >= 1", config->epochs);
  if (config->batch_size < 1)
    return HPT_ERR(error, HPT_EINVAL, "batch_size %d must be >= 1",
                   config->batch_size);
  return 0;
}

static double sigmoid(double z) {
  if (z >= 0)
    return 1.0 / (1.0 + exp(-z));
  double e = exp(z);
  return e / (1.0 + e);
}

static double logit_row(const hpt_ngram_model_t *model,
                        const hpt_ngram_matrix_t *matrix, size_t row) {
  double z = model->bias;
  for (size_t k = matrix->row_start[row]; k < matrix->row_start[row + 1]; k++)
    z += (double)model->weight[matrix->col[k]] * matrix->value[k];
  return z;
}

double hpt_ngram_model_predict_row(const hpt_ngram_model_t *model,
                                   const hpt_ngram_matrix_t *matrix,
                                   size_t row) {
  return sigmoid(logit_row(model, matrix, row));
}

double hpt_ngram_model_predict_terms(const hpt_ngram_model_t *model,
                                     const hpt_ngram_terms_t *terms) {
  double z = model->bias;
  for (size_t k = 0; k < terms->count; k++)
    if (terms->index[k] < model->n_features)
      z += (double)model->weight[terms->index[k]] * terms->value[k];
  return sigmoid(z);
}

int hpt_ngram_model_predict_text(const hpt_ngram_model_t *model,
                                 const hpt_ngram_vocab_t *vocab,
                                 const char *text, double *probability,
                                 hpt_error_t *error) {
  hpt_ngram_terms_t terms;
  hpt_ngram_terms_init(&terms);
  int rc = hpt_ngram_vocab_vectorize(vocab, text, &terms, error);
  if (rc == 0)
    *probability = hpt_ngram_model_predict_terms(model, &terms);
  hpt_ngram_terms_close(&terms);
  return rc;
}

/* Cross-entropy of a logit z against label y, computed stably:
 * log(1 + e^z) - y z. */
static double cross_entropy(double z, int y) {
  double softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
  return softplus - (y ? z : 0.0);
}

void hpt_ngram_model_evaluate(const hpt_ngram_model_t *model,
                              const hpt_ngram_matrix_t *matrix,
                              const int *labels, double *loss,
                              double *accuracy) {
  double total = 0;
  size_t correct = 0;
  for (size_t r = 0; r < matrix->n_rows; r++) {
    double z = logit_row(model, matrix, r);
    total += cross_entropy(z, labels[r]);
    correct += (z > 0) == (labels[r] != 0);
  }
  *loss = matrix->n_rows ? total / (double)matrix->n_rows : NAN;
  *accuracy = matrix->n_rows ? (double)correct / (double)matrix->n_rows : NAN;
}

/* Optimiser state: dense over features, plus the bias. */
typedef struct optimizer_state {
  float *grad;  /* n_features, zero between steps */
  float *m, *v; /* AdamW moments; NULL for SGD */
  double grad_b, m_b, v_b;
  long step;
} optimizer_state_t;

/* Learning rate of step t (0-based) out of n_steps. */
static double scheduled_lr(const hpt_ngram_train_config_t *config, long t,
                           long n_steps) {
  double progress = (double)t / (double)n_steps;
  switch (config->schedule) {
  case HPT_NGRAM_LINEAR:
    return config->lr * (1.0 - progress);
  case HPT_NGRAM_COSINE:
    return config->lr * 0.5 * (1.0 + cos(M_PI * progress));
  case HPT_NGRAM_CONSTANT:
  default:
    return config->lr;
  }
}

static void apply_update(hpt_ngram_model_t *model, optimizer_state_t *s,
                         const hpt_ngram_train_config_t *config, double lr) {
  size_t n = model->n_features;
  float *w = model->weight, *g = s->grad;
  if (config->optimizer == HPT_NGRAM_SGD) {
    float lr_f = (float)lr;
    float keep = (float)(1.0 - lr * config->weight_decay);
    for (size_t j = 0; j < n; j++) {
      w[j] = keep * w[j] - lr_f * g[j];
      g[j] = 0;
    }
    model->bias -= lr * s->grad_b;
  } else {
    s->step++;
    double c1 = 1.0 - pow(ADAM_BETA1, (double)s->step);
    double c2 = 1.0 - pow(ADAM_BETA2, (double)s->step);
    /* w -= lr * m / c1 / (sqrt(v / c2) + eps), folded into two constants. */
    float step_size = (float)(lr / c1);
    float inv_sqrt_c2 = (float)(1.0 / sqrt(c2));
    float keep = (float)(1.0 - lr * config->weight_decay);
    float b1 = (float)ADAM_BETA1, b2 = (float)ADAM_BETA2;
    float *m = s->m, *v = s->v;
    for (size_t j = 0; j < n; j++) {
      float gj = g[j];
      m[j] = b1 * m[j] + (1 - b1) * gj;
      v[j] = b2 * v[j] + (1 - b2) * gj * gj;
      w[j] = keep * w[j] -
             step_size * m[j] / (sqrtf(v[j]) * inv_sqrt_c2 + (float)ADAM_EPS);
      g[j] = 0;
    }
    s->m_b = ADAM_BETA1 * s->m_b + (1 - ADAM_BETA1) * s->grad_b;
    s->v_b = ADAM_BETA2 * s->v_b + (1 - ADAM_BETA2) * s->grad_b * s->grad_b;
    model->bias -= lr * (s->m_b / c1) / (sqrt(s->v_b / c2) + ADAM_EPS);
  }
  s->grad_b = 0;
}

static int check_inputs(const hpt_ngram_matrix_t *train,
                        const int *train_labels, const hpt_ngram_matrix_t *val,
                        const int *val_labels, hpt_error_t *error) {
  if (train->n_rows == 0)
    return HPT_ERR(error, HPT_EINVAL, "ngram model: no training rows");
  if (val != NULL && (val_labels == NULL || val->n_cols != train->n_cols))
    return HPT_ERR(error, HPT_EINVAL,
                   "ngram model: validation matrix has %zu columns, training "
                   "has %zu",
                   val->n_cols, train->n_cols);
  for (size_t r = 0; r < train->n_rows; r++)
    if (train_labels[r] != 0 && train_labels[r] != 1)
      return HPT_ERR(error, HPT_EINVAL,
                     "ngram model: training row %zu has label %d (want 0/1)", r,
                     train_labels[r]);
  for (size_t r = 0; val != NULL && r < val->n_rows; r++)
    if (val_labels[r] != 0 && val_labels[r] != 1)
      return HPT_ERR(error, HPT_EINVAL,
                     "ngram model: validation row %zu has label %d (want 0/1)",
                     r, val_labels[r]);
  return 0;
}

int hpt_ngram_model_train(const hpt_ngram_matrix_t *train,
                          const int *train_labels,
                          const hpt_ngram_matrix_t *val, const int *val_labels,
                          const hpt_ngram_train_config_t *config,
                          hpt_ngram_epoch_fn on_epoch, void *user,
                          hpt_ngram_model_t **out, hpt_error_t *error) {
  hpt_ngram_model_t *model = NULL;
  optimizer_state_t state = {0};
  int *order = NULL;
  *out = NULL;
  int rc = hpt_ngram_train_config_check(config, error);
  if (rc == 0)
    rc = check_inputs(train, train_labels, val, val_labels, error);
  if (rc != 0)
    return rc;

  size_t n = train->n_cols ? train->n_cols : 1;
  bool adam = config->optimizer == HPT_NGRAM_ADAMW;
  model = calloc(1, sizeof *model);
  order = malloc(train->n_rows * sizeof *order);
  state.grad = calloc(n, sizeof *state.grad);
  if (adam) {
    state.m = calloc(n, sizeof *state.m);
    state.v = calloc(n, sizeof *state.v);
  }
  if (model == NULL || order == NULL || state.grad == NULL ||
      (adam && (state.m == NULL || state.v == NULL)) ||
      (model->weight = calloc(n, sizeof *model->weight)) == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "ngram model: out of memory");
    goto out;
  }
  model->n_features = train->n_cols;

  hpt_rng_t rng;
  hpt_rng_seed(&rng, config->seed);
  for (size_t r = 0; r < train->n_rows; r++)
    order[r] = (int)r;
  size_t batch = (size_t)config->batch_size;
  if (batch > train->n_rows)
    batch = train->n_rows;
  long steps_per_epoch = (long)((train->n_rows + batch - 1) / batch);
  long n_steps = steps_per_epoch * config->epochs, t = 0;

  for (int epoch = 1; epoch <= config->epochs; epoch++) {
    hpt_rng_shuffle_ints(&rng, order, train->n_rows);
    for (size_t begin = 0; begin < train->n_rows; begin += batch) {
      size_t end =
          begin + batch < train->n_rows ? begin + batch : train->n_rows;
      double scale = 1.0 / (double)(end - begin);
      for (size_t i = begin; i < end; i++) {
        size_t r = (size_t)order[i];
        double delta =
            (hpt_ngram_model_predict_row(model, train, r) - train_labels[r]) *
            scale;
        for (size_t k = train->row_start[r]; k < train->row_start[r + 1]; k++)
          state.grad[train->col[k]] += (float)(delta * train->value[k]);
        state.grad_b += delta;
      }
      apply_update(model, &state, config, scheduled_lr(config, t++, n_steps));
    }

    hpt_ngram_epoch_stats_t stats = {
        .epoch = epoch, .val_loss = NAN, .val_accuracy = NAN};
    hpt_ngram_model_evaluate(model, train, train_labels, &stats.train_loss,
                             &stats.train_accuracy);
    if (val != NULL)
      hpt_ngram_model_evaluate(model, val, val_labels, &stats.val_loss,
                               &stats.val_accuracy);
    if (on_epoch != NULL)
      on_epoch(user, &stats);
  }

out:
  free(order);
  free(state.grad);
  free(state.m);
  free(state.v);
  if (rc != 0)
    hpt_ngram_model_destroy(&model);
  *out = model;
  return rc;
}

void hpt_ngram_model_destroy(hpt_ngram_model_t **model) {
  if (model == NULL || *model == NULL)
    return;
  free((*model)->weight);
  free(*model);
  *model = NULL;
}

void hpt_ngram_model_parts(const hpt_ngram_model_t *model, size_t *n_features,
                           const float **weight, double *bias) {
  *n_features = model->n_features;
  *weight = model->weight;
  *bias = model->bias;
}

int hpt_ngram_model_from_parts(size_t n_features, const float *weight,
                               double bias, hpt_ngram_model_t **out,
                               hpt_error_t *error) {
  *out = NULL;
  if (!isfinite(bias))
    return HPT_ERR(error, HPT_EPARSE, "n-gram model: bias is not finite");
  for (size_t i = 0; i < n_features; i++)
    if (!isfinite(weight[i]))
      return HPT_ERR(error, HPT_EPARSE,
                     "n-gram model: weight %zu is not finite", i);
  hpt_ngram_model_t *model = calloc(1, sizeof *model);
  if (model == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  model->n_features = n_features;
  model->bias = bias;
  model->weight = malloc((n_features ? n_features : 1) * sizeof *weight);
  if (model->weight == NULL) {
    free(model);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  memcpy(model->weight, weight, n_features * sizeof *weight);
  *out = model;
  return HPT_OK;
}
