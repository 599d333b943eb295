/* test_embedded_db.c — coordinator/embedded_db.c: home and URL rules, the
 * shared test cluster, and a full start/stop/restart cycle of a cluster of
 * its own. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embedded_db.h"
#include "store.h"
#include "test_db.h"

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void remove_tree(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

Test(embedded_db, home_defaults_and_is_absolute) {
  char home[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 16];
  cr_assert_not_null(getcwd(cwd, sizeof cwd));
  unsetenv("HPT_HOME");
  cr_assert_eq(hpt_embedded_db_home(home, sizeof home, NULL), HPT_OK);
  snprintf(want, sizeof want, "%s/.hpt", cwd);
  cr_expect_str_eq(home, want);
  setenv("HPT_HOME", "data/hpt/", 1);
  cr_assert_eq(hpt_embedded_db_home(home, sizeof home, NULL), HPT_OK);
  snprintf(want, sizeof want, "%s/data/hpt", cwd);
  cr_expect_str_eq(home, want);
  setenv("HPT_HOME", "/srv/hpt", 1);
  cr_assert_eq(hpt_embedded_db_home(home, sizeof home, NULL), HPT_OK);
  cr_expect_str_eq(home, "/srv/hpt");
  hpt_error_t error;
  cr_expect_eq(hpt_embedded_db_home(home, 4, &error), HPT_EINVAL);
}

Test(embedded_db, url_points_at_the_socket_directory) {
  char url[256];
  cr_assert_eq(hpt_embedded_db_url("/srv/hpt", url, sizeof url, NULL), HPT_OK);
  cr_expect_str_eq(url,
                   "postgresql:///hpt?host=/srv/hpt/run&user=hpt&port=5432");
  cr_assert_eq(hpt_embedded_db_url("/srv/my hpt", url, sizeof url, NULL),
               HPT_OK);
  cr_expect_str_eq(
      url, "postgresql:///hpt?host=/srv/my%20hpt/run&user=hpt&port=5432");
  hpt_error_t error;
  cr_expect_eq(hpt_embedded_db_url("/srv/hpt", url, 20, &error), HPT_EINVAL);
}

Test(embedded_db, too_long_home_fails_before_creating_anything) {
  char home[200];
  memset(home, 'x', sizeof home);
  memcpy(home, "/tmp/", 5);
  home[sizeof home - 1] = '\0';
  hpt_error_t error;
  cr_assert_eq(hpt_embedded_db_start(home, &error), HPT_EINVAL);
  cr_expect_not_null(strstr(error.message, "unix socket"), "%s", error.message);
  cr_expect_not_null(strstr(error.message, "HPT_HOME"), "%s", error.message);
  cr_expect_neq(access(home, F_OK), 0);
  cr_expect_not(hpt_embedded_db_running(home));
}

Test(embedded_db, unreachable_home_for_postgres_is_explained) {
  if (geteuid() != 0)
    cr_skip_test("only meaningful as root");
  char parent[] = "/tmp/hpt-private-XXXXXX";
  cr_assert_not_null(mkdtemp(parent)); /* mode 0700: postgres cannot enter */
  char home[PATH_MAX];
  snprintf(home, sizeof home, "%s/home", parent);
  hpt_error_t error;
  int rc = hpt_embedded_db_start(home, &error);
  remove_tree(parent);
  cr_assert_neq(rc, HPT_OK);
  cr_expect_not_null(strstr(error.message, "set HPT_HOME to a directory the "
                                           "postgres user can reach"),
                     "%s", error.message);
  cr_expect_null(strchr(error.message, '\n'));
}

Test(embedded_db, shared_test_cluster_is_running) {
  const char *home = hpt_test_db_home();
  cr_assert(hpt_embedded_db_running(home));
  char url[PATH_MAX + 64];
  cr_assert_eq(hpt_embedded_db_url(home, url, sizeof url, NULL), HPT_OK);
  hpt_store_t *store = NULL;
  hpt_error_t error;
  cr_assert_eq(hpt_store_open(url, &store, &error), HPT_OK, "%s",
               error.message);
  hpt_store_close(&store);
  /* Starting a running cluster is a no-op. */
  cr_assert_eq(hpt_embedded_db_start(home, &error), HPT_OK, "%s",
               error.message);
}

Test(embedded_db, start_stop_restart_and_failure_message, .timeout = 180) {
  char home[] = "/tmp/hpt-embedded-XXXXXX";
  cr_assert_not_null(mkdtemp(home));
  chmod(home, 0755);
  hpt_error_t error;
  cr_assert_not(hpt_embedded_db_running(home));
  cr_assert_eq(hpt_embedded_db_stop(home, &error), HPT_OK); /* not running */

  int rc = hpt_embedded_db_start(home, &error);
  cr_assert_eq(rc, HPT_OK, "%s", error.message);
  cr_assert(hpt_embedded_db_running(home));
  char url[PATH_MAX + 64];
  cr_assert_eq(hpt_embedded_db_url(home, url, sizeof url, NULL), HPT_OK);
  hpt_store_t *store = NULL;
  cr_assert_eq(hpt_store_open(url, &store, &error), HPT_OK, "%s",
               error.message);
  cr_assert_eq(hpt_store_migrate(store, NULL, &error), HPT_OK, "%s",
               error.message);
  hpt_store_close(&store);
  cr_assert_eq(hpt_embedded_db_start(home, &error), HPT_OK, "%s",
               error.message);

  cr_assert_eq(hpt_embedded_db_stop(home, &error), HPT_OK, "%s", error.message);
  cr_assert_not(hpt_embedded_db_running(home));
  cr_assert_eq(hpt_embedded_db_stop(home, &error), HPT_OK);

  /* Restart: the data survived. */
  cr_assert_eq(hpt_embedded_db_start(home, &error), HPT_OK, "%s",
               error.message);
  cr_assert_eq(hpt_store_open(url, &store, &error), HPT_OK, "%s",
               error.message);
  int version = 0;
  cr_assert_eq(hpt_store_schema_version(store, &version, &error), HPT_OK);
  cr_expect_gt(version, 0);
  hpt_store_close(&store);
  cr_assert_eq(hpt_embedded_db_stop(home, &error), HPT_OK, "%s", error.message);

  /* A server that cannot start says why, in one line. */
  char conf[PATH_MAX];
  snprintf(conf, sizeof conf, "%s/pgdata/postgresql.conf", home);
  FILE *file = fopen(conf, "a");
  cr_assert_not_null(file);
  fputs("hpt_no_such_setting_at_all = 1\nshared_buffers = 'lots'\n", file);
  fclose(file);
  rc = hpt_embedded_db_start(home, &error);
  cr_expect_eq(rc, HPT_ECHILD, "%s", error.message);
  cr_expect_not_null(strstr(error.message, "cannot start PostgreSQL"), "%s",
                     error.message);
  cr_expect_not_null(strstr(error.message, "pg.log"), "%s", error.message);
  cr_expect_null(strchr(error.message, '\n'));
  cr_expect_not(hpt_embedded_db_running(home));
  remove_tree(home);
}
