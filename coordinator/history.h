/* history.h — a study's trials as plain data, in memory.
 *
 * The coordinator keeps one history per running study: loaded from the store
 * when the study starts, then updated as trials start, report and finish.
 * Samplers and pruners read it and nothing else: they never see the store or
 * the wire.
 *
 * Ownership: the history owns its trials and their arrays. Pointers returned
 * by hpt_history_find / hpt_history_add stay valid until the next call that
 * adds a trial (the array may move).
 */
#ifndef HPT_HISTORY_H
#define HPT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "study_types.h"

typedef struct hpt_trial {
  int number; /* 0, 1, 2, ... unique within the study */
  hpt_trial_state_t state;
  double value;   /* final value; NaN until COMPLETE (PRUNED: last
                     intermediate value) */
  double *params; /* n_params values, internal representation
                     (space.h); NaN = absent */
  int retry_of;   /* number of the FAIL trial this one retries, or -1 (set
                     by the study, not by hpt_history_add) */
  bool retried;   /* a FAIL trial that has a retry: it no longer counts
                     towards the budget */
  size_t n_steps; /* intermediate values, in report order */
  size_t steps_capacity;
  int *steps;
  double *step_values;
} hpt_trial_t;

typedef struct hpt_history {
  hpt_direction_t direction;
  size_t n_params;
  size_t n_trials;
  size_t capacity;
  hpt_trial_t *trials; /* ordered by number */
} hpt_history_t;

/* Initialises an empty history. Cannot fail. */
void hpt_history_init(hpt_history_t *history, hpt_direction_t direction,
                      size_t n_params);

/* Frees every trial. Accepts NULL. */
void hpt_history_close(hpt_history_t *history);

/* Adds a trial with copied params (may be NULL: all NaN). Keeps trials
 * ordered by number. HPT_EEXIST if the number is taken. *out (may be NULL)
 * points at the stored trial. */
int hpt_history_add(hpt_history_t *history, int number, hpt_trial_state_t state,
                    const double *params, hpt_trial_t **out,
                    hpt_error_t *error);

/* The trial with `number`, or NULL. */
hpt_trial_t *hpt_history_find(const hpt_history_t *history, int number);

/* Records an intermediate value. A repeated step overwrites the old value. */
int hpt_history_report(hpt_trial_t *trial, int step, double value,
                       hpt_error_t *error);

/* Value of the trial at `step`, or NaN if it did not report that step. */
double hpt_history_value_at(const hpt_trial_t *trial, int step);

/* Last reported step, or -1. */
int hpt_history_last_step(const hpt_trial_t *trial);

/* Counts trials in a state. */
size_t hpt_history_count(const hpt_history_t *history, hpt_trial_state_t state);

/* Best COMPLETE trial by value and direction, or NULL. */
const hpt_trial_t *hpt_history_best(const hpt_history_t *history);

/* Next unused trial number (max + 1, or 0). */
int hpt_history_next_number(const hpt_history_t *history);

#endif
