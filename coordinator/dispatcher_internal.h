/* dispatcher_internal.h — what dispatcher.c and dispatcher_workers.c share:
 * the dispatcher's state, its table of workers and its list of orphaned
 * trials. Private to the dispatcher room. */
#ifndef HPT_DISPATCHER_INTERNAL_H
#define HPT_DISPATCHER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "dispatcher.h"
#include "metrics.h"
#include "require.h"
#include "wire.h"
#include "zmq_watch.h"

#define HPT__MAX_TAGS 16

typedef struct hpt__worker {
  hpt_wire_peer_t peer;
  char id[128];
  char hostname[128];
  char device[128];
  double memory_gb;
  char tag_text[HPT__MAX_TAGS][48];
  const char *tags[HPT__MAX_TAGS]; /* point into tag_text */
  size_t n_tags;
  bool introduced;     /* said Hello (else known by its id only) */
  uint64_t session;    /* from Hello: a repeated Hello has the same one */
  bool busy_elsewhere; /* still runs a trial this coordinator
                          no longer expects (its lease expired):
                          no new trial until it says it is idle */
  bool leaving;        /* said WorkerLeaving: no new trial; forgotten
                          once its current trial has ended */
  uint64_t last_seen_ms;
  uint64_t last_trial_heartbeat_ms;
  uint64_t idle_since_ns; /* uv_hrtime() when it became idle (joined,
                             finished a trial, or last found no trial to
                             run); 0 while busy */
  /* Files being received (artifact_receive.h), or NULL. */
  struct hpt_artifact_receive *artifact;
  hpt_study_t *study; /* NULL when idle */
  int number;         /* trial it runs when study != NULL */
  bool in_use;
} hpt__worker_t;

/* A RUNNING trial found in the store when its study was added: the worker
 * that ran it may come back (after a coordinator restart) and adopt it; if
 * none does by `deadline_ms`, it FAILs and is retried. */
typedef struct hpt__orphan {
  hpt_study_t *study;
  int number;
  char worker_id[128];
  uint64_t deadline_ms;
} hpt__orphan_t;

/* A message waiting for the group commit (see dispatcher.c). */
typedef struct hpt__outgoing {
  hpt_wire_peer_t peer;
  uint8_t *bytes; /* owned: packed Envelope */
  size_t length;
  uint64_t idle_since_ns; /* a TrialAssign: when its worker became idle,
                             for hpt_dispatch_latency_seconds; else 0 */
} hpt__outgoing_t;

struct hpt_dispatcher {
  uv_loop_t *loop;
  hpt_dispatcher_config_t config;
  void *socket;
  char endpoint[256];
  hpt_zmq_watch_t watch;
  uv_timer_t timer;
  uint64_t last_tick_ms;
  uint64_t last_state_poll_ms;
  hpt_study_t **studies;
  size_t n_studies;
  hpt__worker_t *workers;
  size_t n_workers; /* slots used (some may be !in_use) */
  size_t workers_capacity;
  size_t n_connected;
  hpt__orphan_t *orphans;
  size_t n_orphans;
  hpt__outgoing_t *outbox; /* answers held until their effects are durable */
  size_t outbox_length, outbox_capacity;
  hpt__outgoing_t *sealed; /* answers whose barrier is in flight */
  size_t sealed_length, sealed_capacity;
  bool barrier_in_flight;
  uint64_t barrier_started_ns;
  uv_poll_t *db_poll; /* the store's socket, while a barrier is in flight */
  int db_poll_fd;
  hpt_dispatcher_change_cb on_change;
  void *on_change_data;
  bool paused;
  bool closed;
  hpt_histogram_t dispatch_latency;                  /* seconds */
  hpt_histogram_t db_write[HPT_DISPATCHER_N_DB_OPS]; /* seconds, per op */
};

/* ---- dispatcher_outbox.c: group commit ----------------------------------- */

/* Queues an answer (packed now) until the barrier after it lands; NULL
 * when out of memory (logged). */
hpt__outgoing_t *hpt__outbox_queue(hpt_dispatcher_t *d,
                                   const hpt_wire_peer_t *peer,
                                   const Hpt__Envelope *envelope);

/* Starts a barrier for the answers queued so far, unless one is in flight
 * (then the next one starts when it lands). */
void hpt__outbox_flush(hpt_dispatcher_t *d);

/* Reads the barrier's answer if it has come; when it has, sends its
 * answers (or holds them, when it failed) and starts the next barrier.
 * Cheap; call it after handling anything. */
void hpt__outbox_poll(hpt_dispatcher_t *d);

/* Waits for the barriers and sends every answer (closing). */
void hpt__outbox_close(hpt_dispatcher_t *d);
void hpt__outbox_free(hpt_dispatcher_t *d);

/* ---- dispatcher_workers.c ---------------------------------------------- */

hpt__worker_t *hpt__worker_find(hpt_dispatcher_t *d,
                                const hpt_wire_peer_t *peer);

/* A new, zeroed, in-use entry for `peer` (its id = the peer identity until
 * Hello says more). NULL when out of memory. The pointer is valid until the
 * next hpt__worker_add. */
hpt__worker_t *hpt__worker_add(hpt_dispatcher_t *d,
                               const hpt_wire_peer_t *peer);

/* Copies Hello's description (id, host, device, memory, tags). */
void hpt__worker_describe(hpt__worker_t *w, const Hpt__Hello *hello);

void hpt__worker_caps(const hpt__worker_t *w, hpt_worker_caps_t *caps);

/* Ends the worker's trial as a retryable FAIL with `reason`. */
void hpt__worker_fail_trial(hpt_dispatcher_t *d, hpt__worker_t *w,
                            const char *reason);

void hpt__worker_drop(hpt_dispatcher_t *d, hpt__worker_t *w,
                      const char *reason);

/* Loads the study's RUNNING trials as orphans waiting to be adopted. */
int hpt__orphans_load(hpt_dispatcher_t *d, hpt_study_t *study,
                      hpt_error_t *error);

/* If (study_id, number) is an orphan that worker `w` ran, `w` adopts it:
 * true. */
bool hpt__orphans_adopt(hpt_dispatcher_t *d, hpt__worker_t *w, int64_t study_id,
                        int number);

/* FAILs (retryably) the orphans nobody adopted by their deadline. True if
 * any was failed. */
bool hpt__orphans_expire(hpt_dispatcher_t *d, uint64_t now_ms);

/* Renews every lease and orphan deadline from `now_ms` (the coordinator was
 * stalled, e.g. waiting for the database: silence during a stall is not the
 * workers'). */
void hpt__leases_renew(hpt_dispatcher_t *d, uint64_t now_ms);

#endif
