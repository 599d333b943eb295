/* study.h — one study while a coordinator runs it: its spec, sampler,
 * pruner and in-memory history, kept in step with the store.
 *
 * Every state change goes to the store first and to the history second, so
 * that what the sampler sees is never ahead of what is durable. The study
 * owns its spec, sampler, pruner and history; the store is borrowed and must
 * outlive it. Use from the coordinator's loop thread only.
 */
#ifndef HPT_STUDY_H
#define HPT_STUDY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "history.h"
#include "spec.h"
#include "store.h"

typedef struct hpt_study hpt_study_t;

typedef struct hpt_study_progress {
  int n_trials; /* budget */
  int running;
  int complete;
  int pruned;
  int failed;
  int finished; /* complete + pruned + failed */
  bool has_best;
  int best_number;
  double best_value;
} hpt_study_progress_t;

/* Flags for hpt_study_open. */
enum {
  /* The caller is the coordinator taking charge of the study: trials left
   * RUNNING by an earlier coordinator are marked FAIL ("orphaned"). Not for
   * ask/tell, where RUNNING trials belong to other processes. */
  HPT_STUDY_OPEN_FAIL_ORPHANS = 1 << 0,
};

/* Loads study `name`: its spec (as stored), sampler, pruner and history.
 * HPT_ENOTFOUND if there is no such study. */
int hpt_study_open(hpt_store_t *store, const char *name, unsigned flags,
                   hpt_study_t **study, hpt_error_t *error);

void hpt_study_destroy(hpt_study_t **study);

const char *hpt_study_name(const hpt_study_t *study);
int64_t hpt_study_id(const hpt_study_t *study);
const hpt_spec_t *hpt_study_spec(const hpt_study_t *study);

/* Whether the dispatcher should start a trial now: the study has an
 * objective (ask/tell studies are driven by `hpt ask`), fewer than
 * max_parallel trials run and fewer than n_trials have started. */
bool hpt_study_wants_trial(const hpt_study_t *study);

/* Whether fewer than n_trials trials have started (ask/tell's budget). */
bool hpt_study_has_budget(const hpt_study_t *study);

/* Whether n_trials trials have finished (COMPLETE, PRUNED or FAIL). */
bool hpt_study_finished(const hpt_study_t *study);

/* Samples and records a new RUNNING trial on `worker_id`. *number is its
 * number; hpt_study_trial_params gives its values. */
int hpt_study_start_trial(hpt_study_t *study, const char *worker_id,
                          int *number, hpt_error_t *error);

/* The values of trial `number` (internal representation), or NULL. */
const double *hpt_study_trial_params(const hpt_study_t *study, int number);

/* Records an intermediate value and asks the pruner. HPT_ESTATE if the
 * trial is not RUNNING (a late report: nothing is recorded). */
int hpt_study_report(hpt_study_t *study, int number, int step, double value,
                     bool *prune, hpt_error_t *error);

/* Ends a RUNNING trial. For PRUNED, a NaN value is replaced by the trial's
 * last intermediate value. HPT_ESTATE if it is not RUNNING (late or
 * duplicate: nothing changes). Marks the study COMPLETE in the store when
 * this was the last trial of the budget. */
int hpt_study_finish(hpt_study_t *study, int number, hpt_trial_state_t state,
                     double value, double duration_s,
                     const hpt_metric_t *metrics, size_t n_metrics,
                     const char *fail_reason, hpt_error_t *error);

void hpt_study_progress(const hpt_study_t *study,
                        hpt_study_progress_t *progress);

#endif
