/* store_transfer.c — see store_transfer.h: a study and all its trials out
 * as JSON or CSV, and back in from JSON. PostgreSQL builds and takes apart
 * the JSON itself (json_build_object on the way out, jsonb_* on the way in),
 * so every number keeps its exact text and every column its type.
 */
#include "store_transfer.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq/libpq-fs.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "store_internal.h"

/* ---- export -------------------------------------------------------------- */

#define TIME_TEXT(column)                                                      \
  "to_char(" column " AT TIME ZONE 'UTC',"                                     \
  " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const char study_json_sql[] =
    "SELECT s.id, json_build_object('name', s.name, 'direction', s.direction,"
    " 'n_trials', s.n_trials, 'max_parallel', s.max_parallel,"
    " 'sampler', s.sampler, 'pruner', s.pruner, 'objective', s.objective,"
    " 'spec_text', s.spec_text, 'spec_source', s.spec_source,"
    " 'state', s.state, 'created_at', s.created_at,"
    " 'params', COALESCE((SELECT json_agg(json_build_object("
    "  'position', p.position, 'name', p.name, 'type', p.type, 'low', p.low,"
    "  'high', p.high, 'step', p.step, 'log', p.log, 'choices', p.choices,"
    "  'parent', p.parent, 'when_choices', p.when_choices)"
    "  ORDER BY p.position) FROM study_params p WHERE p.study_id = s.id),"
    " '[]'))::text FROM studies s WHERE s.name = $1";

/* One trial's object; TRIALS_JSON_TAIL closes it. With --artifacts the
 * export adds the trial's artifacts before the tail. */
#define TRIALS_JSON_HEAD                                                       \
  "SELECT json_build_object('number', t.number, 'state', t.state,"             \
  " 'value', t.value,"                                                         \
  " 'params', COALESCE((SELECT json_object_agg(p.name, p.value_json"           \
  "  ORDER BY p.name) FROM trial_params p WHERE p.trial_id = t.id), '{}'),"    \
  " 'params_internal', COALESCE((SELECT json_object_agg(p.name, p.value"       \
  "  ORDER BY p.name) FROM trial_params p WHERE p.trial_id = t.id), '{}'),"    \
  " 'intermediate_values', COALESCE((SELECT json_agg(json_build_object("       \
  "  'step', v.step, 'value', v.value, 'reported_at', v.reported_at)"          \
  "  ORDER BY v.step) FROM trial_intermediate_values v"                        \
  "  WHERE v.trial_id = t.id), '[]'),"                                         \
  " 'metrics', COALESCE((SELECT json_object_agg(m.name, m.value"               \
  "  ORDER BY m.name) FROM trial_metrics m WHERE m.trial_id = t.id), '{}'),"   \
  " 'worker', t.worker_id, 'created_at', t.created_at,"                        \
  " 'started_at', t.started_at, 'finished_at', t.finished_at,"                 \
  " 'heartbeat_at', t.heartbeat_at, 'duration_s', t.duration_s,"               \
  " 'fail_reason', t.fail_reason"
#define TRIALS_JSON_TAIL                                                       \
  ")::text FROM trials t WHERE t.study_id = $1 ORDER BY t.number"

static const char trials_json_sql[] = TRIALS_JSON_HEAD TRIALS_JSON_TAIL;

static const char trials_json_artifacts_sql[] = TRIALS_JSON_HEAD
    ", 'artifacts', COALESCE((SELECT json_agg(json_build_object("
    "  'name', a.name, 'size', a.bytes, 'sha256', a.sha256) ORDER BY a.name)"
    "  FROM trial_artifacts a WHERE a.trial_id = t.id), '[]')" TRIALS_JSON_TAIL;

/* The columns of `hpt trials --format csv` first, in its order. */
static const char trials_csv_sql[] =
    "SELECT t.number, t.state, t.value, COALESCE((SELECT"
    " jsonb_object_agg(p.name, p.value_json) FROM trial_params p"
    " WHERE p.trial_id = t.id), '{}')::text, t.worker_id,"
    " " TIME_TEXT("t.started_at") ", " TIME_TEXT(
        "t.finished_at") ","
                         " t.duration_s, t.fail_reason, " TIME_TEXT(
                             "t.created_at") ","
                                             " COALESCE((SELECT "
                                             "json_object_agg(v.step, v.value "
                                             "ORDER BY v.step)"
                                             "  FROM trial_intermediate_values "
                                             "v WHERE v.trial_id = t.id), "
                                             "'{}')::text,"
                                             " COALESCE((SELECT "
                                             "json_object_agg(m.name, m.value "
                                             "ORDER BY m.name)"
                                             "  FROM trial_metrics m WHERE "
                                             "m.trial_id = t.id), '{}')::text"
                                             " FROM trials t WHERE t.study_id "
                                             "= $1 ORDER BY t.number";

enum { CSV_FIXED = 10, CSV_STEPS = 10, CSV_METRICS = 11 };

static const char *const csv_fixed_names[CSV_FIXED] = {
    "number",     "state",       "value",      "params",      "worker",
    "started_at", "finished_at", "duration_s", "fail_reason", "created_at"};

/* RFC 4180: quoted when it holds a comma, quote or line break. */
static void csv_field(const char *text, FILE *out) {
  if (strpbrk(text, ",\"\r\n") == NULL) {
    fputs(text, out);
    return;
  }
  fputc('"', out);
  for (const char *p = text; *p; p++) {
    if (*p == '"')
      fputc('"', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

static void write_json(const PGresult *study, PGresult *trials, FILE *out) {
  char *object = PQgetvalue(study, 0, 1);
  hpt__store_json_compact(object);
  fprintf(out,
          "{\n  \"format\": \"hpt-study\",\n  \"version\": 1,\n"
          "  \"study\": %s,\n  \"trials\": [",
          object);
  int n = PQntuples(trials);
  for (int row = 0; row < n; row++) {
    object = PQgetvalue(trials, row, 0);
    hpt__store_json_compact(object);
    fprintf(out, "%s\n    %s", row ? "," : "", object);
  }
  fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* `values` holds (number, name, display text) sorted by number: the params
 * of the trial in row r of `trials` are the run of rows there with its
 * number. */
static void write_csv(PGresult *trials, const PGresult *names,
                      const PGresult *values, FILE *out) {
  int n_names = PQntuples(names), n_values = PQntuples(values), at = 0;
  for (int c = 0; c < CSV_FIXED; c++) {
    fputs(c ? "," : "", out);
    csv_field(csv_fixed_names[c], out);
  }
  for (int p = 0; p < n_names; p++) {
    fputs(",params_", out); /* names are plain: [A-Za-z0-9_.-] in practice */
    csv_field(PQgetvalue(names, p, 0), out);
  }
  fputs(",intermediate_values,metrics\r\n", out);
  for (int row = 0; row < PQntuples(trials); row++) {
    for (int c = 0; c < CSV_FIXED; c++) {
      char *text = PQgetvalue(trials, row, c);
      if (c == 3)
        hpt__store_json_compact(text);
      fputs(c ? "," : "", out);
      csv_field(PQgetisnull(trials, row, c) ? "" : text, out);
    }
    const char *number = PQgetvalue(trials, row, 0);
    int first = at;
    while (at < n_values && strcmp(PQgetvalue(values, at, 0), number) == 0)
      at++;
    for (int p = 0; p < n_names; p++) {
      const char *text = "";
      for (int v = first; v < at; v++)
        if (strcmp(PQgetvalue(values, v, 1), PQgetvalue(names, p, 0)) == 0)
          text = PQgetvalue(values, v, 2);
      fputc(',', out);
      csv_field(text, out);
    }
    for (int c = CSV_STEPS; c <= CSV_METRICS; c++) {
      char *text = PQgetvalue(trials, row, c);
      hpt__store_json_compact(text);
      fputc(',', out);
      csv_field(text, out);
    }
    fputs("\r\n", out);
  }
}

int hpt_store_study_export(hpt_store_t *store, const char *study_name,
                           hpt_format_t format, bool artifacts, FILE *out,
                           hpt_error_t *error) {
  const char *params[] = {study_name};
  PGresult *study = NULL, *trials = NULL, *names = NULL, *values = NULL;
  int rc = hpt__store_exec(store, study_json_sql, 1, params, &study, error);
  if (rc != HPT_OK)
    goto out;
  if (PQntuples(study) == 0) {
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no study named '%s'", study_name);
    goto out;
  }
  const char *id[] = {PQgetvalue(study, 0, 0)};
  if (format == HPT_FORMAT_JSON) {
    rc = hpt__store_exec(
        store, artifacts ? trials_json_artifacts_sql : trials_json_sql, 1, id,
        &trials, error);
    if (rc == HPT_OK)
      write_json(study, trials, out);
  } else {
    rc = hpt__store_exec(store, trials_csv_sql, 1, id, &trials, error);
    if (rc == HPT_OK)
      rc = hpt__store_exec(store,
                           "SELECT name FROM study_params WHERE study_id = $1"
                           " ORDER BY position",
                           1, id, &names, error);
    /* Same order as the trials (by number), for write_csv's walk. */
    if (rc == HPT_OK)
      rc = hpt__store_exec(store,
                           "SELECT t.number, p.name, p.value_json #>> '{}'"
                           " FROM trial_params p JOIN trials t"
                           " ON t.id = p.trial_id WHERE t.study_id = $1"
                           " ORDER BY t.number, p.name",
                           1, id, &values, error);
    if (rc == HPT_OK)
      write_csv(trials, names, values, out);
  }
  if (rc == HPT_OK && (fflush(out) != 0 || ferror(out)))
    rc = HPT_ERR(error, HPT_EIO, "cannot write the export of '%s'", study_name);
out:
  PQclear(study);
  PQclear(trials);
  PQclear(names);
  PQclear(values);
  return rc;
}

/* ---- import -------------------------------------------------------------- */

/* Each statement reads the document from hpt_import, a temporary table that
 * the transaction creates and drops, so PostgreSQL parses it once. $1 is the
 * new study's id in every statement after the first. */
#define DOC "(SELECT doc FROM hpt_import)"

static const char *const import_sql[] = {
    "INSERT INTO study_params (study_id, position, name, type, low, high,"
    " step, log, choices, parent, when_choices)"
    " SELECT $1, (p->>'position')::int, p->>'name', p->>'type',"
    " (p->>'low')::float8, (p->>'high')::float8, (p->>'step')::float8,"
    " COALESCE((p->>'log')::boolean, false),"
    " NULLIF(p->'choices', 'null'::jsonb), p->>'parent',"
    " NULLIF(p->'when_choices', 'null'::jsonb)"
    " FROM jsonb_array_elements(COALESCE(" DOC "->'study'->'params',"
    " '[]')) p",

    "INSERT INTO trials (study_id, number, state, worker_id, created_at,"
    " started_at, finished_at, heartbeat_at, value, duration_s, fail_reason)"
    " SELECT $1, (t->>'number')::int, t->>'state', t->>'worker',"
    " COALESCE((t->>'created_at')::timestamptz, now()),"
    " (t->>'started_at')::timestamptz, (t->>'finished_at')::timestamptz,"
    " (t->>'heartbeat_at')::timestamptz, (t->>'value')::float8,"
    " (t->>'duration_s')::float8, t->>'fail_reason'"
    " FROM jsonb_array_elements(" DOC "->'trials') t",

    "INSERT INTO trial_params (trial_id, name, value, value_json)"
    " SELECT r.id, p.key, (t->'params_internal'->>p.key)::float8, p.value"
    " FROM jsonb_array_elements(" DOC "->'trials') t"
    " JOIN trials r ON r.study_id = $1 AND r.number = (t->>'number')::int"
    " CROSS JOIN LATERAL jsonb_each(COALESCE(t->'params', '{}')) p",

    "INSERT INTO trial_intermediate_values (trial_id, step, value,"
    " reported_at)"
    " SELECT r.id, (v->>'step')::int, (v->>'value')::float8,"
    " COALESCE((v->>'reported_at')::timestamptz, now())"
    " FROM jsonb_array_elements(" DOC "->'trials') t"
    " JOIN trials r ON r.study_id = $1 AND r.number = (t->>'number')::int"
    " CROSS JOIN LATERAL"
    " jsonb_array_elements(COALESCE(t->'intermediate_values', '[]')) v",

    "INSERT INTO trial_metrics (trial_id, name, value)"
    " SELECT r.id, m.key, (m.value #>> '{}')::float8"
    " FROM jsonb_array_elements(" DOC "->'trials') t"
    " JOIN trials r ON r.study_id = $1 AND r.number = (t->>'number')::int"
    " CROSS JOIN LATERAL jsonb_each(COALESCE(t->'metrics', '{}')) m",
};

static const char *const import_what[] = {
    "study.params", "trials", "trials[].params", "trials[].intermediate_values",
    "trials[].metrics"};

#define CHUNK (256 * 1024)

/* Streams artifact `a`'s file into a new large object and records it for
 * trial a->number of study `study_id`, inside the import's transaction: its
 * rollback also removes the object, so a failure here leaves nothing. */
static int import_artifact(hpt_store_t *store, const char *study_id,
                           const hpt_store_import_artifact_t *a,
                           hpt_error_t *error) {
  hpt_sha256_ctx_t *hash = hpt_sha256_new();
  char *buffer = malloc(CHUNK);
  FILE *in = NULL;
  int fd = -1, rc = HPT_OK;
  if (hash == NULL || buffer == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  if ((in = fopen(a->path, "rb")) == NULL) {
    rc = HPT_ERR(error, HPT_EIO, "%s: %s", a->path, strerror(errno));
    goto out;
  }
  Oid object = lo_creat(store->conn, INV_READ | INV_WRITE);
  if (object == InvalidOid ||
      (fd = lo_open(store->conn, object, INV_WRITE)) < 0) {
    rc = HPT_ERR(error, HPT_EDB, "cannot create a large object for %s: %s",
                 a->path, PQerrorMessage(store->conn));
    goto out;
  }
  uint64_t got = 0;
  for (size_t n; (n = fread(buffer, 1, CHUNK, in)) > 0;) {
    got += n;
    if (got > a->bytes) /* no need to read on: it cannot match */
      break;
    hpt_sha256_update(hash, buffer, n);
    if (lo_write(store->conn, fd, buffer, n) != (int)n) {
      rc = HPT_ERR(error, HPT_EDB, "cannot write %s into a large object: %s",
                   a->path, PQerrorMessage(store->conn));
      goto out;
    }
  }
  if (ferror(in)) {
    rc = HPT_ERR(error, HPT_EIO, "%s: cannot read", a->path);
    goto out;
  }
  if (got > a->bytes) {
    rc = HPT_ERR(error, HPT_EPARSE,
                 "%s: larger than the %" PRIu64 " bytes the document lists",
                 a->path, a->bytes);
    goto out;
  }
  if (got < a->bytes) {
    rc = HPT_ERR(error, HPT_EPARSE,
                 "%s: %" PRIu64 " bytes, the document lists %" PRIu64, a->path,
                 got, a->bytes);
    goto out;
  }
  uint8_t digest[HPT_SHA256_BYTES];
  char hex[HPT_SHA256_HEX];
  hpt_sha256_final(hash, digest);
  hpt_sha256_hex(digest, hex);
  if (strcmp(hex, a->sha256_hex) != 0) {
    rc = HPT_ERR(error, HPT_EPARSE,
                 "%s: sha256 mismatch: the document lists %s, the file has %s",
                 a->path, a->sha256_hex, hex);
    goto out;
  }
  char number[16], oid_text[16], bytes_text[24];
  snprintf(number, sizeof number, "%d", a->number);
  snprintf(oid_text, sizeof oid_text, "%u", (unsigned)object);
  snprintf(bytes_text, sizeof bytes_text, "%" PRIu64, a->bytes);
  const char *params[] = {study_id, number,     a->name,
                          oid_text, bytes_text, a->sha256_hex};
  PGresult *result = NULL;
  rc = hpt__store_exec(store,
                       "INSERT INTO trial_artifacts (trial_id, name, object,"
                       " bytes, sha256) SELECT id, $3, $4::oid, $5, $6 FROM"
                       " trials WHERE study_id = $1 AND number = $2",
                       6, params, &result, error);
  if (rc == HPT_EEXIST)
    rc =
        HPT_ERR(error, HPT_EINVAL, "trials: trial %d lists artifact '%s' twice",
                a->number, a->name);
  else if (rc == HPT_OK && strcmp(PQcmdTuples(result), "1") != 0)
    rc = HPT_ERR(error, HPT_EINVAL, "trials: no trial %d for artifact '%s'",
                 a->number, a->name);
  PQclear(result);
out:
  if (fd >= 0)
    lo_close(store->conn, fd);
  if (in != NULL)
    fclose(in);
  free(buffer);
  hpt_sha256_destroy(&hash);
  return rc;
}

int hpt_store_study_import(hpt_store_t *store, const char *document,
                           const char *name,
                           const hpt_store_import_artifact_t *artifacts,
                           size_t n_artifacts, int *n_trials,
                           hpt_error_t *error) {
  if (n_trials != NULL)
    *n_trials = 0;
  PGresult *result = NULL;
  int rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    return rc;
  const char *doc_params[] = {document};
  rc = hpt__store_exec(store,
                       "CREATE TEMPORARY TABLE hpt_import ON COMMIT DROP AS"
                       " SELECT $1::jsonb AS doc",
                       1, doc_params, NULL, error);
  if (rc != HPT_OK)
    goto rollback;
  const char *study_params[] = {name};
  rc = hpt__store_exec(
      store,
      "INSERT INTO studies (name, direction, n_trials, max_parallel, sampler,"
      " pruner, objective, spec_text, spec_source, state, created_at)"
      " SELECT $1, s->>'direction', (s->>'n_trials')::int,"
      " COALESCE((s->>'max_parallel')::int, 1),"
      " COALESCE(s->'sampler', '{}'), COALESCE(s->'pruner', '{}'),"
      " COALESCE(s->'objective', '{}'), COALESCE(s->>'spec_text', ''),"
      " COALESCE(s->>'spec_source', ''), COALESCE(s->>'state', 'RUNNING'),"
      " COALESCE((s->>'created_at')::timestamptz, now())"
      " FROM (SELECT doc->'study' AS s FROM hpt_import) x RETURNING id",
      1, study_params, &result, error);
  if (rc == HPT_EEXIST)
    rc = HPT_ERR(error, HPT_EEXIST, "study '%s' already exists", name);
  else if (rc != HPT_OK && PQstatus(store->conn) == CONNECTION_OK) {
    rc = HPT_EINVAL;
    if (error != NULL)
      error->code = HPT_EINVAL;
    hpt_error_prefix(error, "study");
  }
  if (rc != HPT_OK)
    goto rollback;
  const char *id[] = {PQgetvalue(result, 0, 0)};
  for (size_t i = 0; i < sizeof import_sql / sizeof import_sql[0]; i++) {
    PGresult *inserted = NULL;
    rc = hpt__store_exec(store, import_sql[i], 1, id, &inserted, error);
    /* A repeated trial number, a state the schema refuses, a value that is
     * not a number: the document's fault, not the database's, as long as
     * the connection is still up. */
    if (rc == HPT_EEXIST ||
        (rc == HPT_EDB && PQstatus(store->conn) == CONNECTION_OK)) {
      rc = HPT_EINVAL;
      if (error != NULL)
        error->code = HPT_EINVAL;
    }
    if (rc != HPT_OK) {
      hpt_error_prefix(error, "%s", import_what[i]);
      goto rollback;
    }
    if (i == 1 && n_trials != NULL)
      *n_trials = atoi(PQcmdTuples(inserted));
    PQclear(inserted);
  }
  for (size_t i = 0; i < n_artifacts; i++)
    if ((rc = import_artifact(store, id[0], &artifacts[i], error)) != HPT_OK)
      goto rollback;
  rc = hpt__store_commit(store, error);
  if (rc == HPT_OK)
    goto out;
rollback:
  hpt__store_rollback(store);
  if (n_trials != NULL)
    *n_trials = 0;
out:
  PQclear(result);
  return rc;
}
