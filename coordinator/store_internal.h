/* store_internal.h — what store.c, store_trials.c and store_query.c share.
 * Private to the store room: nothing outside coordinator/store*.c includes
 * it, and it is the only header besides libpq-fe.h that knows hpt_store_t.
 */
#ifndef HPT_STORE_INTERNAL_H
#define HPT_STORE_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Statements hpt__store_exec prepared on this connection (named
 * "hpt_<index>"), so that the hot ones are parsed and planned once rather
 * than at every call. Keyed by the SQL text itself (a copy is kept), so a
 * statement built at run time can never be mistaken for another one. */
#define HPT__STORE_STATEMENTS_MAX 96

typedef struct hpt__store_statement {
  char *sql; /* owned copy */
  size_t length;
} hpt__store_statement_t;

/* A write queued by hpt__store_write (store_batch.c). */
typedef struct hpt__store_queued hpt__store_queued_t;

typedef enum {
  HPT__PIPELINE_OK,
  HPT__PIPELINE_REFUSED, /* a statement failed: the transaction is void */
  HPT__PIPELINE_LOST,    /* the connection went: nothing was committed */
} hpt__store_pipeline_t;

/* The pipelined transaction on its way (store_batch.c): the first n
 * queued writes, between BEGIN (and SET LOCAL ..., when durable) and
 * COMMIT. At most one at a time. */
typedef struct hpt__store_flight {
  bool active;        /* sent; results not all settled */
  bool entered;       /* in libpq pipeline mode */
  bool done;          /* every result read (or the connection lost) */
  bool durable;       /* commits synchronously, with the barrier row */
  size_t n;           /* queued writes it carries */
  size_t n_sent;      /* statements sent */
  size_t first_write; /* index of the first write among them */
  size_t next;        /* the statement whose result comes next */
  bool after_result;  /* the NULL that ends a statement's result is due */
  bool reported;      /* error holds the first failure */
  hpt__store_pipeline_t outcome;
  hpt_error_t error;
  int landed_rc; /* how settling it went (HPT_OK or an error code) */
} hpt__store_flight_t;

struct hpt_store {
  PGconn *conn;               /* owned; one connection, one thread at a time */
  hpt__store_queued_t *queue; /* owned: writes not yet sent (store_batch.c) */
  size_t queue_length, queue_capacity;
  hpt__store_flight_t flight; /* the queue's head, sent and not yet settled */
  hpt__store_statement_t statements[HPT__STORE_STATEMENTS_MAX];
  int n_statements;      /* prepared on conn; forgotten when it is reset */
  bool in_transaction;   /* between hpt__store_begin and commit/rollback */
  bool asynchronous;     /* synchronous_commit off (restored on reconnect) */
  double outage_warn_s;  /* say loudly that the database is away after this */
  double outage_limit_s; /* give up (HPT_EDB) after this */
};

/* After a failed statement: if the connection itself is lost, waits for
 * the server to come back (reconnecting with backoff, logging as it goes)
 * and returns true: the caller may run its statement or transaction again.
 * Returns false when the failure was not a lost connection, or the outage
 * outlasted outage_limit_s. Never call inside a transaction. */
bool hpt__store_recover(hpt_store_t *store, hpt_error_t *error);

/* Forgets the prepared statements (after a reset connection, or before a
 * store is freed) and frees their copies. */
void hpt__store_forget_statements(hpt_store_t *store);

/* Runs `call` (an int expression) again after every recovered outage. */
#define HPT__STORE_RETRYING(store, error, call)                                \
  do {                                                                         \
    int retrying_rc_;                                                          \
    while ((retrying_rc_ = (call)) == HPT_EDB &&                               \
           hpt__store_recover((store), (error)))                               \
      ;                                                                        \
    return retrying_rc_;                                                       \
  } while (0)

/* The index of `sql`'s prepared statement on this connection, preparing
 * it on first use; -1 when it is not prepared (cache full, or the server
 * refused it: run it unprepared, which reports the server's error). */
int hpt__store_prepared(hpt_store_t *store, const char *sql, int n_params);
void hpt__store_statement_name(int index, char *name, size_t size);

/* hpt__store_exec without flushing the write queue first. */
int hpt__store_exec_now(hpt_store_t *store, const char *sql, int n_params,
                        const char *const *params, PGresult **result,
                        hpt_error_t *error);

/* A write whose result the caller can do without (store_batch.c). In
 * group-commit mode (store->asynchronous) and outside a transaction it is
 * queued, *result is NULL and it returns HPT_OK: the write is sent at the
 * next flush, in order, before any other statement. Otherwise it runs at
 * once as hpt__store_exec. `label` says what the write is, for the log;
 * when `guarded`, a queued write that changes no row (or whose first
 * column is 0: its guard failed, the trial was not RUNNING) is logged as
 * ignored. `sql` must be a string that
 * outlives the queue (a literal). */
int hpt__store_write(hpt_store_t *store, const char *sql, int n_params,
                     const char *const *params, const char *label, bool guarded,
                     PGresult **result, hpt_error_t *error);

/* Sends every queued write, in one pipelined transaction per 512; with
 * `durable`, the last one also commits synchronously with the barrier row
 * (hpt_store_barrier). Keeps the queue when it fails. */
int hpt__store_batch_flush(hpt_store_t *store, bool durable,
                           hpt_error_t *error);

/* Waits for the pipelined transaction in flight, if any, and settles it
 * (before any statement that needs the connection to itself). */
int hpt__store_land(hpt_store_t *store, hpt_error_t *error);

/* Drops whatever is queued and frees the queue (closing the store). */
void hpt__store_batch_discard(hpt_store_t *store);

/* The durability barrier alone (nothing queued): one round trip. */
int hpt__store_barrier_now(hpt_store_t *store, hpt_error_t *error);

/* Runs `sql` with text parameters (NULL entries are SQL NULL), after
 * flushing the write queue so that it sees every earlier write. On success,
 * when `result` is not NULL, *result holds the PGresult (caller PQclear()s
 * it); otherwise the result is cleared. On failure *result is NULL and the
 * error carries PostgreSQL's primary message: HPT_EEXIST for a unique
 * violation (SQLSTATE 23505), HPT_EDB for anything else. */
int hpt__store_exec(hpt_store_t *store, const char *sql, int n_params,
                    const char *const *params, PGresult **result,
                    hpt_error_t *error);

/* Turns a failed result (or NULL) into HPT_EEXIST / HPT_EDB as
 * hpt__store_exec does. Does not clear `result`. */
int hpt__store_result_error(hpt_store_t *store, const PGresult *result,
                            hpt_error_t *error);

/* BEGIN / COMMIT. Rollback cannot fail (errors are logged). */
int hpt__store_begin(hpt_store_t *store, hpt_error_t *error);
int hpt__store_commit(hpt_store_t *store, hpt_error_t *error);
void hpt__store_rollback(hpt_store_t *store);

/* Text of a double for PostgreSQL, in `buffer` (>= 32 bytes): %.17g, or
 * "Infinity"/"-Infinity". Returns NULL (SQL NULL) for NaN. */
const char *hpt__store_double_text(double value, char *buffer, size_t size);

/* A column as a double: NaN when SQL NULL. */
double hpt__store_get_double(const PGresult *result, int row, int column);

/* Removes the insignificant spaces jsonb puts after ':' and ',' (outside
 * strings), in place: {"a": 1, "b": "x y"} -> {"a":1,"b":"x y"}. */
void hpt__store_json_compact(char *text);

/* Direction-aware ORDER BY for "best first" over trial_history (needs the
 * `direction` and `value` columns): minimize ascending, maximize descending,
 * ties by number. */
#define HPT__STORE_BEST_ORDER                                                  \
  "CASE WHEN direction = 'minimize' THEN value ELSE -value END ASC, number "   \
  "ASC"

#endif
