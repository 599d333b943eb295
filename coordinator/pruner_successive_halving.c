/* pruner_successive_halving.c — the `successive_halving` rule, with
 * Optuna's SuccessiveHalvingPruner semantics
 * (optuna/pruners/_successive_halving.py), i.e. asynchronous successive
 * halving (ASHA).
 *
 * Options: min_resource ('auto' or an integer >= 1; auto), reduction_factor
 * (4, >= 2), min_early_stopping_rate (0), bootstrap_count (0; > 0 needs an
 * integer min_resource).
 *
 * Rung r is reached at step min_resource · reduction_factor^(rate + r).
 * Each time a trial reports, Optuna records the trial's latest value as its
 * value for every rung it newly reaches (a NaN value prunes it instead),
 * and prunes it unless, among the values recorded for that rung by all
 * trials (any state) plus its own, it is in the top 1/reduction_factor
 * (the best one while fewer than reduction_factor have competed), or at
 * most bootstrap_count have competed. Optuna keeps those records as trial
 * system attributes; hpt's history has none, so this file rebuilds them
 * from the steps each trial reported, replaying its reports in order (the
 * coordinator asks after every report, as Optuna's trial.should_prune()
 * loop does). Optuna records nothing for reports made before an 'auto'
 * min_resource is known; the pruner remembers how many reports each trial
 * had made at that moment and skips them in the replay. That memory is not
 * stored: after a coordinator restart the replay treats every report as
 * seen, which can change verdicts for the study's first few trials only.
 *
 * min_resource 'auto' is max(last step of any COMPLETE trial / 100, 1),
 * fixed at the first verdict after a trial completes, as in Optuna.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pruner_internal.h"

typedef struct sh_state {
  hpt__sh_rule_t rule; /* min_resource 0 until 'auto' is resolved */
  bool auto_min;
  hpt__sh_unseen_t unseen; /* reports before 'auto' was resolved */
} sh_state_t;

static const char *const sh_keys[] = {"type",
                                      "min_resource",
                                      "reduction_factor",
                                      "min_early_stopping_rate",
                                      "bootstrap_count",
                                      NULL};

static int sh_init(hpt_pruner_t *pruner, const hpt_options_t *options,
                   hpt_error_t *error) {
  sh_state_t *state = calloc(1, sizeof *state);
  if (state == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating pruner");
  pruner->state = state;
  hpt__sh_rule_t *rule = &state->rule;
  int rc;
  if ((rc = hpt__pruner_option_auto_int(
           options, "min_resource", &rule->min_resource, error)) != HPT_OK ||
      (rc = hpt__pruner_option_int(options, "reduction_factor", 4, 2, 1000000,
                                   &rule->reduction_factor, error)) != HPT_OK ||
      (rc = hpt__pruner_option_int(options, "min_early_stopping_rate", 0, 0,
                                   1000, &rule->min_early_stopping_rate,
                                   error)) != HPT_OK ||
      (rc = hpt__pruner_option_int(options, "bootstrap_count", 0, 0, 1000000000,
                                   &rule->bootstrap_count, error)) != HPT_OK)
    return rc;
  state->auto_min = rule->min_resource == 0;
  return hpt__sh_check_bootstrap(options, "min_resource", state->auto_min,
                                 rule->bootstrap_count, error);
}

int hpt__sh_check_bootstrap(const hpt_options_t *options,
                            const char *resource_key, bool resource_auto,
                            int64_t bootstrap_count, hpt_error_t *error) {
  if (!resource_auto || bootstrap_count <= 0)
    return HPT_OK;
  char place[320];
  return HPT_ERR(
      error, HPT_EINVAL, "%s: bootstrap_count > 0 needs an integer %s",
      hpt_options_describe(options, "bootstrap_count", place, sizeof place),
      resource_key);
}

static void sh_destroy(hpt_pruner_t *pruner) {
  sh_state_t *state = pruner->state;
  if (state != NULL)
    hpt__sh_unseen_free(&state->unseen);
  free(pruner->state);
  pruner->state = NULL;
}

/* The step at which rung `rung` is reached; INT64_MAX past overflow. */
static int64_t rung_step(const hpt__sh_rule_t *rule, int64_t rung) {
  int64_t step = rule->min_resource;
  for (int64_t i = 0; i < rule->min_early_stopping_rate + rung; i++) {
    if (step > INT64_MAX / rule->reduction_factor)
      return INT64_MAX;
    step *= rule->reduction_factor;
  }
  return step;
}

int64_t hpt__sh_last_complete_step(const hpt_history_t *history) {
  int64_t last_step = -1;
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *t = &history->trials[i];
    if (t->state != HPT_TRIAL_COMPLETE)
      continue;
    for (size_t j = 0; j < t->n_steps; j++)
      if (t->steps[j] > last_step)
        last_step = t->steps[j];
  }
  return last_step;
}

void hpt__sh_unseen_free(hpt__sh_unseen_t *unseen) {
  free(unseen->numbers);
  free(unseen->n_unseen);
  memset(unseen, 0, sizeof *unseen);
}

void hpt__sh_unseen_capture(hpt__sh_unseen_t *unseen,
                            const hpt_history_t *history,
                            const hpt_trial_t *current) {
  hpt__sh_unseen_free(unseen);
  size_t n = history->n_trials ? history->n_trials : 1;
  unseen->numbers = malloc(n * sizeof *unseen->numbers);
  unseen->n_unseen = malloc(n * sizeof *unseen->n_unseen);
  if (unseen->numbers == NULL || unseen->n_unseen == NULL) {
    hpt__sh_unseen_free(unseen);
    return;
  }
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *t = &history->trials[i];
    size_t skip = t == current && t->n_steps > 0 ? t->n_steps - 1 : t->n_steps;
    if (skip == 0)
      continue;
    unseen->numbers[unseen->count] = t->number; /* history is by number */
    unseen->n_unseen[unseen->count++] = skip;
  }
}

/* Reports of trial `number` the rule never saw. */
static size_t n_unseen(const hpt__sh_unseen_t *unseen, int number) {
  if (unseen == NULL)
    return 0;
  size_t lo = 0, hi = unseen->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (unseen->numbers[mid] < number)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < unseen->count && unseen->numbers[lo] == number
             ? unseen->n_unseen[lo]
             : 0;
}

/* Replays reports [skip, n_reports) of `trial`: the number of rungs it
 * completed, and in *value its value for rung `want` (NaN if it did not
 * record one). At each report the step is the largest reported so far and
 * the value the one at that step, as Optuna's trial.last_step. */
static int64_t replay(const hpt__sh_rule_t *rule, const hpt_trial_t *trial,
                      size_t skip, size_t n_reports, int64_t want,
                      double *value) {
  int64_t rung = 0;
  int64_t next = rung_step(rule, 0);
  size_t last = 0;
  *value = NAN;
  for (size_t j = 0; j < n_reports; j++) {
    if (j == 0 || trial->steps[j] >= trial->steps[last])
      last = j;
    if (j < skip)
      continue;
    int64_t step = trial->steps[last];
    double v = trial->step_values[last];
    while (step >= next) {
      if (isnan(v))
        return rung; /* pruned without a record */
      if (rung == want)
        *value = v;
      rung++;
      next = rung_step(rule, rung);
    }
  }
  return rung;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Optuna's _is_trial_promotable_to_next_rung; sorts competing. */
static bool promotable(double value, double *competing, size_t n,
                       int64_t reduction_factor, bool maximize) {
  int64_t index = (int64_t)n / reduction_factor - 1;
  if (index < 0)
    index = 0; /* the first competitors: only the best goes on */
  qsort(competing, n, sizeof *competing, compare_doubles);
  if (maximize)
    return value >= competing[n - 1 - (size_t)index];
  return value <= competing[index];
}

bool hpt__sh_should_prune(
    const hpt__sh_rule_t *rule, const hpt_history_t *history,
    const hpt_trial_t *trial, const hpt__sh_unseen_t *unseen,
    bool (*member)(const hpt_trial_t *trial, const void *context),
    const void *context) {
  if (trial->n_steps == 0)
    return false;
  double ignored;
  int64_t rung = replay(rule, trial, n_unseen(unseen, trial->number),
                        trial->n_steps - 1, -1, &ignored);
  size_t last = 0;
  for (size_t j = 1; j < trial->n_steps; j++)
    if (trial->steps[j] >= trial->steps[last])
      last = j;
  int64_t step = trial->steps[last];
  double value = trial->step_values[last];
  bool maximize = history->direction == HPT_DIRECTION_MAXIMIZE;
  double *competing = NULL;
  bool prune = false;
  for (;;) {
    if (step < rung_step(rule, rung))
      break;
    if (isnan(value)) {
      prune = true;
      break;
    }
    if (competing == NULL && (competing = malloc((history->n_trials + 1) *
                                                 sizeof *competing)) == NULL)
      break; /* cannot fail: without memory, do not prune */
    size_t n = 0;
    for (size_t i = 0; i < history->n_trials; i++) {
      const hpt_trial_t *other = &history->trials[i];
      if (other == trial || (member != NULL && !member(other, context)))
        continue;
      double v;
      replay(rule, other, n_unseen(unseen, other->number), other->n_steps, rung,
             &v);
      if (!isnan(v))
        competing[n++] = v;
    }
    competing[n++] = value;
    if ((int64_t)n <= rule->bootstrap_count ||
        !promotable(value, competing, n, rule->reduction_factor, maximize)) {
      prune = true;
      break;
    }
    rung++;
  }
  free(competing);
  return prune;
}

static bool sh_should_prune(hpt_pruner_t *pruner, const hpt_history_t *history,
                            const hpt_trial_t *trial) {
  sh_state_t *state = pruner->state;
  if (state->rule.min_resource == 0) {
    /* 'auto': fixed once a COMPLETE trial has reported. */
    int64_t last_step = hpt__sh_last_complete_step(history);
    if (last_step < 0)
      return false;
    state->rule.min_resource = last_step / 100 > 1 ? last_step / 100 : 1;
    hpt__sh_unseen_capture(&state->unseen, history, trial);
  }
  return hpt__sh_should_prune(&state->rule, history, trial, &state->unseen,
                              NULL, NULL);
}

const hpt__pruner_ops_t hpt__pruner_successive_halving = {
    .type = "successive_halving",
    .keys = sh_keys,
    .init = sh_init,
    .should_prune = sh_should_prune,
    .destroy = sh_destroy,
};
