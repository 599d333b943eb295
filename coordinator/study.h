/* study.h — one study while a coordinator (or `hpt ask`) works on it: its
 * spec, sampler, pruner and in-memory history, kept in step with the store.
 *
 * Every state change goes to the store first and to the history second, so
 * what the sampler sees is never ahead of what is durable.
 *
 * Budget: n_trials counts sampled trials. A trial that FAILs for a reason
 * outside the objective (its worker died, was cut off, was stopped) is
 * retried with the same params, up to max_retries times: the retry is a new
 * trial (WAITING, then RUNNING) linked to the failed one by retry_of, and
 * the failed one no longer counts. The study is finished when n_trials
 * trials have been sampled and each has a final outcome (COMPLETE, PRUNED,
 * or FAIL with no retry left).
 *
 * The study owns its spec, sampler, pruner and history; the store is
 * borrowed and must outlive it. Use from one thread only.
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
  int waiting; /* queued retries */
  int complete;
  int pruned;
  int failed;   /* FAIL with no retry left */
  int retried;  /* FAIL trials that were retried */
  int finished; /* complete + pruned + failed */
  bool has_best;
  int best_number;
  double best_value;
} hpt_study_progress_t;

/* How a trial ended, for hpt_study_finish. */
typedef struct hpt_trial_outcome {
  hpt_trial_state_t state;     /* COMPLETE, PRUNED or FAIL */
  double value;                /* NaN: none (PRUNED: its last report) */
  double duration_s;           /* NaN: the time since it started */
  const hpt_metric_t *metrics; /* may be NULL */
  size_t n_metrics;
  const char *fail_reason; /* FAIL */
  bool retryable;          /* FAIL not caused by the objective */
  const char *worker_id;   /* where it ran: a retry avoids it; may be
                              NULL */
} hpt_trial_outcome_t;

/* Loads study `name`: its spec (as stored), sampler, pruner and history
 * (RUNNING trials stay RUNNING: a coordinator reconciles them with the
 * workers that reconnect). HPT_ENOTFOUND if there is no such study. */
int hpt_study_open(hpt_store_t *store, const char *name, hpt_study_t **study,
                   hpt_error_t *error);

void hpt_study_destroy(hpt_study_t **study);

const char *hpt_study_name(const hpt_study_t *study);
int64_t hpt_study_id(const hpt_study_t *study);
const hpt_spec_t *hpt_study_spec(const hpt_study_t *study);

/* Whether the dispatcher should start a trial now: the study has an
 * objective (ask/tell studies are driven by `hpt ask`), is not paused, runs
 * fewer than max_parallel trials, and has a queued retry or budget left. */
bool hpt_study_wants_trial(const hpt_study_t *study);

/* Whether fewer than n_trials trials have been sampled. */
bool hpt_study_has_budget(const hpt_study_t *study);

/* Whether every trial of the budget has its final outcome. */
bool hpt_study_finished(const hpt_study_t *study);

/* Paused studies (`hpt study stop`) start nothing new; running trials go
 * on and finish. */
void hpt_study_set_paused(hpt_study_t *study, bool paused);
bool hpt_study_paused(const hpt_study_t *study);

/* Starts a trial on `worker_id`: a queued retry that did not fail on this
 * worker, else a newly sampled trial, else (no budget left) any queued
 * retry. *number is its number; hpt_study_trial_params gives its values.
 * HPT_ESTATE when there is nothing to start. */
int hpt_study_start_trial(hpt_study_t *study, const char *worker_id,
                          int *number, hpt_error_t *error);

/* The values of trial `number` (internal representation), or NULL. */
const double *hpt_study_trial_params(const hpt_study_t *study, int number);

/* The state of trial `number`, or -1 if there is none. */
int hpt_study_trial_state(const hpt_study_t *study, int number);

/* Records an intermediate value and asks the pruner. HPT_ESTATE if the
 * trial is not RUNNING (a late report: nothing is recorded). */
int hpt_study_report(hpt_study_t *study, int number, int step, double value,
                     bool *prune, hpt_error_t *error);

/* Ends a RUNNING trial (see hpt_trial_outcome_t), queueing a retry when the
 * outcome is a retryable FAIL and retries are left. HPT_ESTATE if it is not
 * RUNNING (late or duplicate: nothing changes). Marks the study COMPLETE in
 * the store when this was its last outcome. */
int hpt_study_finish(hpt_study_t *study, int number,
                     const hpt_trial_outcome_t *outcome, hpt_error_t *error);

/* Puts a RUNNING trial back in the queue (WAITING) without counting an
 * attempt: its worker never started it. */
int hpt_study_requeue(hpt_study_t *study, int number, hpt_error_t *error);

void hpt_study_progress(const hpt_study_t *study,
                        hpt_study_progress_t *progress);

#endif
