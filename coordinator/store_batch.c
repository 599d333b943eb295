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

typedef enum { PIPELINE_OK, PIPELINE_REFUSED, PIPELINE_LOST } pipeline_t;

/* Sends writes [0, n) of the queue in one transaction (durable: with a
 * synchronous commit and the barrier row) and reads every result. */
static pipeline_t run_pipeline(hpt_store_t *store, size_t n, bool durable,
                               hpt_error_t *error) {
  static const char barrier_sql[] =
      "UPDATE durability_barrier SET at = now() WHERE id = 1";
  /* Prepare first: PQprepare waits for its answer, which a pipeline
   * forbids. */
  for (size_t i = 0; i < n; i++)
    hpt__store_prepared(store, store->queue[i].sql, store->queue[i].n_params);
  hpt__store_prepared(store, barrier_sql, 0);
  if (PQenterPipelineMode(store->conn) != 1) {
    HPT_ERR(error, HPT_EDB, "cannot enter pipeline mode: %s",
            PQerrorMessage(store->conn));
    return PQstatus(store->conn) == CONNECTION_BAD ? PIPELINE_LOST
                                                   : PIPELINE_REFUSED;
  }
  /* Every statement sent, in order; NULL entries are BEGIN/SET/COMMIT. */
  bool sent = send_statement(store, "BEGIN", 0, NULL);
  size_t n_sent = 1;
  if (sent && durable) {
    sent = send_statement(store, "SET LOCAL synchronous_commit TO on", 0, NULL);
    n_sent++;
  }
  size_t first_write = n_sent;
  for (size_t i = 0; sent && i < n; i++, n_sent++)
    sent = send_statement(store, store->queue[i].sql, store->queue[i].n_params,
                          (const char *const *)store->queue[i].params);
  if (sent && durable) {
    sent = send_statement(store, barrier_sql, 0, NULL);
    n_sent++;
  }
  if (sent) {
    sent = send_statement(store, "COMMIT", 0, NULL);
    n_sent++;
  }
  if (sent)
    sent = PQpipelineSync(store->conn) == 1;
  pipeline_t outcome = sent ? PIPELINE_OK : PIPELINE_LOST;
  bool reported = false;
  /* Read each statement's result (then the NULL that ends it), and the
   * sync. A statement after a failed one comes back PIPELINE_ABORTED. */
  for (size_t k = 0; sent && k <= n_sent; k++) {
    PGresult *result = PQgetResult(store->conn);
    if (result == NULL) {
      outcome = PIPELINE_LOST;
      break;
    }
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(result);
      break;
    }
    if (status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED) {
      if (!reported && status == PGRES_FATAL_ERROR) {
        hpt__store_result_error(store, result, error);
        reported = true;
      }
      if (outcome == PIPELINE_OK)
        outcome = PIPELINE_REFUSED;
    } else if (k >= first_write && k < first_write + n) {
      check_changed(&store->queue[k - first_write], result);
    }
    PQclear(result);
    while ((result = PQgetResult(store->conn)) != NULL)
      PQclear(result); /* the NULL after each statement's result */
  }
  if (PQstatus(store->conn) == CONNECTION_BAD)
    outcome = PIPELINE_LOST;
  if (outcome == PIPELINE_LOST) {
    if (!reported)
      HPT_ERR(error, HPT_EDB, "connection lost: %s",
              PQerrorMessage(store->conn));
    return outcome;
  }
  if (PQexitPipelineMode(store->conn) != 1 && outcome == PIPELINE_OK) {
    HPT_ERR(error, HPT_EDB, "cannot leave pipeline mode: %s",
            PQerrorMessage(store->conn));
    outcome = PIPELINE_REFUSED;
  }
  return outcome;
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
  for (size_t i = 0; i < n; i++)
    queued_free(&store->queue[i]);
  memmove(store->queue, store->queue + n,
          (store->queue_length - n) * sizeof *store->queue);
  store->queue_length -= n;
}

int hpt__store_batch_flush(hpt_store_t *store, bool durable,
                           hpt_error_t *error) {
  while (store->queue_length > 0) {
    size_t n =
        store->queue_length < PIPELINE_MAX ? store->queue_length : PIPELINE_MAX;
    bool last = n == store->queue_length;
    pipeline_t outcome = run_pipeline(store, n, durable && last, error);
    if (outcome == PIPELINE_LOST) {
      /* libpq leaves pipeline mode with the connection; nothing of this
       * transaction was committed: replay it once the server is back. */
      if (!hpt__store_recover(store, error))
        return error ? error->code : HPT_EDB;
      continue;
    }
    if (outcome == PIPELINE_REFUSED) {
      /* The error left the explicit transaction open and aborted: the
       * statements after it, COMMIT included, were skipped. */
      if (PQtransactionStatus(store->conn) != PQTRANS_IDLE)
        hpt__store_rollback(store);
      hpt_log(HPT_LOG_WARN, "batch_refused",
              "writes=%zu error=\"%s\" action=one_by_one", n,
              error ? error->message : "");
      run_one_by_one(store, n);
      queue_drop_front(store, n);
      if (last && durable)
        return hpt__store_barrier_now(store, error);
      continue;
    }
    queue_drop_front(store, n);
  }
  return HPT_OK;
}

void hpt__store_batch_discard(hpt_store_t *store) {
  queue_drop_front(store, store->queue_length);
  free(store->queue);
  store->queue = NULL;
  store->queue_capacity = 0;
}
