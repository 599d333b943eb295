/* test_pruner_percentile.c — the `percentile` rule
 * (coordinator/pruner_percentile.c).
 *
 * The scripted-study verdicts were computed once with Optuna 5.0.0: the
 * same study (script_value, run_script) driven through study.ask(),
 * trial.report() and trial.should_prune() with
 * optuna.pruners.PercentilePruner, and the pruned (trial, step) pairs
 * pasted here. The hand-built cases are worked out in their comments.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "history.h"
#include "pruner.h"
#include "spec.h"

/* ---- a scripted study, replayed as in Optuna ------- */

/* The intermediate value of trial i at step s (the same formula as the
 * Optuna script that produced the expected verdicts). */
static double script_value(int i, int s, bool maximize) {
  double v =
      ((i * 37) % 11) / 10.0 + 1.0 / (s + 1) + (i % 5 == 0 ? 0.05 * s : 0.0);
  if (i % 13 == 7 && s == 3)
    v = NAN;
  return maximize ? -v : v;
}

typedef struct verdict {
  int trial, step;
} verdict_t;

/* Runs n_trials trials of n_steps steps, `slots` at a time: each round,
 * every running trial (by number) reports its next step and asks for a
 * verdict; pruned trials stop, finished ones complete with their last
 * value, and freed slots start new trials. Fills pruned (trial, step) in
 * order; returns the count. */
static size_t run_script(const char *pruner_yaml, bool maximize, int n_trials,
                         int n_steps, int slots, verdict_t *pruned) {
  char yaml[256];
  snprintf(yaml, sizeof yaml, "name: t\npruner: %s\n", pruner_yaml);
  hpt_spec_t *spec = NULL;
  cr_assert_eq(
      hpt_spec_parse_string(yaml, strlen(yaml), "study.yaml", &spec, NULL),
      HPT_OK);
  hpt_pruner_t *pruner = NULL;
  hpt_error_t error;
  cr_assert_eq(hpt_pruner_new(&spec->pruner, &pruner, &error), HPT_OK, "%s",
               error.message);
  hpt_history_t history;
  hpt_history_init(
      &history, maximize ? HPT_DIRECTION_MAXIMIZE : HPT_DIRECTION_MINIMIZE, 0);
  int active[64], steps[64], n_active = 0, started = 0;
  size_t n_pruned = 0;
  while (started < n_trials || n_active > 0) {
    while (n_active < slots && started < n_trials) {
      cr_assert_eq(hpt_history_add(&history, started, HPT_TRIAL_RUNNING, NULL,
                                   NULL, NULL),
                   HPT_OK);
      active[n_active] = started++;
      steps[n_active++] = 0;
    }
    int kept = 0;
    for (int a = 0; a < n_active; a++) {
      int number = active[a], s = ++steps[a];
      double v = script_value(number, s, maximize);
      hpt_trial_t *trial = hpt_history_find(&history, number);
      cr_assert_eq(hpt_history_report(trial, s, v, NULL), HPT_OK);
      if (hpt_pruner_should_prune(pruner, &history, number)) {
        trial->state = HPT_TRIAL_PRUNED;
        trial->value = v;
        pruned[n_pruned++] = (verdict_t){number, s};
      } else if (s == n_steps) {
        trial->state = HPT_TRIAL_COMPLETE;
        trial->value = v;
      } else {
        active[kept] = number;
        steps[kept++] = s;
      }
    }
    n_active = kept;
  }
  hpt_history_close(&history);
  hpt_pruner_destroy(&pruner);
  hpt_spec_destroy(&spec);
  return n_pruned;
}

/* Runs the script and compares with Optuna's pruned (trial, step) list. */
static void expect_script(const char *pruner_yaml, bool maximize, int n_trials,
                          int n_steps, int slots, const verdict_t *want,
                          size_t n_want) {
  verdict_t got[256];
  size_t n = run_script(pruner_yaml, maximize, n_trials, n_steps, slots, got);
  cr_expect_eq(n, n_want, "%s: %zu pruned, Optuna %zu", pruner_yaml, n, n_want);
  for (size_t i = 0; i < n && i < n_want; i++)
    cr_expect(got[i].trial == want[i].trial && got[i].step == want[i].step,
              "%s: verdict %zu: trial %d step %d, Optuna trial %d step %d",
              pruner_yaml, i, got[i].trial, got[i].step, want[i].trial,
              want[i].step);
}

/* A pruner from flow-style YAML; returns the rc and fills error. */
static int make_pruner(const char *pruner_yaml, hpt_error_t *error) {
  char yaml[256];
  snprintf(yaml, sizeof yaml, "name: t\npruner: %s\n", pruner_yaml);
  hpt_spec_t *spec = NULL;
  cr_assert_eq(
      hpt_spec_parse_string(yaml, strlen(yaml), "study.yaml", &spec, NULL),
      HPT_OK);
  hpt_pruner_t *pruner = NULL;
  int rc = hpt_pruner_new(&spec->pruner, &pruner, error);
  if (rc != HPT_OK)
    cr_expect_null(pruner);
  hpt_pruner_destroy(&pruner);
  hpt_spec_destroy(&spec);
  return rc;
}

/* Expects pruner_yaml to be rejected with a message containing `text`. */
static void expect_rejected(const char *pruner_yaml, const char *text) {
  hpt_error_t error;
  cr_expect_eq(make_pruner(pruner_yaml, &error), HPT_EINVAL, "%s", pruner_yaml);
  cr_expect(strstr(error.message, text) != NULL, "%s: %s", pruner_yaml,
            error.message);
}

Test(percentile, scripted_study_matches_optuna) {
  /* PercentilePruner(25.0, n_startup_trials=3, n_warmup_steps=2,
   * interval_steps=2), minimize, 30 trials x 12 steps, 3 at once */
  static const verdict_t want[] = {
      {4, 2},  {5, 2},  {7, 2},  {8, 2},  {9, 2},  {10, 2}, {12, 2}, {13, 2},
      {15, 2}, {16, 2}, {17, 2}, {18, 2}, {19, 2}, {20, 2}, {21, 2}, {23, 2},
      {24, 2}, {25, 2}, {26, 2}, {27, 2}, {28, 2}, {29, 2}};
  expect_script("{type: percentile, percentile: 25, n_startup_trials: 3, "
                "n_warmup_steps: 2, interval_steps: 2}",
                false, 30, 12, 3, want, sizeof want / sizeof want[0]);
}

Test(percentile, maximizing_with_n_min_trials_matches_optuna) {
  /* PercentilePruner(60.0, n_startup_trials=2, n_min_trials=2), maximize,
   * 30 trials x 10 steps, 4 at once */
  static const verdict_t want[] = {
      {2, 10}, {4, 1},  {5, 1},  {6, 1},  {7, 1},  {8, 1},  {9, 1},  {10, 1},
      {12, 1}, {13, 1}, {15, 1}, {16, 1}, {17, 1}, {18, 1}, {19, 1}, {20, 1},
      {21, 1}, {23, 1}, {24, 1}, {25, 2}, {26, 1}, {27, 1}, {28, 1}, {29, 1}};
  expect_script("{type: percentile, percentile: 60, n_startup_trials: 2, "
                "n_min_trials: 2}",
                true, 30, 10, 4, want, sizeof want / sizeof want[0]);
}

/* Four COMPLETE trials reporting 1, 2, 3, 4 at step 5, and trial 9 that
 * reported `value` at step 5; the verdict for trial 9. */
static bool verdict_at_step5(const char *pruner_yaml, hpt_direction_t direction,
                             double value) {
  char yaml[256];
  snprintf(yaml, sizeof yaml, "name: t\npruner: %s\n", pruner_yaml);
  hpt_spec_t *spec = NULL;
  cr_assert_eq(hpt_spec_parse_string(yaml, strlen(yaml), NULL, &spec, NULL),
               HPT_OK);
  hpt_pruner_t *pruner = NULL;
  cr_assert_eq(hpt_pruner_new(&spec->pruner, &pruner, NULL), HPT_OK);
  hpt_history_t history;
  hpt_history_init(&history, direction, 0);
  hpt_trial_t *t;
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(
        hpt_history_add(&history, i, HPT_TRIAL_COMPLETE, NULL, &t, NULL),
        HPT_OK);
    hpt_history_report(t, 5, i + 1.0, NULL);
    t->value = i + 1.0;
  }
  cr_assert_eq(hpt_history_add(&history, 9, HPT_TRIAL_RUNNING, NULL, &t, NULL),
               HPT_OK);
  hpt_history_report(t, 5, value, NULL);
  bool prune = hpt_pruner_should_prune(pruner, &history, 9);
  hpt_history_close(&history);
  hpt_pruner_destroy(&pruner);
  hpt_spec_destroy(&spec);
  return prune;
}

Test(percentile, cut_is_numpys_linear_percentile) {
  /* Minimising, percentile 25 of {1, 2, 3, 4}: index 0.75, cut 1.75. */
  const char *p25 = "{type: percentile, percentile: 25, n_startup_trials: 1}";
  cr_expect_not(verdict_at_step5(p25, HPT_DIRECTION_MINIMIZE, 1.75));
  cr_expect(verdict_at_step5(p25, HPT_DIRECTION_MINIMIZE, 1.76));
  /* Maximising keeps the top 25 %: cut at the 75th percentile, 3.25. */
  cr_expect_not(verdict_at_step5(p25, HPT_DIRECTION_MAXIMIZE, 3.25));
  cr_expect(verdict_at_step5(p25, HPT_DIRECTION_MAXIMIZE, 3.24));
  /* 50 is the median rule: 2.5. */
  const char *p50 = "{type: percentile, percentile: 50, n_startup_trials: 1}";
  cr_expect_not(verdict_at_step5(p50, HPT_DIRECTION_MINIMIZE, 2.5));
  cr_expect(verdict_at_step5(p50, HPT_DIRECTION_MINIMIZE, 2.51));
  /* A NaN-only trial is pruned. */
  cr_expect(verdict_at_step5(p50, HPT_DIRECTION_MINIMIZE, NAN));
}

Test(percentile, startup_warmup_and_min_trials_hold_back) {
  /* Only 4 COMPLETE trials: n_startup_trials 5 prunes nothing. */
  cr_expect_not(verdict_at_step5("{type: percentile, percentile: 50}",
                                 HPT_DIRECTION_MINIMIZE, 100));
  /* Step 5 is still warm-up with n_warmup_steps 6. */
  cr_expect_not(verdict_at_step5("{type: percentile, percentile: 50, "
                                 "n_startup_trials: 1, n_warmup_steps: 6}",
                                 HPT_DIRECTION_MINIMIZE, 100));
  /* Only 4 trials reported step 5: n_min_trials 5 prunes nothing. */
  cr_expect_not(verdict_at_step5("{type: percentile, percentile: 50, "
                                 "n_startup_trials: 1, n_min_trials: 5}",
                                 HPT_DIRECTION_MINIMIZE, 100));
  /* Step 5 is not the first of its interval (interval 2, warm-up 0: the
   * checks are at 0, 2, 4, 6...) — but it is the first reported step of
   * interval [4, 6), so it is checked. */
  cr_expect(verdict_at_step5("{type: percentile, percentile: 50, "
                             "n_startup_trials: 1, interval_steps: 2}",
                             HPT_DIRECTION_MINIMIZE, 100));
}

Test(percentile, bad_options_name_their_key) {
  expect_rejected("{type: percentile}", "pruner.percentile: required");
  expect_rejected("{type: percentile, percentile: 101}",
                  "pruner.percentile: must be between 0 and 100");
  expect_rejected("{type: percentile, percentile: many}", "pruner.percentile");
  expect_rejected("{type: percentile, percentile: 10, interval_steps: 0}",
                  "pruner.interval_steps: must be between 1");
  expect_rejected("{type: percentile, percentile: 10, n_min_trials: 0}",
                  "pruner.n_min_trials");
  expect_rejected("{type: percentile, percentile: 10, patience: 3}",
                  "pruner.patience: unknown key");
}
