/* store_batch.c — write-behind for the dispatcher's hot writes (see
 * store_internal.h: hpt__store_write, hpt__store_batch_flush).
 *
 * Why: in group-commit mode (hpt_store_set_synchronous(false)) the
 * dispatcher answers workers only after hpt_store_barrier, so the trial
 * starts, reports, heartbeats and finishes of one batch of messages need
 * not each wait for its own round trip. They are queued here (SQL and a
 * copy of the parameters) and sent at the barrier as one libpq pipeline:
 * BEGIN, SET LOCAL synchronous_commit TO on, every queued write, the
 * barrier row, COMMIT — one transaction, one network round trip, one WAL
 * flush. The server parses and plans nothing twice (prepared statements).
 *
 * Order is kept: any other statement (hpt__store_exec) first flushes the
 * queue, without waiting for the disk, so it sees every earlier write.
 *
 * Failures: a lost connection rolls the whole transaction back, so the
 * queue is replayed, whole, once the server is back. A statement the server
 * refuses aborts the transaction too; the queue is then run again one
 * statement at a time, each in its own transaction, so that one bad write
 * (logged with what it was) cannot take the others down. A write whose
 * guard matched no row (a trial that is no longer RUNNING) is logged as
 * ignored: it is the late message the guard exists for. The queue is only
 * emptied once its writes are committed; if the database stays away past
 * the outage limit the flush fails and keeps them for the next attempt.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_internal.h"

/* One pipeline holds at most this many writes: their results must fit in
 * the socket buffers while libpq, in blocking mode, is still sending. */
#define PIPELINE_MAX 512

struct hpt__store_queued {
  const char *sql; /* a string literal of store_trials.c: not owned */
  int n_params;
  char **params; /* owned, NULL entries are SQL NULL */
  char *label;   /* owned: what it is, for the log */
  bool guarded;  /* changing no row means its guard failed */
};

static void queued_free(hpt__store_queued_t *write) {
  for (int i = 0; i < write->n_params; i++)
    free(write->params[i]);
  free(write->params);
  free(write->label);
}

int hpt__store_write(hpt_store_t *store, const char *sql, int n_params,
                     const char *const *params, const char *label, bool guarded,
                     PGresult **result, hpt_error_t *error) {
  if (result != NULL)
    *result = NULL;
  if (!store->asynchronous || store->in_transaction)
    return hpt__store_exec(store, sql, n_params, params, result, error);
  if (store->queue_length == store->queue_capacity) {
    size_t capacity = store->queue_capacity ? store->queue_capacity * 2 : 64;
    hpt__store_queued_t *grown =
        realloc(store->queue, capacity * sizeof *grown);
    if (grown == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "out of memory queueing a write");
    store->queue = grown;
    store->queue_capacity = capacity;
  }
  hpt__store_queued_t write = {
      .sql = sql, .n_params = n_params, .guarded = guarded};
  write.params = calloc((size_t)n_params + 1, sizeof *write.params);
  bool ok = write.params != NULL;
  for (int i = 0; ok && i < n_params; i++)
    if (params[i] != NULL && (write.params[i] = strdup(params[i])) == NULL)
      ok = false;
  if (ok && (write.label = strdup(label ? label : "write")) == NULL)
    ok = false;
  if (!ok) {
    queued_free(&write);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory queueing a write");
  }
  store->queue[store->queue_length++] = write;
  return HPT_OK;
}

/* Logs a guarded write that changed nothing: the trial was no longer in
 * the state its guard asks for. */
static void check_changed(const hpt__store_queued_t *write,
                          const PGresult *result) {
  if (!write->guarded)
    return;
  bool none =
      PQresultStatus(result) == PGRES_TUPLES_OK
          ? PQntuples(result) == 0 || strcmp(PQgetvalue(result, 0, 0), "0") == 0
          : strcmp(PQcmdTuples((PGresult *)result), "0") == 0;
  if (none)
    hpt_log(HPT_LOG_WARN, "write_ignored",
            "what=\"%s\" reason=\"the trial is not RUNNING\"", write->label);
}

static bool send_statement(hpt_store_t *store, const char *sql, int n_params,
                           const char *const *params) {
  int index = hpt__store_prepared(store, sql, n_params);
  if (index < 0)
    return PQsendQueryParams(store->conn, sql, n_params, NULL, params, NULL,
                             NULL, 0) == 1;
  char name[32];
  hpt__store_statement_name(index, name, sizeof name);
  return PQsendQueryPrepared(store->conn, name, n_params, params, NULL, NULL,
                             0) == 1;
}

static const char barrier_sql[] =
    "UPDATE durability_barrier SET at = now() WHERE id = 1";

/* Sends writes [0, n) of the queue as one pipelined transaction (durable:
 * with a synchronous commit and the barrier row) and records it in
 * store->flight; its results are read by read_results. */
static void send_pipeline(hpt_store_t *store, size_t n, bool durable) {
  hpt__store_flight_t *f = &store->flight;
  *f = (hpt__store_flight_t){.active = true, .n = n, .durable = durable};
  /* Prepare first: PQprepare waits for its answer, which a pipeline
   * forbids. */
  for (size_t i = 0; i < n; i++)
    hpt__store_prepared(store, store->queue[i].sql, store->queue[i].n_params);
  hpt__store_prepared(store, barrier_sql, 0);
  hpt__store_prepared(store, "BEGIN", 0);
  hpt__store_prepared(store, "SET LOCAL synchronous_commit TO on", 0);
  hpt__store_prepared(store, "COMMIT", 0);
  if (PQenterPipelineMode(store->conn) != 1) {
    f->outcome = PQstatus(store->conn) == CONNECTION_BAD
                     ? HPT__PIPELINE_LOST
                     : HPT__PIPELINE_REFUSED;
    HPT_ERR(&f->error, HPT_EDB, "cannot enter pipeline mode: %s",
            PQerrorMessage(store->conn));
    f->reported = true;
    f->entered = false;
    f->done = true;
    return;
  }
  f->entered = true;
  bool sent = send_statement(store, "BEGIN", 0, NULL);
  f->n_sent = 1;
  if (sent && durable) {
    sent = send_statement(store, "SET LOCAL synchronous_commit TO on", 0, NULL);
    f->n_sent++;
  }
  f->first_write = f->n_sent;
  for (size_t i = 0; sent && i < n; i++, f->n_sent++)
    sent = send_statement(store, store->queue[i].sql, store->queue[i].n_params,
                          (const char *const *)store->queue[i].params);
  if (sent && durable) {
    sent = send_statement(store, barrier_sql, 0, NULL);
    f->n_sent++;
  }
  if (sent) {
    sent = send_statement(store, "COMMIT", 0, NULL);
    f->n_sent++;
  }
  if (sent)
    sent = PQpipelineSync(store->conn) == 1;
  if (!sent) {
    f->outcome = HPT__PIPELINE_LOST;
    f->done = true;
  }
}

/* Reads the flight's results: all of them, waiting, when `wait`; else
 * those that have arrived. Sets f->done at the sync (or on a lost
 * connection). A statement after a failed one comes back
 * PIPELINE_ABORTED. */
static void read_results(hpt_store_t *store, bool wait) {
  hpt__store_flight_t *f = &store->flight;
  while (!f->done) {
    if (!wait) {
      if (PQconsumeInput(store->conn) != 1) {
        f->outcome = HPT__PIPELINE_LOST;
        f->done = true;
        return;
      }
      if (PQisBusy(store->conn))
        return; /* the rest has not arrived */
    }
    PGresult *result = PQgetResult(store->conn);
    if (result == NULL) {
      if (f->after_result) { /* the NULL that ends each statement */
        f->after_result = false;
        continue;
      }
      if (!wait && PQstatus(store->conn) != CONNECTION_BAD)
        return;
      f->outcome = HPT__PIPELINE_LOST;
      f->done = true;
      return;
    }
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_PIPELINE_SYNC) {
      f->done = true;
    } else if (status == PGRES_FATAL_ERROR ||
               status == PGRES_PIPELINE_ABORTED) {
      if (!f->reported && status == PGRES_FATAL_ERROR) {
        hpt__store_result_error(store, result, &f->error);
        f->reported = true;
      }
      if (f->outcome == HPT__PIPELINE_OK)
        f->outcome = HPT__PIPELINE_REFUSED;
      f->after_result = true;
      f->next++;
    } else {
      if (f->next >= f->first_write && f->next < f->first_write + f->n)
        check_changed(&store->queue[f->next - f->first_write], result);
      f->after_result = true;
      f->next++;
    }
    PQclear(result);
  }
}

/* After a refused pipeline: each write alone, so that only the bad one is
 * lost (and logged with what it was). */
static void run_one_by_one(hpt_store_t *store, size_t n) {
  for (size_t i = 0; i < n; i++) {
    hpt__store_queued_t *write = &store->queue[i];
    PGresult *result = NULL;
    hpt_error_t error;
    if (hpt__store_exec_now(store, write->sql, write->n_params,
                            (const char *const *)write->params, &result,
                            &error) != HPT_OK) {
      hpt_log(HPT_LOG_ERROR, "write_failed", "what=\"%s\" error=\"%s\"",
              write->label, error.message);
      continue;
    }
    check_changed(write, result);
    PQclear(result);
  }
}

static void queue_drop_front(hpt_store_t *store, size_t n) {
  if (n == 0)
    return; /* the queue may not even exist (NULL) */
  for (size_t i = 0; i < n; i++)
    queued_free(&store->queue[i]);
  if (store->queue_length > n)
    memmove(store->queue, store->queue + n,
            (store->queue_length - n) * sizeof *store->queue);
  store->queue_length -= n;
}

/* Ends the flight whose results are all read: leaves pipeline mode and
 * settles its writes. A lost connection replays them, waiting, once the
 * server is back; a refused statement has them run one by one. */
static int finish_flight(hpt_store_t *store, hpt_error_t *error) {
  hpt__store_flight_t *f = &store->flight;
  f->active = false;
  if (PQstatus(store->conn) == CONNECTION_BAD)
    f->outcome = HPT__PIPELINE_LOST;
  if (f->outcome != HPT__PIPELINE_LOST && f->entered &&
      PQexitPipelineMode(store->conn) != 1 && f->outcome == HPT__PIPELINE_OK) {
    HPT_ERR(&f->error, HPT_EDB, "cannot leave pipeline mode: %s",
            PQerrorMessage(store->conn));
    f->reported = true;
    f->outcome = HPT__PIPELINE_REFUSED;
  }
  if (f->outcome == HPT__PIPELINE_LOST) {
    /* libpq leaves pipeline mode with the connection; nothing of this
     * transaction was committed: replay it once the server is back. */
    hpt_log(HPT_LOG_WARN, "batch_lost", "writes=%zu action=replay", f->n);
    if (!f->reported)
      HPT_ERR(&f->error, HPT_EDB, "connection lost: %s",
              PQerrorMessage(store->conn));
    if (error != NULL)
      *error = f->error;
    if (!hpt__store_recover(store, error))
      return error ? error->code : HPT_EDB;
    return hpt__store_batch_flush(store, f->durable, error);
  }
  if (f->outcome == HPT__PIPELINE_REFUSED) {
    /* The error left the explicit transaction open and aborted: the
     * statements after it, COMMIT included, were skipped. */
    if (PQtransactionStatus(store->conn) != PQTRANS_IDLE)
      hpt__store_rollback(store);
    hpt_log(HPT_LOG_WARN, "batch_refused",
            "writes=%zu error=\"%s\" action=one_by_one", f->n,
            f->error.message);
    run_one_by_one(store, f->n);
    queue_drop_front(store, f->n);
    return f->durable ? hpt__store_barrier_now(store, error) : HPT_OK;
  }
  queue_drop_front(store, f->n);
  return HPT_OK;
}

/* Settles the flight whose results are read, and remembers how that went
 * for hpt_store_barrier_poll (it may be landed by someone else). */
static int settle_flight(hpt_store_t *store, hpt_error_t *error) {
  hpt_error_t settled;
  int rc = finish_flight(store, &settled);
  store->flight.landed_rc = rc;
  if (rc != HPT_OK) {
    store->flight.error = settled;
    if (error != NULL)
      *error = settled;
  }
  return rc;
}

/* Waits for the flight in progress, if any, and settles it. */
static int land_flight(hpt_store_t *store, hpt_error_t *error) {
  if (!store->flight.active)
    return HPT_OK;
  read_results(store, true);
  return settle_flight(store, error);
}

int hpt__store_batch_flush(hpt_store_t *store, bool durable,
                           hpt_error_t *error) {
  int rc = land_flight(store, error);
  if (rc != HPT_OK)
    return rc;
  while (store->queue_length > 0) {
    size_t n =
        store->queue_length < PIPELINE_MAX ? store->queue_length : PIPELINE_MAX;
    send_pipeline(store, n, durable && n == store->queue_length);
    if ((rc = land_flight(store, error)) != HPT_OK)
      return rc;
  }
  return HPT_OK;
}

int hpt_store_barrier_start(hpt_store_t *store, bool *started,
                            hpt_error_t *error) {
  *started = false;
  int rc = land_flight(store, error);
  if (rc != HPT_OK)
    return rc;
  if (store->queue_length > PIPELINE_MAX)
    return hpt_store_barrier(store, error); /* rare: wait for it */
  send_pipeline(store, store->queue_length, true);
  if (store->flight.done) /* could not even send it */
    return settle_flight(store, error);
  *started = true;
  return HPT_OK;
}

int hpt_store_barrier_poll(hpt_store_t *store, bool *done, hpt_error_t *error) {
  *done = true;
  if (!store->flight.active) {
    /* Landed meanwhile, by a statement that had to wait for it. */
    if (store->flight.landed_rc != HPT_OK && error != NULL)
      *error = store->flight.error;
    return store->flight.landed_rc;
  }
  read_results(store, false);
  if (!store->flight.done) {
    *done = false;
    return HPT_OK;
  }
  return settle_flight(store, error);
}

bool hpt_store_barrier_in_flight(const hpt_store_t *store) {
  return store->flight.active;
}

int hpt_store_socket(const hpt_store_t *store) { return PQsocket(store->conn); }

int hpt__store_land(hpt_store_t *store, hpt_error_t *error) {
  return land_flight(store, error);
}

void hpt__store_batch_discard(hpt_store_t *store) {
  if (store->flight.active) {
    hpt_error_t error;
    if (land_flight(store, &error) != HPT_OK)
      hpt_log(HPT_LOG_ERROR, "writes_lost", "error=\"%s\"", error.message);
  }
  queue_drop_front(store, store->queue_length);
  free(store->queue);
  store->queue = NULL;
  store->queue_capacity = 0;
}
