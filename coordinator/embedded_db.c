/* embedded_db.c — see embedded_db.h. Runs initdb / pg_ctl as child
 * processes (as the `postgres` user when hpt runs as root) and asks the
 * store to create the `hpt` database; no SQL here.
 */
#include "embedded_db.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define PG_PORT "5432"
#define SOCKET_NAME ".s.PGSQL." PG_PORT

/* Who runs the server: ourselves, or `postgres` when we are root. */
typedef struct server_user {
  bool switch_user;
  uid_t uid;
  gid_t gid;
} server_user_t;

static int server_user(server_user_t *user, hpt_error_t *error) {
  memset(user, 0, sizeof *user);
  if (geteuid() != 0)
    return HPT_OK;
  struct passwd *pw = getpwnam("postgres");
  if (pw == NULL)
    return HPT_ERR(error, HPT_ESYSTEM,
                   "running as root needs the 'postgres' user to own the "
                   "embedded database, and there is none");
  user->switch_user = true;
  user->uid = pw->pw_uid;
  user->gid = pw->pw_gid;
  return HPT_OK;
}

int hpt_embedded_db_home(char *buffer, size_t size, hpt_error_t *error) {
  const char *home = getenv("HPT_HOME");
  if (home == NULL || home[0] == '\0')
    home = ".hpt";
  int n;
  if (home[0] == '/') {
    n = snprintf(buffer, size, "%s", home);
  } else {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
      return HPT_ERR(error, HPT_ESYSTEM,
                     "cannot read the current directory: %s", strerror(errno));
    const char *relative = strncmp(home, "./", 2) == 0 ? home + 2 : home;
    n = snprintf(buffer, size, "%s/%s", strcmp(cwd, "/") ? cwd : "", relative);
  }
  if (n < 0 || (size_t)n >= size)
    return HPT_ERR(error, HPT_EINVAL, "HPT_HOME is too long");
  while (n > 1 && buffer[n - 1] == '/')
    buffer[--n] = '\0';
  return HPT_OK;
}

/* The directory holding pg_ctl: $HPT_PG_BINDIR, the newest
 * /usr/lib/postgresql/N/bin, or "" (search PATH). */
static void find_bindir(char *buffer, size_t size) {
  const char *env = getenv("HPT_PG_BINDIR");
  buffer[0] = '\0';
  if (env != NULL && env[0] != '\0') {
    snprintf(buffer, size, "%s", env);
    return;
  }
  glob_t found;
  if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &found) != 0)
    return;
  long best = -1;
  for (size_t i = 0; i < found.gl_pathc; i++) {
    long version =
        strtol(found.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
    if (version > best) {
      best = version;
      snprintf(buffer, size, "%.*s", (int)(strlen(found.gl_pathv[i]) - 7),
               found.gl_pathv[i]); /* drop "/pg_ctl" */
    }
  }
  globfree(&found);
}

/* Runs argv[0] (from bindir, or PATH when bindir is "") as the server user,
 * in `cwd`, and waits. Output goes to `log` (an open file) when given.
 * Returns the exit status, or -1 when it could not run (errno kept). */
static int run_program(const server_user_t *user, const char *bindir,
                       const char *cwd, char *const argv[], FILE *log) {
  char program[PATH_MAX];
  if (bindir[0] != '\0')
    snprintf(program, sizeof program, "%s/%s", bindir, argv[0]);
  else
    snprintf(program, sizeof program, "%s", argv[0]);
  if (log != NULL)
    fflush(log);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    /* Only async-signal-safe calls from here on. */
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0)
      dup2(null, 0);
    if (log != NULL) {
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
    }
    if (user->switch_user && (setgroups(1, &user->gid) != 0 ||
                              setgid(user->gid) != 0 || setuid(user->uid) != 0))
      _exit(126);
    if (chdir(cwd) != 0)
      _exit(126);
    if (bindir[0] != '\0')
      execv(program, argv);
    else
      execvp(program, argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Whether the server user can reach `path` (every parent traversable):
 * checked by a child that becomes that user. */
static bool user_can_reach(const server_user_t *user, const char *path) {
  if (!user->switch_user)
    return access(path, X_OK) == 0;
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    if (setgroups(1, &user->gid) != 0 || setgid(user->gid) != 0 ||
        setuid(user->uid) != 0)
      _exit(2);
    _exit(access(path, X_OK) == 0 ? 0 : 1);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int make_dir(const char *path, mode_t mode, const server_user_t *user,
                    hpt_error_t *error) {
  if (mkdir(path, mode) != 0 && errno != EEXIST)
    return HPT_ERR(error, HPT_ESYSTEM, "cannot create %s: %s", path,
                   strerror(errno));
  if (user != NULL && user->switch_user &&
      chown(path, user->uid, user->gid) != 0)
    return HPT_ERR(error, HPT_ESYSTEM, "cannot give %s to postgres: %s", path,
                   strerror(errno));
  return HPT_OK;
}

/* mkdir -p for the home itself (owned by whoever runs hpt). */
static int make_home(const char *home, hpt_error_t *error) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", home);
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
      return HPT_ERR(error, HPT_ESYSTEM, "cannot create %s: %s", path,
                     strerror(errno));
    *p = '/';
  }
  return make_dir(path, 0755, NULL, error);
}

/* Why a server program failed, in one line: the last FATAL/PANIC/ERROR or
 * "error:" line of pg.log, else its last line. */
static void describe_failure(const char *home, const char *program, int status,
                             char *buffer, size_t size) {
  if (status < 0) {
    snprintf(buffer, size, "cannot run %s: %s", program, strerror(errno));
    return;
  }
  if (status == 127) {
    snprintf(buffer, size,
             "cannot run %s (not installed?); set HPT_PG_BINDIR to the "
             "directory holding PostgreSQL's server programs",
             program);
    return;
  }
  char path[PATH_MAX], line[512], last[512] = "", worst[512] = "";
  snprintf(path, sizeof path, "%s/pg.log", home);
  FILE *file = fopen(path, "r");
  while (file != NULL && fgets(line, sizeof line, file) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0')
      continue;
    snprintf(last, sizeof last, "%s", line);
    if (strstr(line, "FATAL:") || strstr(line, "PANIC:") ||
        strstr(line, "ERROR:") || strstr(line, "error:"))
      snprintf(worst, sizeof worst, "%s", line);
  }
  if (file != NULL)
    fclose(file);
  /* Truncating a long log line is fine: the path to the log follows. */
  if (snprintf(buffer, size, "%s failed (status %d): %s (log: %s)", program,
               status, worst[0] ? worst : (last[0] ? last : "no output"),
               path) < 0)
    buffer[0] = '\0';
}

bool hpt_embedded_db_running(const char *home) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/pgdata/postmaster.pid", home);
  FILE *file = fopen(path, "r");
  if (file == NULL)
    return false;
  long pid = 0;
  int fields = fscanf(file, "%ld", &pid);
  fclose(file);
  if (fields != 1 || pid <= 0)
    return false;
  if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
    return false;
  struct stat st;
  snprintf(path, sizeof path, "%s/run/" SOCKET_NAME, home);
  return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int hpt_embedded_db_url(const char *home, char *buffer, size_t size,
                        hpt_error_t *error) {
  static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                             "WXYZ0123456789-._~/";
  size_t n = (size_t)snprintf(buffer, size, "postgresql:///hpt?host=");
  for (const unsigned char *p = (const unsigned char *)home; *p && n < size;
       p++) {
    if (strchr(safe, *p) != NULL)
      n += (size_t)snprintf(buffer + n, size - n, "%c", *p);
    else
      n += (size_t)snprintf(buffer + n, size - n, "%%%02X", *p);
  }
  if (n < size)
    n += (size_t)snprintf(buffer + n, size - n, "/run&user=hpt&port=" PG_PORT);
  if (n >= size)
    return HPT_ERR(error, HPT_EINVAL, "database URL too long for %s", home);
  return HPT_OK;
}

/* Checks made before anything is created: socket path length, quoting. */
static int check_home(const char *home, hpt_error_t *error) {
  struct sockaddr_un address;
  if (strlen(home) + strlen("/run/" SOCKET_NAME) >= sizeof address.sun_path)
    return HPT_ERR(error, HPT_EINVAL,
                   "HPT_HOME %s is too long for a unix socket path (%zu bytes "
                   "at most); set HPT_HOME to a shorter directory",
                   home,
                   sizeof address.sun_path - 1 - strlen("/run/" SOCKET_NAME));
  if (strchr(home, '\'') != NULL || strchr(home, '\\') != NULL)
    return HPT_ERR(error, HPT_EINVAL,
                   "HPT_HOME %s must not contain quotes or backslashes", home);
  return HPT_OK;
}

static int prepare_home(const char *home, const server_user_t *user,
                        hpt_error_t *error) {
  char path[PATH_MAX];
  int rc = make_home(home, error);
  if (rc != HPT_OK)
    return rc;
  if (!user_can_reach(user, home))
    return HPT_ERR(error, HPT_ESYSTEM,
                   "the postgres user cannot reach %s (a parent directory is "
                   "not traversable); set HPT_HOME to a directory the postgres "
                   "user can reach, e.g. under /var/lib or /tmp",
                   home);
  snprintf(path, sizeof path, "%s/pgdata", home);
  if ((rc = make_dir(path, 0700, user, error)) != HPT_OK)
    return rc;
  snprintf(path, sizeof path, "%s/run", home);
  if ((rc = make_dir(path, 0755, user, error)) != HPT_OK)
    return rc;
  snprintf(path, sizeof path, "%s/pg.log", home);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0)
    return HPT_ERR(error, HPT_ESYSTEM, "cannot create %s: %s", path,
                   strerror(errno));
  close(fd);
  if (user->switch_user && chown(path, user->uid, user->gid) != 0)
    return HPT_ERR(error, HPT_ESYSTEM, "cannot give %s to postgres: %s", path,
                   strerror(errno));
  return HPT_OK;
}

static int init_cluster(const char *home, const server_user_t *user,
                        const char *bindir, hpt_error_t *error) {
  char pgdata[PATH_MAX], version[PATH_MAX + 16];
  snprintf(pgdata, sizeof pgdata, "%s/pgdata", home);
  snprintf(version, sizeof version, "%s/PG_VERSION", pgdata);
  if (access(version, F_OK) == 0)
    return HPT_OK;
  hpt_log(HPT_LOG_INFO, "embedded_db_initdb", "pgdata=%s", pgdata);
  char logpath[PATH_MAX];
  snprintf(logpath, sizeof logpath, "%s/pg.log", home);
  FILE *log = fopen(logpath, "a");
  char *argv[] = {"initdb",     "-D",
                  pgdata,       "-U",
                  "hpt",        "--auth=trust",
                  "-E",         "UTF8",
                  "--locale=C", "--no-instructions",
                  NULL};
  int status = run_program(user, bindir, home, argv, log);
  if (log != NULL)
    fclose(log);
  if (status != 0) {
    char why[HPT_ERROR_MESSAGE_MAX - 64];
    describe_failure(home, "initdb", status, why, sizeof why);
    return HPT_ERR(error, HPT_ECHILD, "%s", why);
  }
  return HPT_OK;
}

int hpt_embedded_db_start(const char *home, hpt_error_t *error) {
  server_user_t user;
  char bindir[PATH_MAX];
  int rc = check_home(home, error);
  if (rc == HPT_OK)
    rc = server_user(&user, error);
  if (rc != HPT_OK)
    return rc;
  find_bindir(bindir, sizeof bindir);
  if (!hpt_embedded_db_running(home)) {
    if ((rc = prepare_home(home, &user, error)) != HPT_OK ||
        (rc = init_cluster(home, &user, bindir, error)) != HPT_OK)
      return rc;
    char pgdata[PATH_MAX], logpath[PATH_MAX], options[PATH_MAX + 64];
    snprintf(pgdata, sizeof pgdata, "%s/pgdata", home);
    snprintf(logpath, sizeof logpath, "%s/pg.log", home);
    snprintf(options, sizeof options,
             "-k '%s/run' -c listen_addresses='' -p " PG_PORT, home);
    char *argv[] = {"pg_ctl", "-D", pgdata, "-l", logpath, "-o",
                    options,  "-w", "-t",   "60", "start", NULL};
    FILE *log = fopen(logpath, "a");
    int status = run_program(&user, bindir, home, argv, log);
    if (log != NULL)
      fclose(log);
    if (status != 0) {
      char why[HPT_ERROR_MESSAGE_MAX - 64];
      describe_failure(home, "pg_ctl start", status, why, sizeof why);
      return HPT_ERR(error, HPT_ECHILD, "cannot start PostgreSQL: %s", why);
    }
    hpt_log(HPT_LOG_INFO, "embedded_db_started", "home=%s", home);
  }
  char url[PATH_MAX + 64], admin[PATH_MAX + 64];
  if ((rc = hpt_embedded_db_url(home, url, sizeof url, error)) != HPT_OK)
    return rc;
  /* The same server, database `postgres`, to create `hpt`. */
  snprintf(admin, sizeof admin, "postgresql:///postgres%s", strchr(url, '?'));
  rc = hpt_store_database_ensure(admin, "hpt", error);
  if (rc != HPT_OK)
    return hpt_error_prefix(error, "embedded database");
  return HPT_OK;
}

int hpt_embedded_db_stop(const char *home, hpt_error_t *error) {
  if (!hpt_embedded_db_running(home))
    return HPT_OK;
  server_user_t user;
  int rc = server_user(&user, error);
  if (rc != HPT_OK)
    return rc;
  char bindir[PATH_MAX], pgdata[PATH_MAX];
  find_bindir(bindir, sizeof bindir);
  snprintf(pgdata, sizeof pgdata, "%s/pgdata", home);
  char *argv[] = {"pg_ctl", "-D", pgdata, "-m",   "fast",
                  "-w",     "-t", "60",   "stop", NULL};
  char logpath[PATH_MAX];
  snprintf(logpath, sizeof logpath, "%s/pg.log", home);
  FILE *log = fopen(logpath, "a");
  int status = run_program(&user, bindir, home, argv, log);
  if (log != NULL)
    fclose(log);
  if (status != 0) {
    char why[HPT_ERROR_MESSAGE_MAX - 64];
    describe_failure(home, "pg_ctl stop", status, why, sizeof why);
    return HPT_ERR(error, HPT_ECHILD, "cannot stop PostgreSQL: %s", why);
  }
  hpt_log(HPT_LOG_INFO, "embedded_db_stopped", "home=%s", home);
  return HPT_OK;
}
