/* history.c — a study's trials in memory; see history.h.
 *
 * Trials live in one array ordered by number. Trials are almost always
 * added in increasing order, so insertion checks the tail first and falls
 * back to a binary search plus memmove. Steps of one trial are kept in
 * report order; lookups are linear (a trial reports tens to hundreds of
 * steps, not millions).
 */
#include "history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Index of the first trial with number >= `number` (binary search). */
static size_t lower_bound(const hpt_history_t *history, int number) {
  size_t lo = 0, hi = history->n_trials;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (history->trials[mid].number < number)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void trial_free(hpt_trial_t *trial) {
  free(trial->params);
  free(trial->steps);
  free(trial->step_values);
  memset(trial, 0, sizeof *trial);
}

/* Initialises an empty history. Cannot fail. */
void hpt_history_init(hpt_history_t *history, hpt_direction_t direction,
                      size_t n_params) {
  memset(history, 0, sizeof *history);
  history->direction = direction;
  history->n_params = n_params;
}

/* Frees every trial and leaves the history empty (direction and n_params
 * kept). Accepts NULL. */
void hpt_history_close(hpt_history_t *history) {
  if (history == NULL)
    return;
  for (size_t i = 0; i < history->n_trials; i++)
    trial_free(&history->trials[i]);
  free(history->trials);
  history->trials = NULL;
  history->n_trials = 0;
  history->capacity = 0;
}

/* Adds a trial; see history.h. On failure the history is unchanged. */
int hpt_history_add(hpt_history_t *history, int number, hpt_trial_state_t state,
                    const double *params, hpt_trial_t **out,
                    hpt_error_t *error) {
  if (out != NULL)
    *out = NULL;
  size_t at = history->n_trials;
  if (at > 0 && history->trials[at - 1].number >= number)
    at = lower_bound(history, number);
  if (at < history->n_trials && history->trials[at].number == number)
    return HPT_ERR(error, HPT_EEXIST, "trial %d already exists", number);

  double *copy = NULL;
  if (history->n_params > 0) {
    copy = malloc(history->n_params * sizeof *copy);
    if (copy == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "out of memory adding trial %d",
                     number);
    for (size_t i = 0; i < history->n_params; i++)
      copy[i] = params != NULL ? params[i] : NAN;
  }
  if (history->n_trials == history->capacity) {
    size_t capacity = history->capacity ? history->capacity * 2 : 16;
    hpt_trial_t *grown =
        realloc(history->trials, capacity * sizeof *history->trials);
    if (grown == NULL) {
      free(copy);
      return HPT_ERR(error, HPT_ENOMEM, "out of memory adding trial %d",
                     number);
    }
    history->trials = grown;
    history->capacity = capacity;
  }
  memmove(&history->trials[at + 1], &history->trials[at],
          (history->n_trials - at) * sizeof *history->trials);
  hpt_trial_t *trial = &history->trials[at];
  memset(trial, 0, sizeof *trial);
  trial->number = number;
  trial->state = state;
  trial->value = NAN;
  trial->retry_of = -1;
  trial->params = copy;
  history->n_trials++;
  if (out != NULL)
    *out = trial;
  return HPT_OK;
}

/* The trial with `number`, or NULL. Borrowed until the next add. */
hpt_trial_t *hpt_history_find(const hpt_history_t *history, int number) {
  size_t at = lower_bound(history, number);
  if (at < history->n_trials && history->trials[at].number == number)
    return &history->trials[at];
  return NULL;
}

/* Index of `step` among the trial's steps, or -1. */
static long step_index(const hpt_trial_t *trial, int step) {
  /* Searching from the end: the step looked up is usually the latest. */
  for (size_t i = trial->n_steps; i > 0; i--)
    if (trial->steps[i - 1] == step)
      return (long)(i - 1);
  return -1;
}

/* Records an intermediate value; a repeated step overwrites. On failure
 * (HPT_ENOMEM) the trial is unchanged. */
int hpt_history_report(hpt_trial_t *trial, int step, double value,
                       hpt_error_t *error) {
  long at = step_index(trial, step);
  if (at >= 0) {
    trial->step_values[at] = value;
    return HPT_OK;
  }
  if (trial->n_steps == trial->steps_capacity) {
    size_t capacity = trial->steps_capacity ? trial->steps_capacity * 2 : 8;
    int *steps = realloc(trial->steps, capacity * sizeof *steps);
    if (steps == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "out of memory recording step %d",
                     step);
    trial->steps = steps;
    double *values = realloc(trial->step_values, capacity * sizeof *values);
    if (values == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "out of memory recording step %d",
                     step);
    trial->step_values = values;
    trial->steps_capacity = capacity;
  }
  trial->steps[trial->n_steps] = step;
  trial->step_values[trial->n_steps] = value;
  trial->n_steps++;
  return HPT_OK;
}

/* Value at `step`, or NaN. Cannot fail. */
double hpt_history_value_at(const hpt_trial_t *trial, int step) {
  long at = step_index(trial, step);
  return at >= 0 ? trial->step_values[at] : NAN;
}

/* Last reported step (the latest in report order), or -1. */
int hpt_history_last_step(const hpt_trial_t *trial) {
  return trial->n_steps > 0 ? trial->steps[trial->n_steps - 1] : -1;
}

/* Counts trials in `state`. Cannot fail. */
size_t hpt_history_count(const hpt_history_t *history,
                         hpt_trial_state_t state) {
  size_t count = 0;
  for (size_t i = 0; i < history->n_trials; i++)
    if (history->trials[i].state == state)
      count++;
  return count;
}

/* Best COMPLETE trial (NaN values never win; ties go to the lower number),
 * or NULL. */
const hpt_trial_t *hpt_history_best(const hpt_history_t *history) {
  const hpt_trial_t *best = NULL;
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *trial = &history->trials[i];
    if (trial->state != HPT_TRIAL_COMPLETE || isnan(trial->value))
      continue;
    if (best == NULL ||
        hpt_direction_better(history->direction, trial->value, best->value))
      best = trial;
  }
  return best;
}

/* Next unused trial number: max + 1, or 0 when empty. */
int hpt_history_next_number(const hpt_history_t *history) {
  if (history->n_trials == 0)
    return 0;
  return history->trials[history->n_trials - 1].number + 1;
}
