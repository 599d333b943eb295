/* test_pool.c — several studies sharing one pool of workers under `hpt
 * serve`: capability requirements, stop / resume / delete from the CLI,
 * and `hpt workers`. Real PostgreSQL, coordinator and workers. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

static char url[1024], dir[256], endpoint[600];

static int hpt(char **output, const char *a, const char *b, const char *c) {
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  url,
                  (char *)a,
                  (char *)b,
                  (char *)c,
                  NULL};
  return hpt_test_run(argv, 60000, output);
}

static void create(const char *name, int n_trials, int sleep_ms,
                   const char *extra) {
  char text[1024];
  snprintf(text, sizeof text,
           "name: %s\nn_trials: %d\nmax_parallel: 2\n%s"
           "params:\n  a: {type: float, low: 0, high: 1}\n"
           "objective: {type: noop, sleep_ms: %d}\n",
           name, n_trials, extra, sleep_ms);
  hpt_test_create_study(url, dir, name, text);
}

static void start(hpt_test_proc_t *serve, hpt_test_proc_t *workers) {
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  snprintf(endpoint, sizeof endpoint, "ipc://%s/serve.sock", dir);
  char *output = NULL;
  cr_assert_eq(hpt(&output, "db", "migrate", NULL), 0, "%s", output);
  free(output);
  char log[600];
  snprintf(log, sizeof log, "%s/serve.log", dir);
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  url,
                  "serve",
                  "--bind",
                  endpoint,
                  NULL};
  hpt_test_proc_start(serve, log, argv);
  const char *ids[] = {"gpu-node", "cpu-node"};
  for (int i = 0; i < 2; i++) {
    char worker_log[600];
    snprintf(worker_log, sizeof worker_log, "%s/%s.log", dir, ids[i]);
    char *gpu[] = {(char *)hpt_test_bin("hpt-worker"),
                   "--connect",
                   endpoint,
                   "--id",
                   (char *)ids[i],
                   "--tag",
                   "h200",
                   "--memory-gb",
                   "141",
                   NULL};
    if (i == 0)
      hpt_test_proc_start(&workers[i], worker_log, gpu);
    else
      hpt_test_start_worker(&workers[i], worker_log, endpoint, ids[i]);
  }
}

static void stop(hpt_test_proc_t *serve, hpt_test_proc_t *workers) {
  kill(serve->pid, SIGTERM);
  int status = -1;
  if (!hpt_test_proc_wait(serve, 20000, &status))
    hpt_test_proc_kill(serve);
  hpt_test_proc_kill(&workers[0]);
  hpt_test_proc_kill(&workers[1]);
}

Test(pool, requirements_route_trials_to_capable_workers, .timeout = 300) {
  hpt_test_proc_t serve, workers[2];
  start(&serve, workers);
  create("needs_gpu", 8, 100,
         "require: {tags: [h200], gpu_mem_gb: \">=80\"}\n");
  create("anywhere", 8, 100, "weight: 2\n");
  long done = hpt_test_sql_wait(url,
                                "select count(*) from trials where state = "
                                "'COMPLETE'",
                                16, 120000);
  char *listing = NULL;
  cr_assert_eq(hpt(&listing, "workers", NULL, NULL), 0);
  stop(&serve, workers);
  cr_assert_eq(done, 16);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_history "
                                      "where study = 'needs_gpu' and worker "
                                      "<> 'gpu-node'"),
               0, "only the h200 worker may run needs_gpu");
  cr_assert(strstr(listing, "gpu-node") != NULL &&
                strstr(listing, "cpu-node") != NULL &&
                strstr(listing, "last heartbeat") != NULL,
            "hpt workers: %s", listing);
  free(listing);
}

Test(pool, stop_drains_resume_goes_on_delete_removes, .timeout = 300) {
  hpt_test_proc_t serve, workers[2];
  start(&serve, workers);
  create("drained", 30, 300, "");
  cr_assert(hpt_test_sql_wait(url,
                              "select count(*) from trials where state = "
                              "'COMPLETE'",
                              4, 60000) >= 4);
  char *output = NULL;
  cr_assert_eq(hpt(&output, "study", "stop", "drained"), 0, "%s", output);
  free(output);
  /* Within the state poll (2 s) plus the running trials (0.3 s), the study
   * drains; after that the count of trials must not move. */
  sleep(4);
  long frozen = hpt_test_sql_long(url, "select count(*) from trials");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "state = 'RUNNING'"),
               0, "a stopped study drains");
  sleep(3);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials"), frozen,
               "a stopped study starts nothing new");
  cr_assert(frozen < 30);
  cr_assert_eq(hpt(&output, "study", "resume", "drained"), 0, "%s", output);
  free(output);
  long done = hpt_test_sql_wait(url,
                                "select count(*) from trials where state = "
                                "'COMPLETE'",
                                30, 120000);
  stop(&serve, workers);
  cr_assert_eq(done, 30, "a resumed study finishes");
  cr_assert_eq(hpt(&output, "study", "delete", "drained"), 0, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from studies"), 0);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials"), 0);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_params"), 0);
  cr_assert_eq(hpt(&output, "study", "delete", "drained"), 4,
               "deleting it again: %s", output);
  free(output);
}
