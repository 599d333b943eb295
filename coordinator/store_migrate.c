/* store_migrate.c — see store.h: applying the SQL migrations embedded from
 * sql/ (migrations.h) and reading the schema version.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migrations.h"
#include "store.h"
#include "store_internal.h"

/* Any constant shared by every hpt process: serialises migrations. */
#define MIGRATION_LOCK_KEY "7235718420931"

static int apply_migration(hpt_store_t *store, const hpt_migration_t *migration,
                           hpt_error_t *error) {
  int rc = hpt__store_begin(store, error);
  if (rc != HPT_OK)
    return rc;
  /* Trusted text compiled into the binary, several statements: PQexec. */
  PGresult *result = PQexec(store->conn, migration->sql);
  if (PQresultStatus(result) != PGRES_COMMAND_OK &&
      PQresultStatus(result) != PGRES_TUPLES_OK) {
    rc = hpt__store_result_error(store, result, error);
    PQclear(result);
    goto fail;
  }
  PQclear(result);
  char version[16];
  snprintf(version, sizeof version, "%d", migration->version);
  const char *params[] = {version, migration->name};
  rc = hpt__store_exec(
      store, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
      params, NULL, error);
  if (rc != HPT_OK)
    goto fail;
  rc = hpt__store_commit(store, error);
  if (rc != HPT_OK)
    goto fail;
  hpt_log(HPT_LOG_INFO, "migration_applied", "version=%d name=%s",
          migration->version, migration->name);
  return HPT_OK;
fail:
  hpt__store_rollback(store);
  return hpt_error_prefix(error, "migration %03d_%s", migration->version,
                          migration->name);
}

int hpt_store_migrate(hpt_store_t *store, int *applied, hpt_error_t *error) {
  if (applied != NULL)
    *applied = 0;
  int rc =
      hpt__store_exec(store, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")",
                      0, NULL, NULL, error);
  if (rc != HPT_OK)
    return rc;
  PGresult *result = NULL;
  rc = hpt__store_exec(store,
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version integer PRIMARY KEY,"
                       " name text NOT NULL,"
                       " applied_at timestamptz NOT NULL DEFAULT now())",
                       0, NULL, NULL, error);
  if (rc != HPT_OK)
    goto out;
  rc = hpt__store_exec(store, "SELECT version FROM schema_migrations", 0, NULL,
                       &result, error);
  if (rc != HPT_OK)
    goto out;
  for (int i = 0; i < hpt_migrations_count; i++) {
    bool done = false;
    for (int row = 0; row < PQntuples(result) && !done; row++)
      done = atoi(PQgetvalue(result, row, 0)) == hpt_migrations[i].version;
    if (done)
      continue;
    rc = apply_migration(store, &hpt_migrations[i], error);
    if (rc != HPT_OK)
      goto out;
    if (applied != NULL)
      (*applied)++;
  }
out:
  PQclear(result);
  /* Session locks outlive failed transactions: always let go. */
  hpt_error_t unlock_error;
  if (hpt__store_exec(store,
                      "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", 0,
                      NULL, NULL, &unlock_error) != HPT_OK)
    hpt_log(HPT_LOG_WARN, "store_unlock_failed", "message=\"%s\"",
            unlock_error.message);
  return rc;
}

int hpt_store_schema_version(hpt_store_t *store, int *version,
                             hpt_error_t *error) {
  *version = 0;
  PGresult *result = NULL;
  int rc =
      hpt__store_exec(store, "SELECT to_regclass('schema_migrations') IS NULL",
                      0, NULL, &result, error);
  if (rc != HPT_OK)
    return rc;
  bool missing = strcmp(PQgetvalue(result, 0, 0), "t") == 0;
  PQclear(result);
  if (missing)
    return HPT_OK;
  rc = hpt__store_exec(
      store, "SELECT COALESCE(max(version), 0) FROM schema_migrations", 0, NULL,
      &result, error);
  if (rc != HPT_OK)
    return rc;
  *version = atoi(PQgetvalue(result, 0, 0));
  PQclear(result);
  return HPT_OK;
}
