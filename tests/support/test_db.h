/* test_db.h — a throwaway PostgreSQL for criterion tests.
 *
 * Usage, in any test executable that links hpt_test_support:
 *
 *   #include "test_db.h"
 *   Test(store, something) {
 *     const char *url = hpt_test_db_url();   // a fresh, empty database
 *     hpt_store_t *store = NULL;
 *     cr_assert_eq(hpt_store_open(url, &store, NULL), HPT_OK);
 *     ...
 *   }
 *
 * One cluster per test executable, started lazily by the first test that
 * asks for a database (initdb + start take a few seconds, once), shared by
 * all its tests; every call hands out a new database (CREATE DATABASE
 * test_<pid>_<n>_<random>), so tests never see each other's rows. When the
 * run ends (criterion's POST_ALL, in the runner process) the cluster is
 * stopped and its directory removed.
 *
 * How: a PRE_ALL hook in the runner makes a directory /tmp/hpt-test-XXXXXX
 * (mode 0755, reachable by the `postgres` user when tests run as root) and
 * exports it as HPT_TEST_DB_HOME; criterion's test processes inherit the
 * environment, and the first of them to need the cluster starts it under a
 * lock file there. Works with --jobs N. If the runner is killed, the cluster
 * is left running; stop it with pg_ctl -D <dir>/pgdata stop (the dir is
 * /tmp/hpt-test-XXXXXX). HPT_TEST_KEEP_DB=1 keeps the directory after the
 * run, for debugging.
 *
 * Failures abort the calling test with cr_assert_fail and a one-line reason.
 */
#ifndef HPT_TEST_DB_H
#define HPT_TEST_DB_H

#include <stddef.h>

#include "error.h"

/* URL of a new, empty database on the shared test cluster (not
 * migrated). Borrowed: valid until the next call from the same thread;
 * copy it to keep it. Aborts the test on failure. */
const char *hpt_test_db_url(void);

/* Same, without aborting: writes the URL into `buffer`. For use outside a
 * criterion test body. */
int hpt_test_db_create(char *buffer, size_t size, hpt_error_t *error);

/* The shared cluster's home (HPT_HOME layout of embedded_db.h), started if
 * needed. Borrowed, valid for the whole run. Aborts the test on failure. */
const char *hpt_test_db_home(void);

#endif
