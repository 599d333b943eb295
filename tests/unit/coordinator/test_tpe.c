/* test_tpe.c — the `tpe` sampler (coordinator/sampler_tpe.c) and its
 * density model (coordinator/parzen_estimator.c).
 *
 * Expected kernel densities marked "Optuna" were computed once with Optuna
 * 5.0.0's _ParzenEstimator (default parameters) on the same observations
 * and pasted here; the others are worked out by hand in the comments.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "parzen_estimator.h"
#include "sampler.h"
#include "sampler_internal.h"
#include "spec.h"

static hpt_spec_t *spec;
static hpt_history_t history;

static void load_space(const char *params_yaml) {
  char yaml[2048];
  snprintf(yaml, sizeof yaml, "name: s\nparams:\n%s", params_yaml);
  hpt_error_t error;
  cr_assert_eq(hpt_spec_parse_string(yaml, strlen(yaml), NULL, &spec, &error),
               HPT_OK, "%s", error.message);
  hpt_history_init(&history, HPT_DIRECTION_MINIMIZE, spec->space.n_params);
}

static void teardown(void) {
  hpt_history_close(&history);
  hpt_spec_destroy(&spec);
}

TestSuite(tpe, .fini = teardown);

/* A sampler from flow-style YAML options, e.g. "{type: tpe, seed: 1}". */
static int make(const char *section_yaml, hpt_sampler_t **sampler,
                hpt_error_t *error) {
  char yaml[512];
  snprintf(yaml, sizeof yaml, "name: t\nsampler: %s\n", section_yaml);
  hpt_spec_t *s = NULL;
  cr_assert_eq(
      hpt_spec_parse_string(yaml, strlen(yaml), "study.yaml", &s, NULL),
      HPT_OK);
  int rc = hpt_sampler_new(&s->sampler, &spec->space, sampler, error);
  hpt_spec_destroy(&s);
  return rc;
}

static hpt_sampler_t *sampler_from(const char *section_yaml) {
  hpt_sampler_t *sampler = NULL;
  hpt_error_t error;
  cr_assert_eq(make(section_yaml, &sampler, &error), HPT_OK, "%s",
               error.message);
  return sampler;
}

static void suggest(hpt_sampler_t *sampler, int number, double *params) {
  hpt_error_t error;
  cr_assert_eq(hpt_sampler_suggest(sampler, &history, number, params, &error),
               HPT_OK, "%s", error.message);
}

static hpt_trial_t *add(int number, hpt_trial_state_t state,
                        const double *params, double value) {
  hpt_trial_t *trial = NULL;
  cr_assert_eq(hpt_history_add(&history, number, state, params, &trial, NULL),
               HPT_OK);
  trial->value = value;
  return trial;
}

/* ---- gamma and weights --------------------------------------------------- */

Test(tpe, gamma_is_optunas_default) {
  static const size_t n[] = {0, 1, 10, 24, 25, 26, 100, 1000};
  static const size_t want[] = {0, 1, 1, 3, 3, 3, 10, 25};
  for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
    cr_expect_eq(hpt__tpe_gamma(n[i]), want[i], "gamma(%zu) = %zu", n[i],
                 hpt__tpe_gamma(n[i]));
}

Test(tpe, weights_are_optunas_default) {
  double w[1000];
  static const size_t flat[] = {1, 10, 24, 25};
  for (size_t i = 0; i < sizeof flat / sizeof flat[0]; i++) {
    hpt_parzen_default_weights(flat[i], w);
    for (size_t j = 0; j < flat[i]; j++)
      cr_expect_eq(w[j], 1.0);
  }
  hpt_parzen_default_weights(0, w); /* writes nothing; must not crash */
  /* Optuna's default_weights(n): w[0], w[1], w[n-26], w[n-25], sum. */
  static const struct {
    size_t n;
    double w0, w1, last_ramp, first_flat, sum;
  } ramps[] = {
      {26, 0.038461538461538464, 1.0, 0.038461538461538464, 1.0,
       25.03846153846154},
      {100, 0.01, 0.02337837837837838, 1.0, 1.0, 62.875},
      {1000, 0.001, 0.0020256673511293635, 1.0, 1.0, 512.9875},
  };
  for (size_t i = 0; i < sizeof ramps / sizeof ramps[0]; i++) {
    size_t n = ramps[i].n;
    hpt_parzen_default_weights(n, w);
    cr_expect_float_eq(w[0], ramps[i].w0, 1e-15, "n=%zu", n);
    cr_expect_float_eq(w[1], ramps[i].w1, 1e-15, "n=%zu", n);
    cr_expect_float_eq(w[n - 26], ramps[i].last_ramp, 1e-15, "n=%zu", n);
    cr_expect_eq(w[n - 25], ramps[i].first_flat);
    double sum = 0;
    for (size_t j = 0; j < n; j++)
      sum += w[j];
    cr_expect_float_eq(sum, ramps[i].sum, 1e-9, "n=%zu", n);
  }
}

/* ---- the density model --------------------------------------------------- */

static hpt_parzen_t *parzen(const double *obs, size_t n_obs, size_t n_dims) {
  const hpt_param_t *ps[8];
  for (size_t i = 0; i < n_dims; i++)
    ps[i] = &spec->space.params[i];
  hpt_parzen_config_t config = {1.0, true, false};
  hpt_parzen_t *p = NULL;
  hpt_error_t error;
  cr_assert_eq(
      hpt_parzen_new(ps, n_dims, obs, n_obs, NULL, &config, &p, &error), HPT_OK,
      "%s", error.message);
  return p;
}

Test(tpe, categorical_kernels_are_smoothed_by_the_prior) {
  load_space("  c: {type: categorical, choices: [a, b, c, d]}\n");
  /* Observations a, b, b, d, prior_weight 1: 5 kernels of weight 1/5.
   * Kernel k: 1/5 on every choice + 1 on its own, over 4/5 + 1 = 9/5, so
   * 2/3 on its choice and 1/9 elsewhere; the prior kernel 1/4 each.
   *   p(a) = (2/3 + 3·1/9 + 1/4) / 5     = 0.25
   *   p(b) = (2·2/3 + 2·1/9 + 1/4) / 5   = 0.36111...
   *   p(c) = (4·1/9 + 1/4) / 5           = 0.13888...
   *   p(d) = (2/3 + 3·1/9 + 1/4) / 5     = 0.25   (Optuna agrees) */
  const double obs[] = {0, 1, 1, 3};
  hpt_parzen_t *p = parzen(obs, 4, 1);
  const double x[] = {0, 1, 2, 3};
  const double want[] = {0.25, 0.36111111111111116, 0.1388888888888889, 0.25};
  double out[4];
  hpt_parzen_log_pdf(p, x, 4, out);
  for (int j = 0; j < 4; j++)
    cr_expect_float_eq(exp(out[j]), want[j], 1e-14, "choice %d: %.17g", j,
                       exp(out[j]));
  /* Every draw is a valid choice. */
  hpt_rng_t rng;
  hpt_rng_seed(&rng, 3);
  double draws[200];
  hpt_parzen_sample(p, &rng, 200, draws);
  for (int i = 0; i < 200; i++)
    cr_expect(draws[i] == 0 || draws[i] == 1 || draws[i] == 2 || draws[i] == 3);
  hpt_parzen_destroy(&p);
  cr_expect_null(p);
}

Test(tpe, int_log_kernels_give_grid_cell_mass) {
  load_space("  u: {type: int, low: 1, high: 1024, log: true}\n");
  const double obs[] = {1, 4, 16, 300};
  hpt_parzen_t *p = parzen(obs, 4, 1);
  const double x[] = {1, 5, 1024, 300};
  /* Optuna */
  const double want[] = {-1.7028039016668977, -3.335629510068488,
                         -9.521652925362373, -8.124416776198576};
  double out[4];
  hpt_parzen_log_pdf(p, x, 4, out);
  for (int i = 0; i < 4; i++)
    cr_expect_float_eq(out[i], want[i], 1e-12, "x=%g: %.17g", x[i], out[i]);
  /* Draws are integers in [1, 1024]. */
  hpt_rng_t rng;
  hpt_rng_seed(&rng, 5);
  double draws[500];
  hpt_parzen_sample(p, &rng, 500, draws);
  for (int i = 0; i < 500; i++)
    cr_expect(draws[i] >= 1 && draws[i] <= 1024 && draws[i] == round(draws[i]),
              "%.17g", draws[i]);
  hpt_parzen_destroy(&p);
}

Test(tpe, joint_kernels_match_optuna) {
  load_space("  n: {type: int, low: 2, high: 20, step: 3}\n"
             "  x: {type: float, low: 0, high: 1}\n");
  const double obs[] = {2, 0.1, 8, 0.5, 8, 0.55, 20, 0.9};
  hpt_parzen_t *p = parzen(obs, 4, 2);
  const double x[] = {2, 0.1, 8, 0.52, 14, 0.99};
  /* Optuna */
  const double want[] = {-1.723665189358877, -1.6268371624313098,
                         -2.0645959712095516};
  double out[3];
  hpt_parzen_log_pdf(p, x, 3, out);
  for (int i = 0; i < 3; i++)
    cr_expect_float_eq(out[i], want[i], 1e-12, "point %d: %.17g", i, out[i]);
  hpt_parzen_destroy(&p);
}

/* ---- the sampler --------------------------------------------------------- */

static const char mixed_yaml[] =
    "  lr: {type: float, low: 1.0e-3, high: 1.0, log: true}\n"
    "  x: {type: float, low: -2, high: 3}\n"
    "  q: {type: float, low: 0, high: 1, step: 0.25}\n"
    "  n: {type: int, low: 2, high: 20, step: 3}\n"
    "  units: {type: int, low: 1, high: 1024, log: true}\n"
    "  opt: {type: categorical, choices: [sgd, adam, rmsprop]}\n"
    "  momentum: {type: float, low: 0, high: 1, when: {opt: sgd}}\n"
    "  one: {type: float, low: 0.5, high: 0.5}\n";
enum { LR, X, Q, N, UNITS, OPT, MOMENTUM, ONE, N_MIXED };

/* A toy objective over mixed_yaml's space. */
static double mixed_value(const double *p) {
  double v = pow(log10(p[LR]) + 2, 2) + pow(p[X] - 1, 2) + pow(p[Q] - 0.5, 2) +
             pow((p[N] - 11) / 9, 2) + pow(log2(p[UNITS]) / 10 - 0.6, 2) +
             (p[OPT] == 1 ? 0 : 0.5);
  if (!isnan(p[MOMENTUM]))
    v += pow(p[MOMENTUM] - 0.9, 2);
  return v;
}

/* Runs `n` trials of sampler on mixed_value, checking every suggestion. */
static void run_mixed(hpt_sampler_t *sampler, int n) {
  double p[N_MIXED];
  for (int t = (int)history.n_trials; t < n; t++) {
    suggest(sampler, t, p);
    for (int i = 0; i < N_MIXED; i++) {
      bool active = hpt_space_is_active(&spec->space, (size_t)i, p);
      cr_assert_eq(isnan(p[i]), !active, "trial %d param %d = %g", t, i, p[i]);
      if (active)
        cr_assert(hpt_space_value_valid(&spec->space.params[i], p[i]),
                  "trial %d param %d = %.17g", t, i, p[i]);
    }
    add(t, HPT_TRIAL_COMPLETE, p, mixed_value(p));
  }
}

Test(tpe, suggestions_stay_on_the_grid_and_in_bounds) {
  load_space(mixed_yaml);
  hpt_sampler_t *sampler = sampler_from("{type: tpe, seed: 11}");
  run_mixed(sampler, 60);
  for (size_t t = 10; t < history.n_trials; t++) {
    const double *p = history.trials[t].params;
    cr_expect_eq(fmod(p[Q], 0.25), 0.0, "q = %.17g", p[Q]);
    cr_expect_eq(fmod(p[N] - 2, 3), 0.0, "n = %.17g", p[N]);
    cr_expect_eq(p[UNITS], round(p[UNITS]));
    cr_expect_eq(p[ONE], 0.5);
  }
  hpt_sampler_destroy(&sampler);
}

Test(tpe, seeded_suggestions_are_reproducible) {
  load_space(mixed_yaml);
  hpt_sampler_t *a = sampler_from("{type: tpe, seed: 4}");
  run_mixed(a, 30);
  double p1[N_MIXED], p2[N_MIXED], p3[N_MIXED];
  hpt_sampler_t *b = sampler_from("{type: tpe, seed: 4}");
  hpt_sampler_t *c = sampler_from("{type: tpe, seed: 5}");
  /* Same seed, same number, same history: same values, however many
   * suggestions came before. */
  suggest(a, 30, p1);
  suggest(b, 30, p2);
  suggest(a, 30, p3);
  cr_expect_arr_eq(p1, p2, sizeof p1);
  cr_expect_arr_eq(p1, p3, sizeof p1);
  suggest(c, 30, p3);
  cr_expect(memcmp(p1, p3, sizeof p1) != 0);
  hpt_sampler_destroy(&a);
  hpt_sampler_destroy(&b);
  hpt_sampler_destroy(&c);
}

Test(tpe, startup_trials_are_the_random_samplers) {
  load_space(mixed_yaml);
  hpt_sampler_t *tpe = sampler_from("{type: tpe, seed: 9}");
  hpt_sampler_t *random = sampler_from("{type: random, seed: 9}");
  double a[N_MIXED], b[N_MIXED];
  for (int t = 0; t < 10; t++) {
    suggest(tpe, t, a);
    suggest(random, t, b);
    cr_expect_arr_eq(a, b, sizeof a, "trial %d", t);
    add(t, t % 2 ? HPT_TRIAL_COMPLETE : HPT_TRIAL_PRUNED, a, mixed_value(a));
  }
  suggest(tpe, 10, a);
  suggest(random, 10, b);
  cr_expect(memcmp(a, b, sizeof a) != 0, "trial 10 is TPE's");
  hpt_sampler_destroy(&tpe);
  hpt_sampler_destroy(&random);
}

Test(tpe, failed_and_running_trials_do_not_end_startup) {
  load_space(mixed_yaml);
  hpt_sampler_t *tpe =
      sampler_from("{type: tpe, seed: 2, n_startup_trials: 3}");
  hpt_sampler_t *random = sampler_from("{type: random, seed: 2}");
  double a[N_MIXED], b[N_MIXED];
  for (int t = 0; t < 6; t++) {
    suggest(random, t, a);
    add(t,
        t < 2   ? HPT_TRIAL_COMPLETE
        : t < 4 ? HPT_TRIAL_FAIL
                : HPT_TRIAL_RUNNING,
        a, mixed_value(a));
  }
  suggest(tpe, 6, a);
  suggest(random, 6, b);
  cr_expect_arr_eq(a, b, sizeof a);
  hpt_sampler_destroy(&tpe);
  hpt_sampler_destroy(&random);
}

/* 1-D history for the liar and pruned tests: x in [0, 1]. */
static const char line_yaml[] = "  x: {type: float, low: 0, high: 1}\n";

/* 30 COMPLETE trials evenly over [0, 1], best at 0.3. */
static void line_history(void) {
  hpt_history_close(&history);
  for (int t = 0; t < 30; t++) {
    double x = (t + 0.5) / 30;
    add(t, HPT_TRIAL_COMPLETE, &x, (x - 0.3) * (x - 0.3));
  }
}

Test(tpe, constant_liar_steers_away_from_running_trials) {
  load_space(line_yaml);
  double total_liar = 0;
  for (int seed = 0; seed < 10; seed++) {
    line_history();
    char text[96];
    snprintf(text, sizeof text, "{type: tpe, seed: %d, constant_liar: false}",
             seed);
    hpt_sampler_t *plain = sampler_from(text);
    snprintf(text, sizeof text, "{type: tpe, seed: %d}", seed);
    hpt_sampler_t *liar = sampler_from(text);
    double x0, x1, x2;
    suggest(plain, 50, &x0);
    suggest(liar, 50, &x1);
    cr_expect_eq(x0, x1, "no RUNNING trials: the liar changes nothing");
    /* 20 workers are already trying points around x0. */
    for (int r = 0; r < 20; r++) {
      double x = fmin(1, fmax(0, x0 + (r - 10) * 0.002));
      add(30 + r, HPT_TRIAL_RUNNING, &x, NAN);
    }
    suggest(plain, 50, &x2);
    cr_expect_eq(x2, x0, "without the liar RUNNING trials are ignored");
    suggest(liar, 50, &x1);
    cr_expect_neq(x1, x0, "seed %d: the liar moved away from %g", seed, x0);
    total_liar += fabs(x1 - x0);
    hpt_sampler_destroy(&plain);
    hpt_sampler_destroy(&liar);
  }
  cr_expect_gt(total_liar / 10, 0.02, "mean distance from the crowd %g",
               total_liar / 10);
}

Test(tpe, the_trial_being_sampled_is_ignored) {
  load_space(line_yaml);
  for (int t = 0; t < 20; t++) {
    double x = (t + 0.5) / 20;
    add(t, HPT_TRIAL_COMPLETE, &x, x);
  }
  hpt_sampler_t *sampler = sampler_from("{type: tpe, seed: 1}");
  double a, b, far = 0.05;
  suggest(sampler, 20, &a);
  add(20, HPT_TRIAL_RUNNING, &far, NAN);
  suggest(sampler, 20, &b);
  cr_expect_eq(a, b);
  hpt_sampler_destroy(&sampler);
}

Test(tpe, pruned_trials_rank_by_depth_then_value) {
  load_space(line_yaml);
  /* 30 PRUNED trials, no COMPLETE ones: gamma(30) = 3 go below. The three
   * that got deepest (step 9) sit near x = 0.85 with poor values; 27
   * shallow ones (step 2) sit in [0, 0.5] with better values. Ranking by
   * depth first puts the deep ones below, so TPE samples near 0.85; by
   * value alone it would sample in [0, 0.5]. */
  for (int t = 0; t < 30; t++) {
    bool deep = t % 10 == 9;
    double x = deep ? 0.84 + 0.01 * (t / 10) : 0.5 * t / 30.0;
    hpt_trial_t *trial = add(t, HPT_TRIAL_PRUNED, &x, NAN);
    for (int s = 0; s <= (deep ? 9 : 2); s++)
      cr_assert_eq(hpt_history_report(trial, s, deep ? 5.0 : 1.0, NULL),
                   HPT_OK);
    trial->value = deep ? 5.0 : 1.0;
  }
  for (int seed = 0; seed < 5; seed++) {
    char text[64];
    snprintf(text, sizeof text, "{type: tpe, seed: %d}", seed);
    hpt_sampler_t *sampler = sampler_from(text);
    double x;
    suggest(sampler, 30, &x);
    cr_expect_gt(x, 0.6, "seed %d: x = %g", seed, x);
    hpt_sampler_destroy(&sampler);
  }
}

Test(tpe, conditional_params_use_trials_where_present) {
  load_space("  opt: {type: categorical, choices: [sgd, adam]}\n"
             "  momentum: {type: float, low: 0, high: 1, when: {opt: sgd}}\n");
  /* sgd trials are best with momentum near 0.9; adam trials carry none. */
  for (int t = 0; t < 40; t++) {
    double p[2];
    if (t % 2) {
      p[0] = 1;
      p[1] = NAN;
      add(t, HPT_TRIAL_COMPLETE, p, 0.5);
    } else {
      p[0] = 0;
      p[1] = (t / 2 + 0.5) / 20;
      add(t, HPT_TRIAL_COMPLETE, p, fabs(p[1] - 0.9));
    }
  }
  int n_sgd = 0;
  double near = 0;
  for (int seed = 0; seed < 20; seed++) {
    char text[64];
    snprintf(text, sizeof text, "{type: tpe, seed: %d}", seed);
    hpt_sampler_t *sampler = sampler_from(text);
    double p[2];
    suggest(sampler, 40, p);
    if (p[0] == 0) {
      cr_assert(!isnan(p[1]) && p[1] >= 0 && p[1] <= 1);
      n_sgd++;
      near += fabs(p[1] - 0.9) < 0.2;
    } else {
      cr_expect(isnan(p[1]), "absent when opt is adam");
    }
    hpt_sampler_destroy(&sampler);
  }
  cr_expect_gt(n_sgd, 10, "the best trials are sgd (%d/20)", n_sgd);
  cr_expect_geq(near, 0.8 * n_sgd, "momentum near 0.9 in %g of %d", near,
                n_sgd);
}

Test(tpe, conditional_param_never_seen_is_drawn_from_the_prior) {
  load_space("  opt: {type: categorical, choices: [sgd, adam]}\n"
             "  momentum: {type: float, low: 0, high: 1, when: {opt: sgd}}\n");
  for (int t = 0; t < 15; t++) {
    double p[2] = {1, NAN};
    add(t, HPT_TRIAL_COMPLETE, p, t);
  }
  int n_sgd = 0;
  for (int seed = 0; seed < 40; seed++) {
    char text[64];
    snprintf(text, sizeof text, "{type: tpe, seed: %d}", seed);
    hpt_sampler_t *sampler = sampler_from(text);
    double p[2];
    suggest(sampler, 15, p);
    if (p[0] == 0) {
      n_sgd++;
      cr_expect(p[1] >= 0 && p[1] <= 1);
    }
    hpt_sampler_destroy(&sampler);
  }
  cr_expect_gt(n_sgd, 0, "the prior keeps sgd possible");
}

Test(tpe, multivariate_runs_and_is_reproducible) {
  load_space(mixed_yaml);
  hpt_sampler_t *a = sampler_from("{type: tpe, seed: 8, multivariate: true}");
  run_mixed(a, 40);
  double p1[N_MIXED], p2[N_MIXED], p3[N_MIXED];
  hpt_sampler_t *b = sampler_from("{type: tpe, seed: 8, multivariate: true}");
  hpt_sampler_t *u = sampler_from("{type: tpe, seed: 8}");
  suggest(a, 40, p1);
  suggest(b, 40, p2);
  suggest(u, 40, p3);
  cr_expect_arr_eq(p1, p2, sizeof p1);
  cr_expect(memcmp(p1, p3, sizeof p1) != 0, "joint differs from univariate");
  hpt_sampler_destroy(&a);
  hpt_sampler_destroy(&b);
  hpt_sampler_destroy(&u);
}

/* Median over 10 seeds of the best value after 60 trials of
 * (x - 0.7)² + (y + 1.3)² on [-5, 5]². */
static double median_best(const char *type) {
  double best[10];
  for (int seed = 0; seed < 10; seed++) {
    char text[64];
    snprintf(text, sizeof text, "{type: %s, seed: %d}", type, seed);
    hpt_sampler_t *sampler = sampler_from(text);
    hpt_history_close(&history);
    best[seed] = INFINITY;
    for (int t = 0; t < 60; t++) {
      double p[2];
      suggest(sampler, t, p);
      double v = (p[0] - 0.7) * (p[0] - 0.7) + (p[1] + 1.3) * (p[1] + 1.3);
      add(t, HPT_TRIAL_COMPLETE, p, v);
      best[seed] = fmin(best[seed], v);
    }
    hpt_sampler_destroy(&sampler);
  }
  for (int i = 1; i < 10; i++) /* insertion sort */
    for (int j = i; j > 0 && best[j - 1] > best[j]; j--) {
      double tmp = best[j];
      best[j] = best[j - 1];
      best[j - 1] = tmp;
    }
  return (best[4] + best[5]) / 2;
}

Test(tpe, beats_random_on_a_quadratic) {
  load_space("  x: {type: float, low: -5, high: 5}\n"
             "  y: {type: float, low: -5, high: 5}\n");
  double tpe = median_best("tpe"), random = median_best("random");
  cr_expect_lt(tpe, random, "tpe %g vs random %g", tpe, random);
  cr_expect_lt(tpe, 0.5 * random, "tpe %g vs random %g", tpe, random);
}

/* ---- options ------------------------------------------------------------- */

Test(tpe, unknown_option_is_rejected) {
  load_space(line_yaml);
  hpt_sampler_t *sampler = NULL;
  hpt_error_t error;
  cr_expect_eq(make("{type: tpe, gamma: 0.2}", &sampler, &error), HPT_EINVAL);
  cr_expect_null(sampler);
  cr_expect(strstr(error.message, "sampler.gamma: unknown key") != NULL, "%s",
            error.message);
}

Test(tpe, bad_values_name_their_key) {
  load_space(line_yaml);
  static const struct {
    const char *yaml, *key;
  } cases[] = {
      {"{type: tpe, prior_weight: -1}", "sampler.prior_weight"},
      {"{type: tpe, n_ei_candidates: 0}", "sampler.n_ei_candidates"},
      {"{type: tpe, n_startup_trials: -2}", "sampler.n_startup_trials"},
      {"{type: tpe, multivariate: maybe}", "sampler.multivariate"},
      {"{type: tpe, constant_liar: 3}", "sampler.constant_liar"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hpt_sampler_t *sampler = NULL;
    hpt_error_t error;
    cr_expect_eq(make(cases[i].yaml, &sampler, &error), HPT_EINVAL, "%s",
                 cases[i].yaml);
    cr_expect_null(sampler);
    cr_expect(strstr(error.message, cases[i].key) != NULL, "%s: %s",
              cases[i].yaml, error.message);
  }
}

Test(tpe, type_is_reported) {
  load_space(line_yaml);
  hpt_sampler_t *sampler = sampler_from("{type: tpe}");
  cr_expect_str_eq(hpt_sampler_type(sampler), "tpe");
  hpt_sampler_destroy(&sampler);
  cr_expect_null(sampler);
}
