/* device_check.c — see device_check.h. */
#include "device_check.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hpt_device_check {
  uv_process_t process;
  uv_pipe_t out;       /* the child's stdout and stderr */
  uv_timer_t timer;    /* the timeout */
  int open_handles;    /* freed when the last one has closed */
  bool exited;         /* the process exited ... */
  bool out_closed;     /* ... and its output is all read */
  bool timed_out;      /* killed for the timeout */
  bool cancelled;      /* no callback any more */
  int64_t exit_status; /* of the child */
  int term_signal;     /* of the child; 0 when it exited */
  char line[512];      /* its output, first line kept */
  size_t length;
  char device[64];
  hpt_device_check_cb callback;
  void *data;
};

static void on_closed(uv_handle_t *handle) {
  hpt_device_check_t *check = handle->data;
  if (--check->open_handles == 0)
    free(check);
}

static void close_all(hpt_device_check_t *check) {
  uv_timer_stop(&check->timer);
  if (!uv_is_closing((uv_handle_t *)&check->timer))
    uv_close((uv_handle_t *)&check->timer, on_closed);
  if (!uv_is_closing((uv_handle_t *)&check->out))
    uv_close((uv_handle_t *)&check->out, on_closed);
  if (!uv_is_closing((uv_handle_t *)&check->process))
    uv_close((uv_handle_t *)&check->process, on_closed);
}

/* What the child's exit and output say about the device. */
static void judge(const hpt_device_check_t *check, hpt_device_report_t *r) {
  memset(r, 0, sizeof *r);
  char line[sizeof check->line];
  snprintf(line, sizeof line, "%.*s", (int)check->length, check->line);
  line[strcspn(line, "\n")] = '\0';
  if (check->timed_out) {
    r->state = HPT_DEVICE_MISSING;
    snprintf(r->why, sizeof r->why,
             "device-info %s did not answer within %.0f s", check->device,
             HPT_DEVICE_CHECK_TIMEOUT_MS / 1000.0);
  } else if (check->term_signal != 0) {
    r->state = HPT_DEVICE_MISSING;
    snprintf(r->why, sizeof r->why, "device-info %s was killed by signal %d",
             check->device, check->term_signal);
  } else if (check->exit_status != 0) {
    r->state =
        check->exit_status == 1 ? HPT_DEVICE_MISSING : HPT_DEVICE_UNKNOWN;
    if (line[0] != '\0')
      snprintf(r->why, sizeof r->why, "%s", line);
    else
      snprintf(r->why, sizeof r->why, "device-info %s exited with status %lld",
               check->device, (long long)check->exit_status);
  } else {
    char *tab = strchr(line, '\t');
    if (tab == NULL ||
        sscanf(tab + 1, "%lf\t%lf", &r->total_gib, &r->free_gib) != 2) {
      r->state = HPT_DEVICE_UNKNOWN;
      snprintf(r->why, sizeof r->why, "device-info %s printed '%.200s'",
               check->device, line);
      return;
    }
    r->state = HPT_DEVICE_PRESENT;
    snprintf(r->name, sizeof r->name, "%.*s", (int)(tab - line), line);
  }
}

/* Reports once both the exit and the end of the output have been seen. */
static void maybe_done(hpt_device_check_t *check) {
  if (!check->exited || !check->out_closed)
    return;
  if (!check->cancelled) {
    hpt_device_report_t report;
    judge(check, &report);
    check->cancelled = true; /* once */
    check->callback(&report, check->data);
  }
  close_all(check);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  hpt_device_check_t *check = handle->data;
  (void)suggested;
  size_t room = sizeof check->line - 1 - check->length;
  if (room == 0) { /* the first line is all we want: drain the rest */
    static char sink[4096];
    *buf = uv_buf_init(sink, sizeof sink);
    return;
  }
  *buf = uv_buf_init(check->line + check->length, (unsigned)room);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  hpt_device_check_t *check = stream->data;
  if (nread < 0) {
    uv_read_stop(stream);
    check->out_closed = true;
    maybe_done(check);
    return;
  }
  if (buf->base == check->line + check->length)
    check->length += (size_t)nread;
}

static void on_child_exit(uv_process_t *process, int64_t exit_status,
                          int term_signal) {
  hpt_device_check_t *check = process->data;
  check->exited = true;
  check->exit_status = exit_status;
  check->term_signal = term_signal;
  uv_timer_stop(&check->timer);
  maybe_done(check);
}

/* Answers at once, without waiting for the killed child: one stuck in
 * the driver (uninterruptible) may never exit. */
static void on_timeout(uv_timer_t *timer) {
  hpt_device_check_t *check = timer->data;
  check->timed_out = true;
  uv_process_kill(&check->process, SIGKILL);
  check->exited = check->out_closed = true;
  maybe_done(check);
}

int hpt_device_check_start(uv_loop_t *loop, const char *program,
                           const char *device, unsigned timeout_ms,
                           hpt_device_check_cb callback, void *data,
                           hpt_device_check_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_device_check_t *check = calloc(1, sizeof *check);
  if (check == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  snprintf(check->device, sizeof check->device, "%s", device);
  check->callback = callback;
  check->data = data;
  /* One pipe for both stdout and stderr: the child's reason is on stderr. */
  uv_file fds[2];
  int rc = uv_pipe(fds, 0, 0);
  if (rc < 0) {
    free(check);
    return HPT_ERR(error, HPT_ESYSTEM, "device check: pipe: %s",
                   uv_strerror(rc));
  }
  uv_pipe_init(loop, &check->out, 0);
  uv_timer_init(loop, &check->timer);
  check->out.data = check->timer.data = check->process.data = check;
  char *args[] = {(char *)program, "device-info", (char *)device, NULL};
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = stdio[2].flags = UV_INHERIT_FD;
  stdio[1].data.fd = stdio[2].data.fd = fds[1];
  uv_process_options_t options;
  memset(&options, 0, sizeof options);
  options.file = program;
  options.args = args;
  options.exit_cb = on_child_exit;
  options.stdio_count = 3;
  options.stdio = stdio;
  rc = uv_spawn(loop, &check->process, &options);
  close(fds[1]); /* the child has its copy */
  check->open_handles = 3;
  int open_rc = rc < 0 ? 0 : uv_pipe_open(&check->out, fds[0]);
  if (rc < 0 || open_rc < 0) {
    if (rc >= 0) /* spawned, but its output cannot be watched */
      uv_process_kill(&check->process, SIGKILL);
    else
      check->exited = true;
    close(fds[0]);
    check->cancelled = true;
    close_all(check);
    return HPT_ERR(error, HPT_ESYSTEM, "cannot start %s device-info %s: %s",
                   program, device, uv_strerror(rc < 0 ? rc : open_rc));
  }
  uv_read_start((uv_stream_t *)&check->out, on_alloc, on_read);
  uv_timer_start(&check->timer, on_timeout, timeout_ms, 0);
  *out = check;
  return HPT_OK;
}

void hpt_device_check_cancel(hpt_device_check_t **check) {
  if (check == NULL || *check == NULL)
    return;
  hpt_device_check_t *c = *check;
  *check = NULL;
  c->cancelled = true;
  if (!c->exited)
    uv_process_kill(&c->process, SIGKILL);
  /* Not waited for either (see on_timeout); the child is reaped by
   * nobody, which is fine for what cancelling is for: shutting down. */
  close_all(c);
}

typedef struct blocking_answer {
  hpt_device_report_t *report;
  bool answered;
} blocking_answer_t;

static void on_blocking_answer(const hpt_device_report_t *report, void *data) {
  blocking_answer_t *answer = data;
  *answer->report = *report;
  answer->answered = true;
}

void hpt_device_check_run(const char *program, const char *device,
                          unsigned timeout_ms, hpt_device_report_t *report) {
  memset(report, 0, sizeof *report);
  report->state = HPT_DEVICE_UNKNOWN;
  uv_loop_t loop;
  int rc = uv_loop_init(&loop);
  if (rc < 0) {
    snprintf(report->why, sizeof report->why, "uv_loop_init: %s",
             uv_strerror(rc));
    return;
  }
  blocking_answer_t answer = {.report = report};
  hpt_device_check_t *check = NULL;
  hpt_error_t error;
  if (hpt_device_check_start(&loop, program, device, timeout_ms,
                             on_blocking_answer, &answer, &check, &error) < 0) {
    snprintf(report->why, sizeof report->why, "%s", error.message);
  }
  uv_run(&loop, UV_RUN_DEFAULT); /* until every handle has closed */
  if (!answer.answered && report->why[0] == '\0')
    snprintf(report->why, sizeof report->why, "device-info %s gave no answer",
             device);
  uv_loop_close(&loop);
}
