/* objective.h — what a trial computes, behind one interface.
 *
 * An objective runs inside a trial process (hpt-worker's `run-trial` mode,
 * spawned by the daemon per trial, so a crash or an out-of-memory fails only
 * that trial). It receives the objective settings from the spec and the
 * trial's parameters as text, calls `report` after each step (epoch) with an
 * intermediate value, and returns the final value. The trial process turns
 * reports into stdout lines `step N VALUE`, and the result into `value V`
 * plus `metric NAME V` lines, which the daemon forwards to the coordinator;
 * a prune verdict makes the daemon kill the trial process.
 */
#ifndef HPT_OBJECTIVE_H
#define HPT_OBJECTIVE_H

#include <stddef.h>

#include "error.h"
#include "options.h"

#define HPT_OBJECTIVE_MAX_METRICS 16

typedef struct hpt_objective_param {
  const char *name;
  const char *value; /* text form, see space.h */
} hpt_objective_param_t;

typedef struct hpt_objective_call {
  const hpt_options_t *settings;       /* the spec's objective section */
  const hpt_objective_param_t *params; /* the trial's parameters */
  size_t n_params;
  /* Called after each step with its intermediate value. */
  void (*report)(void *user, int step, double value);
  void *user;
} hpt_objective_call_t;

typedef struct hpt_objective_result {
  double value;
  size_t n_metrics;
  char metric_names[HPT_OBJECTIVE_MAX_METRICS][64];
  double metric_values[HPT_OBJECTIVE_MAX_METRICS];
} hpt_objective_result_t;

/* The hashed word + character n-gram logistic-regression classifier on a
 * labelled CSV (objective_ngram.c). Settings: train (path), val_fraction
 * (0.1), seed (42). Parameters it understands are listed in
 * objective_ngram.c; an unknown parameter name fails with HPT_EINVAL. */
int hpt_objective_ngram_run(const hpt_objective_call_t *call,
                            hpt_objective_result_t *result, hpt_error_t *error);

#endif
