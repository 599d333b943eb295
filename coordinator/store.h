/* store.h — everything hpt keeps in PostgreSQL. The only room that speaks
 * SQL or includes libpq.
 *
 * Every statement with user values goes through PQexecParams. Writes that
 * belong together (a study and its parameters; a trial and its params) run
 * in one transaction, so nothing is ever half-created. Failures come back as
 * HPT_EDB (server said no), HPT_ENOTFOUND, HPT_EEXIST or HPT_ESTATE, with
 * PostgreSQL's own message in error->message.
 *
 * A store is a single connection: use it from one thread (the coordinator's
 * loop) at a time.
 */
#ifndef HPT_STORE_H
#define HPT_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "history.h"
#include "spec.h"

typedef struct hpt_store hpt_store_t;

/* Connects with a libpq connection string or URL. Fails with HPT_EDB and
 * libpq's reason ("connection to server ... failed: ...") in one line. */
int hpt_store_open(const char *conninfo, hpt_store_t **store,
                   hpt_error_t *error);

void hpt_store_close(hpt_store_t **store);

/* Creates database `name` unless it exists, on the server `conninfo` leads
 * to (conninfo names an existing database there, usually `postgres`). For
 * the embedded cluster and the tests' throwaway databases. HPT_EDB with
 * libpq's or the server's reason on failure. */
int hpt_store_database_ensure(const char *conninfo, const char *name,
                              hpt_error_t *error);

/* Group commit. With synchronous off, the hot writes (trial start, report,
 * heartbeat, finish, late message) are queued instead of sent, and return
 * HPT_OK at once without checking their guards (a guard that fails later is
 * logged, "write_ignored"); any other statement sends the queue first, so
 * order is kept. hpt_store_barrier sends what is queued as one pipelined
 * transaction that commits synchronously (store_batch.c), or, with nothing
 * queued, waits once until everything committed so far is durable. The
 * coordinator answers workers only after a barrier, so nothing it has
 * acknowledged can be lost, and one round trip and one disk flush cover a
 * whole batch of results. On failure the queue is kept for the next
 * barrier. */
int hpt_store_set_synchronous(hpt_store_t *store, bool synchronous,
                              hpt_error_t *error);
int hpt_store_barrier(hpt_store_t *store, hpt_error_t *error);

/* The same barrier without waiting for it, so that the caller can go on
 * handling messages while PostgreSQL commits: sends what is queued (writes
 * queued from now on wait for the next barrier) and sets *started. Then
 * call hpt_store_barrier_poll whenever hpt_store_socket() is readable (and
 * after handling anything else) until *done; its return value is the
 * barrier's. A statement that needs the connection meanwhile waits for the
 * barrier to land first (poll then reports it done). *started is false
 * when it had to complete at once (its result is the return value). One
 * barrier at a time. */
int hpt_store_barrier_start(hpt_store_t *store, bool *started,
                            hpt_error_t *error);
int hpt_store_barrier_poll(hpt_store_t *store, bool *done, hpt_error_t *error);
bool hpt_store_barrier_in_flight(const hpt_store_t *store);
int hpt_store_socket(const hpt_store_t *store);

/* Applies the migrations not yet recorded in schema_migrations, each in its
 * own transaction, serialised by an advisory lock so two processes may run
 * it at once. *applied (may be NULL) = how many ran now. Idempotent. */
int hpt_store_migrate(hpt_store_t *store, int *applied, hpt_error_t *error);

/* Highest applied migration version, 0 when none. */
int hpt_store_schema_version(hpt_store_t *store, int *version,
                             hpt_error_t *error);

/* ---- studies ------------------------------------------------------------ */

typedef enum {
  HPT_STUDY_RUNNING = 0,  /* created or running: trials may be dispatched */
  HPT_STUDY_COMPLETE = 1, /* n_trials reached */
  HPT_STUDY_STOPPED = 2,  /* `hpt study stop`: running trials finish, no new
                             ones start until `hpt study resume` */
} hpt_study_state_t;

/* "RUNNING", "COMPLETE", "STOPPED". */
const char *hpt_study_state_name(hpt_study_state_t state);

/* Parses a name; unknown names read as RUNNING. */
hpt_study_state_t hpt_study_state_parse(const char *name);

typedef struct hpt_study_row {
  int64_t id;
  char *name;
  char *spec_text;   /* the YAML as created */
  char *spec_source; /* path it was created from */
  hpt_study_state_t state;
  double created_at; /* unix seconds */
} hpt_study_row_t;

void hpt_study_row_free(hpt_study_row_t *row);

/* Inserts the study, its search-space parameters and its settings in one
 * transaction. HPT_EEXIST ("study 'x' already exists") if the name is taken:
 * nothing is written then. `spec` must already have its objective paths
 * resolved (they are stored as given). */
int hpt_store_study_create(hpt_store_t *store, const hpt_spec_t *spec,
                           int64_t *study_id, hpt_error_t *error);

/* Looks a study up by name. HPT_ENOTFOUND ("no study named 'x'"). On success
 * the caller owns row's strings (hpt_study_row_free). */
int hpt_store_study_find(hpt_store_t *store, const char *name,
                         hpt_study_row_t *row, hpt_error_t *error);

int hpt_store_study_set_state(hpt_store_t *store, int64_t study_id,
                              hpt_study_state_t state, hpt_error_t *error);

/* The study's state now. HPT_ENOTFOUND if it was deleted. */
int hpt_store_study_get_state(hpt_store_t *store, int64_t study_id,
                              hpt_study_state_t *state, hpt_error_t *error);

/* Deletes a study and everything that belongs to it. HPT_ENOTFOUND if there
 * is no such study. */
int hpt_store_study_delete(hpt_store_t *store, const char *name,
                           hpt_error_t *error);

/* Names of studies in state RUNNING, oldest first. The caller owns the array
 * and strings (free each, then the array). */
int hpt_store_study_list_running(hpt_store_t *store, char ***names,
                                 size_t *count, hpt_error_t *error);

/* Holds a session-level advisory lock on the study until
 * hpt_store_study_unlock: processes that sample for the same study (`hpt
 * ask` from several shells) take turns, so no two get the same trial number
 * or sample from a stale history. Blocks while another session holds it. */
int hpt_store_study_lock(hpt_store_t *store, int64_t study_id,
                         hpt_error_t *error);
int hpt_store_study_unlock(hpt_store_t *store, int64_t study_id,
                           hpt_error_t *error);

/* Fills an initialised, empty history with every trial of the study: state,
 * value, params (mapped by name onto `space`), intermediate values. */
int hpt_store_history_load(hpt_store_t *store, int64_t study_id,
                           const hpt_space_t *space, hpt_history_t *history,
                           hpt_error_t *error);

/* ---- trials ------------------------------------------------------------- */

/* Inserts trial `number` as RUNNING on `worker_id` with its params
 * (internal representation; NaN = absent, not stored) in one transaction.
 * HPT_EEXIST if the number is taken. */
int hpt_store_trial_start(hpt_store_t *store, int64_t study_id, int number,
                          const hpt_space_t *space, const double *params,
                          const char *worker_id, hpt_error_t *error);

/* Queues a retry of FAIL trial `retry_of`: a new trial `number`, WAITING,
 * with the same params, in one transaction. */
int hpt_store_trial_enqueue_retry(hpt_store_t *store, int64_t study_id,
                                  int number, int retry_of,
                                  const hpt_space_t *space,
                                  const double *params, hpt_error_t *error);

/* A WAITING trial becomes RUNNING on `worker_id`. HPT_ESTATE if it is not
 * WAITING. */
int hpt_store_trial_claim(hpt_store_t *store, int64_t study_id, int number,
                          const char *worker_id, hpt_error_t *error);

/* A RUNNING trial goes back to WAITING (its worker never started it).
 * HPT_ESTATE if it is not RUNNING. */
int hpt_store_trial_requeue(hpt_store_t *store, int64_t study_id, int number,
                            hpt_error_t *error);

/* Records a message that came too late for its trial (the lease had expired
 * and the trial was failed or retried): kept, never applied. `kind` is
 * "report", "complete" or "failed"; value may be NaN. */
int hpt_store_late_message(hpt_store_t *store, int64_t study_id, int number,
                           const char *worker_id, const char *kind,
                           double value, hpt_error_t *error);

/* The RUNNING trials of a study and the worker each runs on (a coordinator
 * that starts reconciles them with the workers that reconnect). The caller
 * frees both arrays and each worker string. */
int hpt_store_trials_running(hpt_store_t *store, int64_t study_id,
                             int **numbers, char ***workers, size_t *count,
                             hpt_error_t *error);

/* Records (upserts) an intermediate value and refreshes the heartbeat. */
int hpt_store_trial_report(hpt_store_t *store, int64_t study_id, int number,
                           int step, double value, hpt_error_t *error);

/* Refreshes trials.heartbeat_at of a RUNNING trial. */
int hpt_store_trial_heartbeat(hpt_store_t *store, int64_t study_id, int number,
                              hpt_error_t *error);

typedef struct hpt_metric {
  const char *name;
  double value;
} hpt_metric_t;

/* Ends a RUNNING trial: state COMPLETE, PRUNED or FAIL, its value (NaN: none,
 * stored NULL), duration (NaN: the time since it started), metrics and for FAIL
 * the reason. HPT_ESTATE if the trial is not RUNNING (nothing changes then: no
 * trial finishes twice). */
int hpt_store_trial_finish(hpt_store_t *store, int64_t study_id, int number,
                           hpt_trial_state_t state, double value,
                           double duration_s, const hpt_metric_t *metrics,
                           size_t n_metrics, const char *fail_reason,
                           hpt_error_t *error);

/* Marks every RUNNING trial of the study FAIL with `reason` (used when a
 * coordinator starts and finds trials nobody is running). *count may be
 * NULL. */
int hpt_store_trials_fail_running(hpt_store_t *store, int64_t study_id,
                                  const char *reason, int *count,
                                  hpt_error_t *error);

/* ---- workers ------------------------------------------------------------ */

/* Inserts or refreshes a worker (id, hostname, devices joined by ", ",
 * protocol version, advertised memory in GiB, tags joined by ", "),
 * last_seen = now; clears left_at and left_reason (it is back). */
int hpt_store_worker_upsert(hpt_store_t *store, const char *worker_id,
                            const char *hostname, const char *devices,
                            int protocol_version, double memory_gb,
                            const char *tags, hpt_error_t *error);

/* Records that a worker left of its own accord (WorkerLeaving):
 * left_at = last_seen = now, left_reason = reason. Inserts the row when
 * this database has not seen the worker. */
int hpt_store_worker_left(hpt_store_t *store, const char *worker_id,
                          const char *reason, hpt_error_t *error);

/* ---- queries for the CLI ------------------------------------------------ */

typedef enum {
  HPT_FORMAT_TABLE = 0,
  HPT_FORMAT_CSV = 1,
  HPT_FORMAT_JSON = 2,
} hpt_format_t;

/* Writes the study's trials from the trial_history view to `out`: number,
 * state, value, params, worker, started_at, finished_at, duration. `top` > 0
 * keeps the best `top` COMPLETE trials (by direction) instead of all trials
 * by number. CSV is RFC 4180 with a header row; JSON is one array of
 * objects, params as an object. */
int hpt_store_print_trials(hpt_store_t *store, const char *study_name,
                           hpt_format_t format, int top, FILE *out,
                           hpt_error_t *error);

/* Writes the workers this database has seen, most recent first: id, host,
 * devices, the trial each runs now, last heartbeat, and "left: REASON"
 * for a worker that left (WorkerLeaving). */
int hpt_store_print_workers(hpt_store_t *store, FILE *out, hpt_error_t *error);

typedef struct hpt_study_summary {
  int64_t id;
  hpt_direction_t direction;
  int n_trials; /* the spec's budget */
  int waiting, running, complete, pruned, failed;
  int has_best;
  int best_number;
  double best_value;
  char *best_params_json;  /* owned; NULL when !has_best */
  double first_started_at; /* unix seconds, 0 if none */
  double last_finished_at; /* unix seconds, 0 if none */
  hpt_study_state_t state;
} hpt_study_summary_t;

void hpt_study_summary_free(hpt_study_summary_t *summary);

int hpt_store_study_summary(hpt_store_t *store, const char *study_name,
                            hpt_study_summary_t *summary, hpt_error_t *error);

#endif
