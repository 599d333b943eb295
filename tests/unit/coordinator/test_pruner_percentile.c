/* test_pruner_percentile.c — the `percentile` rule
 * (coordinator/pruner_percentile.c).
 *
 * The scripted-study verdicts were computed once with Optuna 5.0.0: the
 * same study (script_value, run_script: pruner_fixture.h) driven through
 * study.ask(), trial.report() and trial.should_prune() with
 * optuna.pruners.PercentilePruner, and the pruned (trial, step) pairs
 * pasted here. The hand-built cases are worked out in their comments.
 */
#include "pruner_fixture.h"

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
  hpt_pruner_t *pruner = NULL;
  cr_assert_eq(pruner_from_yaml(pruner_yaml, NULL, &pruner, NULL), HPT_OK);
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
