/* device_check.h — is this worker's GPU there? Asked in a child process.
 *
 * The daemon never initialises CUDA itself (a driver fault could then take
 * it down, and with it the lease of its trial): it runs `PROGRAM
 * device-info cuda:N`, where PROGRAM is hpt-trial, the trial process built
 * with the CUDA backend (worker/main.c). The child prints one line,
 * "NAME\tTOTAL_GIB\tFREE_GIB", and exits 0; or prints why not (one line,
 * "gpu: no CUDA device cuda:0 (0 devices visible)") and exits 1.
 *
 * A GPU worker asks twice: at start (hpt_device_check_run, blocking, before
 * it says Hello), and after every trial that failed (hpt_device_check_start
 * on the daemon's loop, so heartbeats go on meanwhile): a trial that failed
 * because the GPU fell off the bus must not be blamed on its params, and
 * the worker must stop taking trials it cannot run (daemon.h).
 */
#ifndef HPT_WORKER_DEVICE_CHECK_H
#define HPT_WORKER_DEVICE_CHECK_H

#include <uv.h>

#include "error.h"

/* A check that has not answered by then counts as a missing device: a GPU
 * whose driver hangs is no more usable than one that is gone. */
#define HPT_DEVICE_CHECK_TIMEOUT_MS 60000

typedef enum {
  HPT_DEVICE_PRESENT = 0, /* exit 0 with a well-formed line */
  HPT_DEVICE_MISSING,     /* the child said so (exit 1), died of a
                             signal, or did not answer in time */
  HPT_DEVICE_UNKNOWN,     /* the check itself could not be made: the
                             child did not start, or printed no such
                             line; nothing is known of the device */
} hpt_device_state_t;

typedef struct hpt_device_report {
  hpt_device_state_t state;
  char name[256];   /* PRESENT: the device's name */
  double total_gib; /* PRESENT: its memory, GiB */
  double free_gib;  /* PRESENT: free now, GiB */
  char why[512];    /* otherwise: one line, the child's reason when it
                       gave one */
} hpt_device_report_t;

typedef struct hpt_device_check hpt_device_check_t;

/* Called once with the answer, on the loop's thread. `report` is borrowed
 * for the call; the check frees itself after the callback returns. */
typedef void (*hpt_device_check_cb)(const hpt_device_report_t *report,
                                    void *data);

/* Starts `program device-info device` on `loop`; `callback` fires when the
 * child has exited and its output is read, or after timeout_ms (the child
 * is then killed). 0 with *check set (owned by the check itself: keep it
 * only to cancel), or HPT_ESYSTEM when the child cannot be started; then
 * the callback never fires and *check is NULL. */
int hpt_device_check_start(uv_loop_t *loop, const char *program,
                           const char *device, unsigned timeout_ms,
                           hpt_device_check_cb callback, void *data,
                           hpt_device_check_t **check, hpt_error_t *error);

/* Gives up a check in flight: kills the child, and the callback never
 * fires. Its handles close on the loop (run the loop to let them); the
 * memory goes with them. Sets *check to NULL; accepts NULL. */
void hpt_device_check_cancel(hpt_device_check_t **check);

/* The same check, blocking, on a loop of its own: for a caller that has
 * nothing else to do meanwhile (the daemon before its first Hello). Cannot
 * fail: what went wrong is in report (UNKNOWN). */
void hpt_device_check_run(const char *program, const char *device,
                          unsigned timeout_ms, hpt_device_report_t *report);

#endif
