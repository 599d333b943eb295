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

/* A spec with `n_trials` fast trials; `epochs` picks how long each runs. */
static const char *write_spec(const char *dir, const char *name, int n_trials,
                              int max_parallel, const char *epochs,
                              const char *pruner) {
  static char path[600];
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
  snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
  hpt_test_write_file(path, text);
  return path;
}

static void create_study(const char *url, const char *spec) {
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "create",
                  (char *)spec,
                  NULL};
  int status = hpt_test_run(argv, 60000, &output);
  cr_assert_eq(status, 0, "study create failed (%d): %s", status, output);
  free(output);
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
  const char *spec =
      write_spec(dir, "e2e", 20, 2, "{type: int, low: 2, high: 4}",
                 "{type: median, n_startup_trials: 5}");
  create_study(url, spec);
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "run",
                  "e2e",
                  "--local-workers",
                  "2",
                  "--bind",
                  "tcp://127.0.0.1:*",
                  NULL};
  int status = hpt_test_run(argv, 240000, &output);
  cr_assert_eq(status, 0, "study run failed (%d): %s", status, output);
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

static void start_worker(hpt_test_proc_t *proc, const char *endpoint,
                         const char *id, const char *log) {
  char *argv[] = {(char *)hpt_test_bin("hpt-worker"),
                  "--connect",
                  (char *)endpoint,
                  "--id",
                  (char *)id,
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
  const char *spec = write_spec(
      dir, "kill", 6, 2, "{type: int, low: 30, high: 40}", "{type: none}");
  create_study(url, spec);
  char endpoint[600], log[600], victim_log[600], survivor_log[600];
  snprintf(endpoint, sizeof endpoint, "ipc://%s/coordinator.sock", dir);
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  snprintf(victim_log, sizeof victim_log, "%s/victim.log", dir);
  snprintf(survivor_log, sizeof survivor_log, "%s/survivor.log", dir);
  hpt_test_proc_t coordinator, victim, survivor;
  start_coordinator(&coordinator, url, "kill", endpoint, log);
  start_worker(&victim, endpoint, "victim", victim_log);
  /* Wait until the victim holds a running trial, then kill it outright. */
  long running = hpt_test_sql_wait(
      url,
      "select count(*) from trial_history where worker = 'victim' and state "
      "= 'RUNNING'",
      1, 60000);
  cr_assert_eq(running, 1, "the victim never got a trial");
  kill(victim.pid, SIGKILL);
  hpt_test_proc_wait(&victim, 5000, NULL);
  start_worker(&survivor, endpoint, "survivor", survivor_log);

  int status = -1;
  bool ended = hpt_test_proc_wait(&coordinator, 240000, &status);
  if (!ended)
    hpt_test_proc_kill(&coordinator);
  hpt_test_proc_kill(&survivor);
  char *coordinator_output = hpt_test_read_file(log);
  cr_assert(ended, "the study hung: %s", coordinator_output);
  cr_assert_eq(status, 0, "coordinator exit %d: %s", status,
               coordinator_output);
  free(coordinator_output);
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
  cr_assert_eq(
      hpt_test_sql_long(
          url, "select count(*) from trial_history r join trial_history f"
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
  const char *spec = write_spec(dir, "garble", 8, 2,
                                "{type: int, low: 2, high: 3}", "{type: none}");
  create_study(url, spec);
  char endpoint[600], log[600], worker_log[600];
  snprintf(endpoint, sizeof endpoint, "ipc://%s/coordinator.sock", dir);
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  snprintf(worker_log, sizeof worker_log, "%s/worker.log", dir);
  hpt_test_proc_t coordinator, worker;
  start_coordinator(&coordinator, url, "garble", endpoint, log);
  usleep(300 * 1000);
  send_garbage(endpoint);
  start_worker(&worker, endpoint, "honest", worker_log);
  int status = -1;
  bool ended = hpt_test_proc_wait(&coordinator, 240000, &status);
  if (!ended)
    hpt_test_proc_kill(&coordinator);
  hpt_test_proc_kill(&worker);
  char *output = hpt_test_read_file(log);
  cr_assert(ended, "the study hung: %s", output);
  cr_assert_eq(status, 0, "coordinator exit %d: %s", status, output);
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
  char *migrate[] = {(char *)hpt_test_bin("hpt"), "--db", (char *)url, "db",
                     "migrate", NULL};
  cr_assert_eq(hpt_test_run(migrate, 30000, &output), 0, "%s", output);
  free(output);
  hpt_test_proc_t serve, worker;
  char *argv[] = {(char *)hpt_test_bin("hpt"), "--db", (char *)url, "serve",
                  "--bind", endpoint, NULL};
  hpt_test_proc_start(&serve, log, argv);
  start_worker(&worker, endpoint, "remote", worker_log);
  const char *spec = write_spec(dir, "later", 5, 1,
                                "{type: int, low: 2, high: 3}",
                                "{type: none}");
  create_study(url, spec);
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
