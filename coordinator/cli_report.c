/* cli_report.c — `hpt report STUDY --output FILE`: the study as one
 * self-contained HTML page (report_html.h), read from the store
 * (store_report.h). `hpt report` without --output is the ask/tell command in
 * cli_asktell.c, which hands over here when it sees --output or -o.
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
#include "report_html.h"
#include "store_report.h"

static const char report_html_usage[] =
    "usage: hpt report STUDY --output FILE\n"
    "\n"
    "Writes one self-contained HTML page about STUDY (no network needed to\n"
    "view it): counts by state, the best trial, the top 10 trials, the\n"
    "optimization history, intermediate values, parameter importances,\n"
    "parallel coordinates and slice plots. FILE is replaced atomically.\n"
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

static int write_report(FILE *out, void *context, hpt_error_t *error) {
  return hpt_report_html_write(context, out, error);
}

typedef struct report_job {
  const char *study;
  hpt_report_t report;
} report_job_t;

static int load_report(hpt_store_t *store, void *context, hpt_error_t *error) {
  report_job_t *job = context;
  return hpt_store_report_load(store, job->study, &job->report, error);
}

int hpt_cli_report_html(hpt_cli_t *cli, int argc, char **argv) {
  const char *study = NULL, *output = NULL;
  for (int i = 1; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(report_html_usage, true);
    } else if ((strcmp(argv[i], "--output") == 0 ||
                strcmp(argv[i], "-o") == 0) &&
               i + 1 < argc && output == NULL) {
      output = argv[++i];
    } else if (argv[i][0] != '-' && study == NULL) {
      study = argv[i];
    } else {
      return hpt_cli_unexpected("report", argv[i], report_html_usage);
    }
  }
  if (study == NULL || output == NULL || output[0] == '\0')
    return hpt_cli_usage(report_html_usage, false);
  report_job_t job = {.study = study};
  int status = hpt_cli_with_store(cli, load_report, &job);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  if (hpt_cli_write_file(output, write_report, &job.report, &error) < 0)
    status = hpt_cli_fail(&error);
  else
    printf("wrote %s: %zu trials of study '%s'\n", output, job.report.n_trials,
           study);
  hpt_report_free(&job.report);
  return status;
}
