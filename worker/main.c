/* main.c — hpt-worker: the worker daemon, and (as `hpt-worker run-trial`)
 * the trial process it spawns for each trial.
 *
 * GPUs: `--device cuda:N` is checked by running `hpt-trial device-info
 * cuda:N` (the sibling binary with the CUDA backend) as a child process
 * (device_check.h), so the daemon itself never initialises CUDA (a CUDA
 * fault can then only take down a child). Its one line gives the device
 * name and memory for the Hello ("cuda:0 NVIDIA H200 139GiB 137GiB free",
 * --memory-gb defaulting to the device's memory); HPT_DEVICE=cuda:N goes
 * into the environment that trial processes inherit. The daemon asks again
 * after every failed trial and leaves when the GPU is gone (daemon.h).
 *
 * Exit codes: 0 stopped by a signal; 1 runtime error (cannot connect,
 * refused by the coordinator, no such GPU at start); 2 usage error; 3 the
 * GPU was lost while running (the coordinator was told, its trial failed
 * as retryable): restarting the worker is pointless until the GPU is back.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

#include "daemon.h"
#include "device_check.h"
#include "gpu_model.h"
#include "log.h"
#include "trial_process.h"
#include "wire.h"

static const char usage[] =
    "usage: hpt-worker --connect ENDPOINT [options]\n"
    "       hpt-worker run-trial --setting KEY=VALUE ... --param NAME=VALUE "
    "...\n"
    "       hpt-worker device-info cuda:N   (one line: name, GiB total, "
    "GiB free)\n"
    "\n"
    "Runs trials for an hpt coordinator until stopped (SIGINT/SIGTERM).\n"
    "\n"
    "options:\n"
    "  --connect ENDPOINT   coordinator, e.g. tcp://head-node:5555 (required)\n"
    "  --id ID              worker id (default: <hostname>-<pid>)\n"
    "  --device DEVICE      cpu (default) or cuda:N (builds with CUDA)\n"
    "  --tag TAG            a capability studies may require (repeatable)\n"
    "  --memory-gb GB       memory to advertise (studies may require it)\n"
    "  --exit-with-parent   stop when the process that started this one dies\n"
    "  --curve-secret FILE  this worker's secret key (hpt keygen): CURVE on\n"
    "  --server-key KEY     the coordinator's public key: its .pub file or\n"
    "                       the z85 text; needed with --curve-secret\n"
    "  --insecure           plain TCP without keys (warned about unless on\n"
    "                       loopback); ipc:// needs neither\n"
    "  --log-level LEVEL    debug | info | warn | error (default info)\n"
    "  -h, --help           this text\n"
    "\n"
    "\n"
    "HPT_WORKER_CURVE_SECRET: a z85 secret key instead of --curve-secret\n"
    "(how `hpt study run --local-workers` hands keys to its workers).\n"
    "\n"
    "exit status: 0 stopped by a signal, 1 runtime error (also: no such GPU\n"
    "at start), 2 usage error, 3 the GPU was lost while running (checked\n"
    "after each failed trial; its trial goes back to be retried elsewhere)\n";

/* `hpt-trial device-info cuda:N`: prints "NAME\tTOTAL_GIB\tFREE_GIB" and
 * exits 0, or the reason (one line, on stderr) and exits 1. Runs in a
 * child of the daemon (device_check.h). */
static int device_info_main(const char *device) {
  hpt_error_t error = {0};
  int ordinal = -1;
  hpt_gpu_device_info_t info;
  if (hpt_gpu_device_parse(device, &ordinal, &error) != 0 || ordinal < 0 ||
      hpt_gpu_device_info(ordinal, &info, &error) != 0) {
    fprintf(stderr, "%s\n",
            error.message[0] ? error.message : "not a CUDA device");
    return 1;
  }
  printf("%s\t%.1f\t%.1f\n", info.name, (double)info.total_bytes / (1 << 30),
         (double)info.free_bytes / (1 << 30));
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "run-trial") == 0)
    return hpt_trial_process_main(argc - 1, argv + 1);
  if (argc == 3 && strcmp(argv[1], "device-info") == 0)
    return device_info_main(argv[2]);
  hpt_log_set_process("hpt-worker");
  hpt_worker_config_t config = {.device = "cpu"};
  const char *tags[16];
  char default_id[300];
  const char *curve_secret = NULL, *server_key = NULL;
  bool insecure = false;
  hpt_wire_curve_t curve = {0};
  hpt_error_t error;
  hpt_error_clear(&error);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(arg, "--connect") == 0 && next) {
      config.connect = argv[++i];
    } else if (strcmp(arg, "--id") == 0 && next) {
      config.worker_id = argv[++i];
    } else if (strcmp(arg, "--device") == 0 && next) {
      config.device = argv[++i];
    } else if (strcmp(arg, "--tag") == 0 && next) {
      if (config.n_tags == sizeof tags / sizeof tags[0]) {
        fprintf(stderr, "hpt-worker: at most 16 --tag options\n");
        return 2;
      }
      tags[config.n_tags++] = argv[++i];
      config.tags = tags;
    } else if (strcmp(arg, "--memory-gb") == 0 && next) {
      char *end = NULL;
      config.memory_gb = strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || config.memory_gb < 0) {
        fprintf(stderr,
                "hpt-worker: --memory-gb: expected a number, got "
                "'%s'\n",
                argv[i]);
        return 2;
      }
    } else if (strcmp(arg, "--protocol-version") == 0 && next) {
      /* Undocumented: lets tests play a worker of another version. */
      config.protocol_version = (unsigned)atoi(argv[++i]);
    } else if (strcmp(arg, "--curve-secret") == 0 && next) {
      curve_secret = argv[++i];
    } else if (strcmp(arg, "--server-key") == 0 && next) {
      server_key = argv[++i];
    } else if (strcmp(arg, "--insecure") == 0) {
      insecure = true;
    } else if (strcmp(arg, "--exit-with-parent") == 0) {
      config.exit_with_parent = true;
    } else if (strcmp(arg, "--log-level") == 0 && next) {
      int level = hpt_log_level_parse(argv[++i]);
      if (level < 0) {
        fprintf(stderr, "hpt-worker: --log-level: unknown level '%s'\n",
                argv[i]);
        return 2;
      }
      hpt_log_set_level((hpt_log_level_t)level);
    } else {
      fprintf(stderr, "hpt-worker: unknown or incomplete option '%s'\n%s", arg,
              usage);
      return 2;
    }
  }
  if (config.connect == NULL) {
    fprintf(stderr, "hpt-worker: --connect ENDPOINT is required\n");
    return 2;
  }
  int ordinal = -1;
  if (hpt_gpu_device_parse(config.device, &ordinal, &error) != 0) {
    fprintf(stderr, "hpt-worker: --device: %s\n", error.message);
    return 2;
  }
  char program[4096];
  size_t size = sizeof program;
  if (uv_exepath(program, &size) != 0) {
    fprintf(stderr, "hpt-worker: cannot find its own executable\n");
    return 1;
  }
  /* A GPU worker's trials (and its device check) run in hpt-trial beside
   * this binary when the build made one: it carries the CUDA backend, which
   * this daemon does not load. CPU workers run trials in this binary, which
   * starts in ~10 ms instead of ~120 ms (cuBLASLt is large). */
  char trial_program[sizeof program + 16];
  snprintf(trial_program, sizeof trial_program, "%s", program);
  char *slash = strrchr(trial_program, '/');
  if (slash != NULL && ordinal >= 0) {
    snprintf(slash + 1,
             sizeof trial_program - (size_t)(slash + 1 - trial_program),
             "hpt-trial");
    if (access(trial_program, X_OK) != 0)
      snprintf(trial_program, sizeof trial_program, "%s", program);
  }
  config.trial_program = trial_program;
  bool has_trial_binary = strcmp(trial_program, program) != 0;
  if (ordinal >= 0 && !hpt_gpu_built() && !has_trial_binary) {
    fprintf(stderr,
            "hpt-worker: --device %s: this hpt-worker was built without "
            "CUDA; only 'cpu' is supported\n",
            config.device);
    return 2;
  }
  /* Keys: from the command line, or in the environment from a coordinator
   * that started this worker. Trial processes (user programs) must not
   * inherit a secret key, so it leaves the environment here. */
  const char *env_secret = getenv("HPT_WORKER_CURVE_SECRET");
  if (env_secret != NULL && curve_secret == NULL) {
    if (!hpt_wire_key_valid(env_secret)) {
      fprintf(stderr, "hpt-worker: HPT_WORKER_CURVE_SECRET: not a z85 key\n");
      return 2;
    }
    memcpy(curve.secret_key, env_secret, HPT_WIRE_KEY_TEXT);
    if (zmq_curve_public(curve.public_key, curve.secret_key) != 0) {
      fprintf(stderr, "hpt-worker: HPT_WORKER_CURVE_SECRET: bad key\n");
      return 2;
    }
  }
  if (env_secret != NULL) /* also out of /proc/PID/environ */
    explicit_bzero((char *)env_secret, strlen(env_secret));
  unsetenv("HPT_WORKER_CURVE_SECRET");
  bool keys = curve_secret != NULL || curve.secret_key[0] != '\0';
  if (keys != (server_key != NULL) || (keys && insecure)) {
    fprintf(stderr, "hpt-worker: %s\n",
            keys && insecure ? "--insecure contradicts --curve-secret"
                             : "--curve-secret and --server-key go together");
    return 2;
  }
  if (keys) {
    if ((curve_secret != NULL &&
         hpt_wire_key_load_secret(curve_secret, &curve, &error) < 0) ||
        hpt_wire_key_load_public(server_key, curve.server_key, &error) < 0) {
      fprintf(stderr, "hpt-worker: %s\n", error.message);
      return 2;
    }
    config.curve = &curve;
  } else if (hpt_wire_plain_check(config.connect, insecure, 0,
                                  "--curve-secret FILE --server-key KEY",
                                  &error) < 0) {
    fprintf(stderr, "hpt-worker: %s\n", error.message);
    return 2;
  }
  if (config.worker_id == NULL) {
    char hostname[256] = "worker";
    gethostname(hostname, sizeof hostname - 1);
    snprintf(default_id, sizeof default_id, "%s-%d", hostname, (int)getpid());
    config.worker_id = default_id;
  }
  char device_line[400], gpu[32];
  if (ordinal >= 0) {
    snprintf(gpu, sizeof gpu, "cuda:%d", ordinal);
    hpt_device_report_t device;
    hpt_device_check_run(trial_program, gpu, HPT_DEVICE_CHECK_TIMEOUT_MS,
                         &device);
    if (device.state != HPT_DEVICE_PRESENT) {
      fprintf(stderr, "hpt-worker: --device %s: %s\n", config.device,
              device.why);
      return 1;
    }
    /* Whole GiB of a large device, tenths of a small one. */
    snprintf(device_line, sizeof device_line, "%s %s %.*fGiB %.*fGiB free", gpu,
             device.name, device.total_gib < 10 ? 1 : 0, device.total_gib,
             device.free_gib < 10 ? 1 : 0, device.free_gib);
    hpt_log(HPT_LOG_INFO, "gpu",
            "device=%s name=\"%s\" total_gib=%.1f free_gib=%.1f", gpu,
            device.name, device.total_gib, device.free_gib);
    setenv("HPT_DEVICE", gpu, 1);
    if (config.memory_gb == 0)
      config.memory_gb = device.total_gib;
    config.device = device_line;
    config.gpu = gpu;
  }
  int rc = hpt_worker_run(&config, &error);
  explicit_bzero(curve.secret_key, sizeof curve.secret_key);
  if (rc < 0) {
    fprintf(stderr, "hpt-worker: %s\n", error.message);
    return rc == HPT_EDEVICE ? 3 : 1;
  }
  return 0;
}
