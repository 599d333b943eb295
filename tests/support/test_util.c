/* test_util.c — see test_util.h. */
#include "test_util.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *env_path(const char *variable, const char *name) {
  static char buffers[8][1024];
  static int next;
  const char *base = getenv(variable);
  cr_assert(base != NULL, "%s is not set (run the tests through ctest)",
            variable);
  char *buffer = buffers[next++ % 8];
  snprintf(buffer, sizeof buffers[0], "%s/%s", base, name);
  return buffer;
}

const char *hpt_test_bin(const char *name) {
  return env_path("HPT_BIN_DIR", name);
}

const char *hpt_test_data(const char *name) {
  return env_path("HPT_DATA_DIR", name);
}

const char *hpt_test_tmpdir(void) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/hpt-it-XXXXXX");
  cr_assert(mkdtemp(path) != NULL, "mkdtemp: %s", strerror(errno));
  chmod(path, 0755);
  return path;
}

void hpt_test_write_file(const char *path, const char *text) {
  FILE *file = fopen(path, "w");
  cr_assert(file != NULL, "cannot write %s: %s", path, strerror(errno));
  fputs(text, file);
  fclose(file);
}

char *hpt_test_read_file(const char *path) {
  FILE *file = fopen(path, "r");
  if (file == NULL)
    return NULL;
  size_t capacity = 4096, length = 0;
  char *text = malloc(capacity);
  size_t n;
  while ((n = fread(text + length, 1, capacity - length - 1, file)) > 0) {
    length += n;
    if (capacity - length < 2048)
      text = realloc(text, capacity *= 2);
  }
  text[length] = '\0';
  fclose(file);
  return text;
}

void hpt_test_proc_start(hpt_test_proc_t *proc, const char *log_path,
                         char *const argv[]) {
  snprintf(proc->log_path, sizeof proc->log_path, "%s", log_path);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0)
      dup2(null_fd, 0);
    execv(argv[0], argv);
    _exit(127);
  }
  proc->pid = pid;
}

static int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

bool hpt_test_proc_wait(hpt_test_proc_t *proc, int timeout_ms, int *status) {
  if (proc->pid <= 0)
    return true;
  for (int waited = 0;; waited += 20) {
    int raw = 0;
    pid_t done = waitpid(proc->pid, &raw, WNOHANG);
    if (done == proc->pid) {
      if (status)
        *status = decode_status(raw);
      proc->pid = 0;
      return true;
    }
    if (waited >= timeout_ms)
      return false;
    usleep(20 * 1000);
  }
}

void hpt_test_proc_kill(hpt_test_proc_t *proc) {
  if (proc->pid <= 0)
    return;
  kill(proc->pid, SIGKILL);
  waitpid(proc->pid, NULL, 0);
  proc->pid = 0;
}

int hpt_test_run(char *const argv[], int timeout_ms, char **output) {
  char log_path[] = "/tmp/hpt-run-XXXXXX";
  int fd = mkstemp(log_path);
  cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
  close(fd);
  hpt_test_proc_t proc;
  hpt_test_proc_start(&proc, log_path, argv);
  int status = -1;
  if (!hpt_test_proc_wait(&proc, timeout_ms, &status)) {
    hpt_test_proc_kill(&proc);
    status = 128 + SIGKILL;
  }
  if (output != NULL)
    *output = hpt_test_read_file(log_path);
  unlink(log_path);
  return status;
}

static PGresult *query(const char *url, const char *sql, PGconn **conn) {
  *conn = PQconnectdb(url);
  cr_assert(PQstatus(*conn) == CONNECTION_OK, "connect: %s",
            PQerrorMessage(*conn));
  PGresult *result = PQexec(*conn, sql);
  cr_assert(PQresultStatus(result) == PGRES_TUPLES_OK, "%s: %s", sql,
            PQerrorMessage(*conn));
  return result;
}

long hpt_test_sql_long(const char *url, const char *sql) {
  PGconn *conn;
  PGresult *result = query(url, sql, &conn);
  long value = -1;
  if (PQntuples(result) > 0 && !PQgetisnull(result, 0, 0))
    value = strtol(PQgetvalue(result, 0, 0), NULL, 10);
  PQclear(result);
  PQfinish(conn);
  return value;
}

char *hpt_test_sql_text(const char *url, const char *sql) {
  PGconn *conn;
  PGresult *result = query(url, sql, &conn);
  char *value = NULL;
  if (PQntuples(result) > 0 && !PQgetisnull(result, 0, 0))
    value = strdup(PQgetvalue(result, 0, 0));
  PQclear(result);
  PQfinish(conn);
  return value;
}

long hpt_test_sql_wait(const char *url, const char *sql, long want,
                       int timeout_ms) {
  long value = -1;
  for (int waited = 0; waited <= timeout_ms; waited += 100) {
    value = hpt_test_sql_long(url, sql);
    if (value >= want)
      return value;
    usleep(100 * 1000);
  }
  return value;
}

const char *hpt_test_create_study(const char *url, const char *dir,
                                  const char *name, const char *spec_text) {
  static char spec[600];
  snprintf(spec, sizeof spec, "%s/%s.yaml", dir, name);
  hpt_test_write_file(spec, spec_text);
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "create",
                  spec,
                  NULL};
  int status = hpt_test_run(argv, 60000, &output);
  cr_assert_eq(status, 0, "study create (%d): %s", status, output);
  free(output);
  return spec;
}

char *hpt_test_run_study(const char *url, const char *name, int local_workers) {
  char workers[16];
  snprintf(workers, sizeof workers, "%d", local_workers);
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "run",
                  (char *)name,
                  "--local-workers",
                  workers,
                  "--bind",
                  "tcp://127.0.0.1:*",
                  NULL};
  int status = hpt_test_run(argv, 240000, &output);
  cr_assert_eq(status, 0, "study run (%d): %s", status, output);
  return output;
}

void hpt_test_start_worker(hpt_test_proc_t *proc, const char *log_path,
                           const char *endpoint, const char *id) {
  char *argv[] = {(char *)hpt_test_bin("hpt-worker"),
                  "--connect",
                  (char *)endpoint,
                  "--id",
                  (char *)id,
                  NULL};
  hpt_test_proc_start(proc, log_path, argv);
}

void hpt_test_expect_exit(hpt_test_proc_t *proc, const char *log_path,
                          int timeout_ms, int expected_status) {
  int status = -1;
  bool ended = hpt_test_proc_wait(proc, timeout_ms, &status);
  if (!ended)
    hpt_test_proc_kill(proc);
  char *output = hpt_test_read_file(log_path);
  cr_assert(ended, "the study hung: %s", output);
  cr_assert_eq(status, expected_status, "exit %d, expected %d: %s", status,
               expected_status, output);
  free(output);
}

int hpt_test_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert(fd >= 0);
  struct sockaddr_in address = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert_eq(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
  socklen_t length = sizeof address;
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
  close(fd);
  return ntohs(address.sin_port);
}

size_t hpt_test_count_lines(const char *text) {
  size_t n = 0;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

int hpt_test_hpt(const char *url, char **output, char *const *args) {
  char *argv[16] = {(char *)hpt_test_bin("hpt"), "--db", (char *)url};
  int n = 3;
  for (; args[n - 3] != NULL && n < 15; n++)
    argv[n] = args[n - 3];
  argv[n] = NULL;
  return hpt_test_run(argv, 240000, output);
}

void hpt_test_run_ngram_study(const char *url, const char *dir,
                              const char *name, int n_trials, int keep) {
  char text[2048];
  snprintf(text, sizeof text,
           "name: %s\nn_trials: %d\nmax_parallel: 2\nkeep_top_k: %d\n"
           "sampler: {type: random, seed: 3}\n"
           "params:\n  lr: {type: float, low: 0.5, high: 5, log: true}\n"
           "  epochs: {type: int, low: 5, high: 15}\n"
           "objective: {type: ngram, train: %s, seed: 42}\n",
           name, n_trials, keep, hpt_test_data("train.csv"));
  hpt_test_create_study(url, dir, name, text);
  free(hpt_test_run_study(url, name, 2));
}
