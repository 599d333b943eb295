/* store_trials.c — see store.h: trials (start, report, heartbeat, finish),
 * loading a study's history back, and workers. Helpers in store_internal.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_internal.h"

/* The row of trial ($1 study id, $2 number), found through the unique
 * (study_id, number) index. Written as a subquery on purpose: with the
 * state in the same WHERE clause the planner may prefer the (study_id,
 * state) index and walk every RUNNING entry of the study — dead ones
 * included until a vacuum — which made each guarded update cost O(trials
 * so far) in long studies. */
#define TRIAL_BY_KEY                                                           \
  "id = (SELECT id FROM trials WHERE study_id = $1 AND number = $2)"

static void format_key(int64_t study_id, int number, char *id, size_t id_size,
                       char *num, size_t num_size) {
  snprintf(id, id_size, "%" PRId64, study_id);
  snprintf(num, num_size, "%d", number);
}

/* Explains why a conditional UPDATE on a RUNNING trial changed nothing:
 * HPT_ENOTFOUND when the trial does not exist, HPT_ESTATE otherwise. */
static int not_running(hpt_store_t *store, const char *id, const char *num,
                       hpt_error_t *error) {
  const char *params[] = {id, num};
  PGresult *result = NULL;
  int rc = hpt__store_exec(
      store, "SELECT state FROM trials WHERE study_id = $1 AND number = $2", 2,
      params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0)
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no trial %s in study %s", num, id);
  else
    rc = HPT_ERR(error, HPT_ESTATE, "trial %s of study %s is %s, not RUNNING",
                 num, id, PQgetvalue(result, 0, 0));
  PQclear(result);
  return rc;
}

/* ---- history --------------------------------------------------------------
 */

static int find_row(const PGresult *trials, int number) {
  int low = 0, high = PQntuples(trials) - 1;
  while (low <= high) {
    int middle = low + (high - low) / 2;
    int at = atoi(PQgetvalue(trials, middle, 1));
    if (at == number)
      return middle;
    if (at < number)
      low = middle + 1;
    else
      high = middle - 1;
  }
  return -1;
}

int hpt_store_history_load(hpt_store_t *store, int64_t study_id,
                           const hpt_space_t *space, hpt_history_t *history,
                           hpt_error_t *error) {
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, study_id);
  const char *params[] = {id};
  PGresult *trials = NULL, *values = NULL, *steps = NULL;
  double *matrix = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT id, number, state, value, retry_of"
                           " FROM trials WHERE study_id = $1 ORDER BY number",
                           1, params, &trials, error);
  if (rc != HPT_OK)
    goto out;
  rc = hpt__store_exec(store,
                       "SELECT t.number, p.name, p.value FROM trial_params p"
                       " JOIN trials t ON t.id = p.trial_id"
                       " WHERE t.study_id = $1",
                       1, params, &values, error);
  if (rc != HPT_OK)
    goto out;
  rc = hpt__store_exec(store,
                       "SELECT t.number, v.step, v.value"
                       " FROM trial_intermediate_values v"
                       " JOIN trials t ON t.id = v.trial_id"
                       " WHERE t.study_id = $1 ORDER BY t.number, v.step",
                       1, params, &steps, error);
  if (rc != HPT_OK)
    goto out;

  /* params: one row of n_params values per trial, NaN where absent. */
  size_t n_trials = (size_t)PQntuples(trials), n_params = space->n_params;
  size_t n_cells = n_trials * n_params;
  matrix = malloc((n_cells > 0 ? n_cells : 1) * sizeof *matrix);
  if (matrix == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n_cells; i++)
    matrix[i] = NAN;
  for (int i = 0; i < PQntuples(values); i++) {
    int row = find_row(trials, atoi(PQgetvalue(values, i, 0)));
    int param = hpt_space_find(space, PQgetvalue(values, i, 1));
    if (row < 0 || param < 0) {
      hpt_log(HPT_LOG_DEBUG, "store_param_skipped", "study=%s param=%s", id,
              PQgetvalue(values, i, 1));
      continue;
    }
    matrix[(size_t)row * n_params + (size_t)param] =
        hpt__store_get_double(values, i, 2);
  }

  for (size_t row = 0; row < n_trials; row++) {
    int state = hpt_trial_state_parse(PQgetvalue(trials, (int)row, 2));
    hpt_trial_t *trial = NULL;
    rc = hpt_history_add(history, atoi(PQgetvalue(trials, (int)row, 1)),
                         state < 0 ? HPT_TRIAL_FAIL : (hpt_trial_state_t)state,
                         n_params ? matrix + row * n_params : NULL, &trial,
                         error);
    if (rc != HPT_OK)
      goto out;
    trial->value = hpt__store_get_double(trials, (int)row, 3);
    trial->retry_of = PQgetisnull(trials, (int)row, 4)
                          ? -1
                          : atoi(PQgetvalue(trials, (int)row, 4));
  }
  /* A trial that a later one retries no longer counts towards the budget. */
  for (size_t row = 0; row < history->n_trials; row++) {
    hpt_trial_t *retried =
        history->trials[row].retry_of >= 0
            ? hpt_history_find(history, history->trials[row].retry_of)
            : NULL;
    if (retried != NULL)
      retried->retried = true;
  }
  for (int i = 0; i < PQntuples(steps); i++) {
    hpt_trial_t *trial =
        hpt_history_find(history, atoi(PQgetvalue(steps, i, 0)));
    if (trial == NULL)
      continue;
    rc = hpt_history_report(trial, atoi(PQgetvalue(steps, i, 1)),
                            hpt__store_get_double(steps, i, 2), error);
    if (rc != HPT_OK)
      goto out;
  }
out:
  free(matrix);
  PQclear(trials);
  PQclear(values);
  PQclear(steps);
  return rc;
}

/* ---- trials ---------------------------------------------------------------
 */

/* Inserts a trial and its params in one transaction: RUNNING on worker_id
 * (a new trial) or WAITING with retry_of (a queued retry). */
/* Appends `text` to a PostgreSQL array literal as one quoted element
 * (NULL: an SQL NULL element). */
static void array_element(FILE *out, bool first, const char *text) {
  if (!first)
    fputc(',', out);
  if (text == NULL) {
    fputs("NULL", out);
    return;
  }
  fputc('"', out);
  for (const char *p = text; *p; p++) {
    if (*p == '"' || *p == '\\')
      fputc('\\', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

/* The three array literals (names, values, JSON values) of a trial's
 * params. Caller frees the three strings. */
static int param_arrays(const hpt_space_t *space, const double *params,
                        int number, char **names, char **values, char **jsons,
                        hpt_error_t *error) {
  size_t sizes[3];
  FILE *streams[3] = {open_memstream(names, &sizes[0]),
                      open_memstream(values, &sizes[1]),
                      open_memstream(jsons, &sizes[2])};
  int rc = HPT_OK;
  if (!streams[0] || !streams[1] || !streams[2]) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  for (int k = 0; k < 3; k++)
    fputc('{', streams[k]);
  bool first = true;
  for (size_t i = 0; params != NULL && i < space->n_params; i++) {
    if (isnan(params[i]))
      continue;
    const hpt_param_t *param = &space->params[i];
    char value[32], json[4096];
    if (hpt_space_value_json(param, params[i], json, sizeof json) != HPT_OK) {
      rc = HPT_ERR(error, HPT_EINVAL, "trial %d: %s: invalid value %.17g",
                   number, param->name, params[i]);
      goto out;
    }
    array_element(streams[0], first, param->name);
    array_element(streams[1], first,
                  hpt__store_double_text(params[i], value, sizeof value));
    array_element(streams[2], first, json);
    first = false;
  }
  for (int k = 0; k < 3; k++)
    fputc('}', streams[k]);
out:
  for (int k = 0; k < 3; k++)
    if (streams[k] != NULL)
      fclose(streams[k]);
  return rc;
}

/* One statement, so atomic without BEGIN/COMMIT: the trial row and its
 * params (unnested from three arrays). */
static int insert_trial_once(hpt_store_t *store, int64_t study_id, int number,
                             const hpt_space_t *space, const double *params,
                             const char *worker_id, int retry_of,
                             hpt_error_t *error) {
  char id[24], num[16], retry_text[16];
  format_key(study_id, number, id, sizeof id, num, sizeof num);
  snprintf(retry_text, sizeof retry_text, "%d", retry_of);
  char label[64];
  snprintf(label, sizeof label, "%s study=%s trial=%s",
           worker_id ? "start" : "retry", id, num);
  char *names = NULL, *values = NULL, *jsons = NULL;
  int rc = param_arrays(space, params, number, &names, &values, &jsons, error);
  if (rc != HPT_OK)
    goto out;
  const char *row[] = {
      id,    num,    worker_id, retry_of >= 0 ? retry_text : NULL,
      names, values, jsons};
  rc = hpt__store_write(
      store,
      "WITH t AS (INSERT INTO trials (study_id, number, state, worker_id,"
      " started_at, heartbeat_at, retry_of)"
      " VALUES ($1, $2, CASE WHEN $3::text IS NULL THEN 'WAITING'"
      " ELSE 'RUNNING' END, $3,"
      " CASE WHEN $3::text IS NULL THEN NULL ELSE now() END,"
      " CASE WHEN $3::text IS NULL THEN NULL ELSE now() END, $4)"
      " RETURNING id)"
      " INSERT INTO trial_params (trial_id, name, value, value_json)"
      " SELECT t.id, p.name, p.value, p.value_json::jsonb FROM t,"
      " unnest($5::text[], $6::float8[], $7::text[])"
      " AS p(name, value, value_json)",
      7, row, label, false, NULL, error);
  if (rc == HPT_EEXIST)
    rc = HPT_ERR(error, HPT_EEXIST, "trial %d of study %s already exists",
                 number, id);
out:
  free(names);
  free(values);
  free(jsons);
  return rc;
}

static int insert_trial(hpt_store_t *store, int64_t study_id, int number,
                        const hpt_space_t *space, const double *params,
                        const char *worker_id, int retry_of,
                        hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error,
                      insert_trial_once(store, study_id, number, space, params,
                                        worker_id, retry_of, error));
}

int hpt_store_trial_start(hpt_store_t *store, int64_t study_id, int number,
                          const hpt_space_t *space, const double *params,
                          const char *worker_id, hpt_error_t *error) {
  return insert_trial(store, study_id, number, space, params, worker_id, -1,
                      error);
}

int hpt_store_trial_enqueue_retry(hpt_store_t *store, int64_t study_id,
                                  int number, int retry_of,
                                  const hpt_space_t *space,
                                  const double *params, hpt_error_t *error) {
  return insert_trial(store, study_id, number, space, params, NULL, retry_of,
                      error);
}

/* Runs `sql`: an UPDATE of trial ($1 study id, $2 number), guarded by the
 * trial's state, with an optional third parameter. When no row changed
 * (the trial is missing or in another state) it answers like not_running,
 * or with HPT_ESTATE "... is not <expected>" when `expected` is given. */
static int update_trial_in_state(hpt_store_t *store, int64_t study_id,
                                 int number, const char *sql, const char *extra,
                                 const char *expected, hpt_error_t *error) {
  char id[24], num[16];
  format_key(study_id, number, id, sizeof id, num, sizeof num);
  const char *params[] = {id, num, extra};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store, sql, extra ? 3 : 2, params, &result, error);
  if (rc == HPT_OK && strcmp(PQcmdTuples(result), "0") == 0)
    rc = expected ? HPT_ERR(error, HPT_ESTATE, "trial %d of study %s is not %s",
                            number, id, expected)
                  : not_running(store, id, num, error);
  PQclear(result);
  return rc;
}

int hpt_store_trial_claim(hpt_store_t *store, int64_t study_id, int number,
                          const char *worker_id, hpt_error_t *error) {
  return update_trial_in_state(store, study_id, number,
                               "UPDATE trials SET state = 'RUNNING',"
                               " worker_id = $3, started_at = now(),"
                               " heartbeat_at = now() WHERE " TRIAL_BY_KEY
                               " AND state = 'WAITING'",
                               worker_id, "WAITING", error);
}

int hpt_store_trial_requeue(hpt_store_t *store, int64_t study_id, int number,
                            hpt_error_t *error) {
  return update_trial_in_state(store, study_id, number,
                               "UPDATE trials SET state = 'WAITING',"
                               " worker_id = NULL, started_at = NULL,"
                               " heartbeat_at = NULL WHERE " TRIAL_BY_KEY
                               " AND state = 'RUNNING'",
                               NULL, NULL, error);
}

int hpt_store_late_message(hpt_store_t *store, int64_t study_id, int number,
                           const char *worker_id, const char *kind,
                           double value, hpt_error_t *error) {
  char id[24], num[16], value_text[32];
  format_key(study_id, number, id, sizeof id, num, sizeof num);
  const char *params[] = {
      id, num, worker_id, kind,
      hpt__store_double_text(value, value_text, sizeof value_text)};
  return hpt__store_write(store,
                          "INSERT INTO late_messages (study_id, number,"
                          " worker_id, kind, value) SELECT $1, $2, $3, $4, $5"
                          " WHERE EXISTS (SELECT 1 FROM studies WHERE id = $1)",
                          5, params, "late message", false, NULL, error);
}

int hpt_store_trials_running(hpt_store_t *store, int64_t study_id,
                             int **numbers, char ***workers, size_t *count,
                             hpt_error_t *error) {
  *numbers = NULL;
  *workers = NULL;
  *count = 0;
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, study_id);
  const char *params[] = {id};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT number, COALESCE(worker_id, '') FROM trials"
                           " WHERE study_id = $1 AND state = 'RUNNING'"
                           " ORDER BY number",
                           1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  size_t n = (size_t)PQntuples(result);
  int *numbers_out = calloc(n + 1, sizeof *numbers_out);
  char **workers_out = calloc(n + 1, sizeof *workers_out);
  if (numbers_out == NULL || workers_out == NULL) {
    free(numbers_out);
    free(workers_out);
    PQclear(result);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    numbers_out[i] = atoi(PQgetvalue(result, (int)i, 0));
    workers_out[i] = strdup(PQgetvalue(result, (int)i, 1));
  }
  PQclear(result);
  *numbers = numbers_out;
  *workers = workers_out;
  *count = n;
  return HPT_OK;
}

int hpt_store_trial_report(hpt_store_t *store, int64_t study_id, int number,
                           int step, double value, hpt_error_t *error) {
  char id[24], num[16], step_text[16], value_text[32];
  format_key(study_id, number, id, sizeof id, num, sizeof num);
  snprintf(step_text, sizeof step_text, "%d", step);
  const char *params[] = {
      id, num, step_text,
      hpt__store_double_text(value, value_text, sizeof value_text)};
  PGresult *result = NULL;
  char label[64];
  snprintf(label, sizeof label, "report study=%s trial=%s step=%s", id, num,
           step_text);
  /* One statement, so the heartbeat and the value land together. */
  int rc = hpt__store_write(
      store,
      "WITH t AS (UPDATE trials SET heartbeat_at = now()"
      " WHERE " TRIAL_BY_KEY " RETURNING id)"
      " INSERT INTO trial_intermediate_values (trial_id, step, value)"
      " SELECT id, $3, $4 FROM t ON CONFLICT (trial_id, step)"
      " DO UPDATE SET value = EXCLUDED.value, reported_at = now()",
      4, params, label, true, &result, error);
  if (rc != HPT_OK || result == NULL) /* NULL: queued */
    return rc;
  if (strcmp(PQcmdTuples(result), "0") == 0)
    rc = HPT_ERR(error, HPT_ENOTFOUND, "no trial %d in study %s", number, id);
  PQclear(result);
  return rc;
}

int hpt_store_trial_heartbeat(hpt_store_t *store, int64_t study_id, int number,
                              hpt_error_t *error) {
  char id[24], num[16], label[64];
  format_key(study_id, number, id, sizeof id, num, sizeof num);
  snprintf(label, sizeof label, "heartbeat study=%s trial=%s", id, num);
  const char *params[] = {id, num};
  PGresult *result = NULL;
  int rc = hpt__store_write(store,
                            "UPDATE trials SET heartbeat_at = now()"
                            " WHERE " TRIAL_BY_KEY " AND state = 'RUNNING'",
                            2, params, label, true, &result, error);
  if (rc == HPT_OK && result != NULL && strcmp(PQcmdTuples(result), "0") == 0)
    rc = not_running(store, id, num, error);
  PQclear(result);
  return rc;
}

/* One statement: the conditional update (a trial finishes once, whoever
 * asks twice) and its metrics. */
static int trial_finish_once(hpt_store_t *store, int64_t study_id, int number,
                             hpt_trial_state_t state, double value,
                             double duration_s, const hpt_metric_t *metrics,
                             size_t n_metrics, const char *fail_reason,
                             hpt_error_t *error) {
  if (state != HPT_TRIAL_COMPLETE && state != HPT_TRIAL_PRUNED &&
      state != HPT_TRIAL_FAIL)
    return HPT_ERR(error, HPT_EINVAL, "a trial cannot finish as %s",
                   hpt_trial_state_name(state));
  char id[24], num[16], value_text[32], duration_text[32];
  format_key(study_id, number, id, sizeof id, num, sizeof num);
  char *names = NULL, *values = NULL;
  size_t names_size = 0, values_size = 0;
  FILE *names_out = open_memstream(&names, &names_size);
  FILE *values_out = open_memstream(&values, &values_size);
  PGresult *result = NULL;
  int rc = HPT_OK;
  if (names_out == NULL || values_out == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  fputc('{', names_out);
  fputc('{', values_out);
  for (size_t i = 0; i < n_metrics; i++) {
    char metric_value[32];
    array_element(names_out, i == 0, metrics[i].name);
    array_element(values_out, i == 0,
                  hpt__store_double_text(metrics[i].value, metric_value,
                                         sizeof metric_value));
  }
  fputc('}', names_out);
  fputc('}', values_out);
  fclose(names_out);
  fclose(values_out);
  names_out = values_out = NULL;
  const char *params[] = {
      id,
      num,
      hpt_trial_state_name(state),
      hpt__store_double_text(value, value_text, sizeof value_text),
      hpt__store_double_text(duration_s, duration_text, sizeof duration_text),
      state == HPT_TRIAL_FAIL ? fail_reason : NULL,
      names,
      values};
  char label[64];
  snprintf(label, sizeof label, "finish study=%s trial=%s state=%s", id, num,
           hpt_trial_state_name(state));
  rc = hpt__store_write(
      store,
      "WITH t AS (UPDATE trials SET state = $3, value = $4,"
      " duration_s = COALESCE($5::float8, extract(epoch FROM now() -"
      " started_at)), fail_reason = $6, finished_at = now(),"
      " heartbeat_at = now()"
      " WHERE " TRIAL_BY_KEY " AND state = 'RUNNING'"
      " RETURNING id),"
      " m AS (INSERT INTO trial_metrics (trial_id, name, value)"
      " SELECT t.id, m.name, m.value FROM t,"
      " unnest($7::text[], $8::float8[]) AS m(name, value)"
      " ON CONFLICT (trial_id, name) DO UPDATE SET value = EXCLUDED.value)"
      " SELECT count(*) FROM t",
      8, params, label, true, &result, error);
  if (rc == HPT_OK && result != NULL &&
      strcmp(PQgetvalue(result, 0, 0), "0") == 0)
    rc = not_running(store, id, num, error);
out:
  if (names_out != NULL)
    fclose(names_out);
  if (values_out != NULL)
    fclose(values_out);
  PQclear(result);
  free(names);
  free(values);
  return rc;
}

int hpt_store_trial_finish(hpt_store_t *store, int64_t study_id, int number,
                           hpt_trial_state_t state, double value,
                           double duration_s, const hpt_metric_t *metrics,
                           size_t n_metrics, const char *fail_reason,
                           hpt_error_t *error) {
  HPT__STORE_RETRYING(store, error,
                      trial_finish_once(store, study_id, number, state, value,
                                        duration_s, metrics, n_metrics,
                                        fail_reason, error));
}

int hpt_store_trials_fail_running(hpt_store_t *store, int64_t study_id,
                                  const char *reason, int *count,
                                  hpt_error_t *error) {
  if (count != NULL)
    *count = 0;
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, study_id);
  const char *params[] = {id, reason};
  PGresult *result = NULL;
  int rc =
      hpt__store_exec(store,
                      "UPDATE trials SET state = 'FAIL', fail_reason = $2,"
                      " finished_at = now(),"
                      " duration_s = extract(epoch FROM now() - started_at)"
                      " WHERE study_id = $1 AND state = 'RUNNING'",
                      2, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (count != NULL)
    *count = atoi(PQcmdTuples(result));
  PQclear(result);
  return HPT_OK;
}

/* ---- workers --------------------------------------------------------------
 */

int hpt_store_worker_upsert(hpt_store_t *store, const char *worker_id,
                            const char *hostname, const char *devices,
                            int protocol_version, double memory_gb,
                            const char *tags, hpt_error_t *error) {
  char version[16], memory[32];
  snprintf(version, sizeof version, "%d", protocol_version);
  snprintf(memory, sizeof memory, "%.17g", memory_gb);
  const char *params[] = {worker_id, hostname, devices, version, memory, tags};
  return hpt__store_exec(
      store,
      "INSERT INTO workers (id, hostname, devices, protocol_version,"
      " memory_gb, tags) VALUES ($1, $2, $3, $4, $5, $6)"
      " ON CONFLICT (id) DO UPDATE SET"
      " hostname = EXCLUDED.hostname, devices = EXCLUDED.devices,"
      " protocol_version = EXCLUDED.protocol_version,"
      " memory_gb = EXCLUDED.memory_gb, tags = EXCLUDED.tags,"
      " last_seen = now(), left_at = NULL, left_reason = NULL",
      6, params, NULL, error);
}

int hpt_store_worker_left(hpt_store_t *store, const char *worker_id,
                          const char *reason, hpt_error_t *error) {
  const char *params[] = {worker_id, reason};
  return hpt__store_exec(
      store,
      "INSERT INTO workers (id, left_at, left_reason) VALUES ($1, now(), $2)"
      " ON CONFLICT (id) DO UPDATE SET left_at = now(),"
      " left_reason = EXCLUDED.left_reason, last_seen = now()",
      2, params, NULL, error);
}
