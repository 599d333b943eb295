/* parzen_estimator.h — TPE's density model: a weighted mixture of product
 * kernels, one kernel per observation plus one prior kernel, over one
 * parameter (univariate TPE) or several jointly (multivariate TPE).
 *
 * Semantics are those of Optuna's optuna/samplers/_tpe/parzen_estimator.py
 * and probability_distributions.py:
 *   - float/int kernels are normals truncated to [low, high] (in log space
 *     for log parameters); stepped and int parameters widen the bounds by
 *     step/2, give each grid value the kernel's mass over its grid cell
 *     [x - step/2, x + step/2], and round samples to the grid;
 *   - a kernel's bandwidth is the larger gap to its sorted neighbours (the
 *     bounds count as neighbours; with consider_endpoints false the
 *     outermost kernels use their inner gap only), clipped to
 *     [(high - low) / min(100, n + 2), high - low] with the "magic clip"
 *     (n observations), to [1e-12, high - low] without it;
 *   - the prior kernel is centred on the range with bandwidth high - low,
 *     or is uniform over the choices of a categorical;
 *   - categorical kernel k puts prior_weight / (n + 1) on every choice plus
 *     1 on its observed choice, normalised;
 *   - mixture weights are the observations' weights and prior_weight,
 *     normalised (the prior alone when there are no observations).
 *
 * Ownership: the estimator copies what it needs from the observations and
 * weights; it borrows the hpt_param_t pointers, which must outlive it.
 * Not thread-safe: log_pdf uses scratch space inside the estimator.
 */
#ifndef HPT_PARZEN_ESTIMATOR_H
#define HPT_PARZEN_ESTIMATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "rng.h"
#include "space.h"

typedef struct hpt_parzen hpt_parzen_t;

typedef struct hpt_parzen_config {
  double prior_weight;      /* >= 0; Optuna's default 1.0 */
  bool consider_magic_clip; /* Optuna's default true */
  bool consider_endpoints;  /* Optuna's default false */
} hpt_parzen_config_t;

/* Builds the mixture over params[0..n_dims) from n_obs observations.
 *   params:       n_dims borrowed parameters; numerical ones must have
 *                 low < high (callers handle single-valued parameters).
 *   observations: n_obs × n_dims, row-major, internal representation
 *                 (space.h), every value valid for its parameter.
 *   weights:      n_obs non-negative weights, or NULL for
 *                 hpt_parzen_default_weights(n_obs).
 * On failure *parzen is NULL (HPT_ENOMEM; HPT_EINVAL for weights that sum
 * to zero with prior_weight 0). Caller owns the result: hpt_parzen_destroy.
 * O(n_dims · n_obs) plus a radix sort per numerical dimension. */
int hpt_parzen_new(const hpt_param_t *const *params, size_t n_dims,
                   const double *observations, size_t n_obs,
                   const double *weights, const hpt_parzen_config_t *config,
                   hpt_parzen_t **parzen, hpt_error_t *error);

void hpt_parzen_destroy(hpt_parzen_t **parzen);

/* Number of kernels: n_obs + 1, or 1 without observations. */
size_t hpt_parzen_n_kernels(const hpt_parzen_t *parzen);

/* Draws n points into out (n × n_dims, row-major, internal representation,
 * within bounds and on the grid). Cannot fail. */
void hpt_parzen_sample(const hpt_parzen_t *parzen, hpt_rng_t *rng, size_t n,
                       double *out);

/* Log-density (log-probability for categorical and grid dimensions; for log
 * parameters the density of log x) of n points x (n × n_dims, row-major)
 * into out[0..n). Cannot fail. O(n · n_kernels · n_dims). */
void hpt_parzen_log_pdf(hpt_parzen_t *parzen, const double *x, size_t n,
                        double *out);

/* Optuna's default_weights: all 1 for n < 25; otherwise a linear ramp from
 * 1/n to 1 over the oldest n - 25 and 1 for the newest 25. out has n slots,
 * oldest first. Cannot fail. */
void hpt_parzen_default_weights(size_t n, double *out);

#endif
