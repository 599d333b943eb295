/* pruner_percentile.c — the `percentile` rule, with Optuna's
 * PercentilePruner semantics (optuna/pruners/_percentile.py).
 *
 * Options: percentile (required, 0..100), n_startup_trials (5),
 * n_warmup_steps (0), interval_steps (1), n_min_trials (1). A trial whose
 * largest reported step is s is pruned iff
 *   - at least one and at least n_startup_trials trials are COMPLETE,
 *   - s >= n_warmup_steps and s is the first reported step of its interval
 *     (no other reported step in [floor((s - warmup) / interval) · interval
 *     + warmup, s)),
 *   - its best intermediate value (NaN ignored; all NaN: pruned) is worse
 *     than the given percentile of the values COMPLETE trials reported at
 *     step s — the top `percentile` per cent are kept, so when maximising
 *     the cut is at 100 - percentile — computed as numpy.nanpercentile
 *     (linear interpolation, NaN ignored), when at least n_min_trials
 *     COMPLETE trials reported step s (NaN counted, as Optuna does).
 * The median rule (pruner_median.c) is this one at percentile 50, through
 * the hpt__percentile_* functions of pruner_internal.h.
 */
#include <math.h>
#include <stdlib.h>

#include "pruner_internal.h"

typedef struct percentile_state {
  double percentile;
  int64_t n_startup_trials;
  int64_t n_warmup_steps;
  int64_t interval_steps;
  int64_t n_min_trials;
} percentile_state_t;

static const char *const percentile_keys[] = {"type",
                                              "percentile",
                                              "n_startup_trials",
                                              "n_warmup_steps",
                                              "interval_steps",
                                              "n_min_trials",
                                              NULL};

/* Allocates the state for the cut at `percentile` and reads the options
 * the median rule shares: n_startup_trials, n_warmup_steps, interval_steps,
 * n_min_trials. On failure sets error; the caller's destroy frees. */
int hpt__percentile_init(hpt_pruner_t *pruner, const hpt_options_t *options,
                         double percentile, hpt_error_t *error) {
  percentile_state_t *state = calloc(1, sizeof *state);
  if (state == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating pruner");
  pruner->state = state;
  state->percentile = percentile;
  int rc;
  if ((rc =
           hpt__pruner_option_int(options, "n_startup_trials", 5, 0, 1000000000,
                                  &state->n_startup_trials, error)) != HPT_OK ||
      (rc = hpt__pruner_option_int(options, "n_warmup_steps", 0, 0, 1000000000,
                                   &state->n_warmup_steps, error)) != HPT_OK ||
      (rc = hpt__pruner_option_int(options, "interval_steps", 1, 1, 1000000000,
                                   &state->interval_steps, error)) != HPT_OK ||
      (rc = hpt__pruner_option_int(options, "n_min_trials", 1, 1, 1000000000,
                                   &state->n_min_trials, error)) != HPT_OK)
    return rc;
  return HPT_OK;
}

/* Reads the required `percentile`, then the shared options. */
static int percentile_init(hpt_pruner_t *pruner, const hpt_options_t *options,
                           hpt_error_t *error) {
  char place[320];
  if (hpt_options_find(options, "percentile") == NULL)
    return HPT_ERR(
        error, HPT_EINVAL, "%s: required (a number in 0..100)",
        hpt_options_describe(options, "percentile", place, sizeof place));
  double percentile;
  int rc =
      hpt_options_get_double(options, "percentile", 50, &percentile, error);
  if (rc != HPT_OK)
    return rc;
  if (!(percentile >= 0 && percentile <= 100))
    return HPT_ERR(
        error, HPT_EINVAL, "%s: must be between 0 and 100",
        hpt_options_describe(options, "percentile", place, sizeof place));
  return hpt__percentile_init(pruner, options, percentile, error);
}

void hpt__percentile_destroy(hpt_pruner_t *pruner) {
  free(pruner->state);
  pruner->state = NULL;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* numpy.nanpercentile(values, q) with the default linear method; NaN when
 * fewer than n_min trials reported `step` or all their values are NaN. */
static double percentile_at(const hpt_history_t *history, int step, double q,
                            int64_t n_min) {
  double *values = malloc((history->n_trials + 1) * sizeof *values);
  if (values == NULL)
    return NAN; /* cannot fail: without memory, do not prune */
  size_t n_reported = 0, n = 0;
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *trial = &history->trials[i];
    if (trial->state != HPT_TRIAL_COMPLETE)
      continue;
    double v = hpt_history_value_at(trial, step);
    bool reported = false;
    for (size_t j = 0; j < trial->n_steps && !reported; j++)
      reported = trial->steps[j] == step;
    if (!reported)
      continue;
    n_reported++;
    if (!isnan(v))
      values[n++] = v;
  }
  double result = NAN;
  if ((int64_t)n_reported >= n_min && n > 0) {
    qsort(values, n, sizeof *values, compare_doubles);
    double index = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(index);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double t = index - (double)lo, a = values[lo], b = values[hi];
    /* numpy's _lerp, exact at both ends. */
    result = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
  }
  free(values);
  return result;
}

bool hpt__percentile_should_prune(hpt_pruner_t *pruner,
                                  const hpt_history_t *history,
                                  const hpt_trial_t *trial) {
  const percentile_state_t *state = pruner->state;
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
  double q = maximize ? 100 - state->percentile : state->percentile;
  double cut = percentile_at(history, step, q, state->n_min_trials);
  if (isnan(cut))
    return false;
  return maximize ? best < cut : best > cut;
}

const hpt__pruner_ops_t hpt__pruner_percentile = {
    .type = "percentile",
    .keys = percentile_keys,
    .init = percentile_init,
    .should_prune = hpt__percentile_should_prune,
    .destroy = hpt__percentile_destroy,
};
