/* sampler_random.c — the `random` sampler: every parameter drawn
 * independently and uniformly (see hpt__sampler_draw_uniform), ignoring
 * the history. Options: type, seed.
 *
 * With a seed, trial N's values depend only on (seed, N): each trial gets
 * its own stream, so suggestions do not depend on the order in which trials
 * are asked for, nor on how many were asked for before.
 */
#include <math.h>

#include "sampler_internal.h"

static const char *const random_keys[] = {"type", "seed", NULL};

/* A value is drawn for every parameter, active or not, so that one
 * parameter's draw never shifts because a parent took another branch. */
static int random_suggest(hpt_sampler_t *sampler, const hpt_history_t *history,
                          int number, double *params, hpt_error_t *error) {
  const hpt_space_t *space = sampler->space;
  hpt_rng_t rng;
  hpt__sampler_trial_rng(sampler, number, &rng);
  for (size_t i = 0; i < space->n_params; i++) {
    double value = hpt__sampler_draw_uniform(&space->params[i], &rng);
    params[i] = hpt_space_is_active(space, i, params) ? value : NAN;
  }
  return HPT_OK;
}

const hpt__sampler_ops_t hpt__sampler_random = {
    .type = "random",
    .keys = random_keys,
    .init = NULL,
    .suggest = random_suggest,
    .destroy = NULL,
};
