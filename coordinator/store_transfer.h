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
 *        "duration_s", "fail_reason"},
 *       ...
 *     ]
 *   }
 *
 * one trial per line. Numbers are PostgreSQL's shortest exact text, so
 * values survive the trip bit for bit; timestamps are ISO 8601 in UTC;
 * SQL NULL is JSON null; infinite values are the strings "Infinity" and
 * "-Infinity".
 */
#ifndef HPT_STORE_TRANSFER_H
#define HPT_STORE_TRANSFER_H

#include <stdio.h>

#include "error.h"
#include "store.h"

/* Writes the study called `study_name` to `out`: HPT_FORMAT_JSON as the
 * document above, HPT_FORMAT_CSV as RFC 4180 with one row per trial by
 * number (the columns of `hpt trials --format csv`, then fail_reason,
 * created_at, one params_<name> column per search-space param with its
 * display value, intermediate_values and metrics as JSON objects).
 * HPT_ENOTFOUND ("no study named 'x'") before anything is written; HPT_EDB,
 * HPT_EIO (cannot write) otherwise. */
int hpt_store_study_export(hpt_store_t *store, const char *study_name,
                           hpt_format_t format, FILE *out, hpt_error_t *error);

/* Imports a document of the form above (`document`: its JSON text, already
 * checked for shape by the caller) as a new study called `name`, in one
 * transaction: the study, its params, its trials with their params,
 * intermediate values and metrics. HPT_EEXIST ("study 'x' already exists")
 * when the name is taken; HPT_EINVAL with PostgreSQL's reason, prefixed
 * with the part of the document ("trials: ..."), when a field does not fit
 * the schema; HPT_EDB when the database fails. Nothing is written on
 * failure. *n_trials (may be
 * NULL) = trials imported. */
int hpt_store_study_import(hpt_store_t *store, const char *document,
                           const char *name, int *n_trials, hpt_error_t *error);

#endif
