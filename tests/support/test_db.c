/* test_db.c — see test_db.h. One lazily started cluster per test
 * executable, one fresh database per call. */
#include "test_db.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "embedded_db.h"
#include "store.h"

#define HOME_ENV "HPT_TEST_DB_HOME"

/* Set in the runner process by PRE_ALL: the directory it must clean. */
static char owned_home[PATH_MAX];
/* Per test process: whether this process already saw the cluster up. */
static int cluster_checked;

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void remove_cluster(const char *home) {
  hpt_error_t error;
  if (hpt_embedded_db_stop(home, &error) != HPT_OK)
    fprintf(stderr, "test_db: %s\n", error.message);
  const char *keep = getenv("HPT_TEST_KEEP_DB");
  if (keep != NULL && keep[0] == '1') {
    fprintf(stderr, "test_db: kept %s\n", home);
    return;
  }
  nftw(home, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_home(char *buffer, size_t size, hpt_error_t *error) {
  char template[] = "/tmp/hpt-test-XXXXXX";
  if (mkdtemp(template) == NULL)
    return HPT_ERR(error, HPT_ESYSTEM, "test_db: mkdtemp: %s", strerror(errno));
  /* The postgres user must traverse it when tests run as root. */
  chmod(template, 0755);
  snprintf(buffer, size, "%s", template);
  setenv(HOME_ENV, template, 1);
  return HPT_OK;
}

ReportHook(PRE_ALL)(struct criterion_test_set *tests) {
  (void)tests;
  hpt_error_t error;
  if (make_home(owned_home, sizeof owned_home, &error) != HPT_OK) {
    fprintf(stderr, "%s\n", error.message);
    owned_home[0] = '\0';
  }
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
  (void)stats;
  if (owned_home[0] != '\0')
    remove_cluster(owned_home);
  owned_home[0] = '\0';
}

/* Without the runner's hook (a program that is not a criterion runner):
 * this process owns a cluster of its own and removes it at exit. */
static void remove_own_cluster(void) {
  if (owned_home[0] != '\0')
    remove_cluster(owned_home);
}

/* A throwaway cluster need not survive a crash: no fsync. The settings go
 * into postgresql.conf after the first start (initdb wrote it), and take
 * effect on a restart. */
static int make_fast(const char *home, hpt_error_t *error) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/pgdata/postgresql.conf", home);
  FILE *conf = fopen(path, "a");
  if (conf == NULL)
    return HPT_ERR(error, HPT_ESYSTEM, "test_db: %s: %s", path,
                   strerror(errno));
  fputs("\n# test_db.c: a throwaway cluster\nfsync = off\n"
        "synchronous_commit = off\nfull_page_writes = off\n",
        conf);
  if (fclose(conf) != 0)
    return HPT_ERR(error, HPT_ESYSTEM, "test_db: %s: %s", path,
                   strerror(errno));
  int rc = hpt_embedded_db_stop(home, error);
  return rc == HPT_OK ? hpt_embedded_db_start(home, error) : rc;
}

static int ensure_cluster(const char **home, hpt_error_t *error) {
  *home = getenv(HOME_ENV);
  if (*home == NULL || (*home)[0] == '\0') {
    int rc = make_home(owned_home, sizeof owned_home, error);
    if (rc != HPT_OK)
      return rc;
    atexit(remove_own_cluster);
    *home = owned_home;
  }
  if (cluster_checked)
    return HPT_OK;
  char lock_path[PATH_MAX];
  snprintf(lock_path, sizeof lock_path, "%s/test_db.lock", *home);
  int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    int rc = HPT_ERR(error, HPT_ESYSTEM, "test_db: lock %s: %s", lock_path,
                     strerror(errno));
    if (lock >= 0)
      close(lock);
    return rc;
  }
  int rc = HPT_OK;
  if (!hpt_embedded_db_running(*home)) {
    rc = hpt_embedded_db_start(*home, error);
    if (rc == HPT_OK)
      rc = make_fast(*home, error);
  }
  close(lock); /* releases the flock */
  if (rc == HPT_OK)
    cluster_checked = 1;
  return rc;
}

int hpt_test_db_create(char *buffer, size_t size, hpt_error_t *error) {
  static unsigned counter;
  const char *home;
  int rc = ensure_cluster(&home, error);
  if (rc != HPT_OK)
    return rc;
  char url[PATH_MAX + 64], name[64];
  if ((rc = hpt_embedded_db_url(home, url, sizeof url, error)) != HPT_OK)
    return rc;
  const char *query = strchr(url, '?');
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  snprintf(name, sizeof name, "test_%d_%u_%lx", (int)getpid(), counter++,
           (unsigned long)now.tv_nsec ^ (unsigned long)random());
  char admin[PATH_MAX + 64];
  snprintf(admin, sizeof admin, "postgresql:///postgres%s", query);
  if ((rc = hpt_store_database_ensure(admin, name, error)) != HPT_OK)
    return rc;
  int n = snprintf(buffer, size, "postgresql:///%s%s", name, query);
  if (n < 0 || (size_t)n >= size)
    return HPT_ERR(error, HPT_EINVAL, "test_db: URL buffer too small");
  return HPT_OK;
}

const char *hpt_test_db_url(void) {
  static _Thread_local char url[PATH_MAX + 128];
  hpt_error_t error;
  if (hpt_test_db_create(url, sizeof url, &error) != HPT_OK)
    cr_assert_fail("test_db: %s", error.message);
  return url;
}

const char *hpt_test_db_home(void) {
  const char *home = NULL;
  hpt_error_t error;
  if (ensure_cluster(&home, &error) != HPT_OK)
    cr_assert_fail("test_db: %s", error.message);
  return home;
}
