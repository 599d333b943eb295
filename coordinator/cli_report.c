/* cli_report.c — `hpt report NAME --output FILE`: a study (report_html.h)
 * or an ensemble (report_ensemble.h) as one self-contained HTML page, read
 * from the store (store_report.h; an ensemble's members' validation
 * predictions through ensemble_members.h). A study wins when both have the
 * name; `--ensemble NAME` asks for the ensemble. `hpt report` without
 * --output is the ask/tell command in cli_asktell.c, which hands over here
 * when it sees --output or -o.
 *
 * Also hpt_cli_write_file (cli.h): write to a temporary file beside the
 * target, then rename, so a failed write never leaves half a file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ensemble_members.h"
#include "report_ensemble.h"
#include "report_html.h"
#include "store_report.h"

static const char report_html_usage[] =
    "usage: hpt report NAME --output FILE\n"
    "       hpt report --ensemble NAME --output FILE\n"
    "\n"
    "Writes one self-contained HTML page (no network needed to view it).\n"
    "NAME is a study, or an ensemble (`hpt ensemble build`) when no study\n"
    "has that name: a study wins, and --ensemble picks the ensemble.\n"
    "\n"
    "A study's page: counts by state, the best trial, the top 10 trials,\n"
    "the optimization history, intermediate values, parameter importances,\n"
    "parallel coordinates and slice plots. An ensemble's page: its members\n"
    "(study, trial, weight, validation accuracy), weights and threshold,\n"
    "accuracy, F1, precision, recall and ROC-AUC, the confusion matrix, and\n"
    "the ROC curves of the vote and of every member from their stored\n"
    "validation predictions. FILE is replaced atomically.\n"
    "(`hpt report STUDY TRIAL STEP VALUE` reports an intermediate value.)\n";

int hpt_cli_write_file(const char *path, hpt_cli_writer_t writer, void *context,
                       hpt_error_t *error) {
  char temporary[PATH_MAX];
  if (snprintf(temporary, sizeof temporary, "%s.tmp-XXXXXX", path) >=
      (int)sizeof temporary)
    return HPT_ERR(error, HPT_EINVAL, "cannot write '%s': path too long", path);
  int fd = mkstemp(temporary);
  if (fd < 0)
    return HPT_ERR(error, HPT_EIO, "cannot write '%s': %s", path,
                   strerror(errno));
  mode_t mask = umask(0);
  umask(mask);
  FILE *out = fdopen(fd, "w");
  if (out == NULL || fchmod(fd, 0666 & ~mask) != 0) {
    int rc =
        HPT_ERR(error, HPT_EIO, "cannot write '%s': %s", path, strerror(errno));
    if (out != NULL)
      fclose(out);
    else
      close(fd);
    unlink(temporary);
    return rc;
  }
  int rc = writer(out, context, error);
  if (rc == HPT_OK && (fflush(out) != 0 || ferror(out) || fsync(fd) != 0))
    rc =
        HPT_ERR(error, HPT_EIO, "cannot write '%s': %s", path, strerror(errno));
  if (fclose(out) != 0 && rc == HPT_OK)
    rc =
        HPT_ERR(error, HPT_EIO, "cannot write '%s': %s", path, strerror(errno));
  if (rc == HPT_OK && rename(temporary, path) != 0)
    rc =
        HPT_ERR(error, HPT_EIO, "cannot write '%s': %s", path, strerror(errno));
  else if (rc != HPT_OK && error != NULL &&
           strstr(error->message, path) == NULL)
    hpt_error_prefix(error, "cannot write '%s'", path);
  if (rc != HPT_OK)
    unlink(temporary);
  return rc;
}

/* What one `hpt report --output` writes: a study's page or an
 * ensemble's. */
typedef struct report_job {
  const char *name;
  bool ensemble_only; /* --ensemble NAME */
  bool is_ensemble;   /* set by load_report: which of the two was loaded */
  hpt_report_t study;
  hpt_report_ensemble_t ensemble;
} report_job_t;

static int write_report(FILE *out, void *context, hpt_error_t *error) {
  const report_job_t *job = context;
  return job->is_ensemble
             ? hpt_report_ensemble_html_write(&job->ensemble, out, error)
             : hpt_report_html_write(&job->study, out, error);
}

/* The members' validation predictions, for the ROC curves. A member whose
 * predictions are gone (keep_top_k prunes the artifacts of trials that
 * fall out of a study's best K, also after an ensemble was built) leaves
 * the curves out, with the reason on the page; a corrupted one (sha256
 * mismatch) fails the report, as it fails `hpt predict`. */
static int load_validation(hpt_store_t *store, hpt_report_ensemble_t *ensemble,
                           hpt_error_t *error) {
  size_t n = ensemble->n_members;
  if (n == 0)
    return (ensemble->missing = strdup("the ensemble has no members left")) ==
                   NULL
               ? HPT_ERR(error, HPT_ENOMEM, "out of memory")
               : HPT_OK;
  int64_t *ids = malloc(n * sizeof *ids);
  if (ids == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  for (size_t m = 0; m < n; m++)
    ids[m] = ensemble->members[m].trial_id;
  hpt_error_t why;
  hpt_error_clear(&why);
  int rc =
      hpt_ensemble_members_load(store, n, ids, &ensemble->validation, &why);
  free(ids);
  if (rc == HPT_ENOTFOUND) {
    if (asprintf(&ensemble->missing,
                 "%s (keep_top_k may have dropped it since the ensemble was "
                 "built).",
                 why.message) < 0) {
      ensemble->missing = NULL;
      return HPT_ERR(error, HPT_ENOMEM, "out of memory");
    }
    return HPT_OK;
  }
  if (rc != HPT_OK && error != NULL)
    *error = why;
  return rc;
}

static int load_report(hpt_store_t *store, void *context, hpt_error_t *error) {
  report_job_t *job = context;
  if (!job->ensemble_only) {
    int rc = hpt_store_report_load(store, job->name, &job->study, error);
    if (rc != HPT_ENOTFOUND)
      return rc;
  }
  int rc =
      hpt_store_report_ensemble_load(store, job->name, &job->ensemble, error);
  if (rc == HPT_ENOTFOUND && !job->ensemble_only)
    return HPT_ERR(error, HPT_ENOTFOUND, "no study or ensemble named '%s'",
                   job->name);
  if (rc != HPT_OK)
    return rc;
  job->is_ensemble = true;
  return load_validation(store, &job->ensemble, error);
}

int hpt_cli_report_html(hpt_cli_t *cli, int argc, char **argv) {
  report_job_t job = {0};
  const char *output = NULL;
  for (int i = 1; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(report_html_usage, true);
    } else if ((strcmp(argv[i], "--output") == 0 ||
                strcmp(argv[i], "-o") == 0) &&
               i + 1 < argc && output == NULL) {
      output = argv[++i];
    } else if (strcmp(argv[i], "--ensemble") == 0 && i + 1 < argc &&
               job.name == NULL) {
      job.name = argv[++i];
      job.ensemble_only = true;
    } else if (argv[i][0] != '-' && job.name == NULL) {
      job.name = argv[i];
    } else {
      return hpt_cli_unexpected("report", argv[i], report_html_usage);
    }
  }
  if (job.name == NULL || output == NULL || output[0] == '\0')
    return hpt_cli_usage(report_html_usage, false);
  int status = hpt_cli_with_store(cli, load_report, &job);
  if (status == HPT_EXIT_OK) {
    hpt_error_t error;
    hpt_error_clear(&error);
    if (hpt_cli_write_file(output, write_report, &job, &error) < 0)
      status = hpt_cli_fail(&error);
    else if (job.is_ensemble)
      printf("wrote %s: ensemble '%s' of %zu members%s\n", output, job.name,
             job.ensemble.n_members,
             job.ensemble.missing ? " (no ROC curves: a member's validation "
                                    "predictions are gone)"
                                  : "");
    else
      printf("wrote %s: %zu trials of study '%s'\n", output, job.study.n_trials,
             job.name);
  }
  hpt_report_free(&job.study);
  hpt_report_ensemble_free(&job.ensemble);
  return status;
}
