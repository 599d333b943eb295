/* test_curve.c — the coordinator's socket with ZeroMQ CURVE: keys from
 * `hpt keygen`, only workers in --allow get trials, a worker that does not
 * know the coordinator's real key cannot talk to it, garbage on the port
 * changes nothing, and plain TCP needs --insecure. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* `hpt keygen --output dir --name name`; returns the public key (static
 * buffer per call slot, 4 slots). */
static const char *keygen(const char *dir, const char *name) {
  static char keys[4][64];
  static int slot;
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "keygen",
                  "--output",
                  (char *)dir,
                  "--name",
                  (char *)name,
                  NULL};
  cr_assert_eq(hpt_test_run(argv, 10000, &output), 0, "%s", output);
  free(output);
  char path[600];
  snprintf(path, sizeof path, "%s/%s.key", dir, name);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600, "%s has mode %o", path,
               st.st_mode & 0777);
  char *secret = hpt_test_read_file(path);
  cr_assert(secret != NULL && strlen(secret) == 41 && secret[40] == '\n');
  free(secret);
  snprintf(path, sizeof path, "%s/%s.pub", dir, name);
  char *public_key = hpt_test_read_file(path);
  cr_assert(public_key != NULL && strlen(public_key) == 41 &&
            public_key[40] == '\n');
  char *key = keys[slot++ % 4];
  snprintf(key, 64, "%.40s", public_key);
  free(public_key);
  return key;
}

/* Polls a log file until it contains `text`; true if it did in time. */
static bool wait_for_log(const char *path, const char *text, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 100) {
    char *log = hpt_test_read_file(path);
    bool found = log != NULL && strstr(log, text) != NULL;
    free(log);
    if (found)
      return true;
    usleep(100 * 1000);
  }
  return false;
}

static void start_worker(hpt_test_proc_t *proc, const char *dir,
                         const char *endpoint, const char *id,
                         const char *secret_name, const char *server_name) {
  char log[600], secret[600], server[600];
  snprintf(log, sizeof log, "%s/worker-%s.log", dir, id);
  snprintf(secret, sizeof secret, "%s/%s.key", dir, secret_name);
  snprintf(server, sizeof server, "%s/%s.pub", dir, server_name);
  char *argv[] = {(char *)hpt_test_bin("hpt-worker"),
                  "--connect",
                  (char *)endpoint,
                  "--id",
                  (char *)id,
                  "--curve-secret",
                  secret,
                  "--server-key",
                  server,
                  NULL};
  hpt_test_proc_start(proc, log, argv);
}

/* Bytes that are not ZMTP on a raw TCP connection, then a NULL-mechanism
 * ZeroMQ peer that sends junk: neither may get past the CURVE handshake. */
static void send_garbage(const char *endpoint, int port) {
  for (int round = 0; round < 5; round++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
      junk[i] = (unsigned char)(rand() & 0xff);
    if (round == 0) /* a ZMTP 3.0 greeting start, then noise */
      memcpy(junk, "\xff\0\0\0\0\0\0\0\x01\x7f\x03\x00CURVE", 17);
    ssize_t sent = write(fd, junk, sizeof junk);
    (void)sent;
    close(fd);
  }
  void *context = zmq_ctx_new();
  void *socket = zmq_socket(context, ZMQ_DEALER);
  int linger = 500;
  zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
  cr_assert_eq(zmq_connect(socket, endpoint), 0);
  const unsigned char report_no_hello[] = {0x32, 0x02, 0x08, 0x01};
  zmq_send(socket, report_no_hello, sizeof report_no_hello, ZMQ_DONTWAIT);
  zmq_send(socket, "\xff\xfe not protobuf", 16, ZMQ_DONTWAIT);
  usleep(300 * 1000);
  zmq_close(socket);
  zmq_ctx_term(context);
}

Test(curve, only_allowed_workers_get_trials, .timeout = 240) {
  char url[1024], dir[256], endpoint[128], log[600], allow[600], text[512];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  const char *coordinator_key = keygen(dir, "coordinator");
  const char *a_key = keygen(dir, "a");
  const char *b_key = keygen(dir, "b");
  keygen(dir, "impostor"); /* what a worker wrongly takes for the server */
  cr_assert_str_neq(a_key, b_key);
  cr_assert_str_neq(a_key, coordinator_key);
  snprintf(allow, sizeof allow, "%s/allow.txt", dir);
  snprintf(text, sizeof text, "# workers allowed to run trials\n\n%s\n", a_key);
  hpt_test_write_file(allow, text);
  create(url, dir, "secure", 6);
  int port = hpt_test_free_port();
  snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  char secret[600];
  snprintf(secret, sizeof secret, "%s/coordinator.key", dir);
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  url,
                  "study",
                  "run",
                  "secure",
                  "--bind",
                  endpoint,
                  "--curve-secret",
                  secret,
                  "--allow",
                  allow,
                  "--log-level",
                  "info",
                  NULL};
  hpt_test_proc_t coordinator, a, b, fooled, plain;
  hpt_test_proc_start(&coordinator, log, argv);
  cr_assert(wait_for_log(log, "event=dispatcher_listening", 30000),
            "the coordinator did not start");
  /* B: a CURVE worker whose key is not allowed. */
  start_worker(&b, dir, endpoint, "b", "b", "coordinator");
  /* Fooled: an allowed key, but it takes another key for the server's. */
  start_worker(&fooled, dir, endpoint, "fooled", "a", "impostor");
  /* Plain: no CURVE at all. */
  char plain_log[600];
  snprintf(plain_log, sizeof plain_log, "%s/worker-plain.log", dir);
  char *plain_argv[] = {(char *)hpt_test_bin("hpt-worker"),
                        "--connect",
                        endpoint,
                        "--id",
                        "plain",
                        "--insecure",
                        NULL};
  hpt_test_proc_start(&plain, plain_log, plain_argv);
  send_garbage(endpoint, port);
  char refused[128];
  snprintf(refused, sizeof refused, "key=%s", b_key);
  bool logged = wait_for_log(log, refused, 20000);
  sleep(2); /* every peer has had its chance to say hello */
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials"), 0,
               "a trial went to an unauthenticated peer");
  start_worker(&a, dir, endpoint, "a", "a", "coordinator");
  int status = -1;
  bool ended = hpt_test_proc_wait(&coordinator, 120000, &status);
  if (!ended)
    hpt_test_proc_kill(&coordinator);
  hpt_test_proc_kill(&a);
  hpt_test_proc_kill(&b);
  hpt_test_proc_kill(&fooled);
  hpt_test_proc_kill(&plain);
  char *output = hpt_test_read_file(log);
  cr_assert(ended && status == 0, "the study should complete: %s", output);
  cr_assert(logged && strstr(output, "event=curve_refused") != NULL,
            "B's refusal (with its key %s) should be logged: %s", b_key,
            output);
  cr_assert(strstr(output, "security=curve") != NULL, "%s", output);
  const char *impostors[] = {"worker=b ", "worker=fooled ", "worker=plain "};
  for (size_t i = 0; i < 3; i++)
    cr_assert(strstr(output, impostors[i]) == NULL, "%s got through: %s",
              impostors[i], output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "state = 'COMPLETE' and worker_id = 'a'"),
               6);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "worker_id is distinct from 'a'"),
               0);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from workers where "
                                      "id <> 'a'"),
               0, "only worker a may be recorded");
  const char *ids[] = {"b", "fooled", "plain"};
  for (size_t i = 0; i < 3; i++) {
    char path[600];
    snprintf(path, sizeof path, "%s/worker-%s.log", dir, ids[i]);
    char *worker_output = hpt_test_read_file(path);
    cr_assert(worker_output != NULL &&
                  strstr(worker_output, "event=welcomed") == NULL,
              "worker %s was welcomed: %s", ids[i], worker_output);
    free(worker_output);
  }
}

Test(curve, local_workers_get_their_own_keys, .timeout = 180) {
  char url[1024], dir[256], log[600], allow[600], secret[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  keygen(dir, "coordinator");
  snprintf(allow, sizeof allow, "%s/allow.txt", dir);
  hpt_test_write_file(allow, "# no remote workers\n");
  snprintf(secret, sizeof secret, "%s/coordinator.key", dir);
  snprintf(log, sizeof log, "%s/coordinator.log", dir);
  create(url, dir, "local", 5);
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  url,
                  "study",
                  "run",
                  "local",
                  "--bind",
                  "tcp://127.0.0.1:*",
                  "--curve-secret",
                  secret,
                  "--allow",
                  allow,
                  "--local-workers",
                  "2",
                  "--log-level",
                  "info",
                  NULL};
  hpt_test_proc_t coordinator;
  hpt_test_proc_start(&coordinator, log, argv);
  hpt_test_expect_exit(&coordinator, log, 120000, 0);
  char *output = hpt_test_read_file(log);
  cr_assert(strstr(output, "security=curve") != NULL, "%s", output);
  cr_assert(strstr(output, "HPT_WORKER_CURVE_SECRET") == NULL, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "state = 'COMPLETE'"),
               5);
}

/* Exactly one line of output, containing every string of `want`. */
static void expect_one_line(const char *output, const char *const *want,
                            size_t n_want) {
  const char *newline = strchr(output, '\n');
  cr_assert(newline != NULL && newline[1] == '\0', "one line: %s", output);
  for (size_t i = 0; i < n_want; i++)
    cr_assert(strstr(output, want[i]) != NULL, "'%s' missing: %s", want[i],
              output);
}

Test(curve, plain_tcp_needs_insecure, .timeout = 60) {
  const char *want[] = {"plain TCP", "--insecure", "hpt keygen"};
  char *output = NULL;
  char *run[] = {
      (char *)hpt_test_bin("hpt"), "study", "run", "anything", "--bind",
      "tcp://127.0.0.1:5599",      NULL};
  cr_assert_eq(hpt_test_run(run, 10000, &output), 2, "%s", output);
  expect_one_line(output, want, 3);
  free(output);
  char *serve[] = {(char *)hpt_test_bin("hpt"), "serve", NULL};
  cr_assert_eq(hpt_test_run(serve, 10000, &output), 2, "%s", output);
  expect_one_line(output, want, 3);
  cr_assert(strstr(output, "tcp://*:5555") != NULL, "%s", output);
  free(output);
  char *worker[] = {(char *)hpt_test_bin("hpt-worker"), "--connect",
                    "tcp://127.0.0.1:5599", NULL};
  cr_assert_eq(hpt_test_run(worker, 10000, &output), 2, "%s", output);
  expect_one_line(output, want, 3);
  free(output);
  char *half[] = {(char *)hpt_test_bin("hpt"), "serve", "--curve-secret",
                  "/nonexistent.key", NULL};
  cr_assert_eq(hpt_test_run(half, 10000, &output), 2, "%s", output);
  cr_assert(strstr(output, "--allow") != NULL, "%s", output);
  free(output);
  /* --insecure off loopback works, with a warning. */
  char dir[256], log[600];
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  snprintf(log, sizeof log, "%s/insecure.log", dir);
  char *insecure[] = {(char *)hpt_test_bin("hpt-worker"), "--connect",
                      "tcp://192.0.2.1:5599", "--insecure", NULL};
  hpt_test_proc_t proc;
  hpt_test_proc_start(&proc, log, insecure);
  bool warned = wait_for_log(log, "event=insecure_endpoint", 10000);
  hpt_test_proc_kill(&proc);
  char *text = hpt_test_read_file(log);
  cr_assert(warned && strstr(text, "level=warn") != NULL, "%s", text);
  free(text);
}

Test(curve, keygen_keeps_existing_keys, .timeout = 60) {
  char dir[256];
  snprintf(dir, sizeof dir, "%s/keys", hpt_test_tmpdir());
  const char *first = keygen(dir, "w");
  char saved[64];
  snprintf(saved, sizeof saved, "%s", first);
  char *output = NULL;
  char *again[] = {(char *)hpt_test_bin("hpt"),
                   "keygen",
                   "--output",
                   dir,
                   "--name",
                   "w",
                   NULL};
  cr_assert_eq(hpt_test_run(again, 10000, &output), 1, "%s", output);
  free(output);
  char path[600];
  snprintf(path, sizeof path, "%s/w.pub", dir);
  char *still = hpt_test_read_file(path);
  cr_assert(still != NULL && strncmp(still, saved, 40) == 0);
  free(still);
  char *usage[] = {(char *)hpt_test_bin("hpt"), "keygen", NULL};
  cr_assert_eq(hpt_test_run(usage, 10000, &output), 2, "%s", output);
  free(output);
}
