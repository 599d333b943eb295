/* test_netns.c — several hosts on one machine: the coordinator in one
 * network namespace, three workers in three others, each joined to the
 * coordinator's by its own veth link (the project's own test hosts; no
 * traffic leaves this machine). One worker's link is cut mid-trial: its
 * trial must fail after the lease, be retried on another host, and the study
 * must finish with every count adding up. Skips with a message where network
 * namespaces cannot be created (not root, no iproute2, a sandbox without
 * CAP_NET_ADMIN). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

#define IP "/usr/sbin/ip"

static char coordinator_ns[32], worker_ns[3][32], coordinator_if[3][16];

static int sh(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *format, ...) {
  char command[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(command, sizeof command, format, args);
  va_end(args);
  return system(command);
}

static void teardown_namespaces(void) {
  sh(IP " netns del %s 2>/dev/null", coordinator_ns);
  for (int i = 0; i < 3; i++)
    sh(IP " netns del %s 2>/dev/null", worker_ns[i]);
}

/* Builds the four hosts; false (and nothing left behind) when this machine
 * cannot. */
static bool setup_namespaces(void) {
  int pid = (int)getpid() % 100000;
  snprintf(coordinator_ns, sizeof coordinator_ns, "hptc-%d", pid);
  if (access(IP, X_OK) != 0 ||
      sh(IP " netns add %s 2>/dev/null", coordinator_ns) != 0)
    return false;
  sh(IP " -n %s link set lo up", coordinator_ns);
  for (int i = 0; i < 3; i++) {
    char worker_if[16];
    snprintf(worker_ns[i], sizeof worker_ns[i], "hptw%d-%d", i, pid);
    snprintf(coordinator_if[i], sizeof coordinator_if[i], "hc%d-%d", i, pid);
    snprintf(worker_if, sizeof worker_if, "hw%d-%d", i, pid);
    if (sh(IP " netns add %s", worker_ns[i]) != 0 ||
        sh(IP " link add %s type veth peer name %s", coordinator_if[i],
           worker_if) != 0 ||
        sh(IP " link set %s netns %s", coordinator_if[i], coordinator_ns) !=
            0 ||
        sh(IP " link set %s netns %s", worker_if, worker_ns[i]) != 0 ||
        sh(IP " -n %s addr add 10.201.%d.1/24 dev %s", coordinator_ns, i + 1,
           coordinator_if[i]) != 0 ||
        sh(IP " -n %s addr add 10.201.%d.2/24 dev %s", worker_ns[i], i + 1,
           worker_if) != 0 ||
        sh(IP " -n %s link set %s up", coordinator_ns, coordinator_if[i]) !=
            0 ||
        sh(IP " -n %s link set %s up", worker_ns[i], worker_if) != 0 ||
        sh(IP " -n %s link set lo up", worker_ns[i]) != 0) {
      teardown_namespaces();
      return false;
    }
  }
  return true;
}

Test(netns, cut_worker_link_is_retried_on_another_host, .timeout = 300) {
  if (geteuid() != 0 || !setup_namespaces())
    cr_skip_test("network namespaces cannot be created here (needs root and "
                 "iproute2): multi-host test skipped");
  char url[1024], dir[256], log[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  hpt_test_create_study(
      url, dir, "hosts",
      "name: hosts\nn_trials: 9\nmax_parallel: 3\nmax_retries: 2\n"
      "params:\n  a: {type: float, low: 0, high: 1}\n"
      "objective: {type: noop, sleep_ms: 1500}\n");
  /* The database listens on a unix socket: reachable from every
   * namespace, as a database host on the coordinator's network would be. */
  hpt_test_proc_t coordinator, workers[3];
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  char *run[] = {IP,
                 "netns",
                 "exec",
                 coordinator_ns,
                 (char *)hpt_test_bin("hpt"),
                 "--db",
                 url,
                 "study",
                 "run",
                 "hosts",
                 "--bind",
                 "tcp://0.0.0.0:5555",
                 "--insecure",
                 "--heartbeat-ms",
                 "200",
                 "--grace-ms",
                 "2000",
                 "--log-level",
                 "info",
                 NULL};
  hpt_test_proc_start(&coordinator, log, run);
  for (int i = 0; i < 3; i++) {
    char endpoint[64], id[16], worker_log[600];
    snprintf(endpoint, sizeof endpoint, "tcp://10.201.%d.1:5555", i + 1);
    snprintf(id, sizeof id, "host%d", i);
    snprintf(worker_log, sizeof worker_log, "%s/%s.log", dir, id);
    char *argv[] = {IP,
                    "netns",
                    "exec",
                    worker_ns[i],
                    (char *)hpt_test_bin("hpt-worker"),
                    "--connect",
                    endpoint,
                    "--id",
                    id,
                    "--insecure",
                    NULL};
    hpt_test_proc_start(&workers[i], worker_log, argv);
  }
  long running = hpt_test_sql_wait(url,
                                   "select count(*) from trials where "
                                   "worker_id = 'host0' and state = 'RUNNING'",
                                   1, 60000);
  if (running == 1)
    sh(IP " -n %s link set %s down", coordinator_ns, coordinator_if[0]);
  int status = -1;
  bool ended = hpt_test_proc_wait(&coordinator, 120000, &status);
  if (!ended)
    hpt_test_proc_kill(&coordinator);
  for (int i = 0; i < 3; i++)
    hpt_test_proc_kill(&workers[i]);
  teardown_namespaces();
  char *coordinator_output = hpt_test_read_file(log);
  cr_assert_eq(running, 1, "host0 never got a trial: %s", coordinator_output);
  cr_assert(ended && status == 0, "the study did not finish (%d): %s", status,
            coordinator_output);
  free(coordinator_output);
  cr_assert(hpt_test_sql_long(url, "select count(*) from trials where "
                                   "worker_id = 'host0' and state = 'FAIL' "
                                   "and fail_reason like '%lost%'") >= 1,
            "the cut host's trial should FAIL as lost");
  cr_assert(hpt_test_sql_long(url, "select count(*) from trials r join trials "
                                   "f on f.number = r.retry_of where "
                                   "f.worker_id = 'host0' and r.worker_id <> "
                                   "'host0' and r.state = 'COMPLETE'") >= 1,
            "its retry should complete on another host");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "retry_of is null"),
               9);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "state = 'COMPLETE'"),
               9, "every sampled trial completes, some through a retry");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "state in ('RUNNING', 'WAITING')"),
               0);
}
