/* embedded_db.h — hpt's private PostgreSQL cluster under $HPT_HOME.
 *
 * With no --db URL and no HPT_DB, hpt keeps its data in a cluster of its own:
 *   $HPT_HOME/pgdata   the cluster (initdb on first start)
 *   $HPT_HOME/run      the unix socket directory (no TCP listener)
 *   $HPT_HOME/pg.log   the server log
 * HPT_HOME defaults to ./.hpt. PostgreSQL refuses to run as root: when hpt
 * runs as root, the cluster belongs to and runs as the unprivileged
 * `postgres` user (Debian's package creates it). Server binaries are found in
 * $HPT_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin, else PATH.
 * The cluster's superuser is `hpt`, local connections are trusted, and the
 * database is `hpt`.
 */
#ifndef HPT_EMBEDDED_DB_H
#define HPT_EMBEDDED_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* $HPT_HOME or "./.hpt", made absolute. Writes into buffer. */
int hpt_embedded_db_home(char *buffer, size_t size, hpt_error_t *error);

/* Initialises (first use) and starts the cluster under `home`; waits until it
 * accepts connections and the `hpt` database exists. Already running: HPT_OK
 * and nothing happens. */
int hpt_embedded_db_start(const char *home, hpt_error_t *error);

/* Stops it (fast shutdown). Not running: HPT_OK. */
int hpt_embedded_db_stop(const char *home, hpt_error_t *error);

bool hpt_embedded_db_running(const char *home);

/* libpq URL for it: postgresql:///hpt?host=<home>/run&user=hpt&port=5432 */
int hpt_embedded_db_url(const char *home, char *buffer, size_t size,
                        hpt_error_t *error);

#endif
