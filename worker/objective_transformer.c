/* objective_transformer.c — the `transformer` objective: fine-tunes a
 * Hugging Face encoder checkpoint (BERT / MiniLM, DistilBERT, ELECTRA,
 * RoBERTa; not DeBERTa) on a labelled CSV (shared/dataset.h) with the
 * engine's training loop (worker/engine/train.h), scored by validation
 * accuracy on a stratified split or by stratified k-fold.
 *
 * Settings (spec `objective:` section):
 *   model         folder with config.json, model.safetensors and the
 *                 tokenizer: vocab.json + merges.txt (RoBERTa, byte-level
 *                 BPE), else tokenizer.json or vocab.txt (WordPiece)
 *                 (required)
 *   train         the labelled CSV (required)
 *   val_fraction  held-out share of each class, in (0, 1); 0.1
 *   seed          split, head initialisation, shuffling, dropout and
 *                 augmentation seed; 42
 *   max_length    tokens per text incl. [CLS]/[SEP], >= 8; 128 (cut to
 *                 the model's position table)
 *   folds         0: one stratified split; k >= 2: stratified k-fold; 0
 *   augment       WordNet synonyms / word swap on training texts; false
 *   threads       OpenBLAS threads, 0 = every core; 0
 *   amp           precision on a GPU: off (fp32), bf16 or fp16; bf16 on a
 *                 GPU, off on the CPU (which has only off)
 *
 * Device: the HPT_DEVICE environment variable (hpt-worker --device cuda:N
 * sets it for its trial processes): cpu (also when unset) or cuda:N. On
 * cuda:N the device is checked before any data is read, and training runs
 * there (train.h); a CUDA error or out-of-device-memory fails the trial
 * with the backend's one-line message ("objective transformer: device
 * cuda:0: gpu: ..."), which the trial process prints as its `error` line
 * before exiting 1.
 *
 * Parameters (text, all optional; defaults in parentheses):
 *   lr_backbone (5e-5), lr_classifier (1e-3), batch_size (16),
 *   gradient_accumulation_steps (1), epochs (3), max_grad_norm (1),
 *   warmup_ratio (0.1), weight_decay (0.01), adam_epsilon (1e-8),
 *   adam_beta1 (0.9), adam_beta2 (0.999), dropout (the config's),
 *   layerwise_decay (1), label_smoothing (0), patience (0: none),
 *   aug_p (0.1; used with augment: true), amp (as the setting, which it
 *   overrides)
 *
 * Texts are cleaned as the reference does (text_clean.h) before
 * tokenisation. Reports: with one split, report(step = epoch, validation
 * accuracy) after every epoch; with folds, report(step = fold, the fold's
 * best validation accuracy) after every fold. Value: the best validation
 * accuracy over the epochs (the mean over folds). Metrics (means over
 * folds): train_loss, val_loss (last epoch), best_epoch, epochs_run,
 * samples_per_second (training only), n_train, n_val, seconds (wall time
 * of the whole call); on a GPU also peak_gpu_gib (the most device memory
 * the model held, GiB, the largest over folds; without the CUDA
 * context).
 *
 * Kept models (call->artifact_dir, one split only): the weights of the
 * best epoch (not the last) as a Hugging Face folder (classifier.h:
 * config.json with id2label NON_EXTREMIST / EXTREMIST, model.safetensors,
 * the tokenizer files) and val_predictions.csv (ID, label, probability of
 * EXTREMIST; the best epoch's, in the split's order, as the ngram
 * objective writes it). With folds nothing is kept (a warning).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "augment.h"
#include "classifier.h"
#include "dataset.h"
#include "gpu_model.h"
#include "json.h"
#include "log.h"
#include "model.h"
#include "objective.h"
#include "objective_catalog.h"
#include "objective_common.h"
#include "split.h"
#include "text_clean.h"
#include "train.h"

#define NAME "objective transformer"
#define PARAM_NAMES                                                            \
  "lr_backbone, lr_classifier, batch_size, gradient_accumulation_steps, "      \
  "epochs, max_grad_norm, warmup_ratio, weight_decay, adam_epsilon, "          \
  "adam_beta1, adam_beta2, dropout, layerwise_decay, label_smoothing, "        \
  "patience, aug_p, amp"
#define MAX_FOLDS 100

/* ---- parameters ---------------------------------------------------------- */

static int parse_number(const char *name, const char *value, double low,
                        double high, bool integer, double *out,
                        hpt_error_t *error) {
  char *end;
  errno = 0;
  double v = strtod(value, &end);
  if (end == value || *end != '\0' || errno != 0 || !isfinite(v) || v < low ||
      v > high || (integer && v != floor(v)))
    return HPT_ERR(error, HPT_EINVAL,
                   "parameter '%s' of " NAME ": '%s' is not %s in [%g, %g]",
                   name, value, integer ? "an integer" : "a number", low, high);
  *out = v;
  return 0;
}

typedef struct param_spec {
  const char *name;
  double low, high;
  bool integer;
} param_spec_t;

/* Ranges are sanity bounds; train.h and optimizer.h check the rest. */
static const param_spec_t param_specs[] = {
    {"lr_backbone", 1e-12, 10, false},
    {"lr_classifier", 1e-12, 10, false},
    {"batch_size", 1, 4096, true},
    {"gradient_accumulation_steps", 1, 1024, true},
    {"epochs", 1, 1000, true},
    {"max_grad_norm", 0, 1e6, false},
    {"warmup_ratio", 0, 1, false},
    {"weight_decay", 0, 10, false},
    {"adam_epsilon", 1e-30, 1, false},
    {"adam_beta1", 0, 0.999999, false},
    {"adam_beta2", 0, 0.999999, false},
    {"dropout", 0, 0.99, false},
    {"layerwise_decay", 1e-6, 1, false},
    {"label_smoothing", 0, 0.99, false},
    {"patience", 0, 1000, true},
    {"aug_p", 0, 1, false},
};

/* Reads one numeric parameter into *o; `amp` (text) is the caller's. */
static int parse_param(hpt_train_options_t *o, const hpt_objective_param_t *p,
                       hpt_error_t *error) {
  const char *value = p->value ? p->value : "";
  const param_spec_t *spec = NULL;
  for (size_t i = 0; i < sizeof param_specs / sizeof param_specs[0]; i++)
    if (strcmp(param_specs[i].name, p->name) == 0)
      spec = &param_specs[i];
  if (spec == NULL)
    return HPT_ERR(error, HPT_EINVAL,
                   "unknown parameter '%s' for " NAME " (expected: %s)",
                   p->name, PARAM_NAMES);
  double v = 0.0;
  int rc = parse_number(p->name, value, spec->low, spec->high, spec->integer,
                        &v, error);
  if (rc != 0)
    return rc;
  const char *n = p->name;
  if (strcmp(n, "lr_backbone") == 0)
    o->optimizer.lr_backbone = v;
  else if (strcmp(n, "lr_classifier") == 0)
    o->optimizer.lr_head = v;
  else if (strcmp(n, "batch_size") == 0)
    o->batch_size = (int)v;
  else if (strcmp(n, "gradient_accumulation_steps") == 0)
    o->gradient_accumulation_steps = (int)v;
  else if (strcmp(n, "epochs") == 0)
    o->epochs = (int)v;
  else if (strcmp(n, "max_grad_norm") == 0)
    o->optimizer.max_grad_norm = v;
  else if (strcmp(n, "warmup_ratio") == 0)
    o->warmup_ratio = v;
  else if (strcmp(n, "weight_decay") == 0)
    o->optimizer.weight_decay = v;
  else if (strcmp(n, "adam_epsilon") == 0)
    o->optimizer.eps = v;
  else if (strcmp(n, "adam_beta1") == 0)
    o->optimizer.beta1 = v;
  else if (strcmp(n, "adam_beta2") == 0)
    o->optimizer.beta2 = v;
  else if (strcmp(n, "dropout") == 0)
    o->dropout = v;
  else if (strcmp(n, "layerwise_decay") == 0)
    o->optimizer.layer_decay = v;
  else if (strcmp(n, "label_smoothing") == 0)
    o->label_smoothing = v;
  else if (strcmp(n, "patience") == 0)
    o->patience = (int)v;
  else
    o->aug_p = v;
  return 0;
}

/* ---- settings ------------------------------------------------------------ */

typedef struct settings {
  const char *model;
  hpt_objective_data_settings_t data; /* train, val_fraction, seed */
  int64_t max_length, folds, threads;
  bool augment;
  const char *amp; /* NULL: the device's default */
} settings_t;

static int read_settings(const hpt_options_t *options, settings_t *s,
                         hpt_error_t *error) {
  int rc;
  if (options == NULL)
    return HPT_ERR(error, HPT_EINVAL, NAME ": no settings");
  if ((rc = hpt_options_check_keys(
           options, hpt_objective_setting_keys("transformer"), error)) != 0 ||
      (rc = hpt_options_get_string(options, "model", NULL, &s->model, error)) !=
          0 ||
      (rc = hpt_objective_data_settings_read(options, &s->data, error)) != 0 ||
      (rc = hpt_options_get_int(options, "max_length", 128, &s->max_length,
                                error)) != 0 ||
      (rc = hpt_options_get_int(options, "folds", 0, &s->folds, error)) != 0 ||
      (rc = hpt_options_get_int(options, "threads", 0, &s->threads, error)) !=
          0 ||
      (rc = hpt_options_get_bool(options, "augment", false, &s->augment,
                                 error)) != 0 ||
      (rc = hpt_options_get_string(options, "amp", NULL, &s->amp, error)) != 0)
    return rc;
  if (s->model == NULL || s->model[0] == '\0')
    return HPT_ERR(error, HPT_EINVAL,
                   NAME ": setting 'model' (a Hugging Face model folder) is "
                        "required");
  if ((rc = hpt_objective_data_settings_check(&s->data, NAME, error)) != 0)
    return rc;
  if (s->max_length < 8 || s->max_length > 8192)
    return HPT_ERR(error, HPT_EINVAL,
                   NAME ": max_length %lld is not in 8..8192",
                   (long long)s->max_length);
  if (s->folds == 1 || s->folds < 0 || s->folds > MAX_FOLDS)
    return HPT_ERR(error, HPT_EINVAL,
                   NAME ": folds %lld is neither 0 (one split) nor in 2..%d",
                   (long long)s->folds, MAX_FOLDS);
  if (s->threads < 0 || s->threads > 1024)
    return HPT_ERR(error, HPT_EINVAL, NAME ": threads %lld is not in 0..1024",
                   (long long)s->threads);
  return 0;
}

/* ---- device ------------------------------------------------------------- */

/* The device from HPT_DEVICE (cpu when unset or empty) into o->device
 * (borrowed from the environment) and the precision into o->amp: the
 * `amp` parameter, else the setting, else bf16 on a GPU and off on the
 * CPU. On a GPU the device is looked at now (a CUDA context in this trial
 * process), so a missing one fails before any data is read. */
static int choose_device(const hpt_objective_call_t *call, const settings_t *s,
                         hpt_train_options_t *o, hpt_error_t *error) {
  const char *device = getenv("HPT_DEVICE");
  if (device == NULL || device[0] == '\0')
    device = "cpu";
  int ordinal = -1, rc;
  if ((rc = hpt_gpu_device_parse(device, &ordinal, error)) != 0)
    return hpt_error_prefix(error, NAME ": HPT_DEVICE");
  const char *amp = s->amp;
  for (size_t i = 0; i < call->n_params; i++)
    if (strcmp(call->params[i].name, "amp") == 0)
      amp = call->params[i].value ? call->params[i].value : "";
  o->device = device;
  o->amp = ordinal >= 0 ? HPT_GPU_AMP_BF16 : HPT_GPU_AMP_OFF;
  if (amp != NULL && (rc = hpt_gpu_amp_parse(amp, &o->amp, error)) != 0)
    return hpt_error_prefix(error, NAME);
  if (ordinal < 0)
    return 0;
  hpt_gpu_device_info_t info;
  if ((rc = hpt_gpu_device_info(ordinal, &info, error)) != 0)
    return hpt_error_prefix(error, NAME ": device %s", device);
  hpt_log(HPT_LOG_INFO, "transformer_device",
          "device=%s name=\"%s\" sm=%d%d free_gib=%.1f amp=%s", device,
          info.name, info.major, info.minor,
          (double)info.free_bytes / (1024.0 * 1024.0 * 1024.0),
          hpt_gpu_amp_name(o->amp));
  return 0;
}

/* ---- splits ------------------------------------------------------------- */

/* Stratified k-fold: each class (ascending label order) is shuffled with
 * its own stream and dealt round-robin into the folds, continuing the
 * count across classes so fold sizes differ by at most one. fold_of[i]
 * receives row i's fold. */
static void kfold_assign(const int *labels, size_t n, int k, uint64_t seed,
                         int *fold_of, int *scratch) {
  int max_label = 0;
  for (size_t i = 0; i < n; i++)
    if (labels[i] > max_label)
      max_label = labels[i];
  size_t dealt = 0;
  for (int label = 0; label <= max_label; label++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (labels[i] == label)
        scratch[m++] = (int)i;
    hpt_rng_t rng;
    hpt_rng_seed2(&rng, seed, (uint64_t)label);
    hpt_rng_shuffle_ints(&rng, scratch, m);
    for (size_t j = 0; j < m; j++)
      fold_of[scratch[j]] = (int)(dealt++ % (size_t)k);
  }
}

/* The rows of one part, as text/label arrays borrowed from `texts`. */
typedef struct part {
  const char **texts;
  int *labels;
  size_t n;
} part_t;

static void part_close(part_t *p) {
  free(p->texts);
  free(p->labels);
  memset(p, 0, sizeof *p);
}

static int part_take(part_t *p, char *const *texts, const int *labels,
                     const size_t *rows, size_t n, hpt_error_t *error) {
  p->n = n;
  return hpt_objective_gather(texts, labels, rows, n, NAME, &p->texts,
                              &p->labels, error);
}

/* ---- one training run -----------------------------------------------------
 */

typedef struct run_state {
  const hpt_objective_call_t *call;
  bool report_epochs;
} run_state_t;

static void on_epoch(void *user, int epoch, double val_accuracy,
                     double train_loss) {
  run_state_t *state = user;
  hpt_log(HPT_LOG_DEBUG, "transformer_epoch",
          "epoch=%d train_loss=%.4f val_acc=%.4f", epoch, train_loss,
          val_accuracy);
  if (state->report_epochs && state->call->report != NULL)
    state->call->report(state->call->user, epoch, val_accuracy);
}

/* Loads a fresh model, trains it on `tr`, evaluates on `va`; with
 * `artifact_dir`, saves the trained model there (classifier.h). */
static int train_once(const settings_t *s, const hpt_train_encoder_t *enc,
                      const hpt_train_options_t *o, const part_t *tr,
                      const part_t *va, run_state_t *state,
                      const char *artifact_dir, hpt_train_result_t *result,
                      hpt_error_t *error) {
  hpt_model_t *model = NULL;
  int rc = hpt_model_load(s->model, (uint64_t)s->data.seed, &model, error);
  if (rc != 0) {
    hpt_error_prefix(error, NAME ": model %s", s->model);
    return rc;
  }
  hpt_train_data_t train = {tr->texts, tr->labels, tr->n};
  hpt_train_data_t val = {va->texts, va->labels, va->n};
  rc = hpt_train_run(model, enc, &train, &val, o, on_epoch, state, result,
                     error);
  if (rc == 0 && artifact_dir != NULL) {
    /* The dataset's labels (dataset.h: 0 NON_EXTREMIST, 1 EXTREMIST) name
     * the head's outputs; a wider pretrained head keeps LABEL_<i>. */
    const hpt_model_config_t *config = hpt_model_config(model);
    const char *labels[64];
    int K = config->num_labels < 64 ? config->num_labels : 64;
    for (int i = 0; i < K; i++)
      labels[i] = hpt_dataset_label_name(i) ? hpt_dataset_label_name(i)
                                            : config->id2label[i];
    rc = hpt_classifier_save(model, s->model, labels, enc->max_length,
                             artifact_dir, error);
  }
  hpt_model_destroy(&model);
  return rc;
}

/* val_predictions.csv as the ngram objective writes it (ID, label,
 * probability of EXTREMIST), one row per validation row in the split's
 * order, so that ensembles line the members up row by row. pos_of[row] is
 * the row's index in the validation part; probs is (n_val, K). */
static int save_predictions(const char *dir, const hpt_dataset_t *ds,
                            const size_t *val_rows, size_t n_val,
                            const int *pos_of, const float *probs, int K,
                            hpt_error_t *error) {
  char path[4096];
  snprintf(path, sizeof path, "%s/val_predictions.csv", dir);
  FILE *out = fopen(path, "w");
  if (out == NULL)
    return HPT_ERR(error, HPT_EIO, "%s: cannot write", path);
  fprintf(out, "ID,label,probability\n");
  for (size_t i = 0; i < n_val; i++) {
    size_t row = val_rows[i];
    fprintf(out, "%s,%d,%.9g\n", ds->ids[row], ds->labels[row],
            (double)probs[(size_t)pos_of[row] * (size_t)K +
                          HPT_DATASET_LABEL_EXTREMIST]);
  }
  if (ferror(out) | (fclose(out) != 0))
    return HPT_ERR(error, HPT_EIO, "%s: write failed", path);
  return 0;
}

int hpt_objective_transformer_run(const hpt_objective_call_t *call,
                                  hpt_objective_result_t *result,
                                  hpt_error_t *error) {
  double started = hpt_objective_now();
  hpt_train_options_t options;
  settings_t s;
  hpt_model_config_t config = {0};
  hpt_classifier_tokenizer_t tok = {0};
  hpt_train_encoder_t enc = {0};
  hpt_split_t split = {0};
  float *val_probs = NULL;
  hpt_augment_t *aug = NULL;
  hpt_dataset_t *ds = NULL;
  char **texts = NULL;
  int *fold_of = NULL, *scratch = NULL;
  size_t *rows_tr = NULL, *rows_va = NULL;
  part_t tr = {0}, va = {0};
  int rc;

  memset(result, 0, sizeof *result);
  hpt_train_options_default(&options);
  for (size_t i = 0; i < call->n_params; i++)
    if (strcmp(call->params[i].name, "amp") != 0 &&
        (rc = parse_param(&options, &call->params[i], error)) != 0)
      return rc;
  if ((rc = read_settings(call->settings, &s, error)) != 0)
    return rc;
  options.seed = (uint64_t)s.data.seed;
  options.threads = (int)s.threads;
  if ((rc = choose_device(call, &s, &options, error)) != 0)
    return rc;
  if ((rc = hpt_train_options_check(&options, error)) != 0) {
    hpt_error_prefix(error, NAME);
    return rc;
  }

  /* Model folder: its config decides the tokenizer. */
  char path[4096];
  snprintf(path, sizeof path, "%s/config.json", s.model);
  if ((rc = hpt_model_config_load(path, &config, error)) != 0 ||
      (rc = hpt_classifier_tokenizer_load(s.model, &config, &tok, error)) !=
          0) {
    hpt_error_prefix(error, NAME ": model %s", s.model);
    goto out;
  }
  enc = tok.encoder;
  enc.max_length = (size_t)s.max_length;
  if (s.augment) {
    if ((rc = hpt_augment_new(NULL, &aug, error)) != 0)
      goto out;
    options.augment = aug;
  }

  /* Data, cleaned as the reference does. */
  if ((rc = hpt_dataset_load(s.data.train, true, &ds, error)) != 0)
    goto out;
  texts = calloc(ds->n_rows ? ds->n_rows : 1, sizeof *texts);
  fold_of = malloc((ds->n_rows ? ds->n_rows : 1) * sizeof *fold_of);
  scratch = malloc((ds->n_rows ? ds->n_rows : 1) * sizeof *scratch);
  rows_tr = malloc((ds->n_rows ? ds->n_rows : 1) * sizeof *rows_tr);
  rows_va = malloc((ds->n_rows ? ds->n_rows : 1) * sizeof *rows_va);
  if (!texts || !fold_of || !scratch || !rows_tr || !rows_va) {
    rc = HPT_ERR(error, HPT_ENOMEM, NAME ": out of memory");
    goto out;
  }
  for (size_t i = 0; i < ds->n_rows; i++)
    if ((rc = hpt_text_clean(ds->texts[i], &texts[i], error)) != 0)
      goto out;

  /* Parts: one stratified split, or k folds. */
  int n_parts = s.folds >= 2 ? (int)s.folds : 1;
  if (s.folds >= 2) {
    kfold_assign(ds->labels, ds->n_rows, n_parts, (uint64_t)s.data.seed,
                 fold_of, scratch);
  } else {
    if ((rc = hpt_split_stratified(ds->labels, ds->n_rows, s.data.val_fraction,
                                   (uint64_t)s.data.seed, &split, error)) != 0)
      goto out;
    for (size_t i = 0; i < ds->n_rows; i++)
      fold_of[i] = 1;
    for (size_t i = 0; i < split.n_val; i++)
      fold_of[split.val[i]] = 0;
  }

  /* Kept models: the best epoch's weights and validation probabilities
   * (one split only; k models of k folds are not one model). */
  const char *artifact_dir = n_parts == 1 ? call->artifact_dir : NULL;
  if (call->artifact_dir != NULL && n_parts > 1)
    hpt_log(HPT_LOG_WARN, "transformer_no_artifacts",
            "reason=\"folds %d: no single model to keep\"", n_parts);
  if (artifact_dir != NULL) {
    val_probs = malloc((split.n_val ? split.n_val : 1) *
                       (size_t)config.num_labels * sizeof *val_probs);
    if (val_probs == NULL) {
      rc = HPT_ERR(error, HPT_ENOMEM, NAME ": out of memory");
      goto out;
    }
    options.restore_best = true;
    options.val_probabilities = val_probs;
  }

  double sum_value = 0, sum_train_loss = 0, sum_val_loss = 0, sum_sps = 0;
  double sum_best_epoch = 0, sum_epochs = 0, sum_n_train = 0, sum_n_val = 0;
  size_t peak_gpu_bytes = 0;
  run_state_t state = {.call = call, .report_epochs = n_parts == 1};
  for (int part = 0; part < n_parts; part++) {
    size_t n_tr = 0, n_va = 0;
    for (size_t i = 0; i < ds->n_rows; i++) {
      if (fold_of[i] == part)
        rows_va[n_va++] = i;
      else
        rows_tr[n_tr++] = i;
    }
    if (n_tr == 0 || n_va == 0) {
      rc = HPT_ERR(error, HPT_EINVAL,
                   NAME ": %s: %zu rows leave %zu training and %zu "
                        "validation rows",
                   s.data.train, ds->n_rows, n_tr, n_va);
      goto out;
    }
    part_close(&tr);
    part_close(&va);
    if ((rc = part_take(&tr, texts, ds->labels, rows_tr, n_tr, error)) != 0 ||
        (rc = part_take(&va, texts, ds->labels, rows_va, n_va, error)) != 0)
      goto out;
    hpt_train_result_t r;
    if ((rc = train_once(&s, &enc, &options, &tr, &va, &state, artifact_dir, &r,
                         error)) != 0) {
      if (n_parts > 1)
        hpt_error_prefix(error, "fold %d", part + 1);
      goto out;
    }
    if (artifact_dir != NULL) {
      for (size_t j = 0; j < n_va; j++)
        scratch[rows_va[j]] = (int)j;
      if ((rc = save_predictions(artifact_dir, ds, split.val, split.n_val,
                                 scratch, val_probs, config.num_labels,
                                 error)) != 0)
        goto out;
    }
    if (n_parts > 1 && call->report != NULL)
      call->report(call->user, part + 1, r.best_val_accuracy);
    sum_value += r.best_val_accuracy;
    sum_train_loss += r.train_loss;
    sum_val_loss += r.val_loss;
    sum_sps += r.samples_per_second;
    sum_best_epoch += r.best_epoch;
    sum_epochs += r.epochs_run;
    sum_n_train += (double)n_tr;
    sum_n_val += (double)n_va;
    if (r.peak_gpu_bytes > peak_gpu_bytes)
      peak_gpu_bytes = r.peak_gpu_bytes;
  }

  result->value = sum_value / n_parts;
  hpt_objective_add_metric(result, "train_loss", sum_train_loss / n_parts);
  hpt_objective_add_metric(result, "val_loss", sum_val_loss / n_parts);
  hpt_objective_add_metric(result, "best_epoch", sum_best_epoch / n_parts);
  hpt_objective_add_metric(result, "epochs_run", sum_epochs / n_parts);
  hpt_objective_add_metric(result, "samples_per_second", sum_sps / n_parts);
  hpt_objective_add_metric(result, "n_train", sum_n_train / n_parts);
  hpt_objective_add_metric(result, "n_val", sum_n_val / n_parts);
  hpt_objective_add_metric(result, "seconds", hpt_objective_now() - started);
  if (strcmp(options.device, "cpu") != 0)
    hpt_objective_add_metric(result, "peak_gpu_gib",
                             (double)peak_gpu_bytes /
                                 (1024.0 * 1024.0 * 1024.0));

out:
  free(val_probs);
  hpt_split_close(&split);
  part_close(&tr);
  part_close(&va);
  free(rows_tr);
  free(rows_va);
  free(fold_of);
  free(scratch);
  if (texts != NULL)
    for (size_t i = 0; ds != NULL && i < ds->n_rows; i++)
      free(texts[i]);
  free(texts);
  hpt_dataset_destroy(&ds);
  hpt_augment_destroy(&aug);
  hpt_classifier_tokenizer_close(&tok);
  hpt_model_config_close(&config);
  return rc;
}
