/* dispatcher.h — hands trials to workers over ZeroMQ and takes their
 * reports back. The only coordinator room that speaks ZeroMQ.
 *
 * The dispatcher binds a ROUTER socket, watches it from the caller's libuv
 * loop (zmq_watch.h), keeps a table of connected workers with the time each
 * was last heard from, and runs a timer that (1) fails the trial of any
 * worker silent for longer than the heartbeat grace — its lease has expired —
 * and (2) offers trials of its studies to idle workers. Studies are borrowed
 * (hpt_study_t) and must outlive the dispatcher; every state change goes
 * through them, so the store stays the single source of truth.
 *
 * Lifecycle: hpt_dispatcher_new → add studies → uv_run … →
 * hpt_dispatcher_close (closes handles and the socket) → run the loop until
 * it returns → hpt_dispatcher_destroy.
 */
#ifndef HPT_DISPATCHER_H
#define HPT_DISPATCHER_H

#include <stddef.h>
#include <uv.h>

#include "error.h"
#include "metrics.h"
#include "store.h"
#include "study.h"

typedef struct hpt_dispatcher hpt_dispatcher_t;

typedef struct hpt_dispatcher_config {
  const char *bind;               /* ZeroMQ endpoint, e.g. "tcp://0.0.0.0:5555";
                                     a "*" port picks a free one */
  unsigned heartbeat_interval_ms; /* told to workers; default 1000 */
  unsigned heartbeat_grace_ms;    /* silence after which a worker is lost
                                     and its trial fails; default 10000 */
  hpt_store_t *store;             /* borrowed: workers are recorded here */
  const struct hpt_wire_curve *curve; /* borrowed: the CURVE server key
                                         (wire.h; a ZAP handler, zap.h,
                                         must be running); NULL: plain */
} hpt_dispatcher_config_t;

/* Called after every event that may change progress (a trial started,
 * reported or finished, a worker came or went). */
typedef void (*hpt_dispatcher_change_cb)(hpt_dispatcher_t *dispatcher,
                                         void *data);

/* Creates the ROUTER socket on `zmq_context`, binds it and starts watching
 * it on `loop`. HPT_EIO with zmq's reason if the bind fails. */
int hpt_dispatcher_new(uv_loop_t *loop, void *zmq_context,
                       const hpt_dispatcher_config_t *config,
                       hpt_dispatcher_t **dispatcher, hpt_error_t *error);

/* The endpoint actually bound (resolves a "*" port), e.g.
 * "tcp://0.0.0.0:5555". */
const char *hpt_dispatcher_endpoint(const hpt_dispatcher_t *dispatcher);

/* Adds a study to dispatch from (borrowed). */
int hpt_dispatcher_add_study(hpt_dispatcher_t *dispatcher, hpt_study_t *study,
                             hpt_error_t *error);

void hpt_dispatcher_on_change(hpt_dispatcher_t *dispatcher,
                              hpt_dispatcher_change_cb callback, void *data);

/* Connected workers now. */
size_t hpt_dispatcher_worker_count(const hpt_dispatcher_t *dispatcher);

/* The database writes the dispatcher times, by hpt_db_write_seconds{op}:
 * starting a trial, recording a report, finishing a trial, and the group
 * commit's barrier. */
enum {
  HPT_DISPATCHER_DB_START,
  HPT_DISPATCHER_DB_REPORT,
  HPT_DISPATCHER_DB_FINISH,
  HPT_DISPATCHER_DB_BARRIER,
  HPT_DISPATCHER_N_DB_OPS
};

/* Read-only views of the dispatcher's latency histograms (seconds). */
typedef struct hpt_dispatcher_stats {
  const hpt_histogram_t *dispatch_latency; /* idle worker → assignment sent */
  const hpt_histogram_t *db_write;         /* n_db_ops, indexed as above */
  const char *const *db_ops;               /* "start", "report", ... */
  size_t n_db_ops;
} hpt_dispatcher_stats_t;

/* Fills `stats` with pointers borrowed until hpt_dispatcher_destroy; they
 * change as the loop runs. Cannot fail. */
void hpt_dispatcher_stats(const hpt_dispatcher_t *dispatcher,
                          hpt_dispatcher_stats_t *stats);

/* The studies added so far, borrowed: index < hpt_dispatcher_study_count. */
size_t hpt_dispatcher_study_count(const hpt_dispatcher_t *dispatcher);
const hpt_study_t *hpt_dispatcher_study(const hpt_dispatcher_t *dispatcher,
                                        size_t index);

/* Stops handing out trials (running ones may still report and finish). */
void hpt_dispatcher_pause(hpt_dispatcher_t *dispatcher);

/* Closes the timer, the watcher and the socket. */
void hpt_dispatcher_close(hpt_dispatcher_t *dispatcher);

/* Frees it; call after hpt_dispatcher_close and one more uv_run. */
void hpt_dispatcher_destroy(hpt_dispatcher_t **dispatcher);

#endif
