/* daemon.h — the worker daemon: one connection to a coordinator, trials
 * run one at a time in child processes.
 *
 * The daemon connects a DEALER socket, says Hello, sends a Heartbeat every
 * interval (busy or idle), and for each TrialAssign spawns a trial process
 * (`hpt-worker run-trial ...`, see trial_process.h) through libuv. The trial
 * process prints `step N V`, `value V`, `metric NAME V` and `error TEXT`
 * lines; the daemon turns them into Report / TrialComplete / TrialFailed
 * messages. A PruneVerdict with prune=true kills the trial process at once
 * and the trial is reported PRUNED. A trial process that crashes, runs out
 * of memory or exits without a value fails only its trial: the daemon lives
 * on. SIGINT/SIGTERM stop the daemon cleanly (its running trial is reported
 * FAIL first).
 *
 * A GPU worker (config.gpu set) asks after every trial that failed whether
 * its GPU is still there (device_check.h), holding the trial's TrialFailed
 * until the answer comes (heartbeats still name the trial). If the GPU is
 * gone, the failure was not the trial's: the worker sends WorkerLeaving
 * with the reason (so the coordinator gives it nothing more), then the
 * TrialFailed as retryable with the same reason ahead of the trial's own,
 * and stops as on SIGTERM: hpt_worker_run returns HPT_EDEVICE.
 */
#ifndef HPT_WORKER_DAEMON_H
#define HPT_WORKER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct hpt_worker_config {
  const char *connect;       /* coordinator endpoint, "tcp://host:5555" */
  const char *worker_id;     /* unique; default "<hostname>-<pid>" */
  const char *trial_program; /* executable for trial processes: hpt-worker */
  const char *device;        /* "cpu" (default); reported in Hello */
  const char *gpu;           /* "cuda:N" on a GPU worker: re-checked with
                                `trial_program device-info` after each
                                failed trial; NULL on a CPU worker */
  double memory_gb;          /* advertised memory, GiB (0: unknown) */
  const char *const *tags;   /* advertised capabilities, e.g. "h200" */
  size_t n_tags;
  bool exit_with_parent;     /* die when the process that started us dies */
  unsigned protocol_version; /* 0: this build's; tests set others */
  const struct hpt_wire_curve *curve; /* borrowed: this worker's CURVE keys
                                         and the coordinator's public key
                                         (wire.h); NULL: plain */
} hpt_worker_config_t;

/* Runs the daemon until a signal stops it (HPT_OK), the coordinator
 * refuses it (HPT_EUNSUPPORTED with the reason) or its GPU is lost
 * (HPT_EDEVICE with the reason, after the coordinator was told). Blocks. */
int hpt_worker_run(const hpt_worker_config_t *config, hpt_error_t *error);

#endif
