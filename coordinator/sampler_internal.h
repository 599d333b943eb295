/* sampler_internal.h — private to the sampler files: the per-algorithm
 * vtable behind sampler.h and helpers every algorithm shares.
 *
 * Adding an algorithm: write sampler_<type>.c defining a
 * `const hpt__sampler_ops_t hpt__sampler_<type>`, and list it in
 * sampler.c's `sampler_types`.
 */
#ifndef HPT_SAMPLER_INTERNAL_H
#define HPT_SAMPLER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "rng.h"
#include "sampler.h"

typedef struct hpt__sampler_ops {
  const char *type;        /* "random", "tpe", ... */
  const char *const *keys; /* accepted option keys (with "type"), NULL-ended */
  /* Reads type-specific options into sampler->state. Optional (NULL). On
   * failure sets error; destroy is still called. */
  int (*init)(hpt_sampler_t *sampler, const hpt_options_t *options,
              hpt_error_t *error);
  /* Fills params for trial `number`; see hpt_sampler_suggest. */
  int (*suggest)(hpt_sampler_t *sampler, const hpt_history_t *history,
                 int number, double *params, hpt_error_t *error);
  /* Frees sampler->state. Optional (NULL). */
  void (*destroy)(hpt_sampler_t *sampler);
} hpt__sampler_ops_t;

struct hpt_sampler {
  const hpt__sampler_ops_t *ops; /* read-only */
  const hpt_space_t *space;      /* borrowed; outlives the sampler */
  uint64_t seed;                 /* the `seed` option, or time-based entropy */
  bool seeded;                   /* whether `seed` was given */
  void *state;                   /* the algorithm's own; owned via ops */
};

extern const hpt__sampler_ops_t hpt__sampler_random;
extern const hpt__sampler_ops_t hpt__sampler_tpe;

/* TPE's split size, Optuna's default_gamma: min(ceil(n / 10), 25) of n
 * finished trials go to `below`. Cannot fail. */
size_t hpt__tpe_gamma(size_t n);

/* Seeds `rng` for trial `number`: a function of (seed, number) only. */
void hpt__sampler_trial_rng(const hpt_sampler_t *sampler, int number,
                            hpt_rng_t *rng);

/* One value of `param` drawn uniformly (log-uniformly for log params, over
 * the grid points for stepped and int params, over the choices for
 * categoricals). Always within bounds. Cannot fail. */
double hpt__sampler_draw_uniform(const hpt_param_t *param, hpt_rng_t *rng);

#endif
