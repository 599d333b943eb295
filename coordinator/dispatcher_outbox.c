/* dispatcher_outbox.c — group commit for the dispatcher (see
 * dispatcher_internal.h, "outbox").
 *
 * Handling a message queues its writes in the store (write-behind,
 * store_batch.c) and its answers here, in the open outbox. When the
 * ZeroMQ socket is drained (or on the timer), the open answers are sealed
 * and a barrier starts: the store sends every queued write as one
 * pipelined transaction that commits synchronously. The loop goes on
 * handling messages meanwhile — their writes and answers wait for the next
 * barrier — and when PostgreSQL's answer arrives (its socket is watched
 * with a uv_poll) the sealed answers leave. So a worker is never told
 * anything the database could still lose, a burst of results costs one
 * round trip and one disk flush, and the coordinator does not sit idle
 * while the disk flushes.
 *
 * A barrier that fails keeps its answers: they go back to the front of the
 * open outbox and wait for the next barrier that succeeds.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatcher_internal.h"
#include "log.h"

static int grow(hpt__outgoing_t **items, size_t *capacity, size_t need) {
  if (need <= *capacity)
    return 0;
  size_t bigger = *capacity ? *capacity * 2 : 64;
  while (bigger < need)
    bigger *= 2;
  hpt__outgoing_t *grown = realloc(*items, bigger * sizeof *grown);
  if (grown == NULL)
    return -1;
  *items = grown;
  *capacity = bigger;
  return 0;
}

hpt__outgoing_t *hpt__outbox_queue(hpt_dispatcher_t *d,
                                   const hpt_wire_peer_t *peer,
                                   const Hpt__Envelope *envelope) {
  size_t length = hpt__envelope__get_packed_size(envelope);
  uint8_t *bytes = malloc(length ? length : 1);
  if (bytes == NULL ||
      grow(&d->outbox, &d->outbox_capacity, d->outbox_length + 1) < 0) {
    free(bytes);
    hpt_log(HPT_LOG_ERROR, "outbox_full", "body=%s",
            hpt_wire_body_name(envelope));
    return NULL;
  }
  hpt__envelope__pack(envelope, bytes);
  hpt__outgoing_t *out = &d->outbox[d->outbox_length++];
  out->peer = *peer;
  out->bytes = bytes;
  out->length = length;
  out->idle_since_ns = 0;
  return out;
}

static void send_sealed(hpt_dispatcher_t *d) {
  hpt_error_t error;
  for (size_t i = 0; i < d->sealed_length; i++) {
    hpt__outgoing_t *out = &d->sealed[i];
    /* A peer that is gone (ROUTER_MANDATORY: EHOSTUNREACH) loses its lease
     * by silence; nothing else to do here. */
    if (hpt_wire_send_packed(d->socket, &out->peer, out->bytes, out->length,
                             &error) < 0) {
      char text[128];
      hpt_wire_peer_text(&out->peer, text, sizeof text);
      hpt_log(HPT_LOG_WARN, "send_failed", "peer=%s error=\"%s\"", text,
              error.message);
    } else if (out->idle_since_ns != 0) {
      hpt_histogram_observe(&d->dispatch_latency,
                            (double)(uv_hrtime() - out->idle_since_ns) / 1e9);
    }
    free(out->bytes);
  }
  d->sealed_length = 0;
}

/* The barrier failed: its answers go back before the open ones. */
static void unseal(hpt_dispatcher_t *d, const hpt_error_t *error) {
  hpt_log(HPT_LOG_ERROR, "barrier_failed", "error=\"%s\" answers_held=%zu",
          error->message, d->sealed_length);
  size_t total = d->sealed_length + d->outbox_length;
  if (grow(&d->sealed, &d->sealed_capacity, total) < 0) {
    send_sealed(d); /* cannot hold them: better late than never */
    return;
  }
  if (d->outbox_length > 0)
    memcpy(d->sealed + d->sealed_length, d->outbox,
           d->outbox_length * sizeof *d->outbox);
  hpt__outgoing_t *items = d->outbox;
  size_t capacity = d->outbox_capacity;
  d->outbox = d->sealed;
  d->outbox_capacity = d->sealed_capacity;
  d->outbox_length = total;
  d->sealed = items;
  d->sealed_capacity = capacity;
  d->sealed_length = 0;
}

static void barrier_landed(hpt_dispatcher_t *d, int rc,
                           const hpt_error_t *error) {
  d->barrier_in_flight = false;
  if (d->db_poll != NULL)
    uv_poll_stop(d->db_poll);
  hpt_histogram_observe(&d->db_write[HPT_DISPATCHER_DB_BARRIER],
                        (double)(uv_hrtime() - d->barrier_started_ns) / 1e9);
  if (rc < 0)
    unseal(d, error);
  else
    send_sealed(d);
}

static void on_database_readable(uv_poll_t *poll, int status, int events) {
  (void)status;
  (void)events;
  hpt__outbox_poll(poll->data);
}

static void close_poll(uv_handle_t *handle) { free(handle); }

/* Watches the store's socket (a new one after a reconnect) for the
 * barrier's answer. Returns false when it cannot. */
static bool watch_database(hpt_dispatcher_t *d) {
  int fd = hpt_store_socket(d->config.store);
  if (fd < 0)
    return false;
  if (d->db_poll != NULL && d->db_poll_fd != fd) {
    uv_close((uv_handle_t *)d->db_poll, close_poll);
    d->db_poll = NULL;
  }
  if (d->db_poll == NULL) {
    uv_poll_t *poll = malloc(sizeof *poll);
    if (poll == NULL || uv_poll_init(d->loop, poll, fd) != 0) {
      free(poll);
      return false;
    }
    poll->data = d;
    d->db_poll = poll;
    d->db_poll_fd = fd;
  }
  return uv_poll_start(d->db_poll, UV_READABLE, on_database_readable) == 0;
}

void hpt__outbox_flush(hpt_dispatcher_t *d) {
  if (d->barrier_in_flight || d->outbox_length == 0)
    return;
  /* Seal: the open answers are those this barrier covers. */
  hpt__outgoing_t *items = d->sealed;
  size_t capacity = d->sealed_capacity;
  d->sealed = d->outbox;
  d->sealed_capacity = d->outbox_capacity;
  d->sealed_length = d->outbox_length;
  d->outbox = items;
  d->outbox_capacity = capacity;
  d->outbox_length = 0;
  if (d->config.store == NULL) {
    send_sealed(d);
    return;
  }
  hpt_error_t error;
  bool started = false;
  d->barrier_started_ns = uv_hrtime();
  int rc = hpt_store_barrier_start(d->config.store, &started, &error);
  if (started && !watch_database(d)) {
    rc = hpt_store_barrier(d->config.store, &error); /* wait for it here */
    started = false;
  }
  if (!started) {
    barrier_landed(d, rc, &error);
    return;
  }
  d->barrier_in_flight = true;
}

void hpt__outbox_poll(hpt_dispatcher_t *d) {
  if (!d->barrier_in_flight)
    return;
  hpt_error_t error;
  bool done = false;
  int rc = hpt_store_barrier_poll(d->config.store, &done, &error);
  if (!done)
    return;
  barrier_landed(d, rc, &error);
  hpt__outbox_flush(d); /* what arrived meanwhile: the next barrier */
}

void hpt__outbox_close(hpt_dispatcher_t *d) {
  if (d->barrier_in_flight && d->config.store != NULL) {
    hpt_error_t error;
    int rc = hpt_store_barrier(d->config.store, &error);
    barrier_landed(d, rc, &error);
  }
  hpt__outbox_flush(d);
  if (d->barrier_in_flight) {
    hpt_error_t error;
    int rc = hpt_store_barrier(d->config.store, &error);
    barrier_landed(d, rc, &error);
  }
  if (d->db_poll != NULL) {
    uv_close((uv_handle_t *)d->db_poll, close_poll);
    d->db_poll = NULL;
  }
}

void hpt__outbox_free(hpt_dispatcher_t *d) {
  for (size_t i = 0; i < d->outbox_length; i++)
    free(d->outbox[i].bytes);
  for (size_t i = 0; i < d->sealed_length; i++)
    free(d->sealed[i].bytes);
  free(d->outbox);
  free(d->sealed);
  d->outbox = d->sealed = NULL;
  d->outbox_length = d->sealed_length = 0;
}
