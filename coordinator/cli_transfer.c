/* cli_transfer.c — `hpt study export NAME --format csv|json [--output FILE]
 * [--artifacts DIR]` and `hpt study import FILE [--name NEW] [--artifacts
 * DIR]`: move a study, with every trial and (with --artifacts) every kept
 * model and prediction file, from one database to another. The document is
 * described in store_transfer.h; import checks its shape here (jansson, with
 * the line and column of a syntax error) and hands the text, and the
 * artifact files it lists, to the store, which writes them in one
 * transaction.
 *
 * Artifacts travel as plain files beside the document, DIR/<trial
 * number>/<name>, never inside it (they can be hundreds of MB): export
 * streams each large object into its file (temporary file, then rename, so
 * a crash never leaves a half file under the final name) and writes the
 * document last; import streams each file into a new large object. Names
 * with '/' or ".." are refused both ways.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "artifact_receive.h"
#include "cli.h"
#include "store_artifacts.h"
#include "store_transfer.h"

static const char export_usage[] =
    "usage: hpt study export NAME [--format json|csv] [--output FILE]\n"
    "                         [--artifacts DIR]\n"
    "\n"
    "Writes the study and all its trials to FILE (atomically) or stdout.\n"
    "json (the default): one document with the study (spec, search space,\n"
    "state) and every trial (state, value, params with internal values,\n"
    "intermediate values, metrics, times, worker, fail reason); `hpt study\n"
    "import` reads it back. csv: one row per trial.\n"
    "\n"
    "--artifacts DIR (json only) also writes every file the trials kept\n"
    "(keep_top_k: trained models, validation predictions) to\n"
    "DIR/<trial number>/<name>, each checked against its stored SHA-256 and\n"
    "written atomically, and lists them (name, size, sha256) in the\n"
    "document, which is written last. DIR is created if missing.\n";

static const char import_usage[] =
    "usage: hpt study import FILE [--name NEW] [--artifacts DIR]\n"
    "\n"
    "Creates the study in FILE (written by `hpt study export --format\n"
    "json`) with all its trials, in one transaction: nothing is written if\n"
    "a study with that name exists (--name NEW imports it under another\n"
    "name) or any part of FILE is wrong.\n"
    "\n"
    "--artifacts DIR (the DIR of `hpt study export --artifacts`) imports the\n"
    "files FILE lists for its trials, DIR/<trial number>/<name>, in the same\n"
    "transaction: if one is missing or its size or SHA-256 differs from\n"
    "FILE's, nothing is imported. Without it the trials are imported\n"
    "without their files, and a note on stderr says how many were left.\n";

/* Whether an artifact name from a document or the database is a plain
 * file name, safe to join to a folder: no '/', no "..", no leading '.',
 * no control characters (hpt_artifact_name_valid), at most 255 bytes. */
static bool plain_name(const char *name) {
  return hpt_artifact_name_valid(name) && strstr(name, "..") == NULL;
}

/* One trials[].artifacts entry of a document. */
typedef struct listed_artifact {
  int number;       /* the trial's */
  const char *name; /* borrowed from the document's json_t */
  uint64_t bytes;
  const char *sha256; /* borrowed; 64 lowercase hex digits */
} listed_artifact_t;

static bool sha256_hex(const char *text) {
  size_t n = 0;
  for (; text[n] != '\0'; n++)
    if (!((text[n] >= '0' && text[n] <= '9') ||
          (text[n] >= 'a' && text[n] <= 'f')))
      return false;
  return n == 64;
}

/* Checks one trials[].artifacts entry, {"name", "size", "sha256"}, into
 * *out; `where` names the document in errors. */
static int check_artifact(const char *where, size_t trial, size_t index,
                          json_t *entry, listed_artifact_t *out,
                          hpt_error_t *error) {
  json_t *name = json_object_get(entry, "name");
  json_t *size = json_object_get(entry, "size");
  json_t *sha = json_object_get(entry, "sha256");
  if (!json_is_object(entry) || !json_is_string(name) ||
      !json_is_integer(size) || json_integer_value(size) < 0 ||
      !json_is_string(sha))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: trials[%zu].artifacts[%zu]: expected an object with "
                   "a \"name\", a \"size\" (integer >= 0) and a \"sha256\"",
                   where, trial, index);
  if (!plain_name(json_string_value(name)))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: trials[%zu].artifacts[%zu].name: '%.64s' is not a "
                   "plain file name (no '/', no '..')",
                   where, trial, index, json_string_value(name));
  if (!sha256_hex(json_string_value(sha)))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: trials[%zu].artifacts[%zu].sha256: expected 64 "
                   "lowercase hex digits",
                   where, trial, index);
  out->name = json_string_value(name);
  out->bytes = (uint64_t)json_integer_value(size);
  out->sha256 = json_string_value(sha);
  return HPT_OK;
}

/* Every artifact the document's trials list, checked, in document order.
 * The caller frees *list (its strings are borrowed from `trials`). */
static int list_artifacts(const char *where, json_t *trials,
                          listed_artifact_t **list, size_t *count,
                          hpt_error_t *error) {
  *list = NULL;
  *count = 0;
  size_t n = 0, t, a;
  json_t *trial, *entry;
  json_array_foreach(trials, t, trial) {
    json_t *artifacts = json_object_get(trial, "artifacts");
    if (artifacts != NULL && !json_is_array(artifacts))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: trials[%zu].artifacts: expected an array", where, t);
    n += json_array_size(artifacts);
  }
  listed_artifact_t *out = calloc(n ? n : 1, sizeof *out);
  if (out == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  size_t at = 0;
  for (t = 0; t < json_array_size(trials); t++) {
    trial = json_array_get(trials, t);
    json_t *artifacts = json_object_get(trial, "artifacts");
    int number = (int)json_integer_value(json_object_get(trial, "number"));
    for (a = 0; a < json_array_size(artifacts); a++, at++) {
      entry = json_array_get(artifacts, a);
      int rc = check_artifact(where, t, a, entry, &out[at], error);
      if (rc != HPT_OK) {
        free(out);
        return rc;
      }
      out[at].number = number;
    }
  }
  *list = out;
  *count = n;
  return HPT_OK;
}

/* DIR/<number>/<name> into `path`. */
static int artifact_path(char *path, size_t size, const char *dir,
                         const listed_artifact_t *a, hpt_error_t *error) {
  if (snprintf(path, size, "%s/%d/%s", dir, a->number, a->name) >= (int)size)
    return HPT_ERR(error, HPT_EINVAL, "%s: path too long", dir);
  return HPT_OK;
}

/* ---- export -------------------------------------------------------------- */

typedef struct export_job {
  hpt_store_t *store;
  const char *name;
  hpt_format_t format;
  const char *output;    /* NULL: stdout */
  const char *artifacts; /* --artifacts DIR, or NULL */
  char *document;        /* with artifacts: the document, in memory */
  size_t length;
  const listed_artifact_t *artifact; /* the one being written */
  const char *artifact_path;
  size_t n_artifacts; /* written */
  uint64_t n_bytes;
} export_job_t;

static int write_export(FILE *out, void *context, hpt_error_t *error) {
  export_job_t *job = context;
  if (job->document != NULL)
    return fwrite(job->document, 1, job->length, out) == job->length
               ? HPT_OK
               : HPT_ERR(error, HPT_EIO, "cannot write the export of '%s'",
                         job->name);
  return hpt_store_study_export(job->store, job->name, job->format, false, out,
                                error);
}

static int write_artifact(FILE *out, void *context, hpt_error_t *error) {
  export_job_t *job = context;
  return hpt_store_artifact_export(job->store, job->name, job->artifact->number,
                                   job->artifact->name, job->artifact->sha256,
                                   out, job->artifact_path, error);
}

/* mkdir that accepts an existing folder. */
static int make_dir(const char *path, hpt_error_t *error) {
  if (mkdir(path, 0777) == 0)
    return HPT_OK;
  int reason = errno;
  struct stat info;
  if (reason == EEXIST && stat(path, &info) == 0 && S_ISDIR(info.st_mode))
    return HPT_OK;
  return HPT_ERR(error, HPT_EIO, "%s: cannot create the folder: %s", path,
                 strerror(reason == EEXIST ? ENOTDIR : reason));
}

/* The document (listing the artifacts) into memory, then every artifact
 * it lists into DIR/<number>/<name>. The document is written afterwards,
 * so one that exists names files that are all there. */
static int export_artifacts(export_job_t *job, hpt_error_t *error) {
  FILE *memory = open_memstream(&job->document, &job->length);
  if (memory == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  int rc = hpt_store_study_export(job->store, job->name, HPT_FORMAT_JSON, true,
                                  memory, error);
  if (fclose(memory) != 0 && rc == HPT_OK)
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
  if (rc != HPT_OK)
    return rc;
  json_error_t json_error;
  json_t *root = json_loadb(job->document, job->length, 0, &json_error);
  if (root == NULL)
    return HPT_ERR(error, HPT_EPARSE, "the export of '%s': %s", job->name,
                   json_error.text);
  listed_artifact_t *list = NULL;
  size_t n = 0;
  char where[200];
  snprintf(where, sizeof where, "study '%s'", job->name);
  rc = list_artifacts(where, json_object_get(root, "trials"), &list, &n, error);
  if (rc == HPT_OK)
    rc = make_dir(job->artifacts, error);
  char path[PATH_MAX];
  for (size_t i = 0; rc == HPT_OK && i < n; i++) {
    snprintf(path, sizeof path, "%s/%d", job->artifacts, list[i].number);
    if ((rc = make_dir(path, error)) != HPT_OK ||
        (rc = artifact_path(path, sizeof path, job->artifacts, &list[i],
                            error)) != HPT_OK)
      break;
    job->artifact = &list[i];
    job->artifact_path = path;
    rc = hpt_cli_write_file(path, write_artifact, job, error);
    job->n_artifacts += rc == HPT_OK;
    job->n_bytes += rc == HPT_OK ? list[i].bytes : 0;
  }
  free(list);
  json_decref(root);
  return rc;
}

static int run_export(hpt_store_t *store, void *context, hpt_error_t *error) {
  export_job_t *job = context;
  job->store = store;
  if (job->artifacts != NULL) {
    int rc = export_artifacts(job, error);
    if (rc != HPT_OK)
      return rc;
  }
  return job->output != NULL
             ? hpt_cli_write_file(job->output, write_export, job, error)
             : write_export(stdout, job, error);
}

int hpt_cli_study_export(hpt_cli_t *cli, int argc, char **argv) {
  export_job_t job = {.format = HPT_FORMAT_JSON};
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
    } else if (strcmp(argv[i], "--artifacts") == 0 && i + 1 < argc &&
               argv[i + 1][0] != '\0') {
      job.artifacts = argv[++i];
    } else if (argv[i][0] != '-' && job.name == NULL) {
      job.name = argv[i];
    } else {
      return hpt_cli_unexpected("study export", argv[i], export_usage);
    }
  }
  if (job.name == NULL)
    return hpt_cli_usage(export_usage, false);
  if (job.artifacts != NULL && job.format != HPT_FORMAT_JSON) {
    fprintf(stderr, "hpt study export: --artifacts needs --format json (the "
                    "document lists the files)\n");
    return HPT_EXIT_USAGE;
  }
  int status = hpt_cli_with_store(cli, run_export, &job);
  free(job.document);
  if (status == HPT_EXIT_OK && job.output != NULL) {
    printf("exported study '%s' to %s", job.name, job.output);
    if (job.artifacts != NULL)
      printf(", %zu artifacts (%" PRIu64 " bytes) to %s", job.n_artifacts,
             job.n_bytes, job.artifacts);
    printf("\n");
  } else if (status == HPT_EXIT_OK && job.artifacts != NULL) {
    fprintf(stderr, "exported %zu artifacts (%" PRIu64 " bytes) to %s\n",
            job.n_artifacts, job.n_bytes, job.artifacts);
  }
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
                          listed_artifact_t **artifacts, size_t *n_artifacts,
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
        json_integer_value(number) > INT_MAX ||
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
  int rc = list_artifacts(path, trials, artifacts, n_artifacts, error);
  if (rc == HPT_OK)
    *name = json_string_value(study_name);
  return rc;
}

/* Each listed file in DIR, checked to be there with the listed size before
 * the database is touched (the store checks the bytes and SHA-256 as it
 * streams them). On success *out (caller frees, with *paths) holds them. */
static int find_artifacts(const char *document, const char *dir,
                          const listed_artifact_t *list, size_t n,
                          hpt_store_import_artifact_t **out, char **paths,
                          hpt_error_t *error) {
  *out = NULL;
  *paths = NULL;
  hpt_store_import_artifact_t *files = calloc(n ? n : 1, sizeof *files);
  char *buffer = calloc(n ? n : 1, PATH_MAX);
  if (files == NULL || buffer == NULL) {
    free(files);
    free(buffer);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  int rc = HPT_OK;
  struct stat info;
  for (size_t i = 0; rc == HPT_OK && i < n; i++) {
    char *path = buffer + i * PATH_MAX;
    if ((rc = artifact_path(path, PATH_MAX, dir, &list[i], error)) != HPT_OK)
      break;
    if (stat(path, &info) != 0)
      rc = HPT_ERR(error, HPT_EIO, "%s: %s (listed in %s for trial %d)", path,
                   strerror(errno), document, list[i].number);
    else if (!S_ISREG(info.st_mode))
      rc = HPT_ERR(error, HPT_EIO, "%s: not a regular file", path);
    else if ((uint64_t)info.st_size != list[i].bytes)
      rc = HPT_ERR(error, HPT_EPARSE,
                   "%s: %lld bytes, %s lists %" PRIu64 " (a different or "
                   "damaged file)",
                   path, (long long)info.st_size, document, list[i].bytes);
    files[i] = (hpt_store_import_artifact_t){
        list[i].number, list[i].name, list[i].bytes, list[i].sha256, path};
  }
  if (rc != HPT_OK) {
    free(files);
    free(buffer);
    return rc;
  }
  *out = files;
  *paths = buffer;
  return HPT_OK;
}

int hpt_cli_study_import(hpt_cli_t *cli, int argc, char **argv) {
  const char *path = NULL, *rename_to = NULL, *dir = NULL;
  for (int i = 2; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(import_usage, true);
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      rename_to = argv[++i];
    } else if (strcmp(argv[i], "--artifacts") == 0 && i + 1 < argc &&
               argv[i + 1][0] != '\0') {
      dir = argv[++i];
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
  listed_artifact_t *listed = NULL;
  size_t n_listed = 0;
  hpt_store_import_artifact_t *files = NULL;
  char *paths = NULL;
  if (root == NULL) {
    HPT_ERR(&error, HPT_EPARSE, "%s:%d:%d: %s", path, json_error.line,
            json_error.column, json_error.text);
  } else if (check_document(path, root, &name, &listed, &n_listed, &error) ==
                 HPT_OK &&
             dir != NULL &&
             find_artifacts(path, dir, listed, n_listed, &files, &paths,
                            &error) != HPT_OK) {
    name = NULL;
  } else if (name != NULL && rename_to != NULL) {
    name = rename_to;
  }
  hpt_store_t *store = NULL;
  int status =
      name == NULL ? hpt_cli_fail(&error) : hpt_cli_open_store(cli, &store);
  int n_trials = 0;
  if (name != NULL && status == HPT_EXIT_OK) {
    if (hpt_store_study_import(store, text, name, files,
                               dir != NULL ? n_listed : 0, &n_trials,
                               &error) < 0) {
      if (error.code == HPT_EEXIST)
        hpt_error_prefix(&error,
                         "%s: nothing imported (--name NEW imports it "
                         "under another name)",
                         path);
      else
        hpt_error_prefix(&error, "%s", path);
      status = hpt_cli_fail(&error);
    } else if (dir != NULL) {
      printf("imported study '%s' from %s: %d trials, %zu artifacts from %s\n",
             name, path, n_trials, n_listed, dir);
    } else {
      printf("imported study '%s' from %s: %d trials\n", name, path, n_trials);
      if (n_listed > 0)
        fprintf(stderr,
                "hpt: note: %s lists %zu artifacts (kept models and "
                "predictions); not imported without --artifacts DIR\n",
                path, n_listed);
    }
  }
  hpt_store_close(&store);
  free(files);
  free(paths);
  free(listed);
  json_decref(root);
  free(text);
  return status;
}
