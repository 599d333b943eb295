/* main.c — hpt-worker: the worker daemon, and (as `hpt-worker run-trial`)
 * the trial process it spawns for each trial.
 *
 * Exit codes: 0 stopped by a signal; 1 runtime error (cannot connect,
 * refused by the coordinator); 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "daemon.h"
#include "log.h"
#include "trial_process.h"

static const char usage[] =
    "usage: hpt-worker --connect ENDPOINT [options]\n"
    "       hpt-worker run-trial --setting KEY=VALUE ... --param NAME=VALUE "
    "...\n"
    "\n"
    "Runs trials for an hpt coordinator until stopped (SIGINT/SIGTERM).\n"
    "\n"
    "options:\n"
    "  --connect ENDPOINT   coordinator, e.g. tcp://head-node:5555 (required)\n"
    "  --id ID              worker id (default: <hostname>-<pid>)\n"
    "  --device DEVICE      cpu (default)\n"
    "  --tag TAG            a capability studies may require (repeatable)\n"
    "  --memory-gb GB       memory to advertise (studies may require it)\n"
    "  --exit-with-parent   stop when the process that started this one dies\n"
    "  --log-level LEVEL    debug | info | warn | error (default info)\n"
    "  -h, --help           this text\n"
    "\n"
    "exit status: 0 stopped by a signal, 1 runtime error, 2 usage error\n";

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "run-trial") == 0)
    return hpt_trial_process_main(argc - 1, argv + 1);
  hpt_log_set_process("hpt-worker");
  hpt_worker_config_t config = {.device = "cpu"};
  const char *tags[16];
  char default_id[300];
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
  if (strcmp(config.device, "cpu") != 0) {
    fprintf(stderr,
            "hpt-worker: --device %s: only 'cpu' is supported by this build\n",
            config.device);
    return 2;
  }
  if (config.worker_id == NULL) {
    char hostname[256] = "worker";
    gethostname(hostname, sizeof hostname - 1);
    snprintf(default_id, sizeof default_id, "%s-%d", hostname, (int)getpid());
    config.worker_id = default_id;
  }
  char program[4096];
  size_t size = sizeof program;
  if (uv_exepath(program, &size) != 0) {
    fprintf(stderr, "hpt-worker: cannot find its own executable\n");
    return 1;
  }
  config.trial_program = program;
  hpt_error_t error;
  hpt_error_clear(&error);
  if (hpt_worker_run(&config, &error) < 0) {
    fprintf(stderr, "hpt-worker: %s\n", error.message);
    return 1;
  }
  return 0;
}
