/* test_wire_abuse.c — hostile or foreign peers on the coordinator's
 * socket: a worker of another protocol version is refused (and both sides
 * say so), and a flood of garbage frames does not stop real workers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "test_db.h"
#include "test_util.h"

static void create(const char *url, const char *dir, const char *name,
                   int n_trials) {
  char text[1024];
  snprintf(text, sizeof text,
           "name: %s\nn_trials: %d\nmax_parallel: 2\n"
           "params:\n  a: {type: float, low: 0, high: 1}\n"
           "objective: {type: noop}\n",
           name, n_trials);
  hpt_test_create_study(url, dir, name, text);
}

Test(wire_abuse, other_protocol_version_is_refused_on_both_sides,
     .timeout = 120) {
  char url[1024], dir[256], endpoint[600], log[600], worker_log[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  snprintf(endpoint, sizeof endpoint, "ipc://%s/c.sock", dir);
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  snprintf(worker_log, sizeof worker_log, "%s/worker.log", dir);
  create(url, dir, "versions", 3);
  hpt_test_proc_t coordinator, old;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  url,
                  "study",
                  "run",
                  "versions",
                  "--bind",
                  endpoint,
                  "--log-level",
                  "info",
                  NULL};
  hpt_test_proc_start(&coordinator, log, argv);
  char *worker_argv[] = {(char *)hpt_test_bin("hpt-worker"),
                         "--connect",
                         endpoint,
                         "--id",
                         "old",
                         "--protocol-version",
                         "99",
                         NULL};
  hpt_test_proc_start(&old, worker_log, worker_argv);
  int status = -1;
  bool ended = hpt_test_proc_wait(&old, 30000, &status);
  hpt_test_proc_kill(&coordinator);
  if (!ended)
    hpt_test_proc_kill(&old);
  char *worker_output = hpt_test_read_file(worker_log);
  char *coordinator_output = hpt_test_read_file(log);
  cr_assert(ended && status == 1, "the old worker should exit 1: %s",
            worker_output);
  cr_assert(strstr(worker_output, "refused") != NULL &&
                strstr(worker_output, "protocol version 99") != NULL,
            "worker side: %s", worker_output);
  cr_assert(strstr(coordinator_output, "event=worker_refused") != NULL &&
                strstr(coordinator_output, "version 99") != NULL,
            "coordinator side: %s", coordinator_output);
  free(worker_output);
  free(coordinator_output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials"), 0,
               "a refused worker gets no trial");
}

typedef struct flood {
  const char *endpoint;
  atomic_int stop;
  long sent;
} flood_t;

/* Many peers, each sending garbage as fast as the socket takes it. */
static void *flood_main(void *arg) {
  flood_t *flood = arg;
  void *context = zmq_ctx_new();
  void *sockets[8];
  for (int i = 0; i < 8; i++) {
    sockets[i] = zmq_socket(context, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sockets[i], ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(sockets[i], flood->endpoint);
  }
  const char junk[] = "\xde\xad\xbe\xef garbage that is not an Envelope";
  while (!atomic_load(&flood->stop)) {
    for (int i = 0; i < 8; i++)
      if (zmq_send(sockets[i], junk, sizeof junk, ZMQ_DONTWAIT) > 0)
        flood->sent++;
    usleep(50);
  }
  for (int i = 0; i < 8; i++)
    zmq_close(sockets[i]);
  zmq_ctx_term(context);
  return NULL;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs a study of `n` instant trials with 2 workers; returns seconds. */
static double timed_study(const char *url, const char *dir, const char *name,
                          int n, flood_t *flood) {
  create(url, dir, name, n);
  char endpoint[600], log[600];
  snprintf(endpoint, sizeof endpoint, "ipc://%s/%s.sock", dir, name);
  snprintf(log, sizeof log, "%s/%s.log", dir, name);
  hpt_test_proc_t coordinator;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "run",
                  (char *)name,
                  "--bind",
                  endpoint,
                  "--local-workers",
                  "2",
                  NULL};
  /* The flood starts first: the study takes well under a second, less
   * than the time a flood started after it would need to get going. Its
   * first frames wait in the flooding sockets' queues until the
   * coordinator binds, then arrive ahead of the workers' Hellos. */
  pthread_t thread;
  if (flood != NULL) {
    flood->endpoint = endpoint;
    pthread_create(&thread, NULL, flood_main, flood);
  }
  double started = now_s();
  hpt_test_proc_start(&coordinator, log, argv);
  int status = -1;
  bool ended = hpt_test_proc_wait(&coordinator, 120000, &status);
  double seconds = now_s() - started;
  if (flood != NULL) {
    atomic_store(&flood->stop, 1);
    pthread_join(thread, NULL);
  }
  if (!ended)
    hpt_test_proc_kill(&coordinator);
  char *output = hpt_test_read_file(log);
  cr_assert(ended && status == 0, "study %s: %s", name, output);
  free(output);
  return seconds;
}

Test(wire_abuse, garbage_flood_does_not_stop_real_workers, .timeout = 300) {
  char url[1024], dir[256];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  double quiet = timed_study(url, dir, "quiet", 400, NULL);
  flood_t flood = {.stop = 0, .sent = 0};
  double flooded = timed_study(url, dir, "flooded", 400, &flood);
  fprintf(stderr,
          "400 trials: %.2f s quiet, %.2f s under a flood of %ld "
          "garbage frames\n",
          quiet, flooded, flood.sent);
  cr_assert(flood.sent > 1000, "the flood did not happen (%ld)", flood.sent);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials t join "
                                      "studies s on s.id = t.study_id where "
                                      "s.name = 'flooded' and t.state = "
                                      "'COMPLETE'"),
               400);
  /* Not a benchmark: only a guard against pathological slow-downs (a
   * garbage frame blocking the loop, say). The measured ratio is printed. */
  cr_assert(flooded < 4.0 * quiet + 3.0,
            "garbage slowed the study from %.2f s to %.2f s", quiet, flooded);
}
