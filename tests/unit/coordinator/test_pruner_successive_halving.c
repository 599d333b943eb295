/* test_pruner_successive_halving.c — the `successive_halving` rule
 * (coordinator/pruner_successive_halving.c).
 *
 * The expected verdicts were computed once with Optuna 5.0.0: the same
 * scripted study (script_value, run_script) driven through study.ask(),
 * trial.report() and trial.should_prune() with
 * optuna.pruners.SuccessiveHalvingPruner, and the pruned (trial, step)
 * pairs pasted here.
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

Test(successive_halving, auto_min_resource_matches_optuna) {
  /* SuccessiveHalvingPruner(), minimize, 40 trials x 27 steps, 3 at once */
  static const verdict_t want[] = {
      {2, 27}, {3, 1},  {4, 1},  {5, 1},  {6, 1},  {7, 1},  {8, 1},
      {9, 1},  {10, 1}, {12, 1}, {13, 1}, {15, 1}, {16, 1}, {17, 1},
      {14, 4}, {18, 1}, {19, 1}, {20, 1}, {21, 1}, {23, 1}, {24, 1},
      {25, 4}, {26, 1}, {27, 1}, {28, 4}, {29, 1}, {30, 1}, {31, 1},
      {32, 1}, {34, 1}, {35, 1}, {36, 4}, {37, 1}, {38, 1}, {39, 4}};
  expect_script("{type: successive_halving}", false, 40, 27, 3, want,
                sizeof want / sizeof want[0]);
}

Test(successive_halving, integer_min_resource_and_bootstrap_match_optuna) {
  /* SuccessiveHalvingPruner(min_resource=2, reduction_factor=3,
   * bootstrap_count=1), maximize, 40 trials x 27 steps, 4 at once */
  static const verdict_t want[] = {
      {0, 2},  {1, 2},   {2, 2},  {4, 2},  {5, 2},  {6, 2},  {3, 6},  {7, 2},
      {8, 2},  {9, 2},   {10, 2}, {12, 2}, {13, 2}, {15, 2}, {16, 2}, {18, 2},
      {14, 6}, {19, 2},  {17, 6}, {20, 2}, {21, 2}, {23, 2}, {24, 2}, {26, 2},
      {27, 2}, {11, 18}, {25, 6}, {29, 2}, {30, 2}, {28, 6}, {32, 2}, {34, 2},
      {31, 6}, {35, 2},  {37, 2}, {38, 2}, {36, 6}, {39, 6}};
  expect_script("{type: successive_halving, min_resource: 2, "
                "reduction_factor: 3, bootstrap_count: 1}",
                true, 40, 27, 4, want, sizeof want / sizeof want[0]);
}

Test(successive_halving, early_stopping_rate_matches_optuna) {
  /* SuccessiveHalvingPruner(min_resource=1, reduction_factor=2,
   * min_early_stopping_rate=1), minimize, 30 trials x 16 steps, 2 at once */
  static const verdict_t want[] = {{1, 2},  {2, 2},  {4, 2},  {5, 2},  {7, 2},
                                   {6, 4},  {8, 2},  {10, 2}, {9, 4},  {12, 4},
                                   {13, 2}, {15, 2}, {16, 2}, {18, 2}, {17, 8},
                                   {19, 2}, {21, 2}, {20, 4}, {23, 4}, {24, 2},
                                   {25, 4}, {26, 2}, {27, 2}, {29, 2}, {28, 8}};
  expect_script("{type: successive_halving, min_resource: 1, "
                "reduction_factor: 2, min_early_stopping_rate: 1}",
                false, 30, 16, 2, want, sizeof want / sizeof want[0]);
}

Test(successive_halving, silent_trials_are_not_pruned) {
  hpt_history_t history;
  hpt_history_init(&history, HPT_DIRECTION_MINIMIZE, 0);
  cr_assert_eq(
      hpt_history_add(&history, 0, HPT_TRIAL_RUNNING, NULL, NULL, NULL),
      HPT_OK);
  hpt_options_t options = {0};
  cr_assert_eq(hpt_options_add(&options, "type", "successive_halving", 0, NULL),
               HPT_OK);
  cr_assert_eq(hpt_options_add(&options, "min_resource", "1", 0, NULL), HPT_OK);
  hpt_pruner_t *pruner = NULL;
  cr_assert_eq(hpt_pruner_new(&options, &pruner, NULL), HPT_OK);
  cr_expect_str_eq(hpt_pruner_type(pruner), "successive_halving");
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 0));
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 7));
  hpt_pruner_destroy(&pruner);
  hpt_options_free(&options);
  hpt_history_close(&history);
}

Test(successive_halving, bad_options_name_their_key) {
  expect_rejected("{type: successive_halving, min_resource: soon}",
                  "pruner.min_resource: must be 'auto' or an integer >= 1");
  expect_rejected("{type: successive_halving, min_resource: 0}",
                  "pruner.min_resource");
  expect_rejected("{type: successive_halving, reduction_factor: 1}",
                  "pruner.reduction_factor: must be between 2");
  expect_rejected("{type: successive_halving, min_early_stopping_rate: -1}",
                  "pruner.min_early_stopping_rate");
  expect_rejected("{type: successive_halving, bootstrap_count: 2}",
                  "bootstrap_count > 0 needs an integer min_resource");
  expect_rejected("{type: successive_halving, eta: 3}",
                  "pruner.eta: unknown key");
  hpt_error_t error;
  cr_expect_eq(
      make_pruner("{type: successive_halving, min_resource: auto}", &error),
      HPT_OK);
}
