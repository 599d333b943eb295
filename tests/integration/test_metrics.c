/* test_metrics.c — `hpt serve --metrics`: a real coordinator, a real
 * worker, a noop study, and the Prometheus endpoint read with plain
 * sockets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

/* A connected socket to 127.0.0.1:port with 5 s timeouts, or -1. */
static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct timeval timeout = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  struct sockaddr_in address = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Everything the server sends until it closes (caller frees). */
static char *read_all(int fd) {
  size_t capacity = 1 << 16, length = 0;
  char *buffer = malloc(capacity);
  cr_assert_not_null(buffer);
  for (;;) {
    if (length + 1 == capacity) {
      capacity *= 2;
      buffer = realloc(buffer, capacity);
      cr_assert_not_null(buffer);
    }
    ssize_t n = recv(fd, buffer + length, capacity - length - 1, 0);
    if (n <= 0)
      break;
    length += (size_t)n;
  }
  buffer[length] = '\0';
  return buffer;
}

/* Sends `request` as is and returns the whole answer (caller frees). */
static char *http(int port, const char *request, size_t length) {
  int fd = dial(port);
  cr_assert(fd >= 0, "cannot connect to the metrics port %d", port);
  cr_assert_eq(send(fd, request, length, MSG_NOSIGNAL), (ssize_t)length);
  char *answer = read_all(fd);
  close(fd);
  return answer;
}

static char *get(int port, const char *path) {
  char request[256];
  int length = snprintf(request, sizeof request,
                        "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                        "User-Agent: test\r\n\r\n",
                        path);
  return http(port, request, (size_t)length);
}

static void expect_line(const char *text, const char *line) {
  char wanted[512];
  snprintf(wanted, sizeof wanted, "\n%s\n", line);
  cr_expect(strstr(text, wanted) != NULL, "missing line \"%s\" in:\n%s", line,
            text);
}

Test(metrics, serve_exposes_prometheus_metrics, .timeout = 300) {
  char url[1024], dir[256];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  char endpoint[600], log[600], worker_log[600], metrics[64];
  snprintf(endpoint, sizeof endpoint, "ipc://%s/serve.sock", dir);
  snprintf(log, sizeof log, "%s/serve.log", dir);
  snprintf(worker_log, sizeof worker_log, "%s/worker.log", dir);
  int port = hpt_test_free_port();
  snprintf(metrics, sizeof metrics, "127.0.0.1:%d", port);
  hpt_test_create_study(url, dir, "m",
                        "name: m\nn_trials: 6\nmax_parallel: 1\n"
                        "sampler: {type: random, seed: 3}\n"
                        "params:\n  a: {type: float, low: 0, high: 1}\n"
                        "objective: {type: noop, sleep_ms: 20, steps: 2}\n");

  hpt_test_proc_t serve, worker;
  char *serve_argv[] = {(char *)hpt_test_bin("hpt"),
                        "--db",
                        url,
                        "serve",
                        "--bind",
                        endpoint,
                        "--metrics",
                        metrics,
                        NULL};
  hpt_test_proc_start(&serve, log, serve_argv);
  hpt_test_start_worker(&worker, worker_log, endpoint, "w1");
  long done = hpt_test_sql_wait(url,
                                "select count(*) from trial_history where "
                                "study = 'm' and state = 'COMPLETE'",
                                6, 120000);
  char *serve_output = hpt_test_read_file(log);
  cr_assert_eq(done, 6, "the study did not finish: %s", serve_output);
  free(serve_output);

  /* The counts by state, the gauges and both histograms. */
  char *answer = get(port, "/metrics");
  cr_assert(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", answer);
  cr_expect(strstr(answer, "Content-Type: text/plain; version=0.0.4") != NULL,
            "%s", answer);
  expect_line(answer, "hpt_up 1");
  expect_line(answer, "hpt_workers_connected 1");
  expect_line(answer, "hpt_trials{study=\"m\",state=\"COMPLETE\"} 6");
  expect_line(answer, "hpt_trials{study=\"m\",state=\"RUNNING\"} 0");
  expect_line(answer, "hpt_trials{study=\"m\",state=\"WAITING\"} 0");
  expect_line(answer, "hpt_trials{study=\"m\",state=\"PRUNED\"} 0");
  expect_line(answer, "hpt_trials{study=\"m\",state=\"FAIL\"} 0");
  expect_line(answer, "hpt_queue_depth{study=\"m\"} 0");
  cr_expect(strstr(answer, "\nhpt_study_best_value{study=\"m\"} ") != NULL,
            "%s", answer);
  expect_line(answer, "# TYPE hpt_dispatch_latency_seconds histogram");
  expect_line(answer, "hpt_dispatch_latency_seconds_bucket{le=\"+Inf\"} 6");
  expect_line(answer, "hpt_dispatch_latency_seconds_count 6");
  expect_line(answer, "# TYPE hpt_db_write_seconds histogram");
  expect_line(answer,
              "hpt_db_write_seconds_bucket{op=\"finish\",le=\"+Inf\"} 6");
  expect_line(answer, "hpt_db_write_seconds_count{op=\"start\"} 6");
  cr_expect(strstr(answer, "hpt_db_write_seconds_bucket{op=\"barrier\","
                           "le=\"0.0005\"} ") != NULL,
            "%s", answer);
  free(answer);

  /* A query string is the same path; other paths and methods are 404. */
  answer = get(port, "/metrics?x=1");
  cr_expect(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", answer);
  free(answer);
  answer = get(port, "/nope");
  cr_expect(strncmp(answer, "HTTP/1.1 404 ", 13) == 0, "%s", answer);
  free(answer);
  const char post[] = "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  answer = http(port, post, sizeof post - 1);
  cr_expect(strncmp(answer, "HTTP/1.1 404 ", 13) == 0, "%s", answer);
  free(answer);

  /* Garbage is answered 400 or cut off; an endless request is cut off. */
  const char garbage[] = "\x16\x03\x01 hello there\r\n\r\n";
  answer = http(port, garbage, sizeof garbage - 1);
  cr_expect(answer[0] == '\0' || strncmp(answer, "HTTP/1.1 400 ", 13) == 0,
            "%s", answer);
  free(answer);
  char big[8192];
  memset(big, 'a', sizeof big);
  memcpy(big, "GET /", 5);
  int fd = dial(port);
  cr_assert(fd >= 0);
  send(fd, big, sizeof big, MSG_NOSIGNAL);
  answer = read_all(fd);
  close(fd);
  cr_expect_str_eq(answer, "", "an oversized request gets no answer");
  free(answer);

  /* Many connections at once, each answered. */
  enum { N = 20 };
  int fds[N];
  const char request[] = "GET /metrics HTTP/1.0\r\n\r\n";
  for (int i = 0; i < N; i++) {
    fds[i] = dial(port);
    cr_assert(fds[i] >= 0, "connection %d refused", i);
  }
  for (int i = 0; i < N; i++)
    cr_assert_eq(send(fds[i], request, sizeof request - 1, MSG_NOSIGNAL),
                 (ssize_t)(sizeof request - 1));
  for (int i = 0; i < N; i++) {
    answer = read_all(fds[i]);
    close(fds[i]);
    cr_expect(strstr(answer, "\nhpt_up 1\n") != NULL, "connection %d: %s", i,
              answer);
    free(answer);
  }
  /* A client that connects and says nothing does not hold up shutdown. */
  int idle = dial(port);
  cr_assert(idle >= 0);

  kill(serve.pid, SIGTERM);
  int status = -1;
  bool ended = hpt_test_proc_wait(&serve, 20000, &status);
  if (!ended)
    hpt_test_proc_kill(&serve);
  hpt_test_proc_kill(&worker);
  close(idle);
  serve_output = hpt_test_read_file(log);
  cr_assert(ended && status == 0, "serve should stop on SIGTERM (%d): %s",
            status, serve_output);
  cr_expect(strstr(serve_output, "event=metrics_listening") != NULL, "%s",
            serve_output);
  free(serve_output);
  cr_expect_eq(dial(port), -1, "the metrics port should be closed");
}

Test(metrics, bad_metrics_address_is_a_usage_error) {
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"), "serve", "--metrics",
                  "localhost", NULL};
  cr_expect_eq(hpt_test_run(argv, 30000, &output), 2, "%s", output);
  cr_expect(strstr(output, "--metrics") != NULL, "%s", output);
  free(output);
  char *argv2[] = {
      (char *)hpt_test_bin("hpt"), "study", "run", "x", "--metrics",
      "127.0.0.1:99999",           NULL};
  cr_expect_eq(hpt_test_run(argv2, 30000, &output), 2, "%s", output);
  free(output);
}
