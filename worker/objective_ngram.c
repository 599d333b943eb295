/* objective_ngram.c — the `ngram` objective: hashed word + character n-gram
 * TF-IDF features and logistic regression (worker/engine/ngram_*.h) on a
 * labelled CSV (shared/dataset.h), scored by validation accuracy on a
 * stratified, seeded split (worker/engine/split.h).
 *
 * Settings (spec `objective:` section):
 *   train         path to the labelled CSV (required)
 *   val_fraction  share of each class held out for validation, in (0, 1);
 *                 default 0.1
 *   seed          split and shuffling seed; default 42
 *
 * Parameters (text, all optional; defaults in parentheses, chosen on
 * extremism/train.csv where they reach ~0.83 validation accuracy):
 *   lr            peak learning rate > 0 (3; good: sgd 0.5-10, adamw
 *                 0.005-0.05, features are L2-normalised)
 *   l2            weight decay >= 0; `weight_decay` is a synonym (1e-5;
 *                 good: sgd 1e-6-1e-3, adamw 0.01-1)
 *   epochs        1..1000 (30)
 *   batch_size    1..65536 (32)
 *   ngram         word n-gram range "a-b" or "n" (= n-n); "0"/"none"
 *                 disables (1-2)
 *   char_ngram    character n-gram range, same syntax (none)
 *   hash_bits     16..24 (20)
 *   optimizer     sgd | adamw (sgd)
 *   schedule      constant | linear | cosine learning-rate decay (constant)
 *   idf           true | false (true)
 *   sublinear_tf  true | false (true)
 *   signed_hash   true | false (false)
 *
 * Reports: after epoch e (e = 1, 2, ...), report(step = e, validation
 * accuracy). Result: value = validation accuracy after the last epoch;
 * metrics train_accuracy, train_loss, val_loss (last epoch), n_train, n_val,
 * n_features, seconds (wall time of the whole call).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dataset.h"
#include "log.h"
#include "ngram_artifact.h"
#include "ngram_features.h"
#include "ngram_model.h"
#include "objective.h"
#include "objective_catalog.h"
#include "objective_common.h"
#include "split.h"

#define PARAM_NAMES                                                            \
  "lr, l2, weight_decay, epochs, batch_size, ngram, char_ngram, hash_bits, "   \
  "optimizer, schedule, idf, sublinear_tf, signed_hash"

typedef struct ngram_params {
  hpt_ngram_config_t features;
  hpt_ngram_train_config_t train;
} ngram_params_t;

static void params_default(ngram_params_t *p) {
  hpt_ngram_config_default(&p->features);
  hpt_ngram_train_config_default(&p->train);
  p->features.word_min = 1;
  p->features.word_max = 2;
  p->features.char_min = 0; /* char n-grams did not help on the 10% split */
  p->features.char_max = 0;
  p->features.hash_bits = 20;
  p->train.optimizer = HPT_NGRAM_SGD;
  p->train.schedule = HPT_NGRAM_CONSTANT;
  p->train.lr = 3.0;
  p->train.weight_decay = 1e-5;
  p->train.epochs = 30;
  p->train.batch_size = 32;
}

static int bad_value(const char *name, const char *value, const char *want,
                     hpt_error_t *error) {
  return HPT_ERR(error, HPT_EINVAL,
                 "parameter '%s' of objective ngram: '%s' is not %s", name,
                 value, want);
}

static int parse_double(const char *name, const char *value, double low,
                        bool low_open, double *out, hpt_error_t *error) {
  char *end;
  errno = 0;
  double v = strtod(value, &end);
  if (end == value || *end != '\0' || errno != 0 || !isfinite(v) ||
      (low_open ? !(v > low) : !(v >= low)))
    return bad_value(name, value, low_open ? "a number > 0" : "a number >= 0",
                     error);
  *out = v;
  return 0;
}

static int parse_int(const char *name, const char *value, long low, long high,
                     int *out, hpt_error_t *error) {
  char *end;
  errno = 0;
  double v = strtod(value, &end); /* "16" and "16.0" alike */
  if (end == value || *end != '\0' || errno != 0 || v != floor(v) ||
      v < (double)low || v > (double)high) {
    char want[64];
    snprintf(want, sizeof want, "an integer in %ld..%ld", low, high);
    return bad_value(name, value, want, error);
  }
  *out = (int)v;
  return 0;
}

static int parse_bool(const char *name, const char *value, bool *out,
                      hpt_error_t *error) {
  if (strcasecmp(value, "true") == 0 || strcasecmp(value, "yes") == 0 ||
      strcmp(value, "1") == 0)
    *out = true;
  else if (strcasecmp(value, "false") == 0 || strcasecmp(value, "no") == 0 ||
           strcmp(value, "0") == 0)
    *out = false;
  else
    return bad_value(name, value, "true or false", error);
  return 0;
}

/* "a-b", "n" (= n-n), "0" or "none" (= disabled, 0-0). */
static int parse_range(const char *name, const char *value, int *lo, int *hi,
                       hpt_error_t *error) {
  const char *want = "a range like '1-2' (or 'none')";
  if (strcasecmp(value, "none") == 0 || strcmp(value, "0") == 0) {
    *lo = *hi = 0;
    return 0;
  }
  int a, b, used = 0;
  if (sscanf(value, "%d-%d%n", &a, &b, &used) == 2 && value[used] == '\0') {
  } else if (sscanf(value, "%d%n", &a, &used) == 1 && value[used] == '\0') {
    b = a;
  } else {
    return bad_value(name, value, want, error);
  }
  if (a < 1 || b < a || b > HPT_NGRAM_MAX_N)
    return bad_value(name, value, "a range a-b with 1 <= a <= b <= 8", error);
  *lo = a;
  *hi = b;
  return 0;
}

static int parse_param(ngram_params_t *p, const hpt_objective_param_t *param,
                       hpt_error_t *error) {
  const char *name = param->name, *value = param->value ? param->value : "";
  if (strcmp(name, "lr") == 0)
    return parse_double(name, value, 0, true, &p->train.lr, error);
  if (strcmp(name, "l2") == 0 || strcmp(name, "weight_decay") == 0)
    return parse_double(name, value, 0, false, &p->train.weight_decay, error);
  if (strcmp(name, "epochs") == 0)
    return parse_int(name, value, 1, 1000, &p->train.epochs, error);
  if (strcmp(name, "batch_size") == 0)
    return parse_int(name, value, 1, 65536, &p->train.batch_size, error);
  if (strcmp(name, "hash_bits") == 0)
    return parse_int(name, value, HPT_NGRAM_MIN_HASH_BITS,
                     HPT_NGRAM_MAX_HASH_BITS, &p->features.hash_bits, error);
  if (strcmp(name, "ngram") == 0)
    return parse_range(name, value, &p->features.word_min,
                       &p->features.word_max, error);
  if (strcmp(name, "char_ngram") == 0)
    return parse_range(name, value, &p->features.char_min,
                       &p->features.char_max, error);
  if (strcmp(name, "idf") == 0)
    return parse_bool(name, value, &p->features.idf, error);
  if (strcmp(name, "sublinear_tf") == 0)
    return parse_bool(name, value, &p->features.sublinear_tf, error);
  if (strcmp(name, "signed_hash") == 0)
    return parse_bool(name, value, &p->features.signed_hash, error);
  if (strcmp(name, "schedule") == 0) {
    if (strcasecmp(value, "constant") == 0)
      p->train.schedule = HPT_NGRAM_CONSTANT;
    else if (strcasecmp(value, "linear") == 0)
      p->train.schedule = HPT_NGRAM_LINEAR;
    else if (strcasecmp(value, "cosine") == 0)
      p->train.schedule = HPT_NGRAM_COSINE;
    else
      return bad_value(name, value, "constant, linear or cosine", error);
    return 0;
  }
  if (strcmp(name, "optimizer") == 0) {
    if (strcasecmp(value, "adamw") == 0 || strcasecmp(value, "adam") == 0)
      p->train.optimizer = HPT_NGRAM_ADAMW;
    else if (strcasecmp(value, "sgd") == 0)
      p->train.optimizer = HPT_NGRAM_SGD;
    else
      return bad_value(name, value, "adamw or sgd", error);
    return 0;
  }
  return HPT_ERR(error, HPT_EINVAL,
                 "unknown parameter '%s' for objective ngram (expected: %s)",
                 name, PARAM_NAMES);
}

static int read_settings(const hpt_options_t *options,
                         hpt_objective_data_settings_t *s, hpt_error_t *error) {
  int rc;
  if (options == NULL)
    return HPT_ERR(error, HPT_EINVAL, "objective ngram: no settings");
  if ((rc = hpt_options_check_keys(options, hpt_objective_setting_keys("ngram"),
                                   error)) != 0 ||
      (rc = hpt_objective_data_settings_read(options, s, error)) != 0)
    return rc;
  return hpt_objective_data_settings_check(s, "objective ngram", error);
}

typedef struct run_state {
  const hpt_objective_call_t *call;
  hpt_ngram_epoch_stats_t last;
} run_state_t;

static void on_epoch(void *user, const hpt_ngram_epoch_stats_t *stats) {
  run_state_t *state = user;
  state->last = *stats;
  hpt_log(HPT_LOG_DEBUG, "ngram_epoch",
          "epoch=%d train_loss=%.4f train_acc=%.4f val_loss=%.4f "
          "val_acc=%.4f",
          stats->epoch, stats->train_loss, stats->train_accuracy,
          stats->val_loss, stats->val_accuracy);
  if (state->call->report != NULL)
    state->call->report(state->call->user, stats->epoch, stats->val_accuracy);
}

/* model.ngram (ngram_artifact.h) and val_predictions.csv (ID, label,
 * probability of EXTREMIST, one row per validation row in split order):
 * what ensembles and `hpt predict` need. */
static int save_artifacts(const char *dir, const hpt_dataset_t *ds,
                          const hpt_split_t *split,
                          const hpt_ngram_vocab_t *vocab,
                          const hpt_ngram_model_t *model,
                          const hpt_ngram_matrix_t *val, hpt_error_t *error) {
  char path[4096];
  snprintf(path, sizeof path, "%s/model.ngram", dir);
  int rc = hpt_ngram_artifact_save(path, vocab, model, error);
  if (rc != 0)
    return rc;
  snprintf(path, sizeof path, "%s/val_predictions.csv", dir);
  FILE *out = fopen(path, "w");
  if (out == NULL)
    return HPT_ERR(error, HPT_EIO, "%s: cannot write", path);
  fprintf(out, "ID,label,probability\n");
  for (size_t i = 0; i < split->n_val; i++) {
    size_t row = split->val[i];
    fprintf(out, "%s,%d,%.9g\n", ds->ids[row], ds->labels[row],
            hpt_ngram_model_predict_row(model, val, i));
  }
  if (ferror(out) | (fclose(out) != 0))
    return HPT_ERR(error, HPT_EIO, "%s: write failed", path);
  return HPT_OK;
}

int hpt_objective_ngram_run(const hpt_objective_call_t *call,
                            hpt_objective_result_t *result,
                            hpt_error_t *error) {
  double started = hpt_objective_now();
  ngram_params_t params;
  hpt_objective_data_settings_t settings;
  hpt_dataset_t *ds = NULL;
  hpt_split_t split = {0};
  const char **train_texts = NULL, **val_texts = NULL;
  int *train_labels = NULL, *val_labels = NULL;
  hpt_ngram_vocab_t *vocab = NULL;
  hpt_ngram_matrix_t train = {0}, val = {0};
  hpt_ngram_model_t *model = NULL;
  run_state_t state = {.call = call};
  int rc;

  memset(result, 0, sizeof *result);
  params_default(&params);
  for (size_t i = 0; i < call->n_params; i++)
    if ((rc = parse_param(&params, &call->params[i], error)) != 0)
      return rc;
  if ((rc = hpt_ngram_config_check(&params.features, error)) != 0 ||
      (rc = hpt_ngram_train_config_check(&params.train, error)) != 0) {
    hpt_error_prefix(error, "objective ngram");
    return rc;
  }
  if ((rc = read_settings(call->settings, &settings, error)) != 0)
    return rc;
  params.train.seed = (uint64_t)settings.seed;

  if ((rc = hpt_dataset_load(settings.train, true, &ds, error)) != 0)
    goto out;
  if ((rc = hpt_split_stratified(ds->labels, ds->n_rows, settings.val_fraction,
                                 (uint64_t)settings.seed, &split, error)) != 0)
    goto out;
  if (split.n_train == 0 || split.n_val == 0) {
    rc = HPT_ERR(error, HPT_EINVAL,
                 "objective ngram: %s: %zu rows with val_fraction %g leave "
                 "%zu training and %zu validation rows",
                 settings.train, ds->n_rows, settings.val_fraction,
                 split.n_train, split.n_val);
    goto out;
  }
  if ((rc = hpt_objective_gather(ds->texts, ds->labels, split.train,
                                 split.n_train, "objective ngram", &train_texts,
                                 &train_labels, error)) != 0 ||
      (rc = hpt_objective_gather(ds->texts, ds->labels, split.val, split.n_val,
                                 "objective ngram", &val_texts, &val_labels,
                                 error)) != 0)
    goto out;

  if ((rc = hpt_ngram_vocab_fit(&params.features, train_texts, split.n_train,
                                &vocab, error)) != 0 ||
      (rc = hpt_ngram_vocab_transform(vocab, train_texts, split.n_train, &train,
                                      error)) != 0 ||
      (rc = hpt_ngram_vocab_transform(vocab, val_texts, split.n_val, &val,
                                      error)) != 0)
    goto out;
  if ((rc = hpt_ngram_model_train(&train, train_labels, &val, val_labels,
                                  &params.train, on_epoch, &state, &model,
                                  error)) != 0)
    goto out;

  if (call->artifact_dir != NULL &&
      (rc = save_artifacts(call->artifact_dir, ds, &split, vocab, model, &val,
                           error)) != 0)
    goto out;
  result->value = state.last.val_accuracy;
  hpt_objective_add_metric(result, "train_accuracy", state.last.train_accuracy);
  hpt_objective_add_metric(result, "train_loss", state.last.train_loss);
  hpt_objective_add_metric(result, "val_loss", state.last.val_loss);
  hpt_objective_add_metric(result, "n_train", (double)split.n_train);
  hpt_objective_add_metric(result, "n_val", (double)split.n_val);
  hpt_objective_add_metric(result, "n_features",
                           (double)hpt_ngram_vocab_size(vocab));
  hpt_objective_add_metric(result, "seconds", hpt_objective_now() - started);
  hpt_log(HPT_LOG_DEBUG, "ngram_done", "val_acc=%.4f features=%zu seconds=%.3f",
          result->value, hpt_ngram_vocab_size(vocab),
          hpt_objective_now() - started);

out:
  hpt_ngram_model_destroy(&model);
  hpt_ngram_matrix_close(&train);
  hpt_ngram_matrix_close(&val);
  hpt_ngram_vocab_destroy(&vocab);
  free(train_texts);
  free(val_texts);
  free(train_labels);
  free(val_labels);
  hpt_split_close(&split);
  hpt_dataset_destroy(&ds);
  return rc;
}
