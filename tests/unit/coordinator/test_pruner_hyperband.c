/* test_pruner_hyperband.c — the `hyperband` rule
 * (coordinator/pruner_hyperband.c).
 *
 * The expected verdicts were computed once with Optuna 5.0.0: the same
 * scripted study (script_value, run_script: pruner_fixture.h) in a study named
 * "hpt" (so that Optuna's bracket hash, crc32("<study>_<number>"), is hpt's),
 * driven through study.ask(), trial.report() and trial.should_prune() with
 * optuna.pruners.HyperbandPruner, and the pruned (trial, step) pairs pasted
 * here.
 */
#include "pruner_fixture.h"

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
