/* test_pruner_successive_halving.c — the `successive_halving` rule
 * (coordinator/pruner_successive_halving.c).
 *
 * The expected verdicts were computed once with Optuna 5.0.0: the same
 * scripted study (script_value, run_script: pruner_fixture.h) driven through
 * study.ask(), trial.report() and trial.should_prune() with
 * optuna.pruners.SuccessiveHalvingPruner, and the pruned (trial, step)
 * pairs pasted here.
 */
#include "pruner_fixture.h"

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
