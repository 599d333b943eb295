/* pruner_fixture.h — the harness the pruner tests share
 * (test_pruner_percentile.c, test_pruner_successive_halving.c,
 * test_pruner_hyperband.c): pruners from flow-style YAML, and a scripted
 * study replayed as in Optuna, whose pruned (trial, step) pairs the tests
 * compare with the ones Optuna 5.0.0 gave for the same script.
 *
 * Static inline so that each test executable takes only what it uses.
 */
#ifndef HPT_TEST_PRUNER_FIXTURE_H
#define HPT_TEST_PRUNER_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "history.h"
#include "pruner.h"
#include "spec.h"

/* A pruner from flow-style YAML `pruner_yaml` (the `pruner:` of a study
 * file named `source`, on its line 2). Returns hpt_pruner_new's rc; the
 * caller destroys *pruner. */
static inline int pruner_from_yaml(const char *pruner_yaml, const char *source,
                                   hpt_pruner_t **pruner, hpt_error_t *error) {
  char yaml[256];
  snprintf(yaml, sizeof yaml, "name: t\npruner: %s\n", pruner_yaml);
  hpt_spec_t *spec = NULL;
  cr_assert_eq(hpt_spec_parse_string(yaml, strlen(yaml), source, &spec, NULL),
               HPT_OK);
  int rc = hpt_pruner_new(&spec->pruner, pruner, error);
  hpt_spec_destroy(&spec);
  return rc;
}

/* A pruner from flow-style YAML; returns the rc and fills error. */
static inline int make_pruner(const char *pruner_yaml, hpt_error_t *error) {
  hpt_pruner_t *pruner = NULL;
  int rc = pruner_from_yaml(pruner_yaml, "study.yaml", &pruner, error);
  if (rc != HPT_OK)
    cr_expect_null(pruner);
  hpt_pruner_destroy(&pruner);
  return rc;
}

/* Expects pruner_yaml to be rejected with a message containing `text`. */
static inline void expect_rejected(const char *pruner_yaml, const char *text) {
  hpt_error_t error;
  cr_expect_eq(make_pruner(pruner_yaml, &error), HPT_EINVAL, "%s", pruner_yaml);
  cr_expect(strstr(error.message, text) != NULL, "%s: %s", pruner_yaml,
            error.message);
}

/* ---- a scripted study, replayed as in Optuna ------- */

/* The intermediate value of trial i at step s (the same formula as the
 * Optuna script that produced the expected verdicts). */
static inline double script_value(int i, int s, bool maximize) {
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
static inline size_t run_script(const char *pruner_yaml, bool maximize,
                                int n_trials, int n_steps, int slots,
                                verdict_t *pruned) {
  hpt_pruner_t *pruner = NULL;
  hpt_error_t error;
  cr_assert_eq(pruner_from_yaml(pruner_yaml, "study.yaml", &pruner, &error),
               HPT_OK, "%s", error.message);
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
  return n_pruned;
}

/* Runs the script and compares with Optuna's pruned (trial, step) list. */
static inline void expect_script(const char *pruner_yaml, bool maximize,
                                 int n_trials, int n_steps, int slots,
                                 const verdict_t *want, size_t n_want) {
  verdict_t got[256];
  size_t n = run_script(pruner_yaml, maximize, n_trials, n_steps, slots, got);
  cr_expect_eq(n, n_want, "%s: %zu pruned, Optuna %zu", pruner_yaml, n, n_want);
  for (size_t i = 0; i < n && i < n_want; i++)
    cr_expect(got[i].trial == want[i].trial && got[i].step == want[i].step,
              "%s: verdict %zu: trial %d step %d, Optuna trial %d step %d",
              pruner_yaml, i, got[i].trial, got[i].step, want[i].trial,
              want[i].step);
}

#endif
