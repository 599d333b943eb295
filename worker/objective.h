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
  const char *params_json; /* the same as one JSON object, typed */
  /* Where to leave the trained model and its validation predictions
   * (files the worker sends to the coordinator when the study keeps
   * models), or NULL. Objectives that cannot save a model ignore it. */
  const char *artifact_dir;
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

/* Fine-tunes a Hugging Face encoder checkpoint (BERT/MiniLM, DistilBERT,
 * ELECTRA, RoBERTa) on a labelled CSV with the engine's CPU training loop
 * (objective_transformer.c). Settings: model (folder), train (path),
 * val_fraction (0.1), seed (42), max_length (128), folds (0: one split;
 * k >= 2: stratified k-fold), augment (false), threads (0: all cores).
 * Parameters are listed in objective_transformer.c; an unknown name fails
 * with HPT_EINVAL. Reports validation accuracy per epoch (per fold with
 * folds); the value is the best validation accuracy (mean over folds). */
int hpt_objective_transformer_run(const hpt_objective_call_t *call,
                                  hpt_objective_result_t *result,
                                  hpt_error_t *error);

/* Runs a user's program (objective_command.c). Settings: argv (list,
 * required), cwd (path), timeout_s (0 = none). The program gets the params
 * as a JSON object on stdin and as --name=value arguments, and prints
 * `step VALUE` or `step N VALUE` lines (intermediate values) and one
 * `value VALUE` line (the result) on stdout; other lines are ignored. A
 * non-zero exit, a signal or no value line fails the trial. */
int hpt_objective_command_run(const hpt_objective_call_t *call,
                              hpt_objective_result_t *result,
                              hpt_error_t *error);

/* Returns a deterministic function of the params at once (objective_noop.c),
 * for benchmarks and tests. Settings: sleep_ms (0), steps (0: no
 * intermediate values). Value = sum over params of their numeric value
 * (categorical and other text: a hash of the text in [0, 1)). */
int hpt_objective_noop_run(const hpt_objective_call_t *call,
                           hpt_objective_result_t *result, hpt_error_t *error);

#endif
