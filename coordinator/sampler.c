/* sampler.c — the sampler interface: picks the algorithm named by the
 * `sampler:` options' "type", handles what every algorithm shares (option
 * keys, the seed, per-trial random streams, uniform draws) and forwards
 * suggest/destroy through the algorithm's vtable (sampler_internal.h).
 */
#include "sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sampler_internal.h"

/* Every algorithm, in the order listed in messages. */
static const hpt__sampler_ops_t *const sampler_types[] = {
    &hpt__sampler_random,
    &hpt__sampler_tpe,
};
#define N_SAMPLER_TYPES (sizeof sampler_types / sizeof sampler_types[0])

/* Seed for studies without `seed`: different per process and per call. */
static uint64_t entropy_seed(void) {
  static uint64_t counter;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t mix = (uint64_t)now.tv_sec * 1000000007ull ^ (uint64_t)now.tv_nsec;
  mix ^= (uint64_t)getpid() << 32;
  mix += ++counter * 0x9E3779B97F4A7C15ull;
  hpt_rng_t rng;
  hpt_rng_seed(&rng, mix);
  return hpt_rng_next(&rng);
}

/* Creates the sampler named by options' "type"; see sampler.h. On failure
 * *sampler is NULL. */
int hpt_sampler_new(const hpt_options_t *options, const hpt_space_t *space,
                    hpt_sampler_t **sampler, hpt_error_t *error) {
  *sampler = NULL;
  const char *type = NULL;
  int rc = hpt_options_get_string(options, "type", "random", &type, error);
  if (rc != HPT_OK)
    return rc;
  const hpt__sampler_ops_t *ops = NULL;
  char known[128] = "";
  for (size_t i = 0; i < N_SAMPLER_TYPES; i++) {
    if (strcmp(sampler_types[i]->type, type) == 0)
      ops = sampler_types[i];
    size_t used = strlen(known);
    snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
             sampler_types[i]->type);
  }
  if (ops == NULL) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: unknown sampler '%s' (known: %s)",
                   hpt_options_describe(options, "type", place, sizeof place),
                   type, known);
  }
  rc = hpt_options_check_keys(options, ops->keys, error);
  if (rc != HPT_OK)
    return rc;
  int64_t seed = 0;
  rc = hpt_options_get_int(options, "seed", 0, &seed, error);
  if (rc != HPT_OK)
    return rc;

  hpt_sampler_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating sampler");
  s->ops = ops;
  s->space = space;
  s->seeded = hpt_options_find(options, "seed") != NULL;
  s->seed = s->seeded ? (uint64_t)seed : entropy_seed();
  if (ops->init != NULL && (rc = ops->init(s, options, error)) != HPT_OK) {
    hpt_sampler_destroy(&s);
    return rc;
  }
  *sampler = s;
  return HPT_OK;
}

/* Fills params for trial `number`; see sampler.h. On failure params are
 * all NaN. */
int hpt_sampler_suggest(hpt_sampler_t *sampler, const hpt_history_t *history,
                        int number, double *params, hpt_error_t *error) {
  for (size_t i = 0; i < sampler->space->n_params; i++)
    params[i] = NAN;
  int rc = sampler->ops->suggest(sampler, history, number, params, error);
  if (rc != HPT_OK)
    for (size_t i = 0; i < sampler->space->n_params; i++)
      params[i] = NAN;
  return rc;
}

/* The algorithm's name; static text. */
const char *hpt_sampler_type(const hpt_sampler_t *sampler) {
  return sampler->ops->type;
}

/* Frees the sampler and sets *sampler to NULL. Accepts NULL. */
void hpt_sampler_destroy(hpt_sampler_t **sampler) {
  if (sampler == NULL || *sampler == NULL)
    return;
  if ((*sampler)->ops->destroy != NULL)
    (*sampler)->ops->destroy(*sampler);
  free(*sampler);
  *sampler = NULL;
}

void hpt__sampler_trial_rng(const hpt_sampler_t *sampler, int number,
                            hpt_rng_t *rng) {
  hpt_rng_seed2(rng, sampler->seed, (uint64_t)(int64_t)number);
}

/* Uniform over the n grid points low, low + step, ..., high. */
static double draw_grid(double low, double high, double step, hpt_rng_t *rng) {
  uint64_t n = (uint64_t)llround((high - low) / step) + 1;
  double value = low + (double)hpt_rng_below(rng, n) * step;
  return value > high ? high : value;
}

static double clamp(double value, double low, double high) {
  return value < low ? low : value > high ? high : value;
}

double hpt__sampler_draw_uniform(const hpt_param_t *param, hpt_rng_t *rng) {
  double low = param->low, high = param->high;
  switch (param->type) {
  case HPT_PARAM_CATEGORICAL:
    return (double)hpt_rng_below(rng, param->n_choices);
  case HPT_PARAM_INT:
    if (param->log) {
      /* As Optuna: log-uniform over [low - 0.5, high + 0.5], then rounded,
       * so each integer gets the log-width of its rounding interval. */
      double a = log(low - 0.5), b = log(high + 0.5);
      return clamp(round(exp(a + hpt_rng_uniform(rng) * (b - a))), low, high);
    }
    return draw_grid(low, high, param->step > 0 ? param->step : 1, rng);
  case HPT_PARAM_FLOAT:
  default:
    if (low == high)
      return low;
    if (param->step > 0)
      return draw_grid(low, high, param->step, rng);
    if (param->log) {
      double a = log(low), b = log(high);
      return clamp(exp(a + hpt_rng_uniform(rng) * (b - a)), low, high);
    }
    return clamp(low + hpt_rng_uniform(rng) * (high - low), low, high);
  }
}
