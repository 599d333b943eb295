/* zmq_watch.h — a ZeroMQ socket inside a libuv loop.
 *
 * ZMQ_FD is edge-triggered and only says "look at ZMQ_EVENTS": a wake-up may
 * stand for many messages, and after a zmq_send the fd may not signal again
 * for input that is already queued. So the watcher (1) polls ZMQ_FD for
 * readability and then drains while ZMQ_EVENTS has ZMQ_POLLIN, and (2) runs a
 * uv_check handle after every loop iteration that drains again, which catches
 * input made visible by sends done in any callback of that iteration.
 *
 * Caller storage: hpt_zmq_watch_t lives in the caller's struct. The socket is
 * borrowed and must outlive the watch. hpt_zmq_watch_close starts closing the
 * two uv handles; the memory may be freed after the loop has run once more
 * (uv_run until it returns).
 */
#ifndef HPT_ZMQ_WATCH_H
#define HPT_ZMQ_WATCH_H

#include <uv.h>

#include "error.h"

typedef struct hpt_zmq_watch hpt_zmq_watch_t;

/* Called once per message waiting on the socket; it must receive exactly one
 * message (hpt_wire_receive). */
typedef void (*hpt_zmq_readable_cb)(hpt_zmq_watch_t *watch);

/* Called after a drain that handled at least one message: the place to make
 * a batch of effects durable and then answer (group commit). */
typedef void (*hpt_zmq_drained_cb)(hpt_zmq_watch_t *watch);

struct hpt_zmq_watch {
  void *data;   /* public: for the caller */
  void *socket; /* read-only */
  /* private */
  uv_poll_t poll;
  uv_check_t check;
  hpt_zmq_readable_cb on_readable;
  hpt_zmq_drained_cb on_drained; /* public: optional, set after start */
  int closing;
};

int hpt_zmq_watch_start(uv_loop_t *loop, hpt_zmq_watch_t *watch, void *socket,
                        hpt_zmq_readable_cb on_readable, hpt_error_t *error);

/* Drains now (call after sends outside loop callbacks if needed). */
void hpt_zmq_watch_drain(hpt_zmq_watch_t *watch);

void hpt_zmq_watch_close(hpt_zmq_watch_t *watch);

#endif
