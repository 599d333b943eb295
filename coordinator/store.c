/* store.c — see store.h. Connection, the statement helpers the other
 * store_*.c files share (store_internal.h), and studies.
 * Migrations live in store_migrate.c, trials in store_trials.c, CLI queries
 * in store_query.c; the schema is sql/001_initial.sql.
 */
#include "store.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conninfo.h"
#include "log.h"
#include "store_internal.h"

/* ---- helpers shared by the store room ------------------------------------ */

/* Copies libpq's text into `out` as one line: whitespace runs collapsed,
 * trailing blanks dropped. */
static void one_line(const char *text, char *out, size_t size) {
  size_t n = 0;
  bool space = false;
  for (const char *p = text ? text : ""; *p && n + 1 < size; p++) {
    if (isspace((unsigned char)*p)) {
      space = n > 0;
      continue;
    }
    if (space && n + 2 < size)
      out[n++] = ' ';
    space = false;
    out[n++] = *p;
  }
  out[n] = '\0';
}

int hpt__store_result_error(hpt_store_t *store, const PGresult *result,
                            hpt_error_t *error) {
  char message[HPT_ERROR_MESSAGE_MAX];
  const char *primary =
      result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  one_line(primary ? primary : PQerrorMessage(store->conn), message,
           sizeof message);
  const char *state =
      result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
  if (state != NULL && strcmp(state, "23505") == 0)
    return HPT_ERR(error, HPT_EEXIST, "%s", message);
  return HPT_ERR(error, HPT_EDB, "%s", message[0] ? message : "query failed");
}

static double monotonic_s(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

bool hpt__store_recover(hpt_store_t *store, hpt_error_t *error) {
  if (store->in_transaction || PQstatus(store->conn) != CONNECTION_BAD)
    return false;
  double started = monotonic_s(), delay = 0.1;
  bool warned = false;
  for (;;) {
    double away = monotonic_s() - started;
    if (away >= store->outage_limit_s) {
      HPT_ERR(error, HPT_EDB, "database unreachable for %.0f s, giving up: %s",
              away, error ? error->message : "connection lost");
      return false;
    }
    if (!warned && away >= store->outage_warn_s) {
      hpt_log(HPT_LOG_ERROR, "database_unreachable",
              "seconds=%.0f note=\"nothing is dispatched and no result is "
              "dropped while it is away; retrying until %.0f s\"",
              away, store->outage_limit_s);
      warned = true;
    } else {
      hpt_log(HPT_LOG_WARN, "database_lost", "away_s=%.1f retry_in_s=%.1f",
              away, delay);
    }
    struct timespec pause = {.tv_sec = (time_t)delay,
                             .tv_nsec = (long)((delay - (time_t)delay) * 1e9)};
    nanosleep(&pause, NULL);
    delay = delay * 2 > 5.0 ? 5.0 : delay * 2;
    PQreset(store->conn);
    hpt__store_forget_statements(store);
    if (PQpipelineStatus(store->conn) != PQ_PIPELINE_OFF)
      PQexitPipelineMode(store->conn);
    if (PQstatus(store->conn) == CONNECTION_OK) {
      PGresult *setting = PQexec(store->conn, "SET TIME ZONE 'UTC'");
      PQclear(setting);
      if (store->asynchronous) {
        setting = PQexec(store->conn, "SET synchronous_commit TO off");
        PQclear(setting);
      }
      hpt_log(HPT_LOG_WARN, "database_back", "away_s=%.1f",
              monotonic_s() - started);
      return true;
    }
  }
}

void hpt__store_forget_statements(hpt_store_t *store) {
  for (int i = 0; i < store->n_statements; i++)
    free(store->statements[i].sql);
  store->n_statements = 0;
}

void hpt__store_statement_name(int index, char *name, size_t size) {
  snprintf(name, size, "hpt_%d", index);
}

/* The index of `sql`'s prepared statement, preparing it on first use; -1
 * when it cannot be prepared (the cache is full, or the server refused:
 * the caller then runs it unprepared, which reports the server's error).
 * Looked up by length, then contents: never by address, since a statement
 * built at run time may reuse another's freed memory. */
int hpt__store_prepared(hpt_store_t *store, const char *sql, int n_params) {
  size_t length = strlen(sql);
  for (int i = 0; i < store->n_statements; i++)
    if (store->statements[i].length == length &&
        memcmp(store->statements[i].sql, sql, length) == 0)
      return i;
  if (store->n_statements == HPT__STORE_STATEMENTS_MAX)
    return -1;
  char *copy = strdup(sql);
  if (copy == NULL)
    return -1;
  char name[32];
  hpt__store_statement_name(store->n_statements, name, sizeof name);
  PGresult *prepared = PQprepare(store->conn, name, sql, n_params, NULL);
  bool ok = prepared != NULL && PQresultStatus(prepared) == PGRES_COMMAND_OK;
  PQclear(prepared);
  if (!ok) {
    free(copy);
    return -1;
  }
  store->statements[store->n_statements] =
      (hpt__store_statement_t){.sql = copy, .length = length};
  return store->n_statements++;
}

int hpt__store_exec(hpt_store_t *store, const char *sql, int n_params,
                    const char *const *params, PGresult **result,
                    hpt_error_t *error) {
  if (result != NULL)
    *result = NULL;
  if (store->queue_length > 0 || store->flight.active) {
    int rc = hpt__store_batch_flush(store, false, error);
    if (rc != HPT_OK)
      return rc;
  }
  return hpt__store_exec_now(store, sql, n_params, params, result, error);
}

int hpt__store_exec_now(hpt_store_t *store, const char *sql, int n_params,
                        const char *const *params, PGresult **result,
                        hpt_error_t *error) {
  if (result != NULL)
    *result = NULL;
  PGresult *res;
  ExecStatusType status;
  for (;;) {
    int index = hpt__store_prepared(store, sql, n_params);
    if (index >= 0) {
      char name[32];
      hpt__store_statement_name(index, name, sizeof name);
      res = PQexecPrepared(store->conn, name, n_params, params, NULL, NULL, 0);
    } else {
      res =
          PQexecParams(store->conn, sql, n_params, NULL, params, NULL, NULL, 0);
    }
    status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      break;
    int rc = hpt__store_result_error(store, res, error);
    PQclear(res);
    /* Outside a transaction a statement is retried once the server is back;
     * inside one, the whole transaction is (HPT__STORE_RETRYING). */
    if (!hpt__store_recover(store, error))
      return rc;
  }
  if (result != NULL)
    *result = res;
  else
    PQclear(res);
  return HPT_OK;
}

int hpt__store_begin(hpt_store_t *store, hpt_error_t *error) {
  int rc = hpt__store_exec(store, "BEGIN", 0, NULL, NULL, error);
  store->in_transaction = rc == HPT_OK;
  return rc;
}

int hpt__store_commit(hpt_store_t *store, hpt_error_t *error) {
  int rc = hpt__store_exec(store, "COMMIT", 0, NULL, NULL, error);
  store->in_transaction = false;
  return rc;
}

void hpt__store_rollback(hpt_store_t *store) {
  hpt_error_t error;
  store->in_transaction = false;
  if (PQstatus(store->conn) == CONNECTION_BAD)
    return; /* nothing to roll back: the server dropped the transaction */
  if (hpt__store_exec_now(store, "ROLLBACK", 0, NULL, NULL, &error) != HPT_OK)
    hpt_log(HPT_LOG_WARN, "store_rollback_failed", "message=\"%s\"",
            error.message);
}

const char *hpt__store_double_text(double value, char *buffer, size_t size) {
  if (isnan(value))
    return NULL;
  if (isinf(value))
    snprintf(buffer, size, "%s", value > 0 ? "Infinity" : "-Infinity");
  else
    snprintf(buffer, size, "%.17g", value);
  return buffer;
}

double hpt__store_get_double(const PGresult *result, int row, int column) {
  if (PQgetisnull(result, row, column))
    return NAN;
  return strtod(PQgetvalue(result, row, column), NULL);
}

void hpt__store_json_compact(char *text) {
  bool in_string = false, escaped = false;
  char *out = text;
  for (char *p = text; *p; p++) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (*p == '\\')
        escaped = true;
      else if (*p == '"')
        in_string = false;
    } else if (*p == '"') {
      in_string = true;
    } else if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
      continue;
    }
    *out++ = *p;
  }
  *out = '\0';
}

/* ---- a tiny JSON writer for the settings columns ------------------------- */

typedef struct json_buffer {
  char *data;
  size_t length, capacity;
  bool failed; /* out of memory: data is unusable */
} json_buffer_t;

static void json_append(json_buffer_t *json, const char *text, size_t length) {
  if (json->failed)
    return;
  if (json->length + length + 1 > json->capacity) {
    size_t capacity = json->capacity ? json->capacity : 256;
    while (json->length + length + 1 > capacity)
      capacity *= 2;
    char *grown = realloc(json->data, capacity);
    if (grown == NULL) {
      json->failed = true;
      return;
    }
    json->data = grown;
    json->capacity = capacity;
  }
  memcpy(json->data + json->length, text, length);
  json->length += length;
  json->data[json->length] = '\0';
}

static void json_literal(json_buffer_t *json, const char *text) {
  json_append(json, text, strlen(text));
}

static void json_string(json_buffer_t *json, const char *text) {
  json_literal(json, "\"");
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    char escape[8];
    if (*p == '"' || *p == '\\') {
      snprintf(escape, sizeof escape, "\\%c", *p);
    } else if (*p < 0x20) {
      snprintf(escape, sizeof escape, "\\u%04x", *p);
    } else {
      json_append(json, (const char *)p, 1);
      continue;
    }
    json_literal(json, escape);
  }
  json_literal(json, "\"");
}

/* {"type": "random", "seed": "42", "list": ["a", "b"]}: values keep the text
 * written in YAML. Caller frees json->data. */
static void json_options(json_buffer_t *json, const hpt_options_t *options) {
  json_literal(json, "{");
  for (size_t i = 0; i < options->count; i++) {
    const hpt_option_t *option = &options->items[i];
    if (i > 0)
      json_literal(json, ", ");
    json_string(json, option->key);
    json_literal(json, ": ");
    if (!option->is_list) {
      json_string(json, option->value ? option->value : "");
      continue;
    }
    json_literal(json, "[");
    for (size_t j = 0; j < option->n_values; j++) {
      if (j > 0)
        json_literal(json, ", ");
      json_string(json, option->values[j]);
    }
    json_literal(json, "]");
  }
  json_literal(json, "}");
}

/* JSON array of choice values (all of them, or those in `indices`). */
static int json_choices(json_buffer_t *json, const hpt_param_t *param,
                        const int *indices, size_t count) {
  char literal[4096];
  json_literal(json, "[");
  for (size_t i = 0; i < count; i++) {
    double index = indices ? (double)indices[i] : (double)i;
    if (hpt_space_value_json(param, index, literal, sizeof literal) != HPT_OK)
      return HPT_EINVAL;
    if (i > 0)
      json_literal(json, ", ");
    json_literal(json, literal);
  }
  json_literal(json, "]");
  return HPT_OK;
}

/* ---- connection -----------------------------------------------------------
 */

static void notice_to_log(void *arg, const char *message) {
  (void)arg;
  char line[HPT_ERROR_MESSAGE_MAX];
  one_line(message, line, sizeof line);
  hpt_log(HPT_LOG_DEBUG, "store_notice", "message=\"%s\"", line);
}

static PGconn *connect_to(const char *conninfo, hpt_error_t *error) {
  /* Later keywords win, so a conninfo that sets them keeps its own. */
  const char *keys[] = {"connect_timeout", "fallback_application_name",
                        "dbname", NULL};
  const char *values[] = {"10", "hpt", conninfo, NULL};
  PGconn *conn = PQconnectdbParams(keys, values, 1);
  if (conn == NULL) {
    HPT_ERR(error, HPT_ENOMEM, "out of memory connecting to the database");
    return NULL;
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    /* libpq may quote the connection string, password and all. */
    char message[HPT_ERROR_MESSAGE_MAX], masked[HPT_ERROR_MESSAGE_MAX];
    one_line(PQerrorMessage(conn), message, sizeof message);
    hpt_conninfo_mask(message, masked, sizeof masked);
    HPT_ERR(error, HPT_EDB, "%s", masked);
    PQfinish(conn);
    return NULL;
  }
  PQsetNoticeProcessor(conn, notice_to_log, NULL);
  return conn;
}

int hpt_store_open(const char *conninfo, hpt_store_t **store,
                   hpt_error_t *error) {
  *store = NULL;
  hpt_store_t *opened = calloc(1, sizeof *opened);
  if (opened == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  opened->conn = connect_to(conninfo, error);
  if (opened->conn == NULL) {
    free(opened);
    return error ? error->code : HPT_EDB;
  }
  opened->outage_warn_s = 10;
  opened->outage_limit_s = 600;
  const char *limit = getenv("HPT_DB_OUTAGE_LIMIT_S");
  if (limit != NULL && strtod(limit, NULL) > 0)
    opened->outage_limit_s = strtod(limit, NULL);
  /* Timestamps leave the store as UTC, whatever the server's zone. */
  int rc = hpt__store_exec(opened, "SET TIME ZONE 'UTC'", 0, NULL, NULL, error);
  if (rc != HPT_OK) {
    hpt_store_close(&opened);
    return rc;
  }
  *store = opened;
  return HPT_OK;
}

void hpt_store_close(hpt_store_t **store) {
  if (store == NULL || *store == NULL)
    return;
  hpt_error_t error;
  if (((*store)->queue_length > 0 || (*store)->flight.active) &&
      hpt__store_batch_flush(*store, true, &error) != HPT_OK)
    hpt_log(HPT_LOG_ERROR, "writes_lost", "count=%zu error=\"%s\"",
            (*store)->queue_length, error.message);
  hpt__store_batch_discard(*store);
  PQfinish((*store)->conn);
  hpt__store_forget_statements(*store);
  free(*store);
  *store = NULL;
}

int hpt_store_database_ensure(const char *conninfo, const char *name,
                              hpt_error_t *error) {
  hpt_store_t store = {.conn = connect_to(conninfo, error)};
  if (store.conn == NULL)
    return error ? error->code : HPT_EDB;
  PGresult *result = NULL;
  const char *params[] = {name};
  int rc =
      hpt__store_exec(&store, "SELECT 1 FROM pg_database WHERE datname = $1", 1,
                      params, &result, error);
  if (rc != HPT_OK || PQntuples(result) > 0)
    goto out;
  char *quoted = PQescapeIdentifier(store.conn, name, strlen(name));
  if (quoted == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  char sql[512];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", quoted);
  PQfreemem(quoted);
  hpt_error_t create_error;
  rc = hpt__store_exec(&store, sql, 0, NULL, NULL, &create_error);
  /* Someone else created it meanwhile: that is what we wanted. */
  if (rc != HPT_OK && strstr(create_error.message, "already exists") == NULL)
    rc = HPT_ERR(error, rc, "%s", create_error.message);
  else
    rc = HPT_OK;
out:
  PQclear(result);
  PQfinish(store.conn);
  hpt__store_forget_statements(&store);
  return rc;
}

/* ---- studies --------------------------------------------------------------
 */

void hpt_study_row_free(hpt_study_row_t *row) {
  if (row == NULL)
    return;
  free(row->name);
  free(row->spec_text);
  free(row->spec_source);
  memset(row, 0, sizeof *row);
}

static const char *param_type_name(hpt_param_type_t type) {
  switch (type) {
  case HPT_PARAM_INT:
    return "int";
  case HPT_PARAM_CATEGORICAL:
    return "categorical";
  default:
    return "float";
  }
}

static int insert_param(hpt_store_t *store, const char *study_id,
                        const hpt_space_t *space, size_t index,
                        hpt_error_t *error) {
  const hpt_param_t *param = &space->params[index];
  bool categorical = param->type == HPT_PARAM_CATEGORICAL;
  char position[24], low[32], high[32], step[32];
  json_buffer_t choices = {0}, when = {0};
  snprintf(position, sizeof position, "%zu", index);
  const hpt_param_t *parent = NULL;
  if (param->parent >= 0 && (size_t)param->parent < space->n_params)
    parent = &space->params[param->parent];
  int rc = HPT_OK;
  if (categorical)
    rc = json_choices(&choices, param, NULL, param->n_choices);
  if (rc == HPT_OK && parent != NULL)
    rc = json_choices(&when, parent, param->when_choices, param->n_when);
  if (rc != HPT_OK || choices.failed || when.failed) {
    rc = HPT_ERR(error, rc != HPT_OK ? rc : HPT_ENOMEM,
                 "params.%s: cannot write its choices as JSON", param->name);
    goto out;
  }
  const char *params[] = {
      study_id,
      position,
      param->name,
      param_type_name(param->type),
      categorical ? NULL : hpt__store_double_text(param->low, low, sizeof low),
      categorical ? NULL
                  : hpt__store_double_text(param->high, high, sizeof high),
      categorical || param->step == 0
          ? NULL
          : hpt__store_double_text(param->step, step, sizeof step),
      param->log ? "true" : "false",
      choices.data,
      parent ? parent->name : NULL,
      when.data,
  };
  rc = hpt__store_exec(store,
                       "INSERT INTO study_params (study_id, position, name,"
                       " type, low, high, step, log, choices, parent,"
                       " when_choices) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                       " $8, $9::jsonb, $10, $11::jsonb)",
                       11, params, NULL, error);
out:
  free(choices.data);
  free(when.data);
  return rc;
}

static int study_create_once(hpt_store_t *store, const hpt_spec_t *spec,
                             int64_t *study_id, hpt_error_t *error) {
  if (study_id != NULL)
    *study_id = 0;
  json_buffer_t sampler = {0}, pruner = {0}, objective = {0};
  json_options(&sampler, &spec->sampler);
  json_options(&pruner, &spec->pruner);
  json_options(&objective, &spec->objective);
  PGresult *result = NULL;
  int rc = HPT_OK;
  if (sampler.failed || pruner.failed || objective.failed) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    goto out;
  char n_trials[16], max_parallel[16];
  snprintf(n_trials, sizeof n_trials, "%d", spec->n_trials);
  snprintf(max_parallel, sizeof max_parallel, "%d", spec->max_parallel);
  const char *params[] = {spec->name,
                          hpt_direction_name(spec->direction),
                          n_trials,
                          max_parallel,
                          sampler.data,
                          pruner.data,
                          objective.data,
                          spec->text ? spec->text : "",
                          spec->source ? spec->source : ""};
  rc = hpt__store_exec(store,
                       "INSERT INTO studies (name, direction, n_trials,"
                       " max_parallel, sampler, pruner, objective, spec_text,"
                       " spec_source) VALUES ($1, $2, $3, $4, $5::jsonb,"
                       " $6::jsonb, $7::jsonb, $8, $9) RETURNING id",
                       9, params, &result, error);
  if (rc == HPT_EEXIST)
    rc = HPT_ERR(error, HPT_EEXIST, "study '%s' already exists", spec->name);
  if (rc != HPT_OK)
    goto rollback;
  const char *id_text = PQgetvalue(result, 0, 0);
  for (size_t i = 0; i < spec->space.n_params && rc == HPT_OK; i++)
    rc = insert_param(store, id_text, &spec->space, i, error);
  if (rc != HPT_OK)
    goto rollback;
  rc = hpt__store_commit(store, error);
  if (rc != HPT_OK)
    goto rollback;
  if (study_id != NULL)
    *study_id = strtoll(id_text, NULL, 10);
  hpt_log(HPT_LOG_INFO, "study_created", "study=%s id=%s", spec->name, id_text);
  goto out;
rollback:
  hpt__store_rollback(store);
out:
  PQclear(result);
  free(sampler.data);
  free(pruner.data);
  free(objective.data);
  return rc;
}

int hpt_store_study_create(hpt_store_t *store, const hpt_spec_t *spec,
                           int64_t *study_id, hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error,
                      study_create_once(store, spec, study_id, error));
}

static char *copy_text(const PGresult *result, int row, int column) {
  return strdup(
      PQgetisnull(result, row, column) ? "" : PQgetvalue(result, row, column));
}

int hpt_store_study_find(hpt_store_t *store, const char *name,
                         hpt_study_row_t *row, hpt_error_t *error) {
  memset(row, 0, sizeof *row);
  PGresult *result = NULL;
  const char *params[] = {name};
  int rc = hpt__store_exec(store,
                           "SELECT id, name, spec_text, spec_source, state,"
                           " extract(epoch FROM created_at)"
                           " FROM studies WHERE name = $1",
                           1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0) {
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no study named '%s'", name);
    goto out;
  }
  row->id = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
  row->name = copy_text(result, 0, 1);
  row->spec_text = copy_text(result, 0, 2);
  row->spec_source = copy_text(result, 0, 3);
  row->state = hpt_study_state_parse(PQgetvalue(result, 0, 4));
  row->created_at = strtod(PQgetvalue(result, 0, 5), NULL);
  if (row->name == NULL || row->spec_text == NULL || row->spec_source == NULL) {
    hpt_study_row_free(row);
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
out:
  PQclear(result);
  return rc;
}

int hpt_store_study_set_state(hpt_store_t *store, int64_t study_id,
                              hpt_study_state_t state, hpt_error_t *error) {
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, study_id);
  const char *params[] = {id, hpt_study_state_name(state)};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store, "UPDATE studies SET state = $2 WHERE id = $1",
                           2, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (strcmp(PQcmdTuples(result), "0") == 0)
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no study with id %" PRId64, study_id);
  PQclear(result);
  return rc;
}

int hpt_store_study_list_running(hpt_store_t *store, char ***names,
                                 size_t *count, hpt_error_t *error) {
  *names = NULL;
  *count = 0;
  PGresult *result = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT name FROM studies WHERE state = 'RUNNING'"
                           " ORDER BY created_at, id",
                           0, NULL, &result, error);
  if (rc != HPT_OK)
    return rc;
  size_t n = (size_t)PQntuples(result);
  char **list = calloc(n ? n : 1, sizeof *list);
  if (list == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    list[i] = strdup(PQgetvalue(result, (int)i, 0));
    if (list[i] == NULL) {
      for (size_t j = 0; j < i; j++)
        free(list[j]);
      free(list);
      rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
      goto out;
    }
  }
  *names = list;
  *count = n;
out:
  PQclear(result);
  return rc;
}

/* The advisory-lock key space: (HPT_STUDY_LOCK_CLASS, study id). The class
 * keeps hpt's locks apart from the migration lock and from other users of
 * the same database. */
#define HPT_STUDY_LOCK_CLASS "1752199524"

int hpt_store_study_lock(hpt_store_t *store, int64_t study_id,
                         hpt_error_t *error) {
  char id[32];
  snprintf(id, sizeof id, "%lld", (long long)study_id);
  const char *params[] = {id};
  return hpt__store_exec(
      store, "SELECT pg_advisory_lock(" HPT_STUDY_LOCK_CLASS ", $1::int)", 1,
      params, NULL, error);
}

int hpt_store_study_unlock(hpt_store_t *store, int64_t study_id,
                           hpt_error_t *error) {
  char id[32];
  snprintf(id, sizeof id, "%lld", (long long)study_id);
  const char *params[] = {id};
  return hpt__store_exec(
      store, "SELECT pg_advisory_unlock(" HPT_STUDY_LOCK_CLASS ", $1::int)", 1,
      params, NULL, error);
}

const char *hpt_study_state_name(hpt_study_state_t state) {
  switch (state) {
  case HPT_STUDY_COMPLETE:
    return "COMPLETE";
  case HPT_STUDY_STOPPED:
    return "STOPPED";
  default:
    return "RUNNING";
  }
}

hpt_study_state_t hpt_study_state_parse(const char *name) {
  if (strcmp(name, "COMPLETE") == 0)
    return HPT_STUDY_COMPLETE;
  if (strcmp(name, "STOPPED") == 0)
    return HPT_STUDY_STOPPED;
  return HPT_STUDY_RUNNING;
}

int hpt_store_study_get_state(hpt_store_t *store, int64_t study_id,
                              hpt_study_state_t *state, hpt_error_t *error) {
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, study_id);
  const char *params[] = {id};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store, "SELECT state FROM studies WHERE id = $1", 1,
                           params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0)
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no study with id %" PRId64, study_id);
  else
    *state = hpt_study_state_parse(PQgetvalue(result, 0, 0));
  PQclear(result);
  return rc;
}

int hpt_store_study_delete(hpt_store_t *store, const char *name,
                           hpt_error_t *error) {
  const char *params[] = {name};
  PGresult *result = NULL;
  /* Trials, params, values, metrics and late messages go with it (ON DELETE
   * CASCADE). */
  int rc = hpt__store_exec(store, "DELETE FROM studies WHERE name = $1", 1,
                           params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (strcmp(PQcmdTuples(result), "0") == 0)
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no study named '%s'", name);
  PQclear(result);
  return rc;
}

int hpt_store_set_synchronous(hpt_store_t *store, bool synchronous,
                              hpt_error_t *error) {
  int rc = hpt__store_exec(store,
                           synchronous ? "SET synchronous_commit TO on"
                                       : "SET synchronous_commit TO off",
                           0, NULL, NULL, error);
  if (rc == HPT_OK)
    store->asynchronous = !synchronous;
  return rc;
}

/* A transaction that writes and commits synchronously waits until the WAL
 * up to its commit record is on disk — and with it every earlier,
 * asynchronous commit. It must write: a transaction without WAL (even one
 * with a transaction id) commits without flushing. */
static int barrier_once(hpt_store_t *store, hpt_error_t *error) {
  /* One round trip: the simple-query protocol runs the four statements
   * in order and stops at the first error (and a failed transaction is
   * rolled back by the server when its connection ends). */
  PGresult *result =
      PQexec(store->conn, "BEGIN; SET LOCAL synchronous_commit TO on;"
                          " UPDATE durability_barrier SET at = now()"
                          " WHERE id = 1; COMMIT");
  int rc = HPT_OK;
  if (result == NULL || PQresultStatus(result) != PGRES_COMMAND_OK) {
    rc = hpt__store_result_error(store, result, error);
    if (PQtransactionStatus(store->conn) == PQTRANS_INERROR)
      hpt__store_rollback(store);
  }
  PQclear(result);
  return rc;
}

int hpt__store_barrier_now(hpt_store_t *store, hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error, barrier_once(store, error));
}

int hpt_store_barrier(hpt_store_t *store, hpt_error_t *error) {
  int rc = hpt__store_land(store, error);
  if (rc != HPT_OK)
    return rc;
  if (store->queue_length > 0)
    return hpt__store_batch_flush(store, true, error);
  return hpt__store_barrier_now(store, error);
}
