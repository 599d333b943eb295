/* store_report.c — see store_report.h: the queries behind `hpt report
 * NAME --output FILE`, turned into the plain structs of report_study.h and
 * report_ensemble.h.
 */
#include "store_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* Index of trial `number` in the report (trials are sorted by number), or
 * -1. */
static long trial_index(const hpt_report_t *report, int number) {
  size_t low = 0, high = report->n_trials;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    int at = report->trials[middle].number;
    if (at == number)
      return (long)middle;
    if (at < number)
      low = middle + 1;
    else
      high = middle;
  }
  return -1;
}

static int load_params(hpt_store_t *store, const char *id, hpt_report_t *report,
                       hpt_error_t *error) {
  const char *params[] = {id};
  PGresult *result = NULL, *choices = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT name, type, low, high, log,"
                           " CASE WHEN jsonb_typeof(choices) = 'array'"
                           " THEN jsonb_array_length(choices) ELSE 0 END"
                           " FROM study_params WHERE study_id = $1"
                           " ORDER BY position",
                           1, params, &result, error);
  if (rc != HPT_OK)
    goto out;
  rc = hpt__store_exec(store,
                       "SELECT p.position, c.ord - 1, c.value"
                       " FROM study_params p CROSS JOIN LATERAL"
                       " jsonb_array_elements_text(p.choices)"
                       " WITH ORDINALITY AS c(value, ord)"
                       " WHERE p.study_id = $1"
                       " AND jsonb_typeof(p.choices) = 'array'"
                       " ORDER BY p.position, c.ord",
                       1, params, &choices, error);
  if (rc != HPT_OK)
    goto out;
  size_t n = (size_t)PQntuples(result);
  report->params = calloc(n ? n : 1, sizeof *report->params);
  if (report->params == NULL)
    goto oom;
  report->n_params = n;
  for (size_t i = 0; i < n; i++) {
    hpt_report_param_t *param = &report->params[i];
    int row = (int)i;
    param->name = strdup(PQgetvalue(result, row, 0));
    const char *type = PQgetvalue(result, row, 1);
    param->type = strcmp(type, "categorical") == 0 ? HPT_PARAM_CATEGORICAL
                  : strcmp(type, "int") == 0       ? HPT_PARAM_INT
                                                   : HPT_PARAM_FLOAT;
    param->low = hpt__store_get_double(result, row, 2);
    param->high = hpt__store_get_double(result, row, 3);
    param->log = strcmp(PQgetvalue(result, row, 4), "t") == 0;
    size_t n_choices = (size_t)atol(PQgetvalue(result, row, 5));
    if (param->name == NULL)
      goto oom;
    if (n_choices > 0) {
      param->choices = calloc(n_choices, sizeof *param->choices);
      if (param->choices == NULL)
        goto oom;
      param->n_choices = n_choices;
    }
  }
  /* Choices come as (position, index, text); positions are 0..n-1 in spec
   * order, as study_params.position is. */
  for (int row = 0; row < PQntuples(choices); row++) {
    long position = atol(PQgetvalue(choices, row, 0));
    long index = atol(PQgetvalue(choices, row, 1));
    if (position < 0 || (size_t)position >= n)
      continue;
    hpt_report_param_t *param = &report->params[position];
    if (index < 0 || (size_t)index >= param->n_choices)
      continue;
    param->choices[index] = strdup(PQgetvalue(choices, row, 2));
    if (param->choices[index] == NULL)
      goto oom;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t c = 0; c < report->params[i].n_choices; c++)
      if (report->params[i].choices[c] == NULL &&
          (report->params[i].choices[c] = strdup("?")) == NULL)
        goto oom;
  goto out;
oom:
  rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
out:
  PQclear(result);
  PQclear(choices);
  return rc;
}

static int load_trials(hpt_store_t *store, const char *id, hpt_report_t *report,
                       hpt_error_t *error) {
  const char *params[] = {id};
  PGresult *trials = NULL, *values = NULL, *steps = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT number, state, value, duration_s,"
                           " params::text FROM trial_history"
                           " WHERE study_id = $1 ORDER BY number",
                           1, params, &trials, error);
  if (rc == HPT_OK)
    rc = hpt__store_exec(store,
                         "SELECT t.number, p.name, p.value FROM trial_params p"
                         " JOIN trials t ON t.id = p.trial_id"
                         " WHERE t.study_id = $1",
                         1, params, &values, error);
  if (rc == HPT_OK)
    rc = hpt__store_exec(store,
                         "SELECT t.number, count(*) OVER (PARTITION BY t.id),"
                         " v.step, v.value FROM trial_intermediate_values v"
                         " JOIN trials t ON t.id = v.trial_id"
                         " WHERE t.study_id = $1 ORDER BY t.number, v.step",
                         1, params, &steps, error);
  if (rc != HPT_OK)
    goto out;
  size_t n = (size_t)PQntuples(trials), n_params = report->n_params;
  report->trials = calloc(n ? n : 1, sizeof *report->trials);
  if (report->trials == NULL)
    goto oom;
  report->n_trials = n;
  for (size_t i = 0; i < n; i++) {
    hpt_report_trial_t *trial = &report->trials[i];
    int row = (int)i;
    trial->number = atoi(PQgetvalue(trials, row, 0));
    int state = hpt_trial_state_parse(PQgetvalue(trials, row, 1));
    trial->state = state < 0 ? HPT_TRIAL_FAIL : (hpt_trial_state_t)state;
    trial->value = hpt__store_get_double(trials, row, 2);
    trial->duration_s = hpt__store_get_double(trials, row, 3);
    char *json = PQgetvalue(trials, row, 4);
    hpt__store_json_compact(json);
    trial->params_json = strdup(json);
    trial->params = malloc((n_params ? n_params : 1) * sizeof *trial->params);
    if (trial->params_json == NULL || trial->params == NULL)
      goto oom;
    for (size_t p = 0; p < n_params; p++)
      trial->params[p] = NAN;
  }
  for (int row = 0; row < PQntuples(values); row++) {
    long at = trial_index(report, atoi(PQgetvalue(values, row, 0)));
    const char *name = PQgetvalue(values, row, 1);
    for (size_t p = 0; at >= 0 && p < n_params; p++)
      if (strcmp(report->params[p].name, name) == 0)
        report->trials[at].params[p] = hpt__store_get_double(values, row, 2);
  }
  for (int row = 0; row < PQntuples(steps); row++) {
    long at = trial_index(report, atoi(PQgetvalue(steps, row, 0)));
    if (at < 0)
      continue;
    hpt_report_trial_t *trial = &report->trials[at];
    if (trial->steps == NULL) {
      size_t count = (size_t)atol(PQgetvalue(steps, row, 1));
      trial->steps = malloc((count ? count : 1) * sizeof *trial->steps);
      trial->step_values =
          malloc((count ? count : 1) * sizeof *trial->step_values);
      if (trial->steps == NULL || trial->step_values == NULL)
        goto oom;
    }
    trial->steps[trial->n_steps] = atoi(PQgetvalue(steps, row, 2));
    trial->step_values[trial->n_steps] = hpt__store_get_double(steps, row, 3);
    trial->n_steps++;
  }
  goto out;
oom:
  rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
out:
  PQclear(trials);
  PQclear(values);
  PQclear(steps);
  return rc;
}

int hpt_store_report_load(hpt_store_t *store, const char *study_name,
                          hpt_report_t *report, hpt_error_t *error) {
  memset(report, 0, sizeof *report);
  const char *params[] = {study_name};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT id, direction, n_trials, state FROM studies"
                           " WHERE name = $1",
                           1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0) {
    PQclear(result);
    return HPT_ERR(error, HPT_ENOTFOUND, "no study named '%s'", study_name);
  }
  char id[24];
  snprintf(id, sizeof id, "%s", PQgetvalue(result, 0, 0));
  report->direction = strcmp(PQgetvalue(result, 0, 1), "minimize") == 0
                          ? HPT_DIRECTION_MINIMIZE
                          : HPT_DIRECTION_MAXIMIZE;
  report->budget = atoi(PQgetvalue(result, 0, 2));
  report->complete = strcmp(PQgetvalue(result, 0, 3), "COMPLETE") == 0;
  PQclear(result);
  report->study_name = strdup(study_name);
  if (report->study_name == NULL)
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
  if (rc == HPT_OK)
    rc = load_params(store, id, report, error);
  if (rc == HPT_OK)
    rc = load_trials(store, id, report, error);
  if (rc != HPT_OK)
    hpt_report_free(report);
  return rc;
}

/* ---- ensembles ------------------------------------------------------------
 */

/* A text column copied (NULL when SQL NULL: then `ok` is left alone, else
 * it goes false when memory runs out). */
static char *text_copy(const PGresult *result, int row, int column, bool *ok) {
  if (PQgetisnull(result, row, column))
    return NULL;
  char *copy = strdup(PQgetvalue(result, row, column));
  if (copy == NULL)
    *ok = false;
  return copy;
}

/* An integer column; -1 when SQL NULL. */
static int int_or_minus_one(const PGresult *result, int row, int column) {
  return PQgetisnull(result, row, column)
             ? -1
             : atoi(PQgetvalue(result, row, column));
}

static int load_members(hpt_store_t *store, const char *id,
                        hpt_report_ensemble_t *ensemble, hpt_error_t *error) {
  const char *params[] = {id};
  PGresult *result = NULL;
  int rc = hpt__store_exec(store,
                           "SELECT m.trial_id, m.weight, s.name, t.number,"
                           " t.value FROM ensemble_members m"
                           " JOIN trials t ON t.id = m.trial_id"
                           " JOIN studies s ON s.id = t.study_id"
                           " WHERE m.ensemble_id = $1 ORDER BY m.position",
                           1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  size_t n = (size_t)PQntuples(result);
  ensemble->members = calloc(n ? n : 1, sizeof *ensemble->members);
  bool ok = ensemble->members != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    hpt_report_member_t *member = &ensemble->members[i];
    int row = (int)i;
    member->trial_id = strtoll(PQgetvalue(result, row, 0), NULL, 10);
    member->weight = hpt__store_get_double(result, row, 1);
    member->study = text_copy(result, row, 2, &ok);
    member->number = atoi(PQgetvalue(result, row, 3));
    member->value = hpt__store_get_double(result, row, 4);
    ensemble->n_members = i + 1;
  }
  PQclear(result);
  return ok ? HPT_OK : HPT_ERR(error, HPT_ENOMEM, "out of memory");
}

int hpt_store_report_ensemble_load(hpt_store_t *store, const char *name,
                                   hpt_report_ensemble_t *ensemble,
                                   hpt_error_t *error) {
  memset(ensemble, 0, sizeof *ensemble);
  const char *params[] = {name};
  PGresult *result = NULL;
  int rc = hpt__store_exec(
      store,
      "SELECT id, weights_mode, threshold_mode, threshold, n_val, accuracy,"
      " f1, precision_, recall, roc_auc, tp, fp, tn, fn,"
      " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"')"
      " FROM ensembles WHERE name = $1",
      1, params, &result, error);
  if (rc != HPT_OK)
    return rc;
  if (PQntuples(result) == 0) {
    PQclear(result);
    return HPT_ERR(error, HPT_ENOTFOUND, "no ensemble named '%s'", name);
  }
  char id[24];
  snprintf(id, sizeof id, "%s", PQgetvalue(result, 0, 0));
  bool ok = (ensemble->name = strdup(name)) != NULL;
  ensemble->weights_mode = text_copy(result, 0, 1, &ok);
  ensemble->threshold_mode = text_copy(result, 0, 2, &ok);
  ensemble->threshold = hpt__store_get_double(result, 0, 3);
  ensemble->n_val = int_or_minus_one(result, 0, 4);
  hpt_ensemble_metrics_t *m = &ensemble->metrics;
  m->accuracy = hpt__store_get_double(result, 0, 5);
  m->f1 = hpt__store_get_double(result, 0, 6);
  m->precision = hpt__store_get_double(result, 0, 7);
  m->recall = hpt__store_get_double(result, 0, 8);
  m->roc_auc = hpt__store_get_double(result, 0, 9);
  m->log_loss = NAN;
  m->tp = int_or_minus_one(result, 0, 10);
  m->fp = int_or_minus_one(result, 0, 11);
  m->tn = int_or_minus_one(result, 0, 12);
  m->fn = int_or_minus_one(result, 0, 13);
  ensemble->created_at = text_copy(result, 0, 14, &ok);
  PQclear(result);
  rc = ok ? HPT_OK : HPT_ERR(error, HPT_ENOMEM, "out of memory");
  if (rc == HPT_OK)
    rc = load_members(store, id, ensemble, error);
  if (rc != HPT_OK)
    hpt_report_ensemble_free(ensemble);
  return rc;
}
