/* cli_run.c — `hpt study run` and `hpt serve`: the coordinator's loop.
 *
 * Both build the same machine: a libuv loop, a dispatcher on a ROUTER
 * socket, and the studies it serves. `study run` serves one study, can start
 * local worker processes, prints a live progress line and exits when the
 * study is finished. `serve` is the daemon: it picks up every RUNNING study
 * in the database (also ones created after it started) and runs until
 * SIGINT/SIGTERM.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

#include "cli.h"
#include "dispatcher.h"
#include "log.h"
#include "metrics_http.h"
#include "study.h"
#include "wire.h"
#include "zap.h"

#define MAX_LOCAL_WORKERS 256

typedef struct run_state {
  uv_loop_t loop;
  void *zmq_context;
  hpt_store_t *store;
  hpt_dispatcher_t *dispatcher;
  hpt_study_t **studies;
  size_t n_studies;
  uv_process_t workers[MAX_LOCAL_WORKERS];
  int n_workers;
  int workers_alive;
  uv_timer_t progress_timer;
  uv_timer_t kill_timer;
  uv_signal_t sigint, sigterm;
  bool serve;
  bool stopping;
  bool interrupted;
  bool stopped; /* the study was stopped (hpt study stop) and drained */
  bool tty;
  uint64_t started_ms;
  int finished_at_start;
  int last_printed_finished;
  uint64_t last_printed_ms;
  const char *worker_log_level;
  hpt_metrics_http_t *metrics;  /* --metrics endpoint; NULL without */
  hpt_zap_t *zap;               /* CURVE's authenticator; NULL when plain */
  hpt_wire_curve_t curve;       /* the coordinator's keys (with CURVE) */
  hpt_wire_curve_t local_curve; /* local workers' key pair, made per run */
} run_state_t;

typedef struct run_options {
  const char *bind;
  int local_workers;
  int heartbeat_ms;
  int grace_ms;
  const char *log_level;
  const char *metrics;      /* --metrics HOST:PORT, or NULL */
  const char *curve_secret; /* --curve-secret: CURVE on, with --allow */
  const char *allow;
  bool insecure;
} run_options_t;

/* ---- progress ----------------------------------------------------------- */

static void format_clock(double seconds, char *buffer, size_t size) {
  if (!isfinite(seconds) || seconds < 0) {
    snprintf(buffer, size, "-");
    return;
  }
  long s = (long)(seconds + 0.5);
  if (s >= 3600)
    snprintf(buffer, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buffer, size, "%ld:%02ld", s / 60, s % 60);
}

static void print_progress(run_state_t *r, bool final) {
  if (r->serve || r->n_studies == 0)
    return;
  hpt_study_progress_t p;
  hpt_study_progress(r->studies[0], &p);
  /* The loop's clock is cached per iteration, and one iteration can be long
   * (a burst of results, a database stall): read the real time. */
  uv_update_time(&r->loop);
  uint64_t now = uv_now(&r->loop);
  if (!r->tty && !final &&
      (p.finished == r->last_printed_finished ||
       now - r->last_printed_ms < 1000))
    return;
  r->last_printed_finished = p.finished;
  r->last_printed_ms = now;
  double elapsed = (double)(now - r->started_ms) / 1000.0;
  int done_now = p.finished - r->finished_at_start;
  double eta =
      done_now > 0 ? elapsed / done_now * (p.n_trials - p.finished) : NAN;
  char elapsed_text[32], eta_text[32], best[64] = "-";
  format_clock(elapsed, elapsed_text, sizeof elapsed_text);
  format_clock(eta, eta_text, sizeof eta_text);
  if (p.has_best)
    snprintf(best, sizeof best, "%.4f (#%d)", p.best_value, p.best_number);
  fprintf(stderr,
          "%s%s: %d/%d done, %d running, %d pruned, %d failed, %d retried "
          "| best %s | elapsed %s, ETA %s | workers %zu%s",
          r->tty ? "\r\033[K" : "", hpt_study_name(r->studies[0]), p.finished,
          p.n_trials, p.running, p.pruned, p.failed, p.retried, best,
          elapsed_text, final ? "0:00" : eta_text,
          hpt_dispatcher_worker_count(r->dispatcher),
          r->tty && !final ? "" : "\n");
  fflush(stderr);
}

/* ---- shutdown ----------------------------------------------------------- */

static void close_if_idle(run_state_t *r) {
  if (!r->stopping || r->workers_alive > 0)
    return;
  /* Every local worker is gone (their last messages are in): close the
   * socket and the remaining handles so uv_run returns. */
  if (!uv_is_closing((uv_handle_t *)&r->kill_timer))
    uv_close((uv_handle_t *)&r->kill_timer, NULL);
  hpt_metrics_http_close(r->metrics);
  hpt_dispatcher_close(r->dispatcher);
}

static void on_kill_timer(uv_timer_t *timer) {
  run_state_t *r = timer->data;
  for (int i = 0; i < r->n_workers; i++)
    if (uv_is_active((uv_handle_t *)&r->workers[i]))
      uv_process_kill(&r->workers[i], SIGKILL);
}

static void stop_run(run_state_t *r) {
  if (r->stopping)
    return;
  r->stopping = true;
  hpt_dispatcher_pause(r->dispatcher);
  uv_timer_stop(&r->progress_timer);
  uv_close((uv_handle_t *)&r->progress_timer, NULL);
  uv_close((uv_handle_t *)&r->sigint, NULL);
  uv_close((uv_handle_t *)&r->sigterm, NULL);
  for (int i = 0; i < r->n_workers; i++)
    if (uv_is_active((uv_handle_t *)&r->workers[i]))
      uv_process_kill(&r->workers[i], SIGTERM);
  uv_timer_start(&r->kill_timer, on_kill_timer, 5000, 0);
  close_if_idle(r);
}

static void on_worker_exit(uv_process_t *process, int64_t status, int signal) {
  run_state_t *r = process->data;
  if (!r->stopping)
    hpt_log(HPT_LOG_WARN, "local_worker_exited", "pid=%d status=%lld signal=%d",
            process->pid, (long long)status, signal);
  uv_close((uv_handle_t *)process, NULL);
  r->workers_alive--;
  close_if_idle(r);
}

static void on_signal(uv_signal_t *handle, int signum) {
  run_state_t *r = handle->data;
  r->interrupted = true;
  if (r->tty)
    fputc('\n', stderr);
  hpt_log(HPT_LOG_WARN, "interrupted", "signal=%d", signum);
  stop_run(r);
}

static void on_change(hpt_dispatcher_t *dispatcher, void *data) {
  run_state_t *r = data;
  (void)dispatcher;
  if (r->serve || r->stopping)
    return;
  hpt_study_progress_t progress;
  hpt_study_progress(r->studies[0], &progress);
  if (hpt_study_finished(r->studies[0])) {
    print_progress(r, true);
    stop_run(r);
  } else if (hpt_study_paused(r->studies[0]) && progress.running == 0) {
    print_progress(r, true);
    fprintf(stderr,
            "study '%s' is stopped and drained; `hpt study resume %s` and run "
            "it again to go on\n",
            hpt_study_name(r->studies[0]), hpt_study_name(r->studies[0]));
    r->stopped = true;
    stop_run(r);
  } else {
    print_progress(r, false);
  }
}

/* ---- serve: pick up new studies ------------------------------------------ */

static bool has_study(run_state_t *r, const char *name) {
  for (size_t i = 0; i < r->n_studies; i++)
    if (strcmp(hpt_study_name(r->studies[i]), name) == 0)
      return true;
  return false;
}

static int add_study(run_state_t *r, const char *name, hpt_error_t *error) {
  hpt_study_t **grown =
      realloc(r->studies, (r->n_studies + 1) * sizeof *r->studies);
  if (grown == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  r->studies = grown;
  hpt_study_t *study = NULL;
  int rc = hpt_study_open(r->store, name, &study, error);
  if (rc < 0)
    return rc;
  if ((rc = hpt_dispatcher_add_study(r->dispatcher, study, error)) < 0) {
    hpt_study_destroy(&study);
    return rc;
  }
  r->studies[r->n_studies++] = study;
  hpt_log(HPT_LOG_INFO, "study_serving", "study=%s", name);
  return HPT_OK;
}

static void discover_studies(run_state_t *r) {
  char **names = NULL;
  size_t count = 0;
  hpt_error_t error;
  if (hpt_store_study_list_running(r->store, &names, &count, &error) < 0) {
    hpt_log(HPT_LOG_ERROR, "study_discovery_failed", "error=\"%s\"",
            error.message);
    return;
  }
  for (size_t i = 0; i < count; i++) {
    if (!has_study(r, names[i]) && add_study(r, names[i], &error) < 0)
      hpt_log(HPT_LOG_ERROR, "study_open_failed", "study=%s error=\"%s\"",
              names[i], error.message);
    free(names[i]);
  }
  free(names);
}

static void on_progress_timer(uv_timer_t *timer) {
  run_state_t *r = timer->data;
  if (r->serve)
    discover_studies(r);
  else
    print_progress(r, false);
}

/* ---- local workers ------------------------------------------------------ */

static int worker_program(char *buffer, size_t size, hpt_error_t *error) {
  const char *env = getenv("HPT_WORKER_BIN");
  if (env != NULL && env[0] != '\0') {
    snprintf(buffer, size, "%s", env);
    return HPT_OK;
  }
  size_t length = size;
  if (uv_exepath(buffer, &length) != 0)
    return HPT_ERR(error, HPT_ESYSTEM, "cannot find the hpt executable");
  char *slash = strrchr(buffer, '/');
  if (slash == NULL || (size_t)(slash - buffer) + 12 >= size)
    return HPT_ERR(error, HPT_ESYSTEM, "odd executable path %s", buffer);
  strcpy(slash + 1, "hpt-worker");
  if (access(buffer, X_OK) != 0)
    return HPT_ERR(error, HPT_ENOTFOUND,
                   "%s not found: build it, or set HPT_WORKER_BIN", buffer);
  return HPT_OK;
}

/* The address local workers connect to: the bound endpoint with a wildcard
 * host replaced by loopback. */
static void local_endpoint(const char *bound, char *buffer, size_t size) {
  const char *wildcard = strstr(bound, "0.0.0.0");
  if (wildcard != NULL)
    snprintf(buffer, size, "%.*s127.0.0.1%s", (int)(wildcard - bound), bound,
             wildcard + 7);
  else
    snprintf(buffer, size, "%s", bound);
}

/* The environment of local workers: ours, plus their secret key when the
 * coordinator speaks CURVE (in the environment, not on a command line that
 * anyone on the host can read; the worker removes it at once). Returns
 * NULL (inherit ours) when plain or out of memory; caller frees. */
static char **worker_environment(run_state_t *r, char *entry, size_t size) {
  extern char **environ;
  if (r->zap == NULL)
    return NULL;
  size_t n = 0;
  while (environ[n] != NULL)
    n++;
  char **env = calloc(n + 2, sizeof *env);
  if (env == NULL)
    return NULL;
  size_t used = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "HPT_WORKER_CURVE_SECRET=", 24) != 0)
      env[used++] = environ[i];
  snprintf(entry, size, "HPT_WORKER_CURVE_SECRET=%s",
           r->local_curve.secret_key);
  env[used] = entry;
  return env;
}

static int spawn_workers(run_state_t *r, int count, hpt_error_t *error) {
  char program[4096], endpoint[512], secret_entry[128];
  int rc = worker_program(program, sizeof program, error);
  if (rc < 0)
    return rc;
  local_endpoint(hpt_dispatcher_endpoint(r->dispatcher), endpoint,
                 sizeof endpoint);
  char **env = worker_environment(r, secret_entry, sizeof secret_entry);
  if (r->zap != NULL && env == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  for (int i = 0; i < count; i++) {
    char id[128];
    snprintf(id, sizeof id, "local-%d-%d", (int)getpid(), i);
    char *args[] = {program,
                    "--connect",
                    endpoint,
                    "--id",
                    id,
                    "--exit-with-parent",
                    "--log-level",
                    (char *)r->worker_log_level,
                    NULL,
                    NULL,
                    NULL};
    /* Keys, or (plain tcp, loopback) the flag that says plain is meant. */
    if (r->zap != NULL) {
      args[8] = "--server-key";
      args[9] = r->curve.public_key;
    } else if (hpt_wire_endpoint_is_tcp(endpoint)) {
      args[8] = "--insecure";
    }
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t options;
    memset(&options, 0, sizeof options);
    options.file = program;
    options.args = args;
    options.exit_cb = on_worker_exit;
    options.stdio_count = 3;
    options.stdio = stdio;
    options.env = env;
    r->workers[i].data = r;
    int spawn_rc = uv_spawn(&r->loop, &r->workers[i], &options);
    if (spawn_rc < 0) {
      free(env);
      return HPT_ERR(error, HPT_ESYSTEM, "cannot start %s: %s", program,
                     uv_strerror(spawn_rc));
    }
    r->n_workers++;
    r->workers_alive++;
  }
  free(env);
  explicit_bzero(secret_entry, sizeof secret_entry);
  return HPT_OK;
}

/* ---- security ----------------------------------------------------------- */

/* With --curve-secret: loads the coordinator's key and the allow list (plus
 * a fresh key pair for local workers) and starts the ZAP handler, before
 * the ROUTER binds. */
static int start_curve(run_state_t *r, const run_options_t *options,
                       hpt_error_t *error) {
  int rc = hpt_wire_key_load_secret(options->curve_secret, &r->curve, error);
  if (rc < 0 || (rc = hpt_zap_new(r->zmq_context, &r->zap, error)) < 0 ||
      (rc = hpt_zap_allow_file(r->zap, options->allow, error)) < 0)
    return rc;
  if (options->local_workers > 0) {
    if (zmq_curve_keypair(r->local_curve.public_key,
                          r->local_curve.secret_key) != 0)
      return HPT_ERR(error, HPT_ESYSTEM, "zmq_curve_keypair: %s",
                     zmq_strerror(zmq_errno()));
    if ((rc = hpt_zap_allow_key(r->zap, r->local_curve.public_key, error)) < 0)
      return rc;
  }
  if (hpt_zap_allowed_count(r->zap) == 0)
    hpt_log(HPT_LOG_WARN, "curve_no_keys",
            "allow=%s note=\"no worker key is allowed: every worker will be "
            "refused\"",
            options->allow);
  return hpt_zap_start(r->zap, error);
}

/* ---- the shared runner -------------------------------------------------- */

static int run(hpt_cli_t *cli, const run_options_t *options,
               const char *study_name) {
  run_state_t *r = calloc(1, sizeof *r);
  if (r == NULL)
    return HPT_EXIT_ERROR;
  hpt_error_t error;
  hpt_error_clear(&error);
  int status = HPT_EXIT_OK;
  bool loop_ready = false;
  r->serve = study_name == NULL;
  r->tty = isatty(2) && getenv("HPT_NO_PROGRESS_TTY") == NULL;
  r->worker_log_level = options->log_level;
  if ((status = hpt_cli_open_store(cli, &r->store)) != HPT_EXIT_OK)
    goto out;
  if (uv_loop_init(&r->loop) != 0) {
    status = HPT_EXIT_ERROR;
    goto out;
  }
  loop_ready = true;
  r->zmq_context = zmq_ctx_new();
  if (options->curve_secret != NULL && start_curve(r, options, &error) < 0) {
    status = hpt_cli_fail(&error);
    goto out;
  }
  hpt_dispatcher_config_t config = {
      .bind = options->bind,
      .heartbeat_interval_ms = (unsigned)options->heartbeat_ms,
      .heartbeat_grace_ms = (unsigned)options->grace_ms,
      .store = r->store,
      .curve = r->zap != NULL ? &r->curve : NULL,
  };
  if (hpt_dispatcher_new(&r->loop, r->zmq_context, &config, &r->dispatcher,
                         &error) < 0) {
    status = hpt_cli_fail(&error);
    goto out;
  }
  hpt_dispatcher_on_change(r->dispatcher, on_change, r);
  if (!r->serve && add_study(r, study_name, &error) == HPT_OK &&
      hpt_study_spec(r->studies[0])->objective.count == 0)
    HPT_ERR(&error, HPT_EINVAL,
            "study '%s' has no objective: drive it with hpt ask / hpt tell",
            study_name);
  if (error.code == HPT_OK && options->metrics != NULL)
    hpt_metrics_http_new(&r->loop, options->metrics, r->dispatcher, &r->metrics,
                         &error);
  if (error.code != HPT_OK) {
    status = hpt_cli_fail(&error);
    hpt_dispatcher_close(r->dispatcher);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    goto out;
  }
  uv_timer_init(&r->loop, &r->progress_timer);
  uv_timer_init(&r->loop, &r->kill_timer);
  r->progress_timer.data = r->kill_timer.data = r;
  uv_signal_init(&r->loop, &r->sigint);
  uv_signal_init(&r->loop, &r->sigterm);
  r->sigint.data = r->sigterm.data = r;
  uv_signal_start(&r->sigint, on_signal, SIGINT);
  uv_signal_start(&r->sigterm, on_signal, SIGTERM);
  r->started_ms = uv_now(&r->loop);
  if (r->serve) {
    discover_studies(r);
    uv_timer_start(&r->progress_timer, on_progress_timer, 2000, 2000);
    printf("hpt serve: listening on %s\n",
           hpt_dispatcher_endpoint(r->dispatcher));
    fflush(stdout);
  } else {
    hpt_study_progress_t p;
    hpt_study_progress(r->studies[0], &p);
    r->finished_at_start = p.finished;
    r->last_printed_finished = -1;
    uv_timer_start(&r->progress_timer, on_progress_timer, 500, 500);
    bool done =
        hpt_study_finished(r->studies[0]) || hpt_study_paused(r->studies[0]);
    if (!done && options->local_workers > 0 &&
        spawn_workers(r, options->local_workers, &error) < 0) {
      status = hpt_cli_fail(&error);
      stop_run(r);
    } else {
      on_change(r->dispatcher, r); /* already finished or stopped? */
    }
  }
  uv_run(&r->loop, UV_RUN_DEFAULT);
  /* A signal is how a daemon is meant to stop; for `study run` it means the
   * study did not finish. */
  if (r->interrupted && !r->serve && status == HPT_EXIT_OK)
    status = 130;
  if (!r->serve && status == HPT_EXIT_OK) {
    printf("\nstudy '%s' %s. top trials:\n", study_name,
           r->stopped ? "stopped" : "finished");
    fflush(stdout);
    if (hpt_store_print_trials(r->store, study_name, HPT_FORMAT_TABLE, 10,
                               stdout, &error) < 0)
      status = hpt_cli_fail(&error);
  }
out:
  hpt_metrics_http_destroy(&r->metrics);
  hpt_dispatcher_destroy(&r->dispatcher);
  for (size_t i = 0; i < r->n_studies; i++)
    hpt_study_destroy(&r->studies[i]);
  free(r->studies);
  hpt_zap_destroy(&r->zap); /* its socket must close before the context */
  explicit_bzero(r->curve.secret_key, sizeof r->curve.secret_key);
  explicit_bzero(r->local_curve.secret_key, sizeof r->local_curve.secret_key);
  if (r->zmq_context != NULL)
    zmq_ctx_term(r->zmq_context);
  if (loop_ready)
    uv_loop_close(&r->loop);
  hpt_store_close(&r->store);
  free(r);
  return status;
}

static const char run_usage[] =
    "usage: hpt study run NAME [options]\n"
    "       hpt serve [options]\n"
    "\n"
    "study run: run study NAME until n_trials trials have finished, with a\n"
    "live progress line; prints the best trials at the end. Workers connect\n"
    "to --bind (hpt-worker --connect tcp://THIS_HOST:5555), or are started\n"
    "here with --local-workers.\n"
    "serve: the coordinator daemon; serves every RUNNING study, including\n"
    "ones created later, until SIGINT/SIGTERM.\n"
    "\n"
    "options:\n"
    "  --local-workers N   (study run) start N hpt-worker processes here\n"
    "  --bind ENDPOINT     ZeroMQ endpoint (default tcp://*:5555; a * port\n"
    "                      picks a free one). Plain TCP needs keys or\n"
    "                      --insecure, except study run with local workers\n"
    "                      only, which then binds tcp://127.0.0.1:*\n"
    "  --curve-secret FILE this coordinator's secret key (hpt keygen):\n"
    "                      workers must speak CURVE and be in --allow\n"
    "  --allow FILE        allowed worker public keys, one per line (#\n"
    "                      comments); needs --curve-secret\n"
    "  --insecure          plain TCP without keys (warned about unless on\n"
    "                      loopback); ipc:// needs neither\n"
    "  --metrics HOST:PORT serve Prometheus metrics over HTTP at\n"
    "                      http://HOST:PORT/metrics (e.g. 0.0.0.0:9464)\n"
    "  --heartbeat-ms MS   worker heartbeat interval (default 1000)\n"
    "  --grace-ms MS       silence after which a worker is lost and its\n"
    "                      trial fails (default 10000)\n"
    "  --log-level LEVEL   debug | info | warn | error (default: warn for\n"
    "                      study run, info for serve)\n"
    "\n"
    "exit status: 0 done (serve: stopped by a signal), 1 error, 3 database\n"
    "unreachable, 4 no such study, 130 study run interrupted\n";

/* Checks the security options and picks the default endpoint: keys or
 * --insecure for plain TCP, except `study run` whose only workers are its
 * own local ones on loopback. Prints one line and returns -1 when wrong. */
static int check_security(run_options_t *options, bool serve) {
  bool keys = options->curve_secret != NULL;
  const char *wrong = NULL;
  if (keys != (options->allow != NULL))
    wrong = "--curve-secret and --allow go together";
  else if (keys && options->insecure)
    wrong = "--insecure contradicts --curve-secret";
  if (wrong != NULL) {
    fprintf(stderr, "hpt: %s\n", wrong);
    return -1;
  }
  bool local_only = !serve && options->local_workers > 0;
  if (options->bind == NULL)
    options->bind = local_only && !keys && !options->insecure
                        ? "tcp://127.0.0.1:*"
                        : "tcp://*:5555";
  hpt_error_t error;
  if (!keys &&
      hpt_wire_plain_check(options->bind, options->insecure, local_only,
                           "--curve-secret FILE --allow FILE", &error) < 0) {
    fprintf(stderr, "hpt: %s\n", error.message);
    return -1;
  }
  return 0;
}

static int run_command(hpt_cli_t *cli, int argc, char **argv, bool serve) {
  run_options_t options = {.bind = NULL,
                           .heartbeat_ms = 1000,
                           .grace_ms = 10000,
                           .log_level = serve ? "info" : "warn"};
  const char *name = NULL;
  const char *env_level = getenv("HPT_LOG_LEVEL");
  if (env_level != NULL && hpt_log_level_parse(env_level) >= 0)
    options.log_level = env_level;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (hpt_cli_is_help(arg)) {
      fputs(run_usage, stdout);
      return HPT_EXIT_OK;
    } else if (!serve && strcmp(arg, "--local-workers") == 0 && next) {
      if (!hpt_cli_parse_int(arg, argv[++i], &options.local_workers))
        return HPT_EXIT_USAGE;
      if (options.local_workers > MAX_LOCAL_WORKERS) {
        fprintf(stderr, "hpt: --local-workers: at most %d\n",
                MAX_LOCAL_WORKERS);
        return HPT_EXIT_USAGE;
      }
    } else if (strcmp(arg, "--bind") == 0 && next) {
      options.bind = argv[++i];
    } else if (strcmp(arg, "--curve-secret") == 0 && next) {
      options.curve_secret = argv[++i];
    } else if (strcmp(arg, "--allow") == 0 && next) {
      options.allow = argv[++i];
    } else if (strcmp(arg, "--insecure") == 0) {
      options.insecure = true;
    } else if (strcmp(arg, "--metrics") == 0 && next) {
      options.metrics = argv[++i];
      struct sockaddr_storage address;
      hpt_error_t error;
      if (hpt_metrics_http_parse_address(options.metrics, &address, &error) <
          0) {
        fprintf(stderr, "hpt: --metrics: %s\n", error.message);
        return HPT_EXIT_USAGE;
      }
    } else if (strcmp(arg, "--heartbeat-ms") == 0 && next) {
      if (!hpt_cli_parse_int(arg, argv[++i], &options.heartbeat_ms) ||
          options.heartbeat_ms == 0)
        return HPT_EXIT_USAGE;
    } else if (strcmp(arg, "--grace-ms") == 0 && next) {
      if (!hpt_cli_parse_int(arg, argv[++i], &options.grace_ms) ||
          options.grace_ms == 0)
        return HPT_EXIT_USAGE;
    } else if (strcmp(arg, "--log-level") == 0 && next) {
      options.log_level = argv[++i];
      if (hpt_log_level_parse(options.log_level) < 0) {
        fprintf(stderr, "hpt: --log-level: unknown level '%s'\n",
                options.log_level);
        return HPT_EXIT_USAGE;
      }
    } else if (!serve && arg[0] != '-' && name == NULL) {
      name = arg;
    } else {
      fprintf(stderr, "hpt: unexpected argument '%s'\n%s", arg, run_usage);
      return HPT_EXIT_USAGE;
    }
  }
  if (!serve && name == NULL) {
    fputs(run_usage, stderr);
    return HPT_EXIT_USAGE;
  }
  if (options.grace_ms <= options.heartbeat_ms) {
    fprintf(stderr, "hpt: --grace-ms must be larger than --heartbeat-ms\n");
    return HPT_EXIT_USAGE;
  }
  hpt_log_set_level((hpt_log_level_t)hpt_log_level_parse(options.log_level));
  if (check_security(&options, serve) < 0)
    return HPT_EXIT_USAGE;
  return run(cli, &options, name);
}

int hpt_cli_study_run(hpt_cli_t *cli, int argc, char **argv) {
  return run_command(cli, argc, argv, false);
}

int hpt_cli_serve(hpt_cli_t *cli, int argc, char **argv) {
  return run_command(cli, argc, argv, true);
}
