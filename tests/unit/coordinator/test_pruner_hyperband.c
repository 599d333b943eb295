/* test_pruner_hyperband.c — the `hyperband` rule
 * (coordinator/pruner_hyperband.c).
 *
 * The expected verdicts were computed once with Optuna 5.0.0: the same
 * scripted study (script_value, run_script) in a study named "hpt" (so
 * that Optuna's bracket hash, crc32("<study>_<number>"), is hpt's), driven
 * through study.ask(), trial.report() and trial.should_prune() with
 * optuna.pruners.HyperbandPruner, and the pruned (trial, step) pairs pasted
 * here.
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

Test(hyperband, auto_max_resource_matches_optuna) {
  /* HyperbandPruner(), minimize, 60 trials x 27 steps, 3 at once */
  static const verdict_t want[] = {
      {2, 27}, {4, 1},  {5, 1},   {6, 1},  {7, 1},  {8, 3},  {9, 3},   {10, 3},
      {12, 1}, {15, 1}, {16, 3},  {18, 1}, {19, 1}, {17, 3}, {21, 1},  {20, 9},
      {23, 1}, {24, 1}, {25, 3},  {27, 3}, {26, 9}, {28, 9}, {29, 9},  {31, 3},
      {32, 1}, {33, 3}, {34, 3},  {35, 1}, {37, 1}, {38, 1}, {36, 9},  {39, 9},
      {40, 3}, {41, 1}, {30, 27}, {42, 9}, {43, 9}, {46, 1}, {45, 9},  {48, 3},
      {49, 1}, {50, 3}, {51, 1},  {52, 1}, {53, 3}, {54, 3}, {47, 27}, {56, 3},
      {55, 9}, {59, 1}, {57, 9},  {58, 27}};
  expect_script("{type: hyperband}", false, 60, 27, 3, want,
                sizeof want / sizeof want[0]);
}

Test(hyperband, integer_max_resource_matches_optuna) {
  /* HyperbandPruner(min_resource=1, max_resource=27, reduction_factor=3),
   * maximize, 60 trials x 27 steps, 4 at once */
  static const verdict_t want[] = {
      {2, 1},  {4, 1},  {5, 1},   {7, 1},  {8, 3},  {9, 3},  {10, 3}, {12, 3},
      {15, 1}, {16, 3}, {17, 3},  {18, 1}, {19, 1}, {20, 9}, {21, 1}, {24, 1},
      {23, 3}, {25, 3}, {27, 3},  {28, 3}, {26, 9}, {31, 3}, {32, 1}, {29, 9},
      {33, 3}, {34, 3}, {35, 1},  {37, 1}, {38, 1}, {39, 3}, {41, 1}, {40, 3},
      {36, 9}, {42, 9}, {30, 27}, {43, 9}, {46, 1}, {48, 3}, {49, 1}, {45, 9},
      {50, 3}, {47, 9}, {51, 1},  {52, 1}, {53, 3}, {54, 3}, {56, 3}, {55, 9},
      {59, 1}, {57, 9}, {58, 27}};
  expect_script("{type: hyperband, min_resource: 1, max_resource: 27, "
                "reduction_factor: 3}",
                true, 60, 27, 4, want, sizeof want / sizeof want[0]);
}

Test(hyperband, nothing_is_pruned_before_a_trial_completes) {
  verdict_t got[256];
  /* 5 trials of 30 steps, all at once: none completes before the others
   * have reported all but their last step, and max_resource is 'auto'. */
  size_t n = run_script("{type: hyperband}", false, 5, 30, 5, got);
  for (size_t i = 0; i < n; i++)
    cr_expect_eq(got[i].step, 30, "pruned only once a trial completed");
}

Test(hyperband, bad_options_name_their_key) {
  expect_rejected("{type: hyperband, max_resource: lots}",
                  "pruner.max_resource: must be 'auto' or an integer >= 1");
  expect_rejected("{type: hyperband, min_resource: 0}",
                  "pruner.min_resource: must be between 1");
  expect_rejected("{type: hyperband, reduction_factor: 1}",
                  "pruner.reduction_factor");
  expect_rejected("{type: hyperband, bootstrap_count: 1}",
                  "bootstrap_count > 0 needs an integer max_resource");
  expect_rejected("{type: hyperband, n_brackets: 3}",
                  "pruner.n_brackets: unknown key");
  hpt_error_t error;
  cr_expect_eq(make_pruner("{type: hyperband, max_resource: 81, "
                           "bootstrap_count: 2}",
                           &error),
               HPT_OK, "%s", error.message);
}
