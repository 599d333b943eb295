/* test_faults.c — the job queue under faults, with real processes: the
 * coordinator killed and restarted mid-study, PostgreSQL restarted
 * mid-study, a frozen worker whose late result must not overwrite its
 * retry. Each study uses the noop objective (deterministic, a fixed sleep
 * per trial) so that timings are under the test's control. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embedded_db.h"
#include "test_db.h"
#include "test_util.h"

typedef struct fixture {
  char url[1024];
  char dir[256];
  char endpoint[512];
} fixture_t;

static void setup(fixture_t *f, const char *name, int n_trials,
                  int max_parallel, int sleep_ms) {
  snprintf(f->url, sizeof f->url, "%s", hpt_test_db_url());
  snprintf(f->dir, sizeof f->dir, "%s", hpt_test_tmpdir());
  snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/c.sock", f->dir);
  char text[1024];
  snprintf(text, sizeof text,
           "name: %s\nn_trials: %d\nmax_parallel: %d\nmax_retries: 3\n"
           "sampler: {type: random, seed: 1}\n"
           "params:\n  a: {type: float, low: 0, high: 1}\n"
           "objective: {type: noop, sleep_ms: %d, steps: 2}\n",
           name, n_trials, max_parallel, sleep_ms);
  hpt_test_create_study(f->url, f->dir, name, text);
}

static void start_coordinator(const fixture_t *f, hpt_test_proc_t *proc,
                              const char *name, const char *grace_ms,
                              const char *local_workers) {
  char log[600];
  snprintf(log, sizeof log, "%s/coordinator.log", f->dir);
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)f->url,
                  "study",
                  "run",
                  (char *)name,
                  "--bind",
                  (char *)f->endpoint,
                  "--heartbeat-ms",
                  "200",
                  "--grace-ms",
                  (char *)grace_ms,
                  "--local-workers",
                  (char *)local_workers,
                  "--log-level",
                  "info",
                  NULL};
  hpt_test_proc_start(proc, log, argv);
}

static void start_worker(const fixture_t *f, hpt_test_proc_t *proc,
                         const char *id) {
  char log[600];
  snprintf(log, sizeof log, "%s/%s.log", f->dir, id);
  hpt_test_start_worker(proc, log, f->endpoint, id);
}

static void expect_exit_0(const fixture_t *f, hpt_test_proc_t *coordinator,
                          int timeout_ms) {
  char log[600];
  snprintf(log, sizeof log, "%s/coordinator.log", f->dir);
  hpt_test_expect_exit(coordinator, log, timeout_ms, 0);
}

static long sql(const fixture_t *f, const char *query) {
  return hpt_test_sql_long(f->url, query);
}

/* Every sampled trial has exactly one final outcome, and every FAIL was
 * retried. */
static void expect_accounted(const fixture_t *f, int n_trials) {
  cr_assert_eq(sql(f, "select count(*) from trials where state in "
                      "('RUNNING', 'WAITING')"),
               0);
  cr_assert_eq(sql(f, "select count(*) from trials where retry_of is null"),
               n_trials);
  cr_assert_eq(sql(f, "select count(*) from trials t where state in "
                      "('COMPLETE','PRUNED') or (state = 'FAIL' and not "
                      "exists (select 1 from trials r where r.study_id = "
                      "t.study_id and r.retry_of = t.number))"),
               n_trials, "one final outcome per sampled trial");
  char *others = hpt_test_sql_text(
      f->url, "select string_agg(number || ' ' || state || ' ' || "
              "coalesce(fail_reason, ''), '; ') from trials where state <> "
              "'COMPLETE'");
  cr_assert_eq(sql(f, "select count(*) from trials where state = 'COMPLETE'"),
               n_trials, "with retries left, every trial completes: %s",
               others ? others : "");
  free(others);
}

Test(faults, coordinator_killed_and_restarted_loses_nothing, .timeout = 300) {
  fixture_t f;
  setup(&f, "restart", 24, 3, 300);
  hpt_test_proc_t coordinator, workers[3];
  start_coordinator(&f, &coordinator, "restart", "3000", "0");
  start_worker(&f, &workers[0], "w0");
  start_worker(&f, &workers[1], "w1");
  start_worker(&f, &workers[2], "w2");
  cr_assert(hpt_test_sql_wait(f.url,
                              "select count(*) from trials where state = "
                              "'COMPLETE'",
                              6, 60000) >= 6);
  long before = sql(&f, "select count(*) from trials where state = "
                        "'COMPLETE'");
  kill(coordinator.pid, SIGKILL);
  hpt_test_proc_wait(&coordinator, 5000, NULL);
  usleep(1500 * 1000); /* the workers go on training meanwhile */
  start_coordinator(&f, &coordinator, "restart", "3000", "0");
  expect_exit_0(&f, &coordinator, 120000);
  for (int i = 0; i < 3; i++)
    hpt_test_proc_kill(&workers[i]);
  expect_accounted(&f, 24);
  cr_assert(sql(&f, "select count(*) from trials where state = 'COMPLETE'") >=
            before);
  /* Trials that ran through the restart were adopted, not failed. */
  char log[600];
  snprintf(log, sizeof log, "%s/coordinator.log", f.dir);
  char *output = hpt_test_read_file(log);
  cr_assert(strstr(output, "event=trial_adopted") != NULL,
            "no running trial was adopted after the restart: %s", output);
  free(output);
}

Test(faults, database_restart_mid_study_loses_nothing, .timeout = 300) {
  fixture_t f;
  setup(&f, "dbrestart", 24, 2, 200);
  hpt_test_proc_t coordinator;
  start_coordinator(&f, &coordinator, "dbrestart", "3000", "2");
  cr_assert(hpt_test_sql_wait(f.url,
                              "select count(*) from trials where state = "
                              "'COMPLETE'",
                              5, 60000) >= 5);
  hpt_error_t error;
  const char *home = hpt_test_db_home();
  cr_assert_eq(hpt_embedded_db_stop(home, &error), HPT_OK, "%s", error.message);
  sleep(3); /* trials finish while the database is away */
  cr_assert_eq(hpt_embedded_db_start(home, &error), HPT_OK, "%s",
               error.message);
  expect_exit_0(&f, &coordinator, 120000);
  expect_accounted(&f, 24);
  char log[600];
  snprintf(log, sizeof log, "%s/coordinator.log", f.dir);
  char *output = hpt_test_read_file(log);
  cr_assert(strstr(output, "event=database_back") != NULL,
            "the outage was not noticed: %s", output);
  free(output);
}

Test(faults, frozen_workers_late_result_never_overwrites_its_retry,
     .timeout = 300) {
  fixture_t f;
  setup(&f, "late", 2, 1, 2500);
  hpt_test_proc_t coordinator, frozen, spare;
  start_coordinator(&f, &coordinator, "late", "1500", "0");
  start_worker(&f, &frozen, "frozen");
  cr_assert_eq(hpt_test_sql_wait(f.url,
                                 "select count(*) from trials where worker_id "
                                 "= 'frozen' and state = 'RUNNING'",
                                 1, 30000),
               1);
  kill(frozen.pid, SIGSTOP);
  start_worker(&f, &spare, "spare");
  /* The lease expires: the trial FAILs and its retry goes to the spare. */
  cr_assert_eq(hpt_test_sql_wait(f.url,
                                 "select count(*) from trials where worker_id "
                                 "= 'frozen' and state = 'FAIL'",
                                 1, 30000),
               1);
  kill(frozen.pid, SIGCONT); /* it wakes up and reports its old trial */
  expect_exit_0(&f, &coordinator, 120000);
  hpt_test_proc_kill(&frozen);
  hpt_test_proc_kill(&spare);
  cr_assert(hpt_test_sql_wait(f.url,
                              "select count(*) from late_messages "
                              "where worker_id = 'frozen'",
                              1, 10000) >= 1,
            "the frozen worker's late message should be recorded");
  char *states = hpt_test_sql_text(
      f.url, "select string_agg(number || ' ' || state || ' ' || "
             "coalesce(worker_id, '-') || ' ' || coalesce(value::text, '-'), "
             "'; ') from trials");
  cr_assert_eq(sql(&f, "select count(*) from trials where worker_id = "
                       "'frozen' and state = 'FAIL' and value is null"),
               1, "the late result never overwrites the failed trial: %s",
               states);
  free(states);
  cr_assert_eq(sql(&f, "select count(*) from trials r join trials t on "
                       "t.number = r.retry_of where t.worker_id = 'frozen' "
                       "and r.state = 'COMPLETE'"),
               1, "its retry completed");
  expect_accounted(&f, 2);
}

/* A worker that waits for its coordinator queues a Hello on every
 * heartbeat; the repeats must not cost it the trials it is given. */
Test(faults, worker_started_before_its_coordinator_fails_nothing,
     .timeout = 300) {
  fixture_t f;
  setup(&f, "early", 10, 1, 300);
  hpt_test_proc_t coordinator, worker;
  start_worker(&f, &worker, "early-bird");
  sleep(3); /* three Hellos queue up */
  start_coordinator(&f, &coordinator, "early", "3000", "0");
  expect_exit_0(&f, &coordinator, 120000);
  hpt_test_proc_kill(&worker);
  cr_assert_eq(sql(&f, "select count(*) from trials where state = 'FAIL'"), 0,
               "no trial may fail because of a repeated Hello");
  expect_accounted(&f, 10);
}
