/* store_artifacts.c — see store_artifacts.h. libpq's large-object calls
 * need a transaction; each put or get is one. */
#include "store_artifacts.h"

#include <inttypes.h>
#include <libpq/libpq-fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sha256.h"
#include "store_internal.h"

#define CHUNK (256 * 1024)

/* ---- streamed writes ----------------------------------------------------- */

static int create_once(hpt_store_t *store, uint32_t *object,
                       hpt_error_t *error) {
  int rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    return rc;
  Oid created = lo_creat(store->conn, INV_READ | INV_WRITE);
  if (created == InvalidOid) {
    rc = HPT_ERR(error, HPT_EDB, "cannot create a large object: %s",
                 PQerrorMessage(store->conn));
    hpt__store_rollback(store);
    return rc;
  }
  *object = (uint32_t)created;
  return hpt__store_commit(store, error);
}

int hpt_store_artifact_create(hpt_store_t *store, uint32_t *object,
                              hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error, create_once(store, object, error));
}

static int write_once(hpt_store_t *store, uint32_t object, uint64_t offset,
                      const uint8_t *bytes, size_t length, hpt_error_t *error) {
  int rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    return rc;
  int fd = lo_open(store->conn, (Oid)object, INV_WRITE);
  if (fd < 0 || lo_lseek64(store->conn, fd, (pg_int64)offset, SEEK_SET) < 0) {
    rc = HPT_ERR(error, HPT_EDB, "large object %u: %s", object,
                 PQerrorMessage(store->conn));
    goto fail;
  }
  for (size_t done = 0; done < length;) {
    size_t size = length - done < CHUNK ? length - done : CHUNK;
    if (lo_write(store->conn, fd, (const char *)bytes + done, size) !=
        (int)size) {
      rc = HPT_ERR(error, HPT_EDB, "cannot write large object %u: %s", object,
                   PQerrorMessage(store->conn));
      goto fail;
    }
    done += size;
  }
  lo_close(store->conn, fd);
  return hpt__store_commit(store, error);
fail:
  hpt__store_rollback(store);
  return rc;
}

int hpt_store_artifact_write(hpt_store_t *store, uint32_t object,
                             uint64_t offset, const uint8_t *bytes,
                             size_t length, hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error,
                      write_once(store, object, offset, bytes, length, error));
}

static int record_once(hpt_store_t *store, int64_t study_id, int number,
                       const char *name, uint32_t object, uint64_t length,
                       const char *sha256_hex, hpt_error_t *error) {
  char study[24], num[16], oid_text[16], bytes_text[24];
  snprintf(study, sizeof study, "%" PRId64, study_id);
  snprintf(num, sizeof num, "%d", number);
  snprintf(oid_text, sizeof oid_text, "%u", object);
  snprintf(bytes_text, sizeof bytes_text, "%" PRIu64, length);
  const char *params[] = {study, num, name, oid_text, bytes_text, sha256_hex};
  PGresult *result = NULL;
  int rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    return rc;
  /* A replaced row's old object is unlinked by the delete trigger. */
  if ((rc = hpt__store_exec(store,
                            "DELETE FROM trial_artifacts WHERE name = $3 AND"
                            " trial_id = (SELECT id FROM trials WHERE"
                            " study_id = $1 AND number = $2)",
                            3, params, NULL, error)) != HPT_OK ||
      (rc = hpt__store_exec(store,
                            "INSERT INTO trial_artifacts (trial_id, name,"
                            " object, bytes, sha256) SELECT id, $3, $4::oid,"
                            " $5, $6 FROM trials WHERE study_id = $1 AND"
                            " number = $2",
                            6, params, &result, error)) != HPT_OK)
    goto fail;
  if (strcmp(PQcmdTuples(result), "1") != 0) {
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no trial %d in study %" PRId64, number,
                 study_id);
    goto fail;
  }
  PQclear(result);
  return hpt__store_commit(store, error);
fail:
  PQclear(result);
  hpt__store_rollback(store);
  return rc;
}

int hpt_store_artifact_record(hpt_store_t *store, int64_t study_id, int number,
                              const char *name, uint32_t object,
                              uint64_t length, const char *sha256_hex,
                              hpt_error_t *error) {
  int rc;
  while ((rc = record_once(store, study_id, number, name, object, length,
                           sha256_hex, error)) == HPT_EDB &&
         hpt__store_recover(store, error))
    ;
  if (rc == HPT_ENOTFOUND)
    hpt_store_artifact_discard(store, object);
  return rc;
}

void hpt_store_artifact_discard(hpt_store_t *store, uint32_t object) {
  char oid_text[16];
  snprintf(oid_text, sizeof oid_text, "%u", object);
  const char *params[] = {oid_text};
  hpt_error_t error;
  if (hpt__store_exec(store, "SELECT lo_unlink($1::oid)", 1, params, NULL,
                      &error) != HPT_OK)
    hpt_log(HPT_LOG_WARN, "artifact_discard_failed", "object=%u error=\"%s\"",
            object, error.message);
}

/* Where read_once puts the bytes it reads. */
typedef int (*artifact_sink_fn)(void *context, const uint8_t *bytes, size_t n,
                                uint64_t expected, hpt_error_t *error);

/* Reads artifact `name` of trial `trial_id` in chunks into `sink`, in one
 * transaction, and checks its size and SHA-256 against the row; with
 * `listed_sha256` (may be NULL), the row's SHA-256 must also be that one. */
static int read_once(hpt_store_t *store, int64_t trial_id, const char *name,
                     const char *listed_sha256, artifact_sink_fn sink,
                     void *context, hpt_error_t *error) {
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, trial_id);
  const char *params[] = {id, name};
  PGresult *result = NULL;
  hpt_sha256_ctx_t *hash = NULL;
  char *buffer = NULL;
  int fd = -1;
  int rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    return rc;
  if ((rc = hpt__store_exec(store,
                            "SELECT object, bytes, sha256 FROM"
                            " trial_artifacts WHERE trial_id = $1 AND"
                            " name = $2",
                            2, params, &result, error)) != HPT_OK)
    goto out;
  if (PQntuples(result) == 0) {
    rc = HPT_ERR(error, HPT_ENOTFOUND,
                 "trial (id %s) kept no artifact '%s': it was not sent or "
                 "not kept",
                 id, name);
    goto out;
  }
  if (listed_sha256 != NULL &&
      strcmp(listed_sha256, PQgetvalue(result, 0, 2)) != 0) {
    rc = HPT_ERR(error, HPT_EINVAL,
                 "artifact '%s' of trial %s changed while it was exported "
                 "(is the study still running?)",
                 name, id);
    goto out;
  }
  Oid object = (Oid)strtoul(PQgetvalue(result, 0, 0), NULL, 10);
  uint64_t expected = strtoull(PQgetvalue(result, 0, 1), NULL, 10), got = 0;
  if ((hash = hpt_sha256_new()) == NULL || (buffer = malloc(CHUNK)) == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  if ((fd = lo_open(store->conn, object, INV_READ)) < 0) {
    rc = HPT_ERR(error, HPT_EDB, "artifact '%s' of trial %s is missing: %s",
                 name, id, PQerrorMessage(store->conn));
    goto out;
  }
  for (;;) {
    int n = lo_read(store->conn, fd, buffer, CHUNK);
    if (n <= 0)
      break;
    hpt_sha256_update(hash, buffer, (size_t)n);
    if ((rc = sink(context, (const uint8_t *)buffer, (size_t)n, expected,
                   error)) != HPT_OK)
      goto out;
    got += (uint64_t)n;
  }
  uint8_t digest[HPT_SHA256_BYTES];
  char hex[HPT_SHA256_HEX];
  hpt_sha256_final(hash, digest);
  hpt_sha256_hex(digest, hex);
  if (got != expected || strcmp(hex, PQgetvalue(result, 0, 2)) != 0)
    rc = HPT_ERR(error, HPT_EPARSE,
                 "artifact '%s' of trial %s is corrupted: sha256 mismatch "
                 "(%" PRIu64 " of %" PRIu64 " bytes)",
                 name, id, got, expected);
out:
  if (fd >= 0)
    lo_close(store->conn, fd);
  free(buffer);
  hpt_sha256_destroy(&hash);
  PQclear(result);
  if (rc == HPT_OK)
    rc = hpt__store_commit(store, error);
  else
    hpt__store_rollback(store);
  return rc;
}

typedef struct memory_sink {
  uint8_t *bytes;
  size_t length;
} memory_sink_t;

static int to_memory(void *context, const uint8_t *bytes, size_t n,
                     uint64_t expected, hpt_error_t *error) {
  memory_sink_t *memory = context;
  if (memory->bytes == NULL || memory->length + n > expected) {
    /* First chunk (or more than the row said: the check fails later). */
    size_t capacity =
        memory->length + n > expected ? memory->length + n : (size_t)expected;
    uint8_t *grown = realloc(memory->bytes, capacity ? capacity : 1);
    if (grown == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "out of memory");
    memory->bytes = grown;
  }
  memcpy(memory->bytes + memory->length, bytes, n);
  memory->length += n;
  return HPT_OK;
}

int hpt_store_artifact_get(hpt_store_t *store, int64_t trial_id,
                           const char *name, uint8_t **bytes, size_t *length,
                           hpt_error_t *error) {
  *bytes = NULL;
  *length = 0;
  memory_sink_t memory = {0};
  int rc;
  while ((rc = read_once(store, trial_id, name, NULL, to_memory, &memory,
                         error)) == HPT_EDB &&
         hpt__store_recover(store, error)) {
    free(memory.bytes);
    memory = (memory_sink_t){0};
  }
  if (rc != HPT_OK) {
    free(memory.bytes);
    return rc;
  }
  if (memory.bytes == NULL && (memory.bytes = malloc(1)) == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  *bytes = memory.bytes;
  *length = memory.length;
  return HPT_OK;
}

int hpt_store_artifact_names(hpt_store_t *store, int64_t trial_id,
                             char ***names, size_t *count, hpt_error_t *error) {
  *names = NULL;
  *count = 0;
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, trial_id);
  const char *params[] = {id};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT name FROM trial_artifacts WHERE trial_id ="
                           " $1 ORDER BY name",
                           1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  size_t n = (size_t)PQntuples(result);
  char **list = calloc(n ? n : 1, sizeof *list);
  for (size_t i = 0; list != NULL && i < n; i++)
    if ((list[i] = strdup(PQgetvalue(result, (int)i, 0))) == NULL) {
      for (size_t j = 0; j < i; j++)
        free(list[j]);
      free(list);
      list = NULL;
    }
  PQclear(result);
  if (list == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  *names = list;
  *count = n;
  return HPT_OK;
}

typedef struct file_sink {
  FILE *out;
  const char *path;
} file_sink_t;

static int to_file(void *context, const uint8_t *bytes, size_t n,
                   uint64_t expected, hpt_error_t *error) {
  (void)expected;
  file_sink_t *file = context;
  if (fwrite(bytes, 1, n, file->out) != n)
    return HPT_ERR(error, HPT_EIO, "%s: write failed", file->path);
  return HPT_OK;
}

static int save_once(hpt_store_t *store, int64_t trial_id, const char *name,
                     const char *path, hpt_error_t *error) {
  file_sink_t file = {fopen(path, "wb"), path};
  if (file.out == NULL)
    return HPT_ERR(error, HPT_EIO, "%s: cannot create", path);
  int rc = read_once(store, trial_id, name, NULL, to_file, &file, error);
  if (fclose(file.out) != 0 && rc == HPT_OK)
    rc = HPT_ERR(error, HPT_EIO, "%s: write failed", path);
  if (rc != HPT_OK)
    unlink(path);
  return rc;
}

int hpt_store_artifact_save(hpt_store_t *store, int64_t trial_id,
                            const char *name, const char *path,
                            hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error,
                      save_once(store, trial_id, name, path, error));
}

static int export_once(hpt_store_t *store, const char *study, int number,
                       const char *name, const char *sha256_hex, FILE *out,
                       const char *label, hpt_error_t *error) {
  char num[16];
  snprintf(num, sizeof num, "%d", number);
  const char *params[] = {study, num};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT t.id FROM trials t JOIN studies s ON"
                           " s.id = t.study_id WHERE s.name = $1 AND"
                           " t.number = $2",
                           2, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0) {
    PQclear(result);
    return HPT_ERR(error, HPT_ENOTFOUND, "study '%s' has no trial %d", study,
                   number);
  }
  int64_t trial_id = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
  PQclear(result);
  /* A retry after an outage starts the file again. */
  if (fflush(out) != 0 || fseek(out, 0, SEEK_SET) != 0 ||
      ftruncate(fileno(out), 0) != 0)
    return HPT_ERR(error, HPT_EIO, "%s: write failed", label);
  file_sink_t file = {out, label};
  return read_once(store, trial_id, name, sha256_hex, to_file, &file, error);
}

int hpt_store_artifact_export(hpt_store_t *store, const char *study_name,
                              int number, const char *name,
                              const char *sha256_hex, FILE *out,
                              const char *label, hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error,
                      export_once(store, study_name, number, name, sha256_hex,
                                  out, label, error));
}

int hpt_store_artifacts_prune(hpt_store_t *store, int64_t study_id, int keep,
                              hpt_error_t *error) {
  char id[24], limit[16];
  snprintf(id, sizeof id, "%" PRId64, study_id);
  snprintf(limit, sizeof limit, "%d", keep);
  const char *params[] = {id, limit};
  return hpt__store_exec(
      store,
      /* Only finished trials: a running trial's first files may already be
       * here while its last ones are still on the wire. */
      "DELETE FROM trial_artifacts a USING trials t WHERE a.trial_id = t.id"
      " AND t.study_id = $1 AND t.state <> 'RUNNING' AND t.id NOT IN (SELECT "
      "h.trial_id FROM"
      " trial_history h WHERE h.study_id = $1 AND h.state = 'COMPLETE' AND"
      " h.value IS NOT NULL ORDER BY " HPT__STORE_BEST_ORDER " LIMIT $2)",
      2, params, NULL, error);
}

int hpt_store_best_with_artifact(hpt_store_t *store, const char *name, int k,
                                 const char *artifact, int64_t **trial_ids,
                                 size_t *count, hpt_error_t *error) {
  *trial_ids = NULL;
  *count = 0;
  char limit[16];
  snprintf(limit, sizeof limit, "%d", k > 0 ? k : 1000000);
  const char *params[] = {name, limit, artifact};
  PGresult *result = NULL;
  int rc = hpt__store_exec(
      store,
      "SELECT h.trial_id FROM trial_history h WHERE h.study = $1 AND"
      " h.state = 'COMPLETE' AND h.value IS NOT NULL AND EXISTS (SELECT 1"
      " FROM trial_artifacts a WHERE a.trial_id = h.trial_id AND a.name = $3)"
      " ORDER BY " HPT__STORE_BEST_ORDER " LIMIT $2",
      3, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  size_t n = (size_t)PQntuples(result);
  int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
  if (ids == NULL) {
    PQclear(result);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++)
    ids[i] = strtoll(PQgetvalue(result, (int)i, 0), NULL, 10);
  PQclear(result);
  *trial_ids = ids;
  *count = n;
  return HPT_OK;
}

int hpt_store_ensemble_create(hpt_store_t *store,
                              const hpt_ensemble_record_t *r,
                              hpt_error_t *error) {
  char text[16][32];
  snprintf(text[0], 32, "%.17g", r->threshold);
  snprintf(text[1], 32, "%d", r->n_val);
  snprintf(text[2], 32, "%.17g", r->accuracy);
  snprintf(text[3], 32, "%.17g", r->f1);
  snprintf(text[4], 32, "%.17g", r->precision);
  snprintf(text[5], 32, "%.17g", r->recall);
  snprintf(text[6], 32, "%.17g", r->roc_auc);
  snprintf(text[7], 32, "%d", r->tp);
  snprintf(text[8], 32, "%d", r->fp);
  snprintf(text[9], 32, "%d", r->tn);
  snprintf(text[10], 32, "%d", r->fn);
  const char *params[] = {r->name, r->weights_mode, r->threshold_mode, text[0],
                          text[1], text[2],         text[3],           text[4],
                          text[5], text[6],         text[7],           text[8],
                          text[9], text[10]};
  PGresult *result = NULL;
  int rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    return rc;
  rc = hpt__store_exec(
      store,
      "INSERT INTO ensembles (name, weights_mode, threshold_mode, threshold,"
      " n_val, accuracy, f1, precision_, recall, roc_auc, tp, fp, tn, fn)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
      " RETURNING id",
      14, params, &result, error);
  if (rc == HPT_EEXIST)
    rc = HPT_ERR(error, HPT_EEXIST, "ensemble '%s' already exists", r->name);
  if (rc != HPT_OK)
    goto fail;
  for (size_t i = 0; i < r->n_members; i++) {
    char position[16], trial[24], weight[32];
    snprintf(position, sizeof position, "%zu", i);
    snprintf(trial, sizeof trial, "%" PRId64, r->trial_ids[i]);
    snprintf(weight, sizeof weight, "%.17g", r->weights[i]);
    const char *row[] = {PQgetvalue(result, 0, 0), position, trial, weight};
    if ((rc = hpt__store_exec(store,
                              "INSERT INTO ensemble_members (ensemble_id,"
                              " position, trial_id, weight) VALUES ($1, $2,"
                              " $3, $4)",
                              4, row, NULL, error)) != HPT_OK)
      goto fail;
  }
  PQclear(result);
  return hpt__store_commit(store, error);
fail:
  PQclear(result);
  hpt__store_rollback(store);
  return rc;
}

int hpt_store_ensemble_load(hpt_store_t *store, const char *name,
                            int64_t **trial_ids, double **weights,
                            size_t *count, double *threshold,
                            hpt_error_t *error) {
  *trial_ids = NULL;
  *weights = NULL;
  *count = 0;
  const char *params[] = {name};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT m.trial_id, m.weight, e.threshold FROM"
                           " ensembles e JOIN ensemble_members m ON"
                           " m.ensemble_id = e.id WHERE e.name = $1 ORDER BY"
                           " m.position",
                           1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  size_t n = (size_t)PQntuples(result);
  if (n == 0) {
    PQclear(result);
    return HPT_ERR(error, HPT_ENOTFOUND, "no ensemble named '%s'", name);
  }
  int64_t *ids = malloc(n * sizeof *ids);
  double *w = malloc(n * sizeof *w);
  if (ids == NULL || w == NULL) {
    free(ids);
    free(w);
    PQclear(result);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    ids[i] = strtoll(PQgetvalue(result, (int)i, 0), NULL, 10);
    w[i] = strtod(PQgetvalue(result, (int)i, 1), NULL);
  }
  *threshold = strtod(PQgetvalue(result, 0, 2), NULL);
  PQclear(result);
  *trial_ids = ids;
  *weights = w;
  *count = n;
  return HPT_OK;
}
