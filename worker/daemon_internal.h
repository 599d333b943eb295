/* daemon_internal.h — what the worker daemon's two files share (private to
 * worker/): daemon.c speaks with the coordinator (Hello, heartbeats,
 * assignments, verdicts, stopping) and daemon_trial.c runs the assigned
 * trial (its process, its output, its outcome, its artifacts, and the
 * device check that tells a failing trial from a lost GPU). Both work on
 * one daemon_state_t, owned by hpt_worker_run, on one libuv loop.
 */
#ifndef HPT_DAEMON_INTERNAL_H
#define HPT_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "artifact_upload.h"
#include "daemon.h"
#include "device_check.h"
#include "error.h"
#include "wire.h"
#include "zmq_watch.h"

#define LINE_MAX_BYTES 4096
#define MAX_METRICS 32

typedef struct daemon_state daemon_state_t;

/* One running trial. Heap-allocated per trial and freed only after both of
 * its libuv handles have closed: a new trial never reuses the memory of
 * handles libuv is still closing. */
typedef struct trial {
  daemon_state_t *daemon;
  int open_handles; /* process + pipe not yet closed */
  int64_t study_id;
  int number;
  uv_process_t process;
  uv_pipe_t out;
  bool process_exited;
  bool out_closed;
  int64_t exit_status;
  int term_signal;
  bool prune_requested;
  uint64_t started_ms;
  char line[LINE_MAX_BYTES];
  size_t line_length;
  bool has_value;
  double value;
  bool has_last_step;
  double last_step_value;
  size_t n_metrics;
  char metric_names[MAX_METRICS][64];
  double metric_values[MAX_METRICS];
  char error_text[512];
  char artifact_dir[64]; /* "" unless the study keeps models */
} trial_t;

struct daemon_state {
  const hpt_worker_config_t *config;
  uv_loop_t *loop;
  void *context;
  void *socket;
  hpt_zmq_watch_t watch;
  uv_timer_t heartbeat;
  uv_signal_t sigint, sigterm;
  unsigned heartbeat_ms;
  bool welcomed;
  unsigned unanswered_hellos; /* while not welcomed */
  bool stopping;
  int result;
  hpt_error_t *error;
  trial_t *trial;   /* NULL when idle */
  uint64_t session; /* random per process, sent in every Hello */
  /* The last trial result sent, kept until the next assignment: if the
   * coordinator restarts before it was handled, it is sent again after the
   * new Hello (the new coordinator adopts the trial and takes the result). */
  uint8_t *pending_result;
  size_t pending_result_length;
  /* A finished trial's artifact files on their way out (see
   * artifact_upload.h), paced by the `pump` timer; its TrialComplete
   * (packed) goes after the last chunk. NULL when none. */
  hpt_artifact_upload_t *upload;
  uv_timer_t pump;
  char upload_dir[64];
  int64_t upload_study_id;
  int upload_number;
  uint8_t *upload_complete;
  size_t upload_complete_length;
  uint64_t upload_started_ms;
  /* A GPU worker's failed trial whose TrialFailed waits for the device
   * check (device_check.h) that tells a failing trial from a lost GPU;
   * `check` is NULL when none is in flight. The trial counts as current
   * (heartbeats, Hello) until its TrialFailed goes. */
  hpt_device_check_t *check;
  struct {
    int64_t study_id;
    int number;
    char reason[700];
    double duration_s;
    bool retryable;
  } held;
};

/* ---- daemon.c ------------------------------------------------------------ */

/* Sends envelope; a trial result is also kept until the next assignment
 * (sent again to a coordinator that restarted before handling it). */
void hpt__daemon_send(daemon_state_t *s, Hpt__Envelope *envelope);
/* retryable: the failure is not the objective's (see hpt.proto). */
void hpt__daemon_send_failed(daemon_state_t *s, int64_t study_id, int number,
                             const char *reason, double duration_s,
                             bool retryable);
/* Tells the coordinator that this worker takes no more trials. */
void hpt__daemon_send_leaving(daemon_state_t *s, const char *reason);
/* Stops as on SIGTERM: fails a running trial, closes every handle. */
void hpt__daemon_stop(daemon_state_t *s);

/* ---- daemon_trial.c -------------------------------------------------------
 */

/* Starts an assigned trial (or refuses it when busy). */
void hpt__daemon_start_trial(daemon_state_t *s, const Hpt__TrialAssign *assign);
/* Sends the TrialFailed held for a device check (s->held). */
void hpt__daemon_send_held_failure(daemon_state_t *s);
/* Sends the held TrialComplete (if the socket takes it) and ends the
 * upload; false when it must wait for room in the queue (force: end it
 * anyway). */
bool hpt__daemon_end_upload(daemon_state_t *s, bool force);

#endif
