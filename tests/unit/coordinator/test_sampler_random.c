/* test_sampler_random.c — the sampler interface and the `random` sampler
 * (coordinator/sampler.c, coordinator/sampler_random.c). Spaces come from
 * YAML through the spec reader. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sampler.h"
#include "spec.h"

static const char space_yaml[] =
    "name: s\n"
    "params:\n"
    "  lr: {type: float, low: 1.0e-3, high: 1.0, log: true}\n"
    "  x: {type: float, low: -2, high: 3}\n"
    "  q: {type: float, low: 0, high: 1, step: 0.25}\n"
    "  n: {type: int, low: 2, high: 20, step: 3}\n"
    "  units: {type: int, low: 1, high: 1024, log: true}\n"
    "  opt: {type: categorical, choices: [sgd, adam, rmsprop]}\n"
    "  momentum: {type: float, low: 0, high: 1, when: {opt: sgd}}\n"
    "  one: {type: float, low: 0.5, high: 0.5}\n";

enum { LR, X, Q, N, UNITS, OPT, MOMENTUM, ONE, N_PARAMS };

static hpt_spec_t *spec;
static hpt_history_t history;

static void setup(void) {
  hpt_error_t error;
  cr_assert_eq(hpt_spec_parse_string(space_yaml, strlen(space_yaml), NULL,
                                     &spec, &error),
               HPT_OK, "%s", error.message);
  cr_assert_eq(spec->space.n_params, N_PARAMS);
  hpt_history_init(&history, HPT_DIRECTION_MAXIMIZE, N_PARAMS);
}

static void teardown(void) {
  hpt_history_close(&history);
  hpt_spec_destroy(&spec);
}

TestSuite(sampler_random, .init = setup, .fini = teardown);

/* A sampler from flow-style YAML options, e.g. "{type: random, seed: 1}". */
static int make(const char *section_yaml, hpt_sampler_t **sampler,
                hpt_error_t *error) {
  char yaml[256];
  snprintf(yaml, sizeof yaml, "name: t\nsampler: %s\n", section_yaml);
  hpt_spec_t *s = NULL;
  cr_assert_eq(
      hpt_spec_parse_string(yaml, strlen(yaml), "study.yaml", &s, NULL),
      HPT_OK);
  int rc = hpt_sampler_new(&s->sampler, &spec->space, sampler, error);
  hpt_spec_destroy(&s);
  return rc;
}

static hpt_sampler_t *seeded(long seed) {
  char text[64];
  snprintf(text, sizeof text, "{type: random, seed: %ld}", seed);
  hpt_sampler_t *sampler = NULL;
  hpt_error_t error;
  cr_assert_eq(make(text, &sampler, &error), HPT_OK, "%s", error.message);
  return sampler;
}

static void suggest(hpt_sampler_t *sampler, int number, double *params) {
  hpt_error_t error;
  cr_assert_eq(hpt_sampler_suggest(sampler, &history, number, params, &error),
               HPT_OK, "%s", error.message);
}

static bool same(const double *a, const double *b) {
  for (int i = 0; i < N_PARAMS; i++)
    if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i]))))
      return false;
  return true;
}

Test(sampler_random, type_name_and_default) {
  hpt_sampler_t *sampler = seeded(1);
  cr_expect_str_eq(hpt_sampler_type(sampler), "random");
  hpt_sampler_destroy(&sampler);
  cr_expect_null(sampler);
  hpt_sampler_destroy(&sampler);
  hpt_sampler_destroy(NULL);
}

Test(sampler_random, same_seed_same_values_whatever_the_order) {
  hpt_sampler_t *a = seeded(42), *b = seeded(42);
  double pa[N_PARAMS], pb[N_PARAMS];
  double first[10][N_PARAMS];
  for (int n = 0; n < 10; n++)
    suggest(a, n, first[n]);
  /* b asks in reverse order, with a history that changes meanwhile. */
  for (int n = 9; n >= 0; n--) {
    suggest(b, n, pb);
    cr_expect(same(first[n], pb), "trial %d differs", n);
    hpt_history_add(&history, 100 + n, HPT_TRIAL_COMPLETE, pb, NULL, NULL);
  }
  suggest(a, 3, pa);
  cr_expect(same(first[3], pa), "asking again changes nothing");
  hpt_sampler_destroy(&a);
  hpt_sampler_destroy(&b);
}

Test(sampler_random, different_seeds_or_trials_differ) {
  hpt_sampler_t *a = seeded(1), *b = seeded(2);
  double pa[N_PARAMS], pb[N_PARAMS], pc[N_PARAMS];
  suggest(a, 0, pa);
  suggest(b, 0, pb);
  suggest(a, 1, pc);
  cr_expect_neq(pa[X], pb[X]);
  cr_expect_neq(pa[X], pc[X]);
  hpt_sampler_destroy(&a);
  hpt_sampler_destroy(&b);
}

Test(sampler_random, unseeded_samplers_differ) {
  hpt_sampler_t *a = NULL, *b = NULL;
  cr_assert_eq(make("{type: random}", &a, NULL), HPT_OK);
  cr_assert_eq(make("{type: random}", &b, NULL), HPT_OK);
  double pa[N_PARAMS], pb[N_PARAMS];
  suggest(a, 0, pa);
  suggest(b, 0, pb);
  cr_expect_neq(pa[X], pb[X]);
  hpt_sampler_destroy(&a);
  hpt_sampler_destroy(&b);
}

Test(sampler_random, values_in_bounds_and_on_grid) {
  hpt_sampler_t *sampler = seeded(7);
  const hpt_space_t *space = &spec->space;
  int seen_q[5] = {0}, seen_opt[3] = {0}, n_min = 0, n_max = 0;
  for (int t = 0; t < 4000; t++) {
    double p[N_PARAMS];
    suggest(sampler, t, p);
    for (int i = 0; i < N_PARAMS; i++) {
      if (isnan(p[i]))
        continue;
      cr_assert(hpt_space_value_valid(&space->params[i], p[i]),
                "%s = %.17g invalid", space->params[i].name, p[i]);
    }
    cr_assert_eq(p[Q], round(p[Q] * 4) / 4);
    seen_q[(int)(p[Q] * 4)]++;
    cr_assert_eq(fmod(p[N] - 2, 3), 0);
    n_min += p[N] == 2;
    n_max += p[N] == 20;
    cr_assert_eq(p[UNITS], round(p[UNITS]));
    seen_opt[(int)p[OPT]]++;
    cr_assert_eq(p[ONE], 0.5);
  }
  for (int k = 0; k < 5; k++)
    cr_expect_gt(seen_q[k], 600, "grid point %d hit %d times", k, seen_q[k]);
  cr_expect_gt(n_min, 400, "int low inclusive");
  cr_expect_gt(n_max, 400, "int high inclusive");
  for (int k = 0; k < 3; k++)
    cr_expect_gt(seen_opt[k], 1100, "choice %d hit %d times", k, seen_opt[k]);
  hpt_sampler_destroy(&sampler);
}

Test(sampler_random, log_params_are_log_uniform) {
  hpt_sampler_t *sampler = seeded(11);
  int below_geo_mean = 0, lr_decades[3] = {0}, units_small = 0;
  const int n = 6000;
  for (int t = 0; t < n; t++) {
    double p[N_PARAMS];
    suggest(sampler, t, p);
    /* geometric mean of [1e-3, 1] is 10^-1.5: half the mass below it. */
    below_geo_mean += p[LR] < pow(10, -1.5);
    int decade = (int)floor(-log10(p[LR]));
    if (decade >= 0 && decade < 3)
      lr_decades[decade]++;
    units_small += p[UNITS] <= 32;
  }
  cr_expect(fabs(below_geo_mean / (double)n - 0.5) < 0.03, "%d",
            below_geo_mean);
  for (int d = 0; d < 3; d++)
    cr_expect(fabs(lr_decades[d] / (double)n - 1.0 / 3) < 0.03, "decade %d: %d",
              d, lr_decades[d]);
  /* log(32.5/0.5) / log(1024.5/0.5) ~= 0.548 */
  cr_expect(fabs(units_small / (double)n - 0.548) < 0.03, "%d", units_small);
  hpt_sampler_destroy(&sampler);
}

Test(sampler_random, uniform_float_mean) {
  hpt_sampler_t *sampler = seeded(5);
  double sum = 0;
  const int n = 5000;
  for (int t = 0; t < n; t++) {
    double p[N_PARAMS];
    suggest(sampler, t, p);
    sum += p[X];
  }
  cr_expect(fabs(sum / n - 0.5) < 0.06, "mean %g", sum / n);
  hpt_sampler_destroy(&sampler);
}

Test(sampler_random, conditional_params_absent_or_present) {
  hpt_sampler_t *sampler = seeded(3);
  int present = 0, absent = 0;
  for (int t = 0; t < 600; t++) {
    double p[N_PARAMS];
    suggest(sampler, t, p);
    if (p[OPT] == 0) {
      cr_assert_not(isnan(p[MOMENTUM]));
      cr_assert(p[MOMENTUM] >= 0 && p[MOMENTUM] <= 1);
      present++;
    } else {
      cr_assert(isnan(p[MOMENTUM]), "momentum set with opt=%g", p[OPT]);
      absent++;
    }
  }
  cr_expect_gt(present, 100);
  cr_expect_gt(absent, 300);
  hpt_sampler_destroy(&sampler);
}

Test(sampler_random, unknown_type_lists_known_types) {
  hpt_sampler_t *sampler = (hpt_sampler_t *)1;
  hpt_error_t error;
  cr_expect_eq(make("{type: grid}", &sampler, &error), HPT_EINVAL);
  cr_expect_null(sampler);
  cr_expect_str_eq(error.message, "study.yaml:2: sampler.type: unknown "
                                  "sampler 'grid' (known: random, tpe)");
}

Test(sampler_random, unknown_key_is_rejected) {
  hpt_sampler_t *sampler = (hpt_sampler_t *)1;
  hpt_error_t error;
  cr_expect_eq(make("{type: random, n_startup_trials: 3}", &sampler, &error),
               HPT_EINVAL);
  cr_expect_null(sampler);
  cr_expect(strstr(error.message, "sampler.n_startup_trials: unknown key "
                                  "(expected one of: type, seed)") != NULL,
            "%s", error.message);
}

Test(sampler_random, bad_seed_is_rejected) {
  hpt_sampler_t *sampler = NULL;
  hpt_error_t error;
  cr_expect_eq(make("{type: random, seed: lucky}", &sampler, &error),
               HPT_EINVAL);
  cr_expect_null(sampler);
  cr_expect(strstr(error.message, "study.yaml:2: sampler.seed: must be an "
                                  "integer") != NULL,
            "%s", error.message);
}

Test(sampler_random, empty_space) {
  hpt_space_t empty = {0};
  hpt_options_t options = {0};
  hpt_options_add(&options, "type", "random", 0, NULL);
  hpt_sampler_t *sampler = NULL;
  cr_assert_eq(hpt_sampler_new(&options, &empty, &sampler, NULL), HPT_OK);
  cr_expect_eq(hpt_sampler_suggest(sampler, &history, 0, NULL, NULL), HPT_OK);
  hpt_sampler_destroy(&sampler);
  hpt_options_free(&options);
}
