/* test_history.c — the in-memory trial history (coordinator/history.c). */
#include <criterion/criterion.h>
#include <math.h>

#include "history.h"

static hpt_history_t history;

static void setup(void) {
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, 2);
}
static void teardown(void) { hpt_history_close(&history); }

TestSuite(history, .init = setup, .fini = teardown);

static hpt_trial_t *add(int number, hpt_trial_state_t state) {
  hpt_trial_t *trial = NULL;
  cr_assert_eq(hpt_history_add(&history, number, state, NULL, &trial, NULL),
               HPT_OK);
  return trial;
}

Test(history, init_is_empty) {
  cr_expect_eq(history.n_trials, 0);
  cr_expect_eq(history.n_params, 2);
  cr_expect_eq(hpt_history_next_number(&history), 0);
  cr_expect_null(hpt_history_best(&history));
  cr_expect_null(hpt_history_find(&history, 0));
}

Test(history, add_copies_params) {
  double params[2] = {0.5, 3};
  hpt_trial_t *trial = NULL;
  cr_assert_eq(
      hpt_history_add(&history, 0, HPT_TRIAL_RUNNING, params, &trial, NULL),
      HPT_OK);
  params[0] = 99;
  cr_expect_eq(trial->params[0], 0.5);
  cr_expect_eq(trial->params[1], 3);
  cr_expect_eq(trial->state, HPT_TRIAL_RUNNING);
  cr_expect(isnan(trial->value));
  cr_expect_eq(trial->n_steps, 0);
}

Test(history, null_params_are_nan) {
  hpt_trial_t *trial = add(4, HPT_TRIAL_WAITING);
  cr_expect(isnan(trial->params[0]));
  cr_expect(isnan(trial->params[1]));
}

Test(history, keeps_trials_ordered_by_number) {
  add(5, HPT_TRIAL_RUNNING);
  add(1, HPT_TRIAL_RUNNING);
  add(3, HPT_TRIAL_RUNNING);
  for (int i = 10; i < 60; i++)
    add(i, HPT_TRIAL_RUNNING);
  add(0, HPT_TRIAL_RUNNING);
  cr_assert_eq(history.n_trials, 54);
  for (size_t i = 1; i < history.n_trials; i++)
    cr_expect_lt(history.trials[i - 1].number, history.trials[i].number);
  cr_expect_eq(hpt_history_find(&history, 3)->number, 3);
  cr_expect_null(hpt_history_find(&history, 4));
  cr_expect_eq(hpt_history_next_number(&history), 60);
}

Test(history, duplicate_number_is_eexist) {
  add(2, HPT_TRIAL_RUNNING);
  hpt_error_t error;
  hpt_trial_t *trial = (hpt_trial_t *)1;
  cr_expect_eq(
      hpt_history_add(&history, 2, HPT_TRIAL_COMPLETE, NULL, &trial, &error),
      HPT_EEXIST);
  cr_expect_null(trial);
  cr_expect_eq(error.code, HPT_EEXIST);
  cr_expect_eq(history.n_trials, 1);
}

Test(history, report_and_value_at) {
  hpt_trial_t *trial = add(0, HPT_TRIAL_RUNNING);
  cr_expect_eq(hpt_history_last_step(trial), -1);
  for (int s = 0; s < 20; s++)
    cr_assert_eq(hpt_history_report(trial, s, s * 0.5, NULL), HPT_OK);
  cr_expect_eq(trial->n_steps, 20);
  cr_expect_eq(hpt_history_value_at(trial, 7), 3.5);
  cr_expect(isnan(hpt_history_value_at(trial, 20)));
  cr_expect_eq(hpt_history_last_step(trial), 19);
}

Test(history, repeated_step_overwrites) {
  hpt_trial_t *trial = add(0, HPT_TRIAL_RUNNING);
  hpt_history_report(trial, 1, 0.1, NULL);
  hpt_history_report(trial, 2, 0.2, NULL);
  hpt_history_report(trial, 1, 0.9, NULL);
  cr_expect_eq(trial->n_steps, 2);
  cr_expect_eq(hpt_history_value_at(trial, 1), 0.9);
  cr_expect_eq(hpt_history_last_step(trial), 2);
}

Test(history, count_by_state) {
  add(0, HPT_TRIAL_COMPLETE);
  add(1, HPT_TRIAL_COMPLETE);
  add(2, HPT_TRIAL_PRUNED);
  add(3, HPT_TRIAL_RUNNING);
  cr_expect_eq(hpt_history_count(&history, HPT_TRIAL_COMPLETE), 2);
  cr_expect_eq(hpt_history_count(&history, HPT_TRIAL_PRUNED), 1);
  cr_expect_eq(hpt_history_count(&history, HPT_TRIAL_FAIL), 0);
}

Test(history, best_maximize_ignores_non_complete_and_nan) {
  add(0, HPT_TRIAL_COMPLETE)->value = 0.3;
  add(1, HPT_TRIAL_COMPLETE)->value = NAN;
  add(2, HPT_TRIAL_PRUNED)->value = 0.99;
  add(3, HPT_TRIAL_COMPLETE)->value = 0.7;
  add(4, HPT_TRIAL_COMPLETE)->value = 0.5;
  cr_expect_eq(hpt_history_best(&history)->number, 3);
}

Test(history, best_minimize) {
  hpt_history_close(&history);
  hpt_history_init(&history, HPT_DIRECTION_MINIMIZE, 0);
  add(0, HPT_TRIAL_COMPLETE)->value = 0.3;
  add(1, HPT_TRIAL_COMPLETE)->value = 0.1;
  add(2, HPT_TRIAL_COMPLETE)->value = 0.2;
  cr_expect_eq(hpt_history_best(&history)->number, 1);
  cr_expect_null(hpt_history_find(&history, 1)->params);
}

Test(history, best_none_when_only_nan) {
  add(0, HPT_TRIAL_COMPLETE);
  cr_expect_null(hpt_history_best(&history));
}

Test(history, close_accepts_null_and_is_reusable) {
  hpt_history_close(NULL);
  add(0, HPT_TRIAL_RUNNING);
  hpt_history_close(&history);
  cr_expect_eq(history.n_trials, 0);
  add(0, HPT_TRIAL_RUNNING);
  cr_expect_eq(history.n_trials, 1);
}
