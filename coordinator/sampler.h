/* sampler.h — suggests parameter values for a new trial.
 *
 * One interface, one file per algorithm: sampler_random.c and sampler_tpe.c
 * (Optuna's TPE, with parzen_estimator.c and truncnorm.c). hpt_sampler_new
 * reads the spec's `sampler:` options (rejecting keys the chosen type does not
 * take) and keeps a borrowed pointer to the space, which must outlive the
 * sampler.
 *
 * Suggestions are reproducible: with a seed, the values for trial N depend
 * only on the seed, N and the history passed in.
 */
#ifndef HPT_SAMPLER_H
#define HPT_SAMPLER_H

#include "error.h"
#include "history.h"
#include "options.h"
#include "space.h"

typedef struct hpt_sampler hpt_sampler_t;

/* Creates the sampler named by options' "type". On failure *sampler is NULL
 * and error says which key is wrong. */
int hpt_sampler_new(const hpt_options_t *options, const hpt_space_t *space,
                    hpt_sampler_t **sampler, hpt_error_t *error);

/* Fills params[0..space->n_params) for trial `number` (internal
 * representation; NaN for inactive conditional parameters). The history may
 * already contain `number` as RUNNING or WAITING; samplers must ignore it. */
int hpt_sampler_suggest(hpt_sampler_t *sampler, const hpt_history_t *history,
                        int number, double *params, hpt_error_t *error);

/* "random", "tpe", ... */
const char *hpt_sampler_type(const hpt_sampler_t *sampler);

void hpt_sampler_destroy(hpt_sampler_t **sampler);

#endif
