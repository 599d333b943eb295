/* store_artifacts.h — trained models and validation predictions in
 * PostgreSQL large objects (sql/004_artifacts.sql), and ensembles.
 *
 * Artifacts are written in chunks inside one transaction and read back in
 * chunks; the SHA-256 recorded at write time is checked on every read, so a
 * corrupted object is an error (HPT_EPARSE "… sha256 mismatch"), never a
 * silently wrong model. Deleting a trial (or its study) unlinks its objects.
 */
#ifndef HPT_STORE_ARTIFACTS_H
#define HPT_STORE_ARTIFACTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* ---- streamed writes: a file of any size, a chunk at a time -------------
 *
 * hpt_store_artifact_create makes an empty large object; each
 * hpt_store_artifact_write is one short transaction (no transaction stays
 * open between chunks, so other writes are never caught up in one);
 * hpt_store_artifact_record then names the object as the trial's artifact
 * (replacing an earlier one of that name), and hpt_store_artifact_discard
 * unlinks an object that will not be recorded. An object whose upload is
 * cut by a coordinator crash stays unreferenced (vacuumlo removes such
 * objects). Each call is retried after a recovered database outage. */

/* A new, empty large object; *object is its oid. */
int hpt_store_artifact_create(hpt_store_t *store, uint32_t *object,
                              hpt_error_t *error);

/* Writes bytes[0..length) at `offset` of large object `object`. */
int hpt_store_artifact_write(hpt_store_t *store, uint32_t object,
                             uint64_t offset, const uint8_t *bytes,
                             size_t length, hpt_error_t *error);

/* Records `object` (`length` bytes with that SHA-256) as artifact `name`
 * of trial (study_id, number), in one transaction with the removal of an
 * earlier artifact of that name. HPT_ENOTFOUND when there is no such
 * trial (the object is then unlinked too). */
int hpt_store_artifact_record(hpt_store_t *store, int64_t study_id, int number,
                              const char *name, uint32_t object,
                              uint64_t length, const char *sha256_hex,
                              hpt_error_t *error);

/* Unlinks `object`. Best effort: failures are logged. */
void hpt_store_artifact_discard(hpt_store_t *store, uint32_t object);

/* Reads artifact `name` of trial `trial_id`; the caller frees *bytes.
 * HPT_ENOTFOUND when the trial kept no such artifact. */
int hpt_store_artifact_get(hpt_store_t *store, int64_t trial_id,
                           const char *name, uint8_t **bytes, size_t *length,
                           hpt_error_t *error);

/* The names of trial `trial_id`'s artifacts, sorted; the caller frees
 * each and the array. *count is 0 when it kept none. */
int hpt_store_artifact_names(hpt_store_t *store, int64_t trial_id,
                             char ***names, size_t *count, hpt_error_t *error);

/* Writes artifact `name` of trial `trial_id` to the file `path`, streamed
 * (one chunk in memory) and sha256-checked as hpt_store_artifact_get does;
 * on any failure the file is removed. HPT_ENOTFOUND (no such artifact),
 * HPT_EPARSE ("... sha256 mismatch"), HPT_EIO (naming path), HPT_EDB. */
int hpt_store_artifact_save(hpt_store_t *store, int64_t trial_id,
                            const char *name, const char *path,
                            hpt_error_t *error);

/* Writes artifact `name` of trial `number` of study `study_name` to `out`
 * (a file opened for writing, emptied first), streamed and sha256-checked
 * as hpt_store_artifact_save does, for `hpt study export --artifacts`:
 * the stored SHA-256 must also be `sha256_hex`, the one the export's
 * document lists (HPT_EINVAL "... changed while it was exported"
 * otherwise). `label` (the final path) names the file in errors. The
 * caller owns `out` and removes the file on failure. HPT_ENOTFOUND (no
 * such trial or artifact), HPT_EPARSE ("... sha256 mismatch"), HPT_EIO,
 * HPT_EDB. */
int hpt_store_artifact_export(hpt_store_t *store, const char *study_name,
                              int number, const char *name,
                              const char *sha256_hex, FILE *out,
                              const char *label, hpt_error_t *error);

/* Keeps the artifacts of the best `keep` COMPLETE trials of the study (by
 * its direction) and deletes every other trial's. */
int hpt_store_artifacts_prune(hpt_store_t *store, int64_t study_id, int keep,
                              hpt_error_t *error);

/* The ids of the best `k` COMPLETE trials of study `name` that kept
 * artifact `artifact` (k <= 0: all of them), best first. Caller frees. */
int hpt_store_best_with_artifact(hpt_store_t *store, const char *name, int k,
                                 const char *artifact, int64_t **trial_ids,
                                 size_t *count, hpt_error_t *error);

typedef struct hpt_ensemble_record {
  const char *name;
  const char *weights_mode;   /* "equal" | "optimized" */
  const char *threshold_mode; /* "fixed" | "tuned" */
  double threshold;
  int n_val;
  double accuracy, f1, precision, recall, roc_auc;
  int tp, fp, tn, fn;
  size_t n_members;
  const int64_t *trial_ids;
  const double *weights;
} hpt_ensemble_record_t;

/* Stores an ensemble and its members in one transaction. HPT_EEXIST if the
 * name is taken (nothing written). */
int hpt_store_ensemble_create(hpt_store_t *store,
                              const hpt_ensemble_record_t *record,
                              hpt_error_t *error);

/* The members (trial ids, weights) and threshold of ensemble `name`. The
 * caller frees both arrays. HPT_ENOTFOUND if there is no such ensemble. */
int hpt_store_ensemble_load(hpt_store_t *store, const char *name,
                            int64_t **trial_ids, double **weights,
                            size_t *count, double *threshold,
                            hpt_error_t *error);

#endif
