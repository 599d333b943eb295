/* zmq_watch.c — see zmq_watch.h for why both a poll and a check handle. */
#include "zmq_watch.h"

#include <errno.h>
#include <zmq.h>

#include "log.h"

/* Upper bound of messages handled per drain, so one busy socket cannot
 * starve timers; the check handle picks up the rest next iteration. */
#define DRAIN_BUDGET 4096

void hpt_zmq_watch_drain(hpt_zmq_watch_t *watch) {
  int handled = 0;
  for (; handled < DRAIN_BUDGET && !watch->closing; handled++) {
    int events = 0;
    size_t size = sizeof events;
    if (zmq_getsockopt(watch->socket, ZMQ_EVENTS, &events, &size) != 0) {
      if (zmq_errno() == EINTR) /* a signal (a child exiting): ask again */
        continue;
      hpt_log(HPT_LOG_ERROR, "zmq_events", "error=\"%s\"",
              zmq_strerror(zmq_errno()));
      break;
    }
    if (!(events & ZMQ_POLLIN))
      break;
    watch->on_readable(watch);
  }
  if (handled > 0 && watch->on_drained != NULL && !watch->closing)
    watch->on_drained(watch);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  hpt_zmq_watch_t *watch = handle->data;
  if (status < 0)
    hpt_log(HPT_LOG_WARN, "zmq_poll", "error=\"%s\"", uv_strerror(status));
  hpt_zmq_watch_drain(watch);
}

static void on_check(uv_check_t *handle) { hpt_zmq_watch_drain(handle->data); }

int hpt_zmq_watch_start(uv_loop_t *loop, hpt_zmq_watch_t *watch, void *socket,
                        hpt_zmq_readable_cb on_readable, hpt_error_t *error) {
  int fd = -1;
  size_t size = sizeof fd;
  if (zmq_getsockopt(socket, ZMQ_FD, &fd, &size) != 0)
    return HPT_ERR(error, HPT_ESYSTEM, "zmq_getsockopt(ZMQ_FD): %s",
                   zmq_strerror(zmq_errno()));
  watch->socket = socket;
  watch->on_readable = on_readable;
  watch->on_drained = NULL;
  watch->closing = 0;
  int rc = uv_poll_init(loop, &watch->poll, fd);
  if (rc < 0)
    return HPT_ERR(error, HPT_ESYSTEM, "uv_poll_init: %s", uv_strerror(rc));
  watch->poll.data = watch;
  uv_check_init(loop, &watch->check);
  watch->check.data = watch;
  if ((rc = uv_poll_start(&watch->poll, UV_READABLE, on_poll)) < 0 ||
      (rc = uv_check_start(&watch->check, on_check)) < 0) {
    uv_close((uv_handle_t *)&watch->poll, NULL);
    uv_close((uv_handle_t *)&watch->check, NULL);
    return HPT_ERR(error, HPT_ESYSTEM, "uv_poll_start: %s", uv_strerror(rc));
  }
  return HPT_OK;
}

void hpt_zmq_watch_close(hpt_zmq_watch_t *watch) {
  if (watch->closing)
    return;
  watch->closing = 1;
  uv_close((uv_handle_t *)&watch->poll, NULL);
  uv_close((uv_handle_t *)&watch->check, NULL);
}
