/* cli_transfer.c — `hpt study export NAME --format csv|json [--output FILE]`
 * and `hpt study import FILE [--name NEW]`: move a study, with every trial,
 * from one database to another. The document is described in
 * store_transfer.h; import checks its shape here (jansson, with the line and
 * column of a syntax error) and hands the text to the store, which writes
 * it in one transaction.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store_transfer.h"

static const char export_usage[] =
    "usage: hpt study export NAME [--format json|csv] [--output FILE]\n"
    "\n"
    "Writes the study and all its trials to FILE (atomically) or stdout.\n"
    "json (the default): one document with the study (spec, search space,\n"
    "state) and every trial (state, value, params with internal values,\n"
    "intermediate values, metrics, times, worker, fail reason); `hpt study\n"
    "import` reads it back. csv: one row per trial.\n";

static const char import_usage[] =
    "usage: hpt study import FILE [--name NEW]\n"
    "\n"
    "Creates the study in FILE (written by `hpt study export --format\n"
    "json`) with all its trials, in one transaction: nothing is written if\n"
    "a study with that name exists (--name NEW imports it under another\n"
    "name) or any part of FILE is wrong.\n";

/* ---- export -------------------------------------------------------------- */

typedef struct export_job {
  hpt_store_t *store;
  const char *name;
  hpt_format_t format;
  const char *output; /* NULL: stdout */
} export_job_t;

static int write_export(FILE *out, void *context, hpt_error_t *error) {
  export_job_t *job = context;
  return hpt_store_study_export(job->store, job->name, job->format, out, error);
}

static int run_export(hpt_store_t *store, void *context, hpt_error_t *error) {
  export_job_t *job = context;
  job->store = store;
  return job->output != NULL
             ? hpt_cli_write_file(job->output, write_export, job, error)
             : write_export(stdout, job, error);
}

int hpt_cli_study_export(hpt_cli_t *cli, int argc, char **argv) {
  export_job_t job = {NULL, NULL, HPT_FORMAT_JSON, NULL};
  for (int i = 2; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(export_usage, true);
    } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
      const char *text = argv[++i];
      if (strcmp(text, "json") == 0)
        job.format = HPT_FORMAT_JSON;
      else if (strcmp(text, "csv") == 0)
        job.format = HPT_FORMAT_CSV;
      else {
        fprintf(stderr,
                "hpt study export: --format: expected json or csv, got "
                "'%s'\n",
                text);
        return HPT_EXIT_USAGE;
      }
    } else if ((strcmp(argv[i], "--output") == 0 ||
                strcmp(argv[i], "-o") == 0) &&
               i + 1 < argc && argv[i + 1][0] != '\0') {
      job.output = argv[++i];
    } else if (argv[i][0] != '-' && job.name == NULL) {
      job.name = argv[i];
    } else {
      return hpt_cli_unexpected("study export", argv[i], export_usage);
    }
  }
  if (job.name == NULL)
    return hpt_cli_usage(export_usage, false);
  int status = hpt_cli_with_store(cli, run_export, &job);
  if (status == HPT_EXIT_OK && job.output != NULL)
    printf("exported study '%s' to %s\n", job.name, job.output);
  return status;
}

/* ---- import -------------------------------------------------------------- */

/* Whole file, NUL-terminated; caller frees. */
static int read_file(const char *path, char **text, size_t *length,
                     hpt_error_t *error) {
  *text = NULL;
  FILE *in = fopen(path, "rb");
  if (in == NULL)
    return HPT_ERR(error, HPT_EIO, "%s: %s", path, strerror(errno));
  size_t capacity = 1 << 16, n = 0;
  char *buffer = malloc(capacity);
  while (buffer != NULL) {
    n += fread(buffer + n, 1, capacity - n - 1, in);
    if (n + 1 < capacity || feof(in) || ferror(in))
      break;
    char *grown = realloc(buffer, capacity * 2);
    if (grown == NULL)
      free(buffer);
    buffer = grown;
    capacity *= 2;
  }
  int failed = ferror(in);
  fclose(in);
  if (buffer == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
  if (failed) {
    free(buffer);
    return HPT_ERR(error, HPT_EIO, "%s: cannot read", path);
  }
  buffer[n] = '\0';
  *text = buffer;
  *length = n;
  return HPT_OK;
}

/* Checks the document's shape (what PostgreSQL's casts would report less
 * clearly) and returns the study's name in it (borrowed from `root`). */
static int check_document(const char *path, json_t *root, const char **name,
                          hpt_error_t *error) {
  json_t *format = json_object_get(root, "format");
  json_t *version = json_object_get(root, "version");
  json_t *study = json_object_get(root, "study");
  json_t *trials = json_object_get(root, "trials");
  if (!json_is_object(root) || !json_is_string(format) ||
      strcmp(json_string_value(format), "hpt-study") != 0)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: not an hpt study export (no \"format\": "
                   "\"hpt-study\")",
                   path);
  if (!json_is_integer(version) || json_integer_value(version) != 1)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: version: expected 1 (this hpt reads version 1)", path);
  if (!json_is_object(study))
    return HPT_ERR(error, HPT_EPARSE, "%s: study: expected an object", path);
  json_t *study_name = json_object_get(study, "name");
  json_t *direction = json_object_get(study, "direction");
  json_t *params = json_object_get(study, "params");
  if (!json_is_string(study_name) ||
      !hpt_cli_valid_name(json_string_value(study_name)))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: study.name: expected 1 to 128 letters, digits, '_', "
                   "'.' or '-'",
                   path);
  if (!json_is_string(direction))
    return HPT_ERR(error, HPT_EPARSE, "%s: study.direction: expected a string",
                   path);
  if (params != NULL && !json_is_array(params))
    return HPT_ERR(error, HPT_EPARSE, "%s: study.params: expected an array",
                   path);
  if (!json_is_array(trials))
    return HPT_ERR(error, HPT_EPARSE, "%s: trials: expected an array", path);
  size_t index;
  json_t *trial;
  json_array_foreach(trials, index, trial) {
    json_t *number = json_object_get(trial, "number");
    if (!json_is_object(trial) || !json_is_integer(number) ||
        json_integer_value(number) < 0 ||
        !json_is_string(json_object_get(trial, "state")))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: trials[%zu]: expected an object with a \"number\" "
                     "(integer >= 0) and a \"state\"",
                     path, index);
    const char *keys[] = {"params", "params_internal", "metrics"};
    for (size_t k = 0; k < 3; k++) {
      json_t *member = json_object_get(trial, keys[k]);
      if (member != NULL && !json_is_object(member))
        return HPT_ERR(error, HPT_EPARSE,
                       "%s: trials[%zu].%s: expected an object", path, index,
                       keys[k]);
    }
    json_t *steps = json_object_get(trial, "intermediate_values");
    if (steps != NULL && !json_is_array(steps))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: trials[%zu].intermediate_values: expected an array",
                     path, index);
  }
  *name = json_string_value(study_name);
  return HPT_OK;
}

int hpt_cli_study_import(hpt_cli_t *cli, int argc, char **argv) {
  const char *path = NULL, *rename_to = NULL;
  for (int i = 2; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(import_usage, true);
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      rename_to = argv[++i];
    } else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) &&
               path == NULL) {
      path = argv[i];
    } else {
      return hpt_cli_unexpected("study import", argv[i], import_usage);
    }
  }
  if (path == NULL)
    return hpt_cli_usage(import_usage, false);
  if (rename_to != NULL && !hpt_cli_check_name(rename_to))
    return HPT_EXIT_USAGE;
  hpt_error_t error;
  hpt_error_clear(&error);
  char *text = NULL;
  size_t length = 0;
  if (read_file(strcmp(path, "-") == 0 ? "/dev/stdin" : path, &text, &length,
                &error) < 0)
    return hpt_cli_fail(&error);
  json_error_t json_error;
  json_t *root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &json_error);
  const char *name = NULL;
  if (root == NULL) {
    HPT_ERR(&error, HPT_EPARSE, "%s:%d:%d: %s", path, json_error.line,
            json_error.column, json_error.text);
  } else if (check_document(path, root, &name, &error) == HPT_OK &&
             rename_to != NULL) {
    name = rename_to;
  }
  if (name == NULL) {
    json_decref(root);
    free(text);
    return hpt_cli_fail(&error);
  }
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  int n_trials = 0;
  if (status == HPT_EXIT_OK) {
    if (hpt_store_study_import(store, text, name, &n_trials, &error) < 0) {
      if (error.code == HPT_EEXIST)
        hpt_error_prefix(&error,
                         "%s: nothing imported (--name NEW imports it "
                         "under another name)",
                         path);
      else
        hpt_error_prefix(&error, "%s", path);
      status = hpt_cli_fail(&error);
    } else {
      printf("imported study '%s' from %s: %d trials\n", name, path, n_trials);
    }
  }
  hpt_store_close(&store);
  json_decref(root);
  free(text);
  return status;
}
