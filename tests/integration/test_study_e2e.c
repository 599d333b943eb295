/* test_study_e2e.c — the whole system at once: a real PostgreSQL, the real
 * `hpt` coordinator and `hpt-worker` processes talking over real ZeroMQ
 * sockets, training the n-gram model on the real extremism data. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "test_db.h"
#include "test_util.h"

/* Creates a study with `n_trials` fast trials; `epochs` picks how long each
 * runs. */
static void create_study(const char *url, const char *dir, const char *name,
                         int n_trials, int max_parallel, const char *epochs,
                         const char *pruner) {
  char text[2048];
  snprintf(text, sizeof text,
           "name: %s\n"
           "direction: maximize\n"
           "n_trials: %d\n"
           "max_parallel: %d\n"
           "sampler: {type: random, seed: 7}\n"
           "pruner: %s\n"
           "params:\n"
           "  lr: {type: float, low: 0.01, high: 0.5, log: true}\n"
           "  epochs: %s\n"
           "  ngram: {type: categorical, choices: [\"1-1\", \"1-2\"]}\n"
           "  hash_bits: {type: int, low: 16, high: 18}\n"
           "objective: {type: ngram, train: %s, val_fraction: 0.1, seed: 42}\n",
           name, n_trials, max_parallel, pruner, epochs,
           hpt_test_data("train.csv"));
  hpt_test_create_study(url, dir, name, text);
}

static long count(const char *url, const char *where) {
  char sql[512];
  snprintf(sql, sizeof sql, "select count(*) from trial_history where %s",
           where);
  return hpt_test_sql_long(url, sql);
}

Test(e2e, twenty_trials_on_two_worker_processes, .timeout = 300) {
  char url[1024];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  const char *dir = hpt_test_tmpdir();
  create_study(url, dir, "e2e", 20, 2, "{type: int, low: 2, high: 4}",
               "{type: median, n_startup_trials: 5}");
  char *output = hpt_test_run_study(url, "e2e", 2);
  cr_assert(strstr(output, "top trials") != NULL, "no leaderboard: %s", output);
  free(output);

  cr_assert_eq(count(url, "study = 'e2e'"), 20);
  cr_assert_eq(count(url, "study = 'e2e' and state in ('COMPLETE','PRUNED')"),
               20, "every trial should finish");
  cr_assert_eq(count(url, "study = 'e2e' and value is null"), 0);
  cr_assert_eq(count(url, "study = 'e2e' and value < 0.5"), 0,
               "accuracies should beat chance");
  cr_assert_eq(count(url, "study = 'e2e' and params ? 'lr' and params ? "
                          "'epochs' and params ? 'ngram' and params ? "
                          "'hash_bits'"),
               20, "every trial keeps its params");
  cr_assert_eq(count(url, "study = 'e2e' and (started_at is null or "
                          "finished_at is null or finished_at < started_at)"),
               0);
  cr_assert_eq(hpt_test_sql_long(url, "select count(distinct worker) from "
                                      "trial_history where study = 'e2e'"),
               2, "both workers should have run trials");
  /* Intermediate values reach the store: one per epoch of every trial. */
  cr_assert(hpt_test_sql_long(url, "select count(*) from "
                                   "trial_intermediate_values") >= 40);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from studies where "
                                      "name = 'e2e' and state = 'COMPLETE'"),
               1);
  /* And the CLI reads it all back. */
  char *trials_argv[] = {(char *)hpt_test_bin("hpt"),
                         "--db",
                         (char *)url,
                         "trials",
                         "e2e",
                         "--format",
                         "json",
                         NULL};
  cr_assert_eq(hpt_test_run(trials_argv, 30000, &output), 0);
  cr_assert(strstr(output, "\"number\"") != NULL, "json: %s", output);
  free(output);
  char *best_argv[] = {(char *)hpt_test_bin("hpt"),
                       "--db",
                       (char *)url,
                       "study",
                       "best",
                       "e2e",
                       NULL};
  cr_assert_eq(hpt_test_run(best_argv, 30000, &output), 0);
  cr_assert(strncmp(output, "trial ", 6) == 0, "best: %s", output);
  free(output);
}

/* Starts `hpt study run NAME` with no local workers on `endpoint`. */
static void start_coordinator(hpt_test_proc_t *proc, const char *url,
                              const char *name, const char *endpoint,
                              const char *log) {
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "run",
                  (char *)name,
                  "--bind",
                  (char *)endpoint,
                  "--heartbeat-ms",
                  "200",
                  "--grace-ms",
                  "1500",
                  "--log-level",
                  "info",
                  NULL};
  hpt_test_proc_start(proc, log, argv);
}

Test(e2e, worker_killed_mid_trial_does_not_hang_the_study, .timeout = 300) {
  char url[1024];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  char dir[256];
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  /* Long trials (many epochs on big hash tables) so that one is surely
   * running when its worker dies. */
  create_study(url, dir, "kill", 6, 2, "{type: int, low: 30, high: 40}",
               "{type: none}");
  char endpoint[600], log[600], victim_log[600], survivor_log[600];
  snprintf(endpoint, sizeof endpoint, "ipc://%s/coordinator.sock", dir);
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  snprintf(victim_log, sizeof victim_log, "%s/victim.log", dir);
  snprintf(survivor_log, sizeof survivor_log, "%s/survivor.log", dir);
  hpt_test_proc_t coordinator, victim, survivor;
  start_coordinator(&coordinator, url, "kill", endpoint, log);
  hpt_test_start_worker(&victim, victim_log, endpoint, "victim");
  /* Wait until the victim holds a running trial, then kill it outright. */
  long running = hpt_test_sql_wait(
      url,
      "select count(*) from trial_history where worker = 'victim' and state "
      "= 'RUNNING'",
      1, 60000);
  cr_assert_eq(running, 1, "the victim never got a trial");
  kill(victim.pid, SIGKILL);
  hpt_test_proc_wait(&victim, 5000, NULL);
  hpt_test_start_worker(&survivor, survivor_log, endpoint, "survivor");

  hpt_test_expect_exit(&coordinator, log, 240000, 0);
  hpt_test_proc_kill(&survivor);
  cr_assert_eq(count(url, "study = 'kill' and worker = 'victim' and state = "
                          "'FAIL'"),
               1, "the victim's trial should end FAIL");
  char *reason = hpt_test_sql_text(
      url, "select fail_reason from trial_history where worker = 'victim'");
  cr_assert(reason != NULL && strstr(reason, "lost") != NULL,
            "reason should say the worker was lost: %s", reason);
  free(reason);
  /* The lost trial was retried with the same params on the survivor, so
   * all 6 sampled trials completed. */
  cr_assert_eq(count(url, "study = 'kill' and state = 'COMPLETE'"), 6);
  cr_assert_eq(count(url, "study = 'kill' and state = 'RUNNING'"), 0);
  cr_assert_eq(hpt_test_sql_long(
                   url,
                   "select count(*) from trial_history r join trial_history f"
                   " on f.study = r.study and f.number = r.retry_of"
                   " where r.study = 'kill' and f.worker = 'victim'"
                   " and r.worker = 'survivor' and r.state = 'COMPLETE'"
                   " and r.params = f.params"),
               1, "the retry ran on the survivor with the victim's params");
}

/* Sends junk to the coordinator's ROUTER as a raw DEALER peer. */
static void send_garbage(const char *endpoint) {
  void *context = zmq_ctx_new();
  void *socket = zmq_socket(context, ZMQ_DEALER);
  int linger = 2000;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
  cr_assert_eq(zmq_connect(socket, endpoint), 0);
  const char junk[] = "\xff\xfe this is not protobuf \x01\x02\x03";
  zmq_send(socket, junk, sizeof junk, 0); /* undecodable */
  zmq_send(socket, "", 0, 0);             /* empty: no body */
  zmq_send(socket, "a", 1, ZMQ_SNDMORE);  /* extra frames */
  zmq_send(socket, "b", 1, 0);
  const unsigned char report_no_hello[] = {0x32, 0x02, 0x08, 0x01};
  zmq_send(socket, report_no_hello, sizeof report_no_hello, 0); /* unknown */
  size_t big_size = (1 << 20) + 16; /* over ZMQ_MAXMSGSIZE */
  char *big = calloc(1, big_size);
  zmq_send(socket, big, big_size, 0);
  free(big);
  zmq_close(socket);
  zmq_ctx_term(context);
}

Test(e2e, garbled_frames_are_dropped_and_the_study_goes_on, .timeout = 300) {
  char url[1024];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  char dir[256];
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  create_study(url, dir, "garble", 8, 2, "{type: int, low: 2, high: 3}",
               "{type: none}");
  char endpoint[600], log[600], worker_log[600];
  snprintf(endpoint, sizeof endpoint, "ipc://%s/coordinator.sock", dir);
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  snprintf(worker_log, sizeof worker_log, "%s/worker.log", dir);
  hpt_test_proc_t coordinator, worker;
  start_coordinator(&coordinator, url, "garble", endpoint, log);
  usleep(300 * 1000);
  send_garbage(endpoint);
  hpt_test_start_worker(&worker, worker_log, endpoint, "honest");
  hpt_test_expect_exit(&coordinator, log, 240000, 0);
  hpt_test_proc_kill(&worker);
  char *output = hpt_test_read_file(log);
  cr_assert(strstr(output, "event=message_dropped") != NULL,
            "garbage should be logged as dropped: %s", output);
  free(output);
  cr_assert_eq(count(url, "study = 'garble' and state = 'COMPLETE'"), 8);
}

/* `hpt serve` picks up a study created after it started, runs it with a
 * remote-style worker, and stops cleanly on SIGTERM. */
Test(e2e, serve_runs_studies_created_later, .timeout = 300) {
  char url[1024];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  char dir[256];
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  char endpoint[600], log[600], worker_log[600];
  snprintf(endpoint, sizeof endpoint, "ipc://%s/serve.sock", dir);
  snprintf(log, sizeof log, "%s/serve.log", dir);
  snprintf(worker_log, sizeof worker_log, "%s/worker.log", dir);
  /* Migrate first, so that serve finds the schema already there. */
  char *output = NULL;
  char *migrate[] = {
      (char *)hpt_test_bin("hpt"), "--db", (char *)url, "db", "migrate", NULL};
  cr_assert_eq(hpt_test_run(migrate, 30000, &output), 0, "%s", output);
  free(output);
  hpt_test_proc_t serve, worker;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "serve",
                  "--bind",
                  endpoint,
                  NULL};
  hpt_test_proc_start(&serve, log, argv);
  hpt_test_start_worker(&worker, worker_log, endpoint, "remote");
  create_study(url, dir, "later", 5, 1, "{type: int, low: 2, high: 3}",
               "{type: none}");
  long done = hpt_test_sql_wait(
      url,
      "select count(*) from trial_history where study = 'later' and state = "
      "'COMPLETE'",
      5, 120000);
  kill(serve.pid, SIGTERM);
  int status = -1;
  bool ended = hpt_test_proc_wait(&serve, 20000, &status);
  if (!ended)
    hpt_test_proc_kill(&serve);
  hpt_test_proc_kill(&worker);
  char *serve_output = hpt_test_read_file(log);
  cr_assert_eq(done, 5, "serve did not run the new study: %s", serve_output);
  cr_assert(ended && status == 0, "serve should stop on SIGTERM (%d): %s",
            status, serve_output);
  free(serve_output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from studies where "
                                      "name = 'later' and state = "
                                      "'COMPLETE'"),
               1);
}
