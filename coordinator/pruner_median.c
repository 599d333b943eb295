/* pruner_median.c — the `median` rule, with Optuna's MedianPruner semantics
 * (optuna/pruners/_percentile.py with percentile 50).
 *
 * Options: n_startup_trials (5), n_warmup_steps (0), interval_steps (1),
 * n_min_trials (1). A trial whose latest step is s is pruned iff
 *   - at least one and at least n_startup_trials trials are COMPLETE,
 *   - s >= n_warmup_steps,
 *   - s is the first reported step in its interval: the trial reported no
 *     other step in [floor((s - warmup) / interval) * interval + warmup, s)
 *     (with consecutive steps, this is (s - warmup) % interval == 0),
 *   - its best intermediate value (max when maximizing, min when
 *     minimizing; NaN ignored) is worse than the median of the values that
 *     COMPLETE trials reported at step s (NaN ignored in the median), where
 *     at least n_min_trials of them reported step s (NaN counted, as Optuna
 *     does). A trial whose values are all NaN is pruned; a median of only
 *     NaN values prunes nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pruner_internal.h"

typedef struct median_state {
  int64_t n_startup_trials;
  int64_t n_warmup_steps;
  int64_t interval_steps;
  int64_t n_min_trials;
} median_state_t;

static const char *const median_keys[] = {"type",           "n_startup_trials",
                                          "n_warmup_steps", "interval_steps",
                                          "n_min_trials",   NULL};

/* Reads an int option that must be >= `minimum`. */
static int read_option(const hpt_options_t *options, const char *key,
                       int64_t fallback, int64_t minimum, int64_t *out,
                       hpt_error_t *error) {
  int rc = hpt_options_get_int(options, key, fallback, out, error);
  if (rc != HPT_OK)
    return rc;
  if (*out < minimum || *out > 1000000000) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: must be between %lld and 1e9",
                   hpt_options_describe(options, key, place, sizeof place),
                   (long long)minimum);
  }
  return HPT_OK;
}

static int median_init(hpt_pruner_t *pruner, const hpt_options_t *options,
                       hpt_error_t *error) {
  median_state_t *state = calloc(1, sizeof *state);
  if (state == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating pruner");
  pruner->state = state;
  int rc;
  if ((rc = read_option(options, "n_startup_trials", 5, 0,
                        &state->n_startup_trials, error)) != HPT_OK ||
      (rc = read_option(options, "n_warmup_steps", 0, 0, &state->n_warmup_steps,
                        error)) != HPT_OK ||
      (rc = read_option(options, "interval_steps", 1, 1, &state->interval_steps,
                        error)) != HPT_OK ||
      (rc = read_option(options, "n_min_trials", 1, 1, &state->n_min_trials,
                        error)) != HPT_OK)
    return rc;
  return HPT_OK;
}

static void median_destroy(hpt_pruner_t *pruner) {
  free(pruner->state);
  pruner->state = NULL;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of the non-NaN values at `step` of COMPLETE trials; NaN when fewer
 * than n_min trials reported the step, or all of them reported NaN. */
static double median_at(const hpt_history_t *history, int step, int64_t n_min) {
  double *values = malloc((history->n_trials + 1) * sizeof *values);
  if (values == NULL)
    return NAN; /* cannot fail: without memory, do not prune */
  size_t n_reported = 0, n = 0;
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *trial = &history->trials[i];
    if (trial->state != HPT_TRIAL_COMPLETE)
      continue;
    for (size_t j = 0; j < trial->n_steps; j++)
      if (trial->steps[j] == step) {
        n_reported++;
        if (!isnan(trial->step_values[j]))
          values[n++] = trial->step_values[j];
        break;
      }
  }
  double median = NAN;
  if ((int64_t)n_reported >= n_min && n > 0) {
    qsort(values, n, sizeof *values, compare_doubles);
    median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }
  free(values);
  return median;
}

static bool median_should_prune(hpt_pruner_t *pruner,
                                const hpt_history_t *history,
                                const hpt_trial_t *trial) {
  const median_state_t *state = pruner->state;
  size_t n_complete = hpt_history_count(history, HPT_TRIAL_COMPLETE);
  if (n_complete == 0 || (int64_t)n_complete < state->n_startup_trials)
    return false;
  if (trial->n_steps == 0)
    return false;

  /* Optuna's last_step is the largest step reported, and its
   * second-to-last the largest of the others. */
  int step = trial->steps[0];
  for (size_t i = 1; i < trial->n_steps; i++)
    if (trial->steps[i] > step)
      step = trial->steps[i];
  if (step < state->n_warmup_steps)
    return false;
  int64_t since_warmup = (int64_t)step - state->n_warmup_steps;
  int64_t interval_start =
      since_warmup / state->interval_steps * state->interval_steps +
      state->n_warmup_steps;
  int64_t second_last = -1;
  for (size_t i = 0; i < trial->n_steps; i++)
    if (trial->steps[i] != step && trial->steps[i] > second_last)
      second_last = trial->steps[i];
  if (second_last >= interval_start)
    return false;

  bool maximize = history->direction == HPT_DIRECTION_MAXIMIZE;
  double best = NAN;
  for (size_t i = 0; i < trial->n_steps; i++) {
    double v = trial->step_values[i];
    if (!isnan(v) && (isnan(best) || (maximize ? v > best : v < best)))
      best = v;
  }
  if (isnan(best))
    return true;

  double median = median_at(history, step, state->n_min_trials);
  if (isnan(median))
    return false;
  return maximize ? best < median : best > median;
}

const hpt__pruner_ops_t hpt__pruner_median = {
    .type = "median",
    .keys = median_keys,
    .init = median_init,
    .should_prune = median_should_prune,
    .destroy = median_destroy,
};
