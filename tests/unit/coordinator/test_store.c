/* test_store.c — coordinator/store*.c against a real PostgreSQL (one
 * throwaway cluster for the executable, a fresh database per test). */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrations.h"
#include "store.h"
#include "test_db.h"

/* ---- fixtures -------------------------------------------------------------
 */

static char *choice_text[] = {"1-2", "1-3"};
static hpt_choice_kind_t choice_kinds[] = {HPT_CHOICE_STRING,
                                           HPT_CHOICE_STRING};
static int head_when[] = {1};

/* lr (float, log), epochs (int), ngram (categorical), head (float, only when
 * ngram = "1-3"). Static storage: never freed. */
static hpt_param_t space_params[] = {
    {.name = "lr",
     .type = HPT_PARAM_FLOAT,
     .low = 1e-3,
     .high = 1.0,
     .log = true,
     .parent = -1},
    {.name = "epochs",
     .type = HPT_PARAM_INT,
     .low = 2,
     .high = 20,
     .parent = -1},
    {.name = "ngram",
     .type = HPT_PARAM_CATEGORICAL,
     .n_choices = 2,
     .choices = choice_text,
     .choice_kinds = choice_kinds,
     .parent = -1},
    {.name = "head",
     .type = HPT_PARAM_FLOAT,
     .low = 0,
     .high = 1,
     .parent = 2,
     .n_when = 1,
     .when_choices = head_when},
};

static hpt_option_t sampler_items[] = {{.key = "type", .value = "random"},
                                       {.key = "seed", .value = "42"}};
static char *metric_names[] = {"accuracy", "f1"};
static hpt_option_t objective_items[] = {
    {.key = "type", .value = "ngram"},
    {.key = "metrics", .is_list = true, .n_values = 2, .values = metric_names}};
static hpt_option_t pruner_items[] = {{.key = "type", .value = "none"}};

static hpt_spec_t make_spec(const char *name, hpt_direction_t direction) {
  hpt_spec_t spec = {
      .name = (char *)name,
      .direction = direction,
      .n_trials = 10,
      .max_parallel = 2,
      .sampler = {.section = "sampler", .count = 2, .items = sampler_items},
      .pruner = {.section = "pruner", .count = 1, .items = pruner_items},
      .objective = {.section = "objective",
                    .count = 2,
                    .items = objective_items},
      .space = {.n_params = 4, .params = space_params},
      .source = "study.yaml",
      .base_dir = ".",
      .text = "name: test\n",
  };
  return spec;
}

static hpt_store_t *open_store(void) {
  hpt_store_t *store = NULL;
  hpt_error_t error;
  int rc = hpt_store_open(hpt_test_db_url(), &store, &error);
  cr_assert_eq(rc, HPT_OK, "open: %s", error.message);
  rc = hpt_store_migrate(store, NULL, &error);
  cr_assert_eq(rc, HPT_OK, "migrate: %s", error.message);
  return store;
}

static int64_t create_study(hpt_store_t *store, const char *name,
                            hpt_direction_t direction) {
  hpt_spec_t spec = make_spec(name, direction);
  int64_t id = 0;
  hpt_error_t error;
  int rc = hpt_store_study_create(store, &spec, &id, &error);
  cr_assert_eq(rc, HPT_OK, "create: %s", error.message);
  cr_assert_gt(id, 0);
  return id;
}

static void start_trial(hpt_store_t *store, int64_t study, int number,
                        double lr, double epochs, double ngram, double head) {
  double params[] = {lr, epochs, ngram, head};
  hpt_error_t error;
  hpt_space_t space = {.n_params = 4, .params = space_params};
  int rc = hpt_store_trial_start(store, study, number, &space, params, "w-1",
                                 &error);
  cr_assert_eq(rc, HPT_OK, "start %d: %s", number, error.message);
}

static void finish_trial(hpt_store_t *store, int64_t study, int number,
                         hpt_trial_state_t state, double value) {
  hpt_error_t error;
  int rc = hpt_store_trial_finish(store, study, number, state, value, 1.5, NULL,
                                  0, NULL, &error);
  cr_assert_eq(rc, HPT_OK, "finish %d: %s", number, error.message);
}

/* A second connection to the same database, to look at rows directly. */
static char *query_one(const char *url, const char *sql) {
  PGconn *conn = PQconnectdb(url);
  cr_assert_eq(PQstatus(conn), CONNECTION_OK, "%s", PQerrorMessage(conn));
  PGresult *result = PQexec(conn, sql);
  cr_assert_eq(PQresultStatus(result), PGRES_TUPLES_OK, "%s: %s", sql,
               PQresultErrorMessage(result));
  cr_assert_eq(PQntuples(result), 1, "%s", sql);
  char *value =
      strdup(PQgetisnull(result, 0, 0) ? "<null>" : PQgetvalue(result, 0, 0));
  PQclear(result);
  PQfinish(conn);
  return value;
}

static void expect_one(const char *url, const char *sql, const char *want) {
  char *got = query_one(url, sql);
  cr_expect_str_eq(got, want, "%s", sql);
  free(got);
}

/* Opens a store on a fresh, migrated database and remembers its URL. */
static hpt_store_t *open_store_at(char *url, size_t size) {
  snprintf(url, size, "%s", hpt_test_db_url());
  hpt_store_t *store = NULL;
  hpt_error_t error;
  cr_assert_eq(hpt_store_open(url, &store, &error), HPT_OK, "%s",
               error.message);
  cr_assert_eq(hpt_store_migrate(store, NULL, &error), HPT_OK, "%s",
               error.message);
  return store;
}

static char *print_to_string(hpt_store_t *store, const char *study,
                             hpt_format_t format, int top) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  hpt_error_t error;
  int rc = hpt_store_print_trials(store, study, format, top, out, &error);
  fclose(out);
  cr_assert_eq(rc, HPT_OK, "print: %s", error.message);
  return text;
}

/* ---- connection and migrations ------------------------------------------- */

Test(store, unreachable_database_is_edb_one_line) {
  hpt_store_t *store = NULL;
  hpt_error_t error;
  int rc = hpt_store_open(
      "postgresql:///hpt?host=/nonexistent/socket/dir&connect_timeout=2",
      &store, &error);
  cr_assert_eq(rc, HPT_EDB);
  cr_assert_null(store);
  cr_assert_eq(error.code, HPT_EDB);
  cr_assert_null(strchr(error.message, '\n'), "%s", error.message);
  cr_assert_not_null(strstr(error.message, "/nonexistent/socket/dir"), "%s",
                     error.message);
}

Test(store, migrate_is_idempotent) {
  hpt_store_t *store = NULL;
  hpt_error_t error;
  cr_assert_eq(hpt_store_open(hpt_test_db_url(), &store, &error), HPT_OK);
  int version = -1, applied = -1;
  cr_assert_eq(hpt_store_schema_version(store, &version, &error), HPT_OK, "%s",
               error.message);
  cr_assert_eq(version, 0);
  cr_assert_eq(hpt_store_migrate(store, &applied, &error), HPT_OK, "%s",
               error.message);
  cr_assert_eq(applied, hpt_migrations_count);
  cr_assert_eq(hpt_store_migrate(store, &applied, &error), HPT_OK, "%s",
               error.message);
  cr_assert_eq(applied, 0);
  cr_assert_eq(hpt_store_schema_version(store, &version, &error), HPT_OK);
  cr_assert_eq(version, hpt_migrations[hpt_migrations_count - 1].version);
  hpt_store_close(&store);
  cr_assert_null(store);
  hpt_store_close(&store); /* accepts NULL */
}

/* ---- studies --------------------------------------------------------------
 */

Test(store, study_create_and_find) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  int64_t id = create_study(store, "alpha", HPT_DIRECTION_MINIMIZE);
  hpt_study_row_t row;
  hpt_error_t error;
  cr_assert_eq(hpt_store_study_find(store, "alpha", &row, &error), HPT_OK);
  cr_expect_eq(row.id, id);
  cr_expect_str_eq(row.name, "alpha");
  cr_expect_str_eq(row.spec_text, "name: test\n");
  cr_expect_str_eq(row.spec_source, "study.yaml");
  cr_expect_eq(row.state, HPT_STUDY_RUNNING);
  cr_expect_gt(row.created_at, 1.6e9);
  hpt_study_row_free(&row);

  expect_one(url,
             "SELECT direction || n_trials || '/' || max_parallel"
             " FROM studies",
             "minimize10/2");
  expect_one(url, "SELECT sampler->>'seed' FROM studies", "42");
  expect_one(url, "SELECT objective->'metrics'->>1 FROM studies", "f1");
  expect_one(url,
             "SELECT string_agg(name || ':' || type, ',' ORDER BY"
             " position) FROM study_params",
             "lr:float,epochs:int,ngram:categorical,head:float");
  expect_one(url, "SELECT choices::text FROM study_params WHERE name='ngram'",
             "[\"1-2\", \"1-3\"]");
  expect_one(url,
             "SELECT parent || when_choices::text FROM study_params"
             " WHERE name = 'head'",
             "ngram[\"1-3\"]");
  expect_one(url, "SELECT log::text FROM study_params WHERE name = 'lr'",
             "true");

  cr_assert_eq(hpt_store_study_find(store, "nope", &row, &error),
               HPT_ENOTFOUND);
  cr_expect_str_eq(error.message, "no study named 'nope'");
  hpt_store_close(&store);
}

Test(store, duplicate_study_is_eexist_and_writes_nothing) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  create_study(store, "dup", HPT_DIRECTION_MAXIMIZE);
  hpt_spec_t spec = make_spec("dup", HPT_DIRECTION_MAXIMIZE);
  int64_t id = 99;
  hpt_error_t error;
  cr_assert_eq(hpt_store_study_create(store, &spec, &id, &error), HPT_EEXIST);
  cr_expect_str_eq(error.message, "study 'dup' already exists");
  cr_expect_eq(id, 0);
  expect_one(url, "SELECT count(*) FROM studies", "1");
  expect_one(url, "SELECT count(*) FROM study_params", "4");

  /* A failure after the study row (two params with one name): rolled back. */
  hpt_param_t twins[] = {space_params[0], space_params[0]};
  hpt_spec_t broken = make_spec("broken", HPT_DIRECTION_MAXIMIZE);
  broken.space.n_params = 2;
  broken.space.params = twins;
  cr_assert_neq(hpt_store_study_create(store, &broken, &id, &error), HPT_OK);
  expect_one(url, "SELECT count(*) FROM studies", "1");
  expect_one(url, "SELECT count(*) FROM study_params", "4");
  /* The connection is usable afterwards (no transaction left open). */
  create_study(store, "after", HPT_DIRECTION_MAXIMIZE);
  hpt_store_close(&store);
}

Test(store, study_state_and_running_list) {
  hpt_store_t *store = open_store();
  int64_t a = create_study(store, "a", HPT_DIRECTION_MAXIMIZE);
  create_study(store, "b", HPT_DIRECTION_MAXIMIZE);
  hpt_error_t error;
  cr_assert_eq(hpt_store_study_set_state(store, a, HPT_STUDY_COMPLETE, &error),
               HPT_OK);
  cr_assert_eq(
      hpt_store_study_set_state(store, 424242, HPT_STUDY_COMPLETE, &error),
      HPT_ENOTFOUND);
  char **names = NULL;
  size_t count = 0;
  cr_assert_eq(hpt_store_study_list_running(store, &names, &count, &error),
               HPT_OK);
  cr_assert_eq(count, 1);
  cr_expect_str_eq(names[0], "b");
  free(names[0]);
  free(names);
  hpt_study_row_t row;
  cr_assert_eq(hpt_store_study_find(store, "a", &row, &error), HPT_OK);
  cr_expect_eq(row.state, HPT_STUDY_COMPLETE);
  hpt_study_row_free(&row);
  hpt_store_close(&store);
}

/* ---- trials ---------------------------------------------------------------
 */

Test(store, trial_lifecycle) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  int64_t study = create_study(store, "life", HPT_DIRECTION_MAXIMIZE);
  hpt_space_t space = {.n_params = 4, .params = space_params};
  hpt_error_t error;
  start_trial(store, study, 0, 0.01, 7, 1, 0.5);
  double params[] = {0.1, 3, 0, NAN};
  cr_assert_eq(
      hpt_store_trial_start(store, study, 0, &space, params, "w-2", &error),
      HPT_EEXIST);
  expect_one(url, "SELECT count(*) FROM trials", "1");

  cr_assert_eq(hpt_store_trial_report(store, study, 0, 0, 0.5, &error), HPT_OK,
               "%s", error.message);
  cr_assert_eq(hpt_store_trial_report(store, study, 0, 1, 0.6, &error), HPT_OK);
  cr_assert_eq(hpt_store_trial_report(store, study, 0, 1, 0.7, &error), HPT_OK);
  cr_assert_eq(hpt_store_trial_report(store, study, 0, 2, NAN, &error), HPT_OK);
  cr_assert_eq(hpt_store_trial_report(store, study, 9, 0, 1, &error),
               HPT_ENOTFOUND);
  expect_one(url,
             "SELECT string_agg(step || '=' || coalesce(value::text,"
             " 'null'), ',' ORDER BY step) FROM trial_intermediate_values",
             "0=0.5,1=0.7,2=null");
  cr_assert_eq(hpt_store_trial_heartbeat(store, study, 0, &error), HPT_OK);
  cr_assert_eq(hpt_store_trial_heartbeat(store, study, 5, &error),
               HPT_ENOTFOUND);

  hpt_metric_t metrics[] = {{"accuracy", 0.9}, {"f1", 0.8}};
  cr_assert_eq(hpt_store_trial_finish(store, study, 0, HPT_TRIAL_COMPLETE, 0.9,
                                      12.5, metrics, 2, NULL, &error),
               HPT_OK, "%s", error.message);
  expect_one(url,
             "SELECT state || ' ' || value || ' ' || duration_s || ' '"
             " || (finished_at IS NOT NULL) FROM trials",
             "COMPLETE 0.9 12.5 true");
  expect_one(url,
             "SELECT string_agg(name || '=' || value, ',' ORDER BY name)"
             " FROM trial_metrics",
             "accuracy=0.9,f1=0.8");

  /* No trial finishes twice, and nothing changes on the second try. */
  cr_assert_eq(hpt_store_trial_finish(store, study, 0, HPT_TRIAL_FAIL, NAN, 1,
                                      NULL, 0, "late", &error),
               HPT_ESTATE);
  cr_expect_not_null(strstr(error.message, "COMPLETE"), "%s", error.message);
  expect_one(url, "SELECT state || ' ' || value FROM trials", "COMPLETE 0.9");
  cr_assert_eq(hpt_store_trial_heartbeat(store, study, 0, &error), HPT_ESTATE);
  cr_assert_eq(hpt_store_trial_finish(store, study, 0, HPT_TRIAL_RUNNING, 1, 1,
                                      NULL, 0, NULL, &error),
               HPT_EINVAL);
  cr_assert_eq(hpt_store_trial_finish(store, study, 7, HPT_TRIAL_COMPLETE, 1, 1,
                                      NULL, 0, NULL, &error),
               HPT_ENOTFOUND);

  /* FAIL keeps its reason; NaN value is stored as NULL. */
  start_trial(store, study, 1, 0.02, 3, 0, NAN);
  cr_assert_eq(hpt_store_trial_finish(store, study, 1, HPT_TRIAL_FAIL, NAN,
                                      0.25, NULL, 0, "exit status 3", &error),
               HPT_OK);
  expect_one(url,
             "SELECT state || ' ' || coalesce(value::text, 'null') || ' '"
             " || fail_reason FROM trials WHERE number = 1",
             "FAIL null exit status 3");
  hpt_store_close(&store);
}

Test(store, fail_running_marks_only_running) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  int64_t study = create_study(store, "crash", HPT_DIRECTION_MAXIMIZE);
  int64_t other = create_study(store, "other", HPT_DIRECTION_MAXIMIZE);
  for (int i = 0; i < 3; i++)
    start_trial(store, study, i, 0.01, 3, 0, NAN);
  start_trial(store, other, 0, 0.01, 3, 0, NAN);
  finish_trial(store, study, 1, HPT_TRIAL_COMPLETE, 0.5);
  int count = -1;
  hpt_error_t error;
  cr_assert_eq(hpt_store_trials_fail_running(store, study,
                                             "coordinator "
                                             "restarted",
                                             &count, &error),
               HPT_OK);
  cr_assert_eq(count, 2);
  expect_one(url,
             "SELECT string_agg(number || state, ',' ORDER BY number)"
             " FROM trials WHERE study_id = (SELECT id FROM studies"
             " WHERE name = 'crash')",
             "0FAIL,1COMPLETE,2FAIL");
  expect_one(url,
             "SELECT count(*) FROM trials WHERE fail_reason ="
             " 'coordinator restarted'",
             "2");
  expect_one(url,
             "SELECT state FROM trials WHERE study_id = (SELECT id FROM"
             " studies WHERE name = 'other')",
             "RUNNING");
  hpt_store_close(&store);
}

Test(store, worker_upsert) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  hpt_error_t error;
  cr_assert_eq(
      hpt_store_worker_upsert(store, "w-1", "host-a", "cpu", 1, 8, "", &error),
      HPT_OK, "%s", error.message);
  cr_assert_eq(hpt_store_worker_upsert(store, "w-1", "host-b", "cpu, cuda:0", 2,
                                       139.5, "h200, fast", &error),
               HPT_OK);
  expect_one(url,
             "SELECT count(*) || hostname || devices || protocol_version"
             " || ' ' || memory_gb || ' ' || tags"
             " FROM workers GROUP BY hostname, devices, protocol_version,"
             " memory_gb, tags",
             "1host-bcpu, cuda:02 139.5 h200, fast");
  hpt_store_close(&store);
}

Test(store, worker_left_then_back) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  hpt_error_t error;
  cr_assert_eq(hpt_store_worker_upsert(store, "g-0", "host", "cuda:0 X 80GiB",
                                       1, 80, "", &error),
               HPT_OK, "%s", error.message);
  cr_assert_eq(hpt_store_worker_left(store, "g-0", "GPU lost: cuda:0", &error),
               HPT_OK, "%s", error.message);
  expect_one(url,
             "SELECT (left_at IS NOT NULL) || ' ' || left_reason FROM workers",
             "true GPU lost: cuda:0");
  /* A worker never seen here is recorded too. */
  cr_assert_eq(hpt_store_worker_left(store, "g-1", "GPU lost", &error), HPT_OK,
               "%s", error.message);
  expect_one(url, "SELECT count(*) FROM workers WHERE left_at IS NOT NULL",
             "2");
  /* Back with a Hello: no longer left. */
  cr_assert_eq(hpt_store_worker_upsert(store, "g-0", "host", "cuda:0 X 80GiB",
                                       1, 80, "", &error),
               HPT_OK);
  expect_one(url,
             "SELECT (left_at IS NULL) || ' ' || (left_reason IS NULL) FROM"
             " workers WHERE id = 'g-0'",
             "true true");
  hpt_store_close(&store);
}

Test(store, history_load_round_trip) {
  hpt_store_t *store = open_store();
  int64_t study = create_study(store, "hist", HPT_DIRECTION_MINIMIZE);
  hpt_error_t error;
  start_trial(store, study, 0, 0.01, 7, 1, 0.25);  /* head present */
  start_trial(store, study, 1, 0.5, 20, 0, NAN);   /* head absent */
  start_trial(store, study, 2, 0.002, 2, 1, 0.75); /* stays RUNNING */
  cr_assert_eq(hpt_store_trial_report(store, study, 0, 1, 0.4, &error), HPT_OK);
  cr_assert_eq(hpt_store_trial_report(store, study, 0, 2, 0.3, &error), HPT_OK);
  cr_assert_eq(hpt_store_trial_report(store, study, 1, 1, NAN, &error), HPT_OK);
  finish_trial(store, study, 0, HPT_TRIAL_COMPLETE, 0.3);
  finish_trial(store, study, 1, HPT_TRIAL_PRUNED, 0.9);

  hpt_space_t space = {.n_params = 4, .params = space_params};
  hpt_history_t history;
  hpt_history_init(&history, HPT_DIRECTION_MINIMIZE, 4);
  cr_assert_eq(hpt_store_history_load(store, study, &space, &history, &error),
               HPT_OK, "%s", error.message);
  cr_assert_eq(history.n_trials, 3);
  hpt_trial_t *t0 = hpt_history_find(&history, 0);
  hpt_trial_t *t1 = hpt_history_find(&history, 1);
  hpt_trial_t *t2 = hpt_history_find(&history, 2);
  cr_assert(t0 && t1 && t2);
  cr_expect_eq(t0->state, HPT_TRIAL_COMPLETE);
  cr_expect_eq(t0->value, 0.3);
  cr_expect_eq(t0->params[0], 0.01);
  cr_expect_eq(t0->params[1], 7);
  cr_expect_eq(t0->params[2], 1); /* categorical: the choice index */
  cr_expect_eq(t0->params[3], 0.25);
  cr_expect_eq(t0->n_steps, 2);
  cr_expect_eq(hpt_history_value_at(t0, 2), 0.3);
  cr_expect_eq(t1->state, HPT_TRIAL_PRUNED);
  cr_expect_eq(t1->value, 0.9);
  cr_expect_eq(t1->params[2], 0);
  cr_expect(isnan(t1->params[3]), "absent param must load as NaN");
  cr_expect_eq(t1->n_steps, 1);
  cr_expect(isnan(hpt_history_value_at(t1, 1)));
  cr_expect_eq(t2->state, HPT_TRIAL_RUNNING);
  cr_expect(isnan(t2->value));
  cr_expect_eq(t2->params[3], 0.75);
  cr_expect_eq(hpt_history_next_number(&history), 3);
  hpt_history_close(&history);
  hpt_store_close(&store);
}

/* ---- queries --------------------------------------------------------------
 */

/* Three COMPLETE trials (0.5, 0.9, 0.7), one FAIL, one RUNNING. */
static int64_t populate(hpt_store_t *store, const char *name,
                        hpt_direction_t direction) {
  int64_t study = create_study(store, name, direction);
  start_trial(store, study, 0, 0.01, 7, 1, 0.25);
  finish_trial(store, study, 0, HPT_TRIAL_COMPLETE, 0.5);
  start_trial(store, study, 1, 0.5, 20, 0, NAN);
  finish_trial(store, study, 1, HPT_TRIAL_COMPLETE, 0.9);
  start_trial(store, study, 2, 0.1, 2, 0, NAN);
  finish_trial(store, study, 2, HPT_TRIAL_COMPLETE, 0.7);
  start_trial(store, study, 3, 0.2, 3, 0, NAN);
  cr_assert_eq(hpt_store_trial_finish(store, study, 3, HPT_TRIAL_FAIL, NAN, 1,
                                      NULL, 0, "boom, \"quoted\"", NULL),
               HPT_OK);
  double none[] = {NAN, NAN, NAN, NAN};
  hpt_space_t space = {.n_params = 4, .params = space_params};
  cr_assert_eq(
      hpt_store_trial_start(store, study, 4, &space, none, "w-1", NULL),
      HPT_OK);
  return study;
}

Test(store, trial_history_view) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  int64_t study = populate(store, "view", HPT_DIRECTION_MAXIMIZE);
  expect_one(url,
             "SELECT study || number || state || value || worker ||"
             " direction || (started_at IS NOT NULL) ||"
             " (finished_at IS NOT NULL) || duration_s"
             " FROM trial_history WHERE number = 1",
             "view1COMPLETE0.9w-1maximizetruetrue1.5");
  expect_one(url,
             "SELECT params->>'ngram' || (params->'epochs')::text ||"
             " (params ? 'head')::text FROM trial_history"
             " WHERE number = 1",
             "1-220false");
  expect_one(url, "SELECT params->>'head' FROM trial_history WHERE number=0",
             "0.25");
  expect_one(url, "SELECT params::text FROM trial_history WHERE number = 4",
             "{}");
  char sql[128];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM trial_history WHERE study_id = %lld",
           (long long)study);
  expect_one(url, sql, "5");
  hpt_store_close(&store);
}

Test(store, print_trials_table) {
  hpt_store_t *store = open_store();
  populate(store, "tab", HPT_DIRECTION_MAXIMIZE);
  char *text = print_to_string(store, "tab", HPT_FORMAT_TABLE, 0);
  cr_expect_eq(strncmp(text, "number  state", 13), 0, "%s", text);
  cr_expect_not_null(strstr(text, "{\"lr\":0.01,"), "%s", text);
  cr_expect_not_null(strstr(text, "\"ngram\":\"1-3\""), "%s", text);
  cr_expect_not_null(strstr(text, "COMPLETE"), "%s", text);
  cr_expect_not_null(strstr(text, "1.5s"), "%s", text);
  /* header + 5 rows, each column starting at the same offset */
  int lines = 0;
  const char *state_column = strstr(text, "state");
  long offset = state_column - text;
  for (const char *line = text; *line; lines++) {
    cr_expect_eq(line[offset - 1], ' ', "misaligned: %s", text);
    line = strchr(line, '\n') + 1;
  }
  cr_expect_eq(lines, 6, "%s", text);
  free(text);

  cr_assert_eq(hpt_store_print_trials(store, "missing", HPT_FORMAT_TABLE, 0,
                                      stdout, NULL),
               HPT_ENOTFOUND);
  hpt_store_close(&store);
}

Test(store, print_trials_csv) {
  hpt_store_t *store = open_store();
  populate(store, "csv", HPT_DIRECTION_MAXIMIZE);
  char *text = print_to_string(store, "csv", HPT_FORMAT_CSV, 0);
  cr_expect_eq(strncmp(text,
                       "number,state,value,params,worker,started_at,"
                       "finished_at,duration_s\r\n0,COMPLETE,0.5,"
                       "\"{\"\"lr\"\":0.01,",
                       94),
               0, "%s", text);
  cr_expect_not_null(strstr(text, "\r\n3,FAIL,,\"{"), "%s", text);
  cr_expect_not_null(strstr(text, "\r\n4,RUNNING,,{},w-1,"), "%s", text);
  int lines = 0;
  for (const char *p = text; (p = strstr(p, "\r\n")) != NULL; p += 2)
    lines++;
  cr_expect_eq(lines, 6, "%s", text);
  free(text);

  /* top 2 of a minimised study: 0.5 then 0.7, only COMPLETE trials */
  populate(store, "csvmin", HPT_DIRECTION_MINIMIZE);
  text = print_to_string(store, "csvmin", HPT_FORMAT_CSV, 2);
  char *row1 = strstr(text, "\r\n") + 2;
  char *row2 = strstr(row1, "\r\n") + 2;
  cr_expect_eq(strncmp(row1, "0,COMPLETE,0.5,", 15), 0, "%s", text);
  cr_expect_eq(strncmp(row2, "2,COMPLETE,0.7,", 15), 0, "%s", text);
  cr_expect_str_eq(strstr(row2, "\r\n"), "\r\n", "%s", text);
  free(text);
  hpt_store_close(&store);
}

Test(store, print_trials_json) {
  char url[1024];
  hpt_store_t *store = open_store_at(url, sizeof url);
  populate(store, "js", HPT_DIRECTION_MAXIMIZE);
  char *text = print_to_string(store, "js", HPT_FORMAT_JSON, 2);
  cr_expect_eq(text[0], '[', "%s", text);
  cr_expect_not_null(strstr(text, "{\"number\":1,\"state\":\"COMPLETE\","
                                  "\"value\":0.9,\"params\":{"),
                     "%s", text);
  cr_expect_lt(strstr(text, "\"number\":1,"), strstr(text, "\"number\":2,"),
               "%s", text);
  /* PostgreSQL agrees it is a JSON array of two objects. */
  PGconn *conn = PQconnectdb(url);
  const char *params[] = {text};
  PGresult *result = PQexecParams(
      conn,
      "SELECT json_array_length($1::json) || ' ' || ($1::json->0->'params'->>"
      "'epochs') || ' ' || json_typeof($1::json->0->'value')",
      1, NULL, params, NULL, NULL, 0);
  cr_assert_eq(PQresultStatus(result), PGRES_TUPLES_OK, "%s",
               PQresultErrorMessage(result));
  cr_expect_str_eq(PQgetvalue(result, 0, 0), "2 20 number");
  PQclear(result);
  PQfinish(conn);
  free(text);

  /* No trials: an empty array. */
  create_study(store, "empty", HPT_DIRECTION_MAXIMIZE);
  text = print_to_string(store, "empty", HPT_FORMAT_JSON, 0);
  cr_expect_str_eq(text, "[]\n");
  free(text);
  hpt_store_close(&store);
}

Test(store, summary_best_depends_on_direction) {
  hpt_store_t *store = open_store();
  populate(store, "max", HPT_DIRECTION_MAXIMIZE);
  populate(store, "min", HPT_DIRECTION_MINIMIZE);
  hpt_study_summary_t summary;
  hpt_error_t error;
  cr_assert_eq(hpt_store_study_summary(store, "max", &summary, &error), HPT_OK,
               "%s", error.message);
  cr_expect_eq(summary.direction, HPT_DIRECTION_MAXIMIZE);
  cr_expect_eq(summary.n_trials, 10);
  cr_expect_eq(summary.complete, 3);
  cr_expect_eq(summary.failed, 1);
  cr_expect_eq(summary.running, 1);
  cr_expect_eq(summary.pruned + summary.waiting, 0);
  cr_expect_eq(summary.has_best, 1);
  cr_expect_eq(summary.best_number, 1);
  cr_expect_eq(summary.best_value, 0.9);
  cr_expect_str_eq(summary.best_params_json,
                   "{\"lr\":0.5,\"ngram\":\"1-2\",\"epochs\":20}");
  cr_expect_gt(summary.first_started_at, 1.6e9);
  cr_expect_geq(summary.last_finished_at, summary.first_started_at);
  cr_expect_eq(summary.state, HPT_STUDY_RUNNING);
  hpt_study_summary_free(&summary);
  cr_expect_null(summary.best_params_json);

  cr_assert_eq(hpt_store_study_summary(store, "min", &summary, &error), HPT_OK);
  cr_expect_eq(summary.best_number, 0);
  cr_expect_eq(summary.best_value, 0.5);
  hpt_study_summary_free(&summary);

  create_study(store, "fresh", HPT_DIRECTION_MAXIMIZE);
  cr_assert_eq(hpt_store_study_summary(store, "fresh", &summary, &error),
               HPT_OK);
  cr_expect_eq(summary.has_best, 0);
  cr_expect_null(summary.best_params_json);
  cr_expect_eq(summary.first_started_at, 0);
  hpt_study_summary_free(&summary);

  cr_assert_eq(hpt_store_study_summary(store, "nope", &summary, &error),
               HPT_ENOTFOUND);
  hpt_store_close(&store);
}

/* ---- group commit: write-behind ------------------------------------------ */

static hpt_store_t *open_group_commit_store(char *url, size_t size) {
  hpt_store_t *store = open_store_at(url, size);
  hpt_error_t error;
  cr_assert_eq(hpt_store_set_synchronous(store, false, &error), HPT_OK, "%s",
               error.message);
  return store;
}

Test(store, queued_writes_land_at_the_barrier_in_order) {
  char url[1024];
  hpt_store_t *store = open_group_commit_store(url, sizeof url);
  int64_t study = create_study(store, "batch", HPT_DIRECTION_MAXIMIZE);
  hpt_error_t error;
  for (int i = 0; i < 3; i++)
    start_trial(store, study, i, 0.01 * (i + 1), 5, 0, NAN);
  cr_assert_eq(hpt_store_trial_report(store, study, 1, 0, 0.4, &error), HPT_OK);
  finish_trial(store, study, 0, HPT_TRIAL_COMPLETE, 0.8);
  /* Queued: another connection sees none of it yet. */
  expect_one(url, "SELECT count(*) FROM trials", "0");
  cr_assert_eq(hpt_store_barrier(store, &error), HPT_OK, "%s", error.message);
  expect_one(url, "SELECT count(*) FROM trials", "3");
  expect_one(url, "SELECT count(*) FROM trial_params", "9"); /* 3 active */
  expect_one(url, "SELECT state || ' ' || value FROM trials WHERE number = 0",
             "COMPLETE 0.8");
  expect_one(url, "SELECT value FROM trial_intermediate_values", "0.4");
  /* Any other statement first sends what is queued. */
  start_trial(store, study, 3, 0.5, 5, 0, NAN);
  cr_assert_eq(hpt_store_trial_claim(store, study, 3, "w-1", &error),
               HPT_ESTATE); /* RUNNING, not WAITING: it saw the insert */
  expect_one(url, "SELECT count(*) FROM trials", "4");
  hpt_store_close(&store);
}

Test(store, one_refused_write_does_not_take_the_batch_down) {
  char url[1024];
  hpt_store_t *store = open_group_commit_store(url, sizeof url);
  int64_t study = create_study(store, "refused", HPT_DIRECTION_MAXIMIZE);
  hpt_error_t error;
  start_trial(store, study, 0, 0.1, 5, 0, NAN);
  cr_assert_eq(hpt_store_barrier(store, &error), HPT_OK, "%s", error.message);
  start_trial(store, study, 1, 0.2, 5, 0, NAN);
  start_trial(store, study, 0, 0.3, 5, 0, NAN); /* duplicate: refused */
  finish_trial(store, study, 1, HPT_TRIAL_COMPLETE, 0.7);
  /* A late finish: its guard matches nothing, which is not an error. */
  finish_trial(store, study, 5, HPT_TRIAL_COMPLETE, 0.1);
  cr_assert_eq(hpt_store_barrier(store, &error), HPT_OK, "%s", error.message);
  expect_one(url,
             "SELECT string_agg(number || ':' || state, ',' ORDER BY number)"
             " FROM trials",
             "0:RUNNING,1:COMPLETE");
  expect_one(url,
             "SELECT string_agg(value::text, ',' ORDER BY trial_id)"
             " FROM trial_params WHERE name = 'lr'",
             "0.1,0.2");
  hpt_store_close(&store);
}

Test(store, queued_writes_survive_a_lost_connection) {
  char url[1024];
  hpt_store_t *store = open_group_commit_store(url, sizeof url);
  int64_t study = create_study(store, "lost", HPT_DIRECTION_MAXIMIZE);
  hpt_error_t error;
  for (int i = 0; i < 5; i++)
    start_trial(store, study, i, 0.1, 5, 0, NAN);
  finish_trial(store, study, 2, HPT_TRIAL_PRUNED, 0.3);
  /* Another session ends this store's connection under it. */
  char *killed = query_one(url, "SELECT count(pg_terminate_backend(pid))"
                                " FROM pg_stat_activity WHERE datname ="
                                " current_database() AND pid <>"
                                " pg_backend_pid()");
  cr_assert_str_eq(killed, "1");
  free(killed);
  cr_assert_eq(hpt_store_barrier(store, &error), HPT_OK, "%s", error.message);
  expect_one(url, "SELECT count(*) FROM trials", "5");
  expect_one(url, "SELECT state FROM trials WHERE number = 2", "PRUNED");
  /* And the connection works on: prepared statements were re-made. */
  start_trial(store, study, 5, 0.1, 5, 0, NAN);
  cr_assert_eq(hpt_store_barrier(store, &error), HPT_OK, "%s", error.message);
  expect_one(url, "SELECT count(*) FROM trials", "6");
  hpt_store_close(&store);
}

Test(store, barrier_without_waiting) {
  char url[1024];
  hpt_store_t *store = open_group_commit_store(url, sizeof url);
  int64_t study = create_study(store, "async", HPT_DIRECTION_MAXIMIZE);
  hpt_error_t error;
  start_trial(store, study, 0, 0.1, 5, 0, NAN);
  start_trial(store, study, 1, 0.2, 5, 0, NAN);
  bool started = false, done = false;
  cr_assert_eq(hpt_store_barrier_start(store, &started, &error), HPT_OK, "%s",
               error.message);
  cr_assert(started);
  cr_assert(hpt_store_barrier_in_flight(store));
  cr_assert_geq(hpt_store_socket(store), 0);
  /* Writes queued while it flies wait for the next barrier. */
  finish_trial(store, study, 0, HPT_TRIAL_COMPLETE, 0.5);
  for (int i = 0; i < 5000 && !done; i++) {
    cr_assert_eq(hpt_store_barrier_poll(store, &done, &error), HPT_OK, "%s",
                 error.message);
    if (!done)
      usleep(1000);
  }
  cr_assert(done, "the barrier never landed");
  cr_assert_not(hpt_store_barrier_in_flight(store));
  expect_one(url, "SELECT count(*) FROM trials", "2");
  expect_one(url, "SELECT count(*) FROM trials WHERE state = 'RUNNING'", "2");
  /* A statement that needs the connection lands the next one itself; poll
   * then says it is done. */
  cr_assert_eq(hpt_store_barrier_start(store, &started, &error), HPT_OK);
  cr_assert(started);
  cr_assert_eq(hpt_store_trial_claim(store, study, 1, "w-1", &error),
               HPT_ESTATE);
  cr_assert_eq(hpt_store_barrier_poll(store, &done, &error), HPT_OK);
  cr_assert(done);
  expect_one(url, "SELECT state FROM trials WHERE number = 0", "COMPLETE");
  hpt_store_close(&store);
}
