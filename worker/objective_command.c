/* objective_command.c — tune any program: run the user's executable with
 * the trial's params, read its values from its stdout. See objective.h for
 * the protocol. The program runs in its own child; it gets SIGKILL when the
 * trial process dies (a prune verdict kills the trial process), so no user
 * program outlives its trial. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "objective.h"

#define MAX_ARGS 512

static double monotonic_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Whether `text` is exactly an integer; stores it. */
static bool parse_int_token(const char *text, int *out) {
  char *end = NULL;
  long value = strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < INT_MIN || value > INT_MAX)
    return false;
  *out = (int)value;
  return true;
}

static bool parse_double_token(const char *text, double *out) {
  char *end = NULL;
  double value = strtod(text, &end);
  if (end == text || *end != '\0')
    return false;
  *out = value;
  return true;
}

/* Parses one line of the program's output: `step VALUE`, `step N VALUE` or
 * `value VALUE`; anything else is the program's own chatter. */
static void handle_line(const hpt_objective_call_t *call, char *line,
                        int *next_step, bool *has_value, double *value) {
  char *tokens[4];
  int n = 0;
  for (char *save = NULL, *token = strtok_r(line, " \t\r", &save);
       token != NULL && n < 4; token = strtok_r(NULL, " \t\r", &save))
    tokens[n++] = token;
  int step;
  double number;
  if (n == 3 && strcmp(tokens[0], "step") == 0 &&
      parse_int_token(tokens[1], &step) &&
      parse_double_token(tokens[2], &number)) {
    call->report(call->user, step, number);
    *next_step = step + 1;
  } else if (n == 2 && strcmp(tokens[0], "step") == 0 &&
             parse_double_token(tokens[1], &number)) {
    call->report(call->user, (*next_step)++, number);
  } else if (n == 2 && strcmp(tokens[0], "value") == 0 &&
             parse_double_token(tokens[1], &number)) {
    *has_value = true;
    *value = number;
  }
}

/* Builds argv: the spec's argv then --name=value for each param. */
static int build_args(const hpt_objective_call_t *call, char **args,
                      char **owned, size_t *n_owned, hpt_error_t *error) {
  const hpt_option_t *argv_option = hpt_options_find(call->settings, "argv");
  if (argv_option == NULL || !argv_option->is_list ||
      argv_option->n_values == 0)
    return HPT_ERR(error, HPT_EINVAL,
                   "objective command: 'argv' must be a non-empty list");
  size_t n = 0;
  for (size_t i = 0; i < argv_option->n_values && n < MAX_ARGS - 1; i++)
    args[n++] = argv_option->values[i];
  for (size_t i = 0; i < call->n_params && n < MAX_ARGS - 1; i++) {
    char *arg = NULL;
    if (asprintf(&arg, "--%s=%s", call->params[i].name, call->params[i].value) <
        0)
      return HPT_ERR(error, HPT_ENOMEM, "out of memory");
    owned[(*n_owned)++] = arg;
    args[n++] = arg;
  }
  args[n] = NULL;
  return HPT_OK;
}

int hpt_objective_command_run(const hpt_objective_call_t *call,
                              hpt_objective_result_t *result,
                              hpt_error_t *error) {
  char *args[MAX_ARGS];
  char *owned[MAX_ARGS];
  size_t n_owned = 0;
  const char *cwd = NULL;
  double timeout_s = 0;
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
  pid_t pid = -1;
  int rc = build_args(call, args, owned, &n_owned, error);
  if (rc < 0 ||
      (rc = hpt_options_get_string(call->settings, "cwd", NULL, &cwd, error)) <
          0 ||
      (rc = hpt_options_get_double(call->settings, "timeout_s", 0, &timeout_s,
                                   error)) < 0)
    goto out;
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) {
    rc = HPT_ERR(error, HPT_ESYSTEM, "pipe: %s", strerror(errno));
    goto out;
  }
  pid = fork();
  if (pid < 0) {
    rc = HPT_ERR(error, HPT_ESYSTEM, "fork: %s", strerror(errno));
    goto out;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    if (cwd != NULL && chdir(cwd) != 0) {
      fprintf(stderr, "cannot enter %s: %s\n", cwd, strerror(errno));
      _exit(126);
    }
    execvp(args[0], args);
    fprintf(stderr, "cannot run %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  close(in_pipe[0]);
  in_pipe[0] = -1;
  close(out_pipe[1]);
  out_pipe[1] = -1;
  /* The params as JSON on stdin, then EOF. A program that ignores stdin may
   * close it: ignore EPIPE. */
  signal(SIGPIPE, SIG_IGN);
  const char *json = call->params_json ? call->params_json : "{}";
  ssize_t ignored = write(in_pipe[1], json, strlen(json));
  ignored = write(in_pipe[1], "\n", 1);
  (void)ignored;
  close(in_pipe[1]);
  in_pipe[1] = -1;

  double started = monotonic_seconds();
  char line[4096];
  size_t length = 0;
  int next_step = 1;
  bool has_value = false, timed_out = false;
  double value = NAN;
  for (;;) {
    int wait_ms = -1;
    if (timeout_s > 0) {
      double left = timeout_s - (monotonic_seconds() - started);
      if (left <= 0) {
        timed_out = true;
        kill(pid, SIGKILL);
        break;
      }
      wait_ms = (int)(left * 1000) + 1;
    }
    struct pollfd fd = {.fd = out_pipe[0], .events = POLLIN};
    int ready = poll(&fd, 1, wait_ms);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0)
      continue; /* the timeout check above fires */
    char buffer[4096];
    ssize_t n = read(out_pipe[0], buffer, sizeof buffer);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++) {
      if (buffer[i] == '\n') {
        line[length] = '\0';
        handle_line(call, line, &next_step, &has_value, &value);
        length = 0;
      } else if (length + 1 < sizeof line) {
        line[length++] = buffer[i];
      }
    }
  }
  if (length > 0) {
    line[length] = '\0';
    handle_line(call, line, &next_step, &has_value, &value);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
  if (timed_out)
    rc = HPT_ERR(error, HPT_ETIMEOUT, "%s: killed after timeout_s %g", args[0],
                 timeout_s);
  else if (WIFSIGNALED(status))
    rc = HPT_ERR(error, HPT_ECHILD, "%s: killed by signal %d", args[0],
                 WTERMSIG(status));
  else if (WEXITSTATUS(status) != 0)
    rc = HPT_ERR(error, HPT_ECHILD, "%s: exited with status %d", args[0],
                 WEXITSTATUS(status));
  else if (!has_value)
    rc = HPT_ERR(error, HPT_ECHILD, "%s: printed no 'value V' line", args[0]);
  else {
    memset(result, 0, sizeof *result);
    result->value = value;
    snprintf(result->metric_names[0], sizeof result->metric_names[0],
             "seconds");
    result->metric_values[0] = monotonic_seconds() - started;
    result->n_metrics = 1;
  }
out:
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  for (int i = 0; i < 2; i++) {
    if (in_pipe[i] >= 0)
      close(in_pipe[i]);
    if (out_pipe[i] >= 0)
      close(out_pipe[i]);
  }
  for (size_t i = 0; i < n_owned; i++)
    free(owned[i]);
  return rc;
}
