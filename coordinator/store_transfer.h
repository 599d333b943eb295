/* store_transfer.h — moving a study between databases: `hpt study export`
 * and `hpt study import` (cli_transfer.c). Implemented in store_transfer.c
 * (the store room: the only one that speaks SQL).
 *
 * The JSON document (format "hpt-study", version 1):
 *
 *   {
 *     "format": "hpt-study",
 *     "version": 1,
 *     "study": {"name", "direction", "n_trials", "max_parallel", "sampler",
 *               "pruner", "objective", "spec_text", "spec_source", "state",
 *               "created_at", "params": [{"position", "name", "type", "low",
 *               "high", "step", "log", "choices", "parent",
 *               "when_choices"}, ...]},
 *     "trials": [
 *       {"number", "state", "value", "params": {name: display value},
 *        "params_internal": {name: internal value (choice index for
 *        categoricals)}, "intermediate_values": [{"step", "value",
 *        "reported_at"}, ...], "metrics": {name: value}, "worker",
 *        "created_at", "started_at", "finished_at", "heartbeat_at",
 *        "duration_s", "fail_reason", "artifacts"},
 *       ...
 *     ]
 *   }
 *
 * one trial per line. Numbers are PostgreSQL's shortest exact text, so
 * values survive the trip bit for bit; timestamps are ISO 8601 in UTC;
 * SQL NULL is JSON null; infinite values are the strings "Infinity" and
 * "-Infinity".
 *
 * "artifacts" is there only in an export with artifacts (`--artifacts
 * DIR`): [{"name", "size" (bytes), "sha256" (64 lowercase hex digits)},
 * ...] by name, the trial's kept files, which travel beside the document
 * as DIR/<number>/<name>. Readers that do not know the key ignore it (the
 * trials import without their files), so the version stays 1, and a
 * document without it imports as before.
 */
#ifndef HPT_STORE_TRANSFER_H
#define HPT_STORE_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "store.h"

/* Writes the study called `study_name` to `out`: HPT_FORMAT_JSON as the
 * document above, HPT_FORMAT_CSV as RFC 4180 with one row per trial by
 * number (the columns of `hpt trials --format csv`, then fail_reason,
 * created_at, one params_<name> column per search-space param with its
 * display value, intermediate_values and metrics as JSON objects).
 * With `artifacts` (JSON only), every trial's object lists its artifacts
 * as above; their bytes are copied by hpt_store_artifact_export
 * (store_artifacts.h). HPT_ENOTFOUND ("no study named 'x'") before anything
 * is written; HPT_EDB, HPT_EIO (cannot write) otherwise. */
int hpt_store_study_export(hpt_store_t *store, const char *study_name,
                           hpt_format_t format, bool artifacts, FILE *out,
                           hpt_error_t *error);

/* One artifact file to import with its trial: what the document lists
 * for it, and where the caller found it. All borrowed. */
typedef struct hpt_store_import_artifact {
  int number;             /* the trial's number in the document */
  const char *name;       /* a plain file name (the caller checked it) */
  uint64_t bytes;         /* its size, as the document lists it */
  const char *sha256_hex; /* 64 lowercase hex digits, as listed */
  const char *path;       /* the file to read (DIR/<number>/<name>) */
} hpt_store_import_artifact_t;

/* Imports a document of the form above (`document`: its JSON text, already
 * checked for shape by the caller) as a new study called `name`, in one
 * transaction: the study, its params, its trials with their params,
 * intermediate values and metrics, and the n_artifacts `artifacts` (may be
 * NULL when 0): each file is streamed into a new large object (one 256 KiB
 * chunk in memory), its size and SHA-256 checked against the listed ones,
 * and recorded as its trial's artifact. HPT_EEXIST ("study 'x' already
 * exists") when the name is taken; HPT_EINVAL with PostgreSQL's reason,
 * prefixed with the part of the document ("trials: ..."), when a field
 * does not fit the schema; HPT_EIO ("PATH: reason") when a file cannot be
 * read; HPT_EPARSE ("PATH: sha256 mismatch: ...", or its size differs);
 * HPT_EDB when the database fails. Nothing is written on failure: no
 * study, no trial, no large object (they were created in the transaction
 * that is rolled back). *n_trials (may be NULL) = trials imported. */
int hpt_store_study_import(hpt_store_t *store, const char *document,
                           const char *name,
                           const hpt_store_import_artifact_t *artifacts,
                           size_t n_artifacts, int *n_trials,
                           hpt_error_t *error);

#endif
