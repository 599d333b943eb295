/* store_query.c — see store.h: what the CLI reads (trial listings in three
 * formats, study summaries), all from the trial_history view.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_internal.h"

/* Columns of the listing query, in order. */
enum {
  COL_NUMBER,
  COL_STATE,
  COL_VALUE,
  COL_PARAMS,
  COL_WORKER,
  COL_STARTED,
  COL_FINISHED,
  COL_DURATION,
  COL_JSON,
  N_COLUMNS
};

static const char *const column_names[] = {
    "number", "state",      "value",       "params",
    "worker", "started_at", "finished_at", "duration_s"};

#define LISTING_SELECT                                                         \
  "SELECT number, state, value, params::text, worker,"                         \
  " to_char(started_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"                 \
  " to_char(finished_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"                \
  " duration_s,"                                                               \
  " json_build_object('number', number, 'state', state, 'value', value,"       \
  " 'params', params, 'worker', worker, 'started_at', started_at,"             \
  " 'finished_at', finished_at, 'duration_s', duration_s,"                     \
  " 'fail_reason', fail_reason)::text"                                         \
  " FROM trial_history WHERE study_id = $1"

static int find_study(hpt_store_t *store, const char *name, char *id,
                      size_t size, hpt_error_t *error) {
  const char *params[] = {name};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store, "SELECT id FROM studies WHERE name = $1", 1,
                           params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0)
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no study named '%s'", name);
  else
    snprintf(id, size, "%s", PQgetvalue(result, 0, 0));
  PQclear(result);
  return rc;
}

/* ---- table ----------------------------------------------------------------
 */

/* The text shown in the table for a cell; `buffer` holds it when made here.
 * jsonb puts spaces in params; the table wants them compact. */
static const char *table_cell(PGresult *result, int row, int column,
                              char *buffer, size_t size) {
  if (PQgetisnull(result, row, column))
    return "-";
  char *text = PQgetvalue(result, row, column);
  if (column == COL_VALUE) {
    snprintf(buffer, size, "%.6g", strtod(text, NULL));
    return buffer;
  }
  if (column == COL_DURATION) {
    snprintf(buffer, size, "%.1fs", strtod(text, NULL));
    return buffer;
  }
  if (column == COL_PARAMS)
    hpt__store_json_compact(text); /* in place, only ever shrinks */
  return text;
}

static const int table_columns[] = {COL_NUMBER, COL_STATE,  COL_VALUE,
                                    COL_PARAMS, COL_WORKER, COL_DURATION};
#define N_TABLE_COLUMNS (int)(sizeof table_columns / sizeof table_columns[0])

static void print_table(PGresult *result, FILE *out) {
  int widths[N_TABLE_COLUMNS];
  char buffer[64];
  for (int c = 0; c < N_TABLE_COLUMNS; c++)
    widths[c] = (int)strlen(column_names[table_columns[c]]);
  widths[N_TABLE_COLUMNS - 1] = (int)strlen("duration");
  for (int row = 0; row < PQntuples(result); row++)
    for (int c = 0; c < N_TABLE_COLUMNS; c++) {
      int length = (int)strlen(
          table_cell(result, row, table_columns[c], buffer, sizeof buffer));
      if (length > widths[c])
        widths[c] = length;
    }
  for (int c = 0; c < N_TABLE_COLUMNS; c++) {
    const char *name =
        c == N_TABLE_COLUMNS - 1 ? "duration" : column_names[table_columns[c]];
    if (c == 0)
      fprintf(out, "%*s", widths[c], name);
    else
      fprintf(out, "  %-*s", c == N_TABLE_COLUMNS - 1 ? 0 : widths[c], name);
  }
  fputc('\n', out);
  for (int row = 0; row < PQntuples(result); row++) {
    for (int c = 0; c < N_TABLE_COLUMNS; c++) {
      const char *cell =
          table_cell(result, row, table_columns[c], buffer, sizeof buffer);
      if (c == 0)
        fprintf(out, "%*s", widths[c], cell); /* numbers align right */
      else if (c == N_TABLE_COLUMNS - 1)
        fprintf(out, "  %s", cell); /* no trailing blanks */
      else
        fprintf(out, "  %-*s", widths[c], cell);
    }
    fputc('\n', out);
  }
}

/* ---- csv ------------------------------------------------------------------
 */

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

static void print_csv(PGresult *result, FILE *out) {
  for (int c = 0; c < COL_JSON; c++) {
    if (c > 0)
      fputc(',', out);
    csv_field(column_names[c], out);
  }
  fputs("\r\n", out);
  for (int row = 0; row < PQntuples(result); row++) {
    for (int c = 0; c < COL_JSON; c++) {
      if (c > 0)
        fputc(',', out);
      char *text = PQgetvalue(result, row, c);
      if (c == COL_PARAMS)
        hpt__store_json_compact(text);
      csv_field(PQgetisnull(result, row, c) ? "" : text, out);
    }
    fputs("\r\n", out);
  }
}

/* ---- json -----------------------------------------------------------------
 */

/* One array, one object per line; the objects come from json_build_object,
 * so numbers, nulls and params keep their JSON types. */
static void print_json(PGresult *result, FILE *out) {
  int n = PQntuples(result);
  fputs(n ? "[\n" : "[]\n", out);
  for (int row = 0; row < n; row++) {
    char *object = PQgetvalue(result, row, COL_JSON);
    hpt__store_json_compact(object);
    fprintf(out, "  %s%s\n", object, row + 1 < n ? "," : "");
  }
  if (n)
    fputs("]\n", out);
}

int hpt_store_print_trials(hpt_store_t *store, const char *study_name,
                           hpt_format_t format, int top, FILE *out,
                           hpt_error_t *error) {
  char id[24], limit[16];
  int rc = find_study(store, study_name, id, sizeof id, error);
  if (rc != HPT_OK)
    return rc;
  snprintf(limit, sizeof limit, "%d", top);
  const char *params[] = {id, limit};
  PGresult *result = NULL;
  if (top > 0)
    rc = hpt__store_exec(store,
                         LISTING_SELECT " AND state = 'COMPLETE'"
                                        " AND value IS NOT NULL"
                                        " ORDER BY " HPT__STORE_BEST_ORDER
                                        " LIMIT $2",
                         2, params, &result, error);
  else
    rc = hpt__store_exec(store, LISTING_SELECT " ORDER BY number", 1, params,
                         &result, error);
  if (rc != HPT_OK)
    return rc;
  switch (format) {
  case HPT_FORMAT_CSV:
    print_csv(result, out);
    break;
  case HPT_FORMAT_JSON:
    print_json(result, out);
    break;
  default:
    print_table(result, out);
    break;
  }
  PQclear(result);
  if (fflush(out) != 0 || ferror(out))
    return HPT_ERR(error, HPT_EIO, "cannot write the trial listing");
  return HPT_OK;
}

/* ---- summary --------------------------------------------------------------
 */

void hpt_study_summary_free(hpt_study_summary_t *summary) {
  if (summary == NULL)
    return;
  free(summary->best_params_json);
  summary->best_params_json = NULL;
}

int hpt_store_study_summary(hpt_store_t *store, const char *study_name,
                            hpt_study_summary_t *summary, hpt_error_t *error) {
  memset(summary, 0, sizeof *summary);
  const char *params[] = {study_name};
  PGresult *result = NULL;
  int rc =
      hpt__store_exec(store,
                      "SELECT s.id, s.direction, s.n_trials, s.state,"
                      " count(t.id) FILTER (WHERE t.state = 'WAITING'),"
                      " count(t.id) FILTER (WHERE t.state = 'RUNNING'),"
                      " count(t.id) FILTER (WHERE t.state = 'COMPLETE'),"
                      " count(t.id) FILTER (WHERE t.state = 'PRUNED'),"
                      " count(t.id) FILTER (WHERE t.state = 'FAIL'),"
                      " COALESCE(extract(epoch FROM min(t.started_at)), 0),"
                      " COALESCE(extract(epoch FROM max(t.finished_at)), 0)"
                      " FROM studies s LEFT JOIN trials t ON t.study_id = s.id"
                      " WHERE s.name = $1 GROUP BY s.id",
                      1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0) {
    PQclear(result);
    return HPT_ERR(error, HPT_ENOTFOUND, "no study named '%s'", study_name);
  }
  summary->id = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
  summary->direction = strcmp(PQgetvalue(result, 0, 1), "minimize") == 0
                           ? HPT_DIRECTION_MINIMIZE
                           : HPT_DIRECTION_MAXIMIZE;
  summary->n_trials = atoi(PQgetvalue(result, 0, 2));
  summary->state = hpt_study_state_parse(PQgetvalue(result, 0, 3));
  summary->waiting = atoi(PQgetvalue(result, 0, 4));
  summary->running = atoi(PQgetvalue(result, 0, 5));
  summary->complete = atoi(PQgetvalue(result, 0, 6));
  summary->pruned = atoi(PQgetvalue(result, 0, 7));
  summary->failed = atoi(PQgetvalue(result, 0, 8));
  summary->first_started_at = strtod(PQgetvalue(result, 0, 9), NULL);
  summary->last_finished_at = strtod(PQgetvalue(result, 0, 10), NULL);
  PQclear(result);

  char id[24];
  snprintf(id, sizeof id, "%" PRId64, summary->id);
  const char *best_params[] = {id};
  rc = hpt__store_exec(store,
                       "SELECT number, value, params::text FROM trial_history"
                       " WHERE study_id = $1 AND state = 'COMPLETE'"
                       " AND value IS NOT NULL"
                       " ORDER BY " HPT__STORE_BEST_ORDER " LIMIT 1",
                       1, best_params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) > 0) {
    char *json = PQgetvalue(result, 0, 2);
    hpt__store_json_compact(json);
    summary->best_params_json = strdup(json);
    if (summary->best_params_json == NULL) {
      PQclear(result);
      return HPT_ERR(error, HPT_ENOMEM, "out of memory");
    }
    summary->has_best = 1;
    summary->best_number = atoi(PQgetvalue(result, 0, 0));
    summary->best_value = hpt__store_get_double(result, 0, 1);
  }
  PQclear(result);
  return HPT_OK;
}

/* ---- workers --------------------------------------------------------------
 */

int hpt_store_print_workers(hpt_store_t *store, FILE *out, hpt_error_t *error) {
  PGresult *result = NULL;
  int rc = hpt__store_exec(
      store,
      "SELECT w.id, COALESCE(w.hostname, ''), COALESCE(w.devices, ''),"
      " COALESCE((SELECT string_agg(s.name || ':' || t.number, ', ')"
      "             FROM trials t JOIN studies s ON s.id = t.study_id"
      "            WHERE t.worker_id = w.id AND t.state = 'RUNNING'), '-'),"
      " to_char(w.last_seen, 'YYYY-MM-DD HH24:MI:SS'),"
      " round(extract(epoch FROM now() - w.last_seen))::bigint,"
      " COALESCE('left: ' || w.left_reason, '')"
      " FROM workers w ORDER BY w.last_seen DESC, w.id",
      0, NULL, &result, error);
  if (rc != HPT_OK)
    return rc;
  static const char *const headers[] = {"worker", "host", "devices",
                                        "current trial", "last heartbeat"};
  int widths[5];
  for (int c = 0; c < 5; c++) {
    widths[c] = (int)strlen(headers[c]);
    for (int r = 0; r < PQntuples(result); r++)
      if ((int)strlen(PQgetvalue(result, r, c)) > widths[c])
        widths[c] = (int)strlen(PQgetvalue(result, r, c));
  }
  for (int c = 0; c < 5; c++)
    fprintf(out, "%-*s%s", widths[c], headers[c], c < 4 ? "  " : "\n");
  for (int r = 0; r < PQntuples(result); r++) {
    for (int c = 0; c < 4; c++)
      fprintf(out, "%-*s  ", widths[c], PQgetvalue(result, r, c));
    const char *left = PQgetvalue(result, r, 6);
    fprintf(out, "%s (%ss ago)%s%s\n", PQgetvalue(result, r, 4),
            PQgetvalue(result, r, 5), left[0] ? "  " : "", left);
  }
  PQclear(result);
  if (fflush(out) != 0 || ferror(out))
    return HPT_ERR(error, HPT_EIO, "cannot write the worker listing");
  return HPT_OK;
}
