/* test_pruner_median.c — the pruner interface, `none`, and `median` with
 * Optuna's MedianPruner semantics (coordinator/pruner.c,
 * coordinator/pruner_median.c), on hand-built histories. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "pruner.h"

static hpt_history_t history;

static void teardown(void) { hpt_history_close(&history); }

TestSuite(pruner, .fini = teardown);

/* A pruner from key/value pairs ending with NULL. */
static int make(hpt_pruner_t **pruner, hpt_error_t *error, ...) {
  hpt_options_t options = {0};
  options.section = strdup("pruner");
  options.source = strdup("study.yaml");
  va_list args;
  va_start(args, error);
  int line = 2;
  for (const char *key; (key = va_arg(args, const char *)) != NULL;)
    hpt_options_add(&options, key, va_arg(args, const char *), line++, NULL);
  va_end(args);
  int rc = hpt_pruner_new(&options, pruner, error);
  hpt_options_free(&options);
  return rc;
}

static hpt_pruner_t *median(const char *startup, const char *warmup,
                            const char *interval, const char *min_trials) {
  hpt_pruner_t *pruner = NULL;
  hpt_error_t error;
  cr_assert_eq(make(&pruner, &error, "type", "median", "n_startup_trials",
                    startup, "n_warmup_steps", warmup, "interval_steps",
                    interval, "n_min_trials", min_trials, NULL),
               HPT_OK, "%s", error.message);
  return pruner;
}

/* Adds trial `number` with `n` intermediate values at steps 0..n-1. */
static hpt_trial_t *trial(int number, hpt_trial_state_t state, size_t n,
                          const double *values) {
  hpt_trial_t *t = NULL;
  cr_assert_eq(hpt_history_add(&history, number, state, NULL, &t, NULL),
               HPT_OK);
  for (size_t s = 0; s < n; s++)
    cr_assert_eq(hpt_history_report(t, (int)s, values[s], NULL), HPT_OK);
  if (state == HPT_TRIAL_COMPLETE)
    t->value = n > 0 ? values[n - 1] : 0;
  return t;
}

/* Five COMPLETE trials; at step s trial k reported (k + 1) * 10 + s, so the
 * median at step s is 30 + s. */
static void five_complete(hpt_direction_t direction) {
  hpt_history_init(&history, direction, 0);
  for (int k = 0; k < 5; k++) {
    double values[10];
    for (int s = 0; s < 10; s++)
      values[s] = (k + 1) * 10 + s;
    trial(k, HPT_TRIAL_COMPLETE, 10, values);
  }
}

/* Trial 99 reporting `value` at every step 0..last. */
static void running(int last, double value) {
  double values[32];
  for (int s = 0; s <= last; s++)
    values[s] = value;
  trial(99, HPT_TRIAL_RUNNING, (size_t)last + 1, values);
}

Test(pruner, none_never_prunes) {
  hpt_pruner_t *pruner = NULL;
  cr_assert_eq(make(&pruner, NULL, "type", "none", NULL), HPT_OK);
  cr_expect_str_eq(hpt_pruner_type(pruner), "none");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  running(3, -1000);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
  cr_expect_null(pruner);
  hpt_pruner_destroy(&pruner);
}

Test(pruner, median_defaults) {
  hpt_pruner_t *pruner = NULL;
  cr_assert_eq(make(&pruner, NULL, "type", "median", NULL), HPT_OK);
  cr_expect_str_eq(hpt_pruner_type(pruner), "median");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  running(0, 29); /* median at step 0 is 30 */
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, maximize_prunes_below_median_only) {
  hpt_pruner_t *pruner = median("5", "0", "1", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  running(2, 31.9); /* median at step 2 is 32 */
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_history_report(hpt_history_find(&history, 99), 2, 32, NULL);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99), "equal keeps");
  hpt_history_report(hpt_history_find(&history, 99), 3, 50, NULL);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, minimize_prunes_above_median_only) {
  hpt_pruner_t *pruner = median("5", "0", "1", "1");
  five_complete(HPT_DIRECTION_MINIMIZE);
  running(4, 34.5); /* median at step 4 is 34 */
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_history_report(hpt_history_find(&history, 99), 5, 20, NULL);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, best_value_so_far_counts) {
  hpt_pruner_t *pruner = median("1", "0", "1", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  /* good at step 0 (100), bad at step 1 (0): best 100 beats median 31 */
  trial(99, HPT_TRIAL_RUNNING, 2, (double[]){100, 0});
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, even_count_median_interpolates) {
  hpt_pruner_t *pruner = median("1", "0", "1", "1");
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 0);
  for (int k = 0; k < 4; k++)
    trial(k, HPT_TRIAL_COMPLETE, 1, (double[]){k + 1.0});
  running(0, 2.5); /* median of 1, 2, 3, 4 */
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_history_report(hpt_history_find(&history, 99), 0, 2.49, NULL);
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, startup_trials) {
  hpt_pruner_t *pruner = median("6", "0", "1", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  running(3, -1);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99), "5 < 6");
  trial(5, HPT_TRIAL_COMPLETE, 4, (double[]){1, 1, 1, 1});
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99), "6 complete");
  hpt_pruner_destroy(&pruner);
}

Test(pruner, startup_counts_only_complete_trials) {
  hpt_pruner_t *pruner = median("3", "0", "1", "1");
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 0);
  trial(0, HPT_TRIAL_COMPLETE, 1, (double[]){10});
  trial(1, HPT_TRIAL_COMPLETE, 1, (double[]){10});
  trial(2, HPT_TRIAL_PRUNED, 1, (double[]){10});
  trial(3, HPT_TRIAL_FAIL, 1, (double[]){10});
  trial(4, HPT_TRIAL_RUNNING, 1, (double[]){10});
  running(0, 1);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, zero_startup_still_needs_one_complete_trial) {
  hpt_pruner_t *pruner = median("0", "0", "1", "1");
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 0);
  trial(0, HPT_TRIAL_PRUNED, 1, (double[]){10});
  running(0, 1);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, median_uses_only_complete_trials) {
  hpt_pruner_t *pruner = median("1", "0", "1", "1");
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 0);
  trial(0, HPT_TRIAL_COMPLETE, 1, (double[]){10});
  trial(1, HPT_TRIAL_PRUNED, 1, (double[]){100});
  trial(2, HPT_TRIAL_RUNNING, 1, (double[]){100});
  running(0, 11);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, warmup_steps) {
  hpt_pruner_t *pruner = median("5", "3", "1", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  running(2, -1);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99), "step 2 < 3");
  hpt_history_report(hpt_history_find(&history, 99), 3, -1, NULL);
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99), "step 3");
  hpt_pruner_destroy(&pruner);
}

Test(pruner, interval_steps_offset_by_warmup) {
  hpt_pruner_t *pruner = median("5", "1", "3", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  /* checks happen at steps 1, 4, 7 */
  bool expected[] = {false, true, false, false, true, false, false, true};
  hpt_trial_t *t = NULL;
  hpt_history_add(&history, 99, HPT_TRIAL_RUNNING, NULL, &t, NULL);
  for (int s = 0; s < 8; s++) {
    hpt_history_report(hpt_history_find(&history, 99), s, -1, NULL);
    cr_expect_eq(hpt_pruner_should_prune(pruner, &history, 99), expected[s],
                 "step %d", s);
  }
  hpt_pruner_destroy(&pruner);
}

Test(pruner, interval_with_skipped_steps) {
  /* Optuna: a check postponed until a value is reported in the interval. */
  hpt_pruner_t *pruner = median("5", "0", "3", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  hpt_trial_t *t = NULL;
  hpt_history_add(&history, 99, HPT_TRIAL_RUNNING, NULL, &t, NULL);
  hpt_history_report(t, 1, -1, NULL); /* first report in [0, 3) */
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99), "step 1");
  hpt_history_report(t, 2, -1, NULL);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99), "step 2");
  hpt_history_report(t, 5, -1, NULL); /* first report in [3, 6) */
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99), "step 5");
  hpt_pruner_destroy(&pruner);
}

Test(pruner, all_nan_trial_is_pruned) {
  hpt_pruner_t *pruner = median("5", "0", "1", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  running(1, NAN);
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, nan_values_are_ignored_in_best) {
  hpt_pruner_t *pruner = median("5", "0", "1", "1");
  five_complete(HPT_DIRECTION_MINIMIZE);
  trial(99, HPT_TRIAL_RUNNING, 3, (double[]){5, NAN, NAN});
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99), "best is 5");
  hpt_pruner_destroy(&pruner);
}

Test(pruner, nan_values_are_ignored_in_median) {
  hpt_pruner_t *pruner = median("1", "0", "1", "1");
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 0);
  trial(0, HPT_TRIAL_COMPLETE, 1, (double[]){NAN});
  trial(1, HPT_TRIAL_COMPLETE, 1, (double[]){NAN});
  trial(2, HPT_TRIAL_COMPLETE, 1, (double[]){10});
  running(0, 9); /* median of {10}: 10 */
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, all_nan_median_does_not_prune) {
  hpt_pruner_t *pruner = median("1", "0", "1", "1");
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 0);
  trial(0, HPT_TRIAL_COMPLETE, 1, (double[]){NAN});
  running(0, -100);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, n_min_trials) {
  hpt_pruner_t *pruner = median("1", "0", "1", "3");
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 0);
  trial(0, HPT_TRIAL_COMPLETE, 3, (double[]){10, 10, 10});
  trial(1, HPT_TRIAL_COMPLETE, 3, (double[]){10, 10, 10});
  trial(2, HPT_TRIAL_COMPLETE, 1, (double[]){10});
  running(1, 0);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99),
                "2 reported step 1");
  hpt_history_report(hpt_history_find(&history, 2), 1, NAN, NULL);
  cr_expect(hpt_pruner_should_prune(pruner, &history, 99),
            "3 reported (a NaN counts, as in Optuna)");
  hpt_pruner_destroy(&pruner);
}

Test(pruner, step_nobody_reported_does_not_prune) {
  hpt_pruner_t *pruner = median("5", "0", "1", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  running(15, -1); /* completed trials stopped at step 9 */
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, unknown_or_silent_trials_are_not_pruned) {
  hpt_pruner_t *pruner = median("5", "0", "1", "1");
  five_complete(HPT_DIRECTION_MAXIMIZE);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 1234));
  trial(99, HPT_TRIAL_RUNNING, 0, NULL);
  cr_expect_not(hpt_pruner_should_prune(pruner, &history, 99));
  hpt_pruner_destroy(&pruner);
}

Test(pruner, unknown_type_lists_known_types) {
  hpt_pruner_t *pruner = (hpt_pruner_t *)1;
  hpt_error_t error;
  cr_expect_eq(make(&pruner, &error, "type", "asha", NULL), HPT_EINVAL);
  cr_expect_null(pruner);
  cr_expect_str_eq(error.message,
                   "study.yaml:2: pruner.type: unknown pruner 'asha' (known: "
                   "none, median, percentile, successive_halving, hyperband)");
}

Test(pruner, option_errors) {
  hpt_pruner_t *pruner = NULL;
  hpt_error_t error;
  cr_expect_eq(make(&pruner, &error, "type", "median", "n_warmup", "3", NULL),
               HPT_EINVAL);
  cr_expect(strstr(error.message, "study.yaml:3: pruner.n_warmup: unknown "
                                  "key (expected one of: type, "
                                  "n_startup_trials") != NULL,
            "%s", error.message);
  cr_expect_eq(make(&pruner, &error, "type", "none", "n_min_trials", "3", NULL),
               HPT_EINVAL);
  cr_expect_eq(
      make(&pruner, &error, "type", "median", "interval_steps", "0", NULL),
      HPT_EINVAL);
  cr_expect(strstr(error.message, "study.yaml:3: pruner.interval_steps: must "
                                  "be between 1") != NULL,
            "%s", error.message);
  cr_expect_eq(
      make(&pruner, &error, "type", "median", "n_warmup_steps", "-1", NULL),
      HPT_EINVAL);
  cr_expect_eq(
      make(&pruner, &error, "type", "median", "n_min_trials", "0", NULL),
      HPT_EINVAL);
  cr_expect_eq(
      make(&pruner, &error, "type", "median", "n_startup_trials", "five", NULL),
      HPT_EINVAL);
  cr_expect(strstr(error.message, "must be an integer") != NULL);
  cr_expect_null(pruner);
}
