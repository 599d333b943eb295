/* cli_ensemble.c — `hpt ensemble build` and `hpt predict`: soft-voting
 * ensembles of the best trials' kept models, and predictions for new data.
 *
 * Members are the best COMPLETE trials of one or more studies that kept
 * their artifacts (spec `keep_top_k`). Their validation predictions must
 * cover the same rows with the same labels (the same split of the same
 * data): that is what the vote is fitted and measured on. Nothing is stored
 * unless every member checks out: its predictions and its model read back
 * intact (sha256) and load, n-gram or transformer alike (member_model.h).
 * Transformer members run here, on the coordinator's CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dataset.h"
#include "ensemble.h"
#include "ensemble_members.h"
#include "member_model.h"
#include "store_artifacts.h"

static const char build_usage[] =
    "usage: hpt ensemble build NAME --from STUDY[:K] [--from STUDY[:K] ...]\n"
    "                          [--weights equal|optimized]\n"
    "                          [--threshold fixed|tuned]\n"
    "Soft-votes the best K kept trials of each study (default K: all kept)\n"
    "and stores the ensemble with its validation accuracy, F1, precision,\n"
    "recall, ROC-AUC and confusion matrix.\n";

static const char predict_usage[] =
    "usage: hpt predict --ensemble NAME --input FILE.csv --output FILE.csv\n"
    "                   [--probabilities]\n"
    "Writes ID,Extremism_Label (EXTREMIST / NON_EXTREMIST) for every input\n"
    "row, in input order; --probabilities adds the vote's probability.\n";

/* Collects the member trial ids named by --from options. */
static int collect_members(hpt_store_t *store, char **from, size_t n_from,
                           int64_t **ids, size_t *n_ids, hpt_error_t *error) {
  *ids = NULL;
  *n_ids = 0;
  for (size_t i = 0; i < n_from; i++) {
    char study[256];
    int k = 0;
    snprintf(study, sizeof study, "%s", from[i]);
    char *colon = strrchr(study, ':');
    if (colon != NULL) {
      *colon = '\0';
      if (!hpt_cli_parse_int("--from STUDY:K", colon + 1, &k) || k == 0)
        return HPT_ERR(error, HPT_EINVAL, "--from %s: K must be >= 1", from[i]);
    }
    hpt_study_row_t row;
    memset(&row, 0, sizeof row);
    int rc = hpt_store_study_find(store, study, &row, error);
    hpt_study_row_free(&row);
    if (rc < 0)
      return rc;
    int64_t *found = NULL;
    size_t count = 0;
    if ((rc = hpt_store_best_with_artifact(store, study, k,
                                           "val_predictions.csv", &found,
                                           &count, error)) < 0)
      return rc;
    if (count == 0) {
      free(found);
      return HPT_ERR(error, HPT_ENOTFOUND,
                     "study '%s' kept no trained models (set keep_top_k in "
                     "its spec and run it)",
                     study);
    }
    int64_t *grown = realloc(*ids, (*n_ids + count) * sizeof *grown);
    if (grown == NULL) {
      free(found);
      return HPT_ERR(error, HPT_ENOMEM, "out of memory");
    }
    *ids = grown;
    memcpy(*ids + *n_ids, found, count * sizeof *found);
    *n_ids += count;
    free(found);
  }
  return HPT_OK;
}

static int ensemble_build(hpt_cli_t *cli, int argc, char **argv) {
  const char *name = NULL;
  char *from[64];
  size_t n_from = 0;
  bool optimized = false, tuned = false;
  for (int i = 2; i < argc; i++) {
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(build_usage, true);
    } else if (strcmp(argv[i], "--from") == 0 && next && n_from < 64) {
      from[n_from++] = argv[++i];
    } else if (strcmp(argv[i], "--weights") == 0 && next &&
               (strcmp(next, "equal") == 0 || strcmp(next, "optimized") == 0)) {
      optimized = strcmp(argv[++i], "optimized") == 0;
    } else if (strcmp(argv[i], "--threshold") == 0 && next &&
               (strcmp(next, "fixed") == 0 || strcmp(next, "tuned") == 0)) {
      tuned = strcmp(argv[++i], "tuned") == 0;
    } else if (argv[i][0] != '-' && name == NULL) {
      name = argv[i];
    } else {
      return hpt_cli_unexpected("ensemble build", argv[i], build_usage);
    }
  }
  if (name == NULL || n_from == 0)
    return hpt_cli_usage(build_usage, false);
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  int64_t *ids = NULL;
  size_t n = 0;
  hpt_ensemble_members_t members = {0};
  double *weights = NULL;
  int rc = collect_members(store, from, n_from, &ids, &n, &error);
  /* Predictions on the same rows (checked there), and models that read
   * back intact and load: predict will need them. */
  if (rc == HPT_OK)
    rc = hpt_ensemble_members_load(store, n, ids, &members, &error);
  for (size_t m = 0; m < n && rc == HPT_OK; m++) {
    hpt_member_model_t *model = NULL;
    if ((rc = hpt_member_model_load(store, ids[m], &model, &error)) < 0)
      hpt_error_prefix(&error, "member %zu of %zu", m + 1, n);
    hpt_member_model_destroy(&model);
  }
  if (rc < 0)
    goto out;
  size_t rows = members.n_rows;
  weights = malloc(n * sizeof *weights);
  if (weights == NULL) {
    rc = HPT_ERR(&error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  double threshold = 0.5;
  hpt_ensemble_metrics_t metrics;
  if ((rc = hpt_ensemble_fit(n, rows, members.probabilities, members.labels,
                             optimized, tuned, weights, &threshold, &metrics,
                             &error)) < 0)
    goto out;
  hpt_ensemble_record_t record = {.name = name,
                                  .weights_mode =
                                      optimized ? "optimized" : "equal",
                                  .threshold_mode = tuned ? "tuned" : "fixed",
                                  .threshold = threshold,
                                  .n_val = (int)rows,
                                  .accuracy = metrics.accuracy,
                                  .f1 = metrics.f1,
                                  .precision = metrics.precision,
                                  .recall = metrics.recall,
                                  .roc_auc = metrics.roc_auc,
                                  .tp = metrics.tp,
                                  .fp = metrics.fp,
                                  .tn = metrics.tn,
                                  .fn = metrics.fn,
                                  .n_members = n,
                                  .trial_ids = ids,
                                  .weights = weights};
  if ((rc = hpt_store_ensemble_create(store, &record, &error)) < 0)
    goto out;
  printf("ensemble '%s': %zu members, %zu validation rows\n", name, n, rows);
  printf("  accuracy %.4f  f1 %.4f  precision %.4f  recall %.4f  roc_auc "
         "%.4f\n",
         metrics.accuracy, metrics.f1, metrics.precision, metrics.recall,
         metrics.roc_auc);
  printf("  threshold %.2f (%s), weights (%s):", threshold,
         tuned ? "tuned" : "fixed", optimized ? "optimized" : "equal");
  for (size_t m = 0; m < n; m++)
    printf(" %.2f", weights[m]);
  printf("\n  confusion: tp %d fp %d tn %d fn %d\n", metrics.tp, metrics.fp,
         metrics.tn, metrics.fn);
out:
  if (rc < 0)
    status = hpt_cli_fail(&error);
  hpt_ensemble_members_free(&members);
  free(weights);
  free(ids);
  hpt_store_close(&store);
  return status;
}

int hpt_cli_ensemble(hpt_cli_t *cli, int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "build") == 0)
    return ensemble_build(cli, argc, argv);
  bool help = argc >= 2 && hpt_cli_is_help(argv[1]);
  return hpt_cli_usage(build_usage, help);
}

/* ---- predict --------------------------------------------------------------
 */

typedef struct prediction_job {
  const hpt_dataset_t *input;
  const double *scores;
  double threshold;
  bool probabilities;
} prediction_job_t;

static int write_predictions(FILE *out, void *context, hpt_error_t *error) {
  const prediction_job_t *job = context;
  fputs(job->probabilities ? "ID,Extremism_Label,probability\n"
                           : "ID,Extremism_Label\n",
        out);
  for (size_t r = 0; r < job->input->n_rows; r++) {
    const char *label =
        hpt_dataset_label_name(job->scores[r] >= job->threshold);
    if (job->probabilities)
      fprintf(out, "%s,%s,%.6f\n", job->input->ids[r], label, job->scores[r]);
    else
      fprintf(out, "%s,%s\n", job->input->ids[r], label);
  }
  return ferror(out) ? HPT_ERR(error, HPT_EIO, "write failed") : HPT_OK;
}

typedef struct progress {
  bool tty;
  size_t member, members;
} progress_t;

static void show_progress(void *user, size_t done, size_t total) {
  const progress_t *p = user;
  if (p->tty)
    fprintf(stderr, "\rpredict: member %zu/%zu, row %zu/%zu", p->member,
            p->members, done, total);
}

int hpt_cli_predict(hpt_cli_t *cli, int argc, char **argv) {
  const char *ensemble = NULL, *input = NULL, *output = NULL;
  bool probabilities = false;
  for (int i = 1; i < argc; i++) {
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(predict_usage, true);
    } else if (strcmp(argv[i], "--ensemble") == 0 && next) {
      ensemble = argv[++i];
    } else if (strcmp(argv[i], "--input") == 0 && next) {
      input = argv[++i];
    } else if (strcmp(argv[i], "--output") == 0 && next) {
      output = argv[++i];
    } else if (strcmp(argv[i], "--probabilities") == 0) {
      probabilities = true;
    } else {
      return hpt_cli_unexpected("predict", argv[i], predict_usage);
    }
  }
  if (ensemble == NULL || input == NULL || output == NULL)
    return hpt_cli_usage(predict_usage, false);
  hpt_error_t error;
  hpt_error_clear(&error);
  /* The input first: a wrong file is reported before any model is read. */
  hpt_dataset_t *data = NULL;
  if (hpt_dataset_load(input, false, &data, &error) < 0)
    return hpt_cli_fail(&error);
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK) {
    hpt_dataset_destroy(&data);
    return status;
  }
  int64_t *ids = NULL;
  double *weights = NULL, threshold = 0.5;
  size_t n = 0;
  double *scores = calloc(data->n_rows ? data->n_rows : 1, sizeof *scores);
  int rc = scores ? hpt_store_ensemble_load(store, ensemble, &ids, &weights, &n,
                                            &threshold, &error)
                  : HPT_ERR(&error, HPT_ENOMEM, "out of memory");
  double *member_scores =
      rc == HPT_OK
          ? malloc((data->n_rows ? data->n_rows : 1) * sizeof *member_scores)
          : NULL;
  if (rc == HPT_OK && member_scores == NULL)
    rc = HPT_ERR(&error, HPT_ENOMEM, "out of memory");
  progress_t progress = {isatty(2), 0, n};
  for (size_t m = 0; m < n && rc == HPT_OK; m++) {
    hpt_member_model_t *model = NULL;
    progress.member = m + 1;
    if ((rc = hpt_member_model_load(store, ids[m], &model, &error)) == HPT_OK)
      rc = hpt_member_model_predict(model, (const char *const *)data->texts,
                                    data->n_rows, show_progress, &progress,
                                    member_scores, &error);
    if (rc != HPT_OK)
      hpt_error_prefix(&error, "member %zu of %zu", m + 1, n);
    for (size_t r = 0; r < data->n_rows && rc == HPT_OK; r++)
      scores[r] += weights[m] * member_scores[r];
    hpt_member_model_destroy(&model);
  }
  free(member_scores);
  bool tty = progress.tty;
  if (tty)
    fputc('\n', stderr);
  if (rc == HPT_OK) {
    prediction_job_t job = {data, scores, threshold, probabilities};
    rc = hpt_cli_write_file(output, write_predictions, &job, &error);
  }
  if (rc < 0)
    status = hpt_cli_fail(&error);
  else
    printf("wrote %zu predictions to %s (ensemble '%s', %zu members)\n",
           data->n_rows, output, ensemble, n);
  free(ids);
  free(weights);
  free(scores);
  hpt_dataset_destroy(&data);
  hpt_store_close(&store);
  return status;
}
