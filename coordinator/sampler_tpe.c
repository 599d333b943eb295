/* sampler_tpe.c — the `tpe` sampler: the Tree-structured Parzen Estimator
 * with the semantics and defaults of Optuna's TPESampler
 * (optuna/samplers/_tpe/sampler.py); the density model is in
 * parzen_estimator.c.
 *
 * Options (Optuna's defaults): type, seed, n_startup_trials (10),
 * n_ei_candidates (24), prior_weight (1.0), consider_magic_clip (true),
 * consider_endpoints (false), multivariate (false), constant_liar (true).
 * gamma and weights are Optuna's defaults, not options:
 * gamma(n) = min(ceil(n / 10), 25); weights in hpt_parzen_default_weights.
 *
 * One suggestion for trial N:
 *   1. Until n_startup_trials trials (other than N) are COMPLETE or PRUNED,
 *      every parameter is drawn uniformly exactly as the random sampler
 *      draws it (same stream, so the start-up trials equal `random`'s).
 *   2. Otherwise the finished trials split into `below` (the gamma(n) best)
 *      and `above` (the rest), as Optuna's _split_trials: COMPLETE trials by
 *      value first (ties: lower number first; NaN last); any places left go
 *      to PRUNED trials ranked by (deepest last step first, then its
 *      intermediate value; NaN values and trials without steps last). With
 *      constant_liar, RUNNING trials (other than N) join `above`, so that
 *      parallel workers are steered away from points already being tried.
 *      n counts only COMPLETE and PRUNED trials.
 *   3. Per parameter, in space order (parents first), l(x) is built from the
 *      below trials where the parameter is present and g(x) from the above
 *      ones; n_ei_candidates points are drawn from l and the one maximising
 *      log l(x) - log g(x) (first on ties) is kept. Inactive conditional
 *      parameters are NaN and draw nothing; single-valued ones take their
 *      value.
 *   With multivariate: the unconditional parameters with more than one value
 *   are sampled jointly (one kernel per trial over all of them, trials that
 *   lack any of them left out); conditional parameters are still sampled one
 *   by one as in 3. This is Optuna's behaviour with multivariate=True and
 *   group=False: its joint space is the intersection of the trials' spaces,
 *   and parameters outside it fall back to independent sampling.
 *
 * Reproducibility: each parameter (and the joint group) draws from its own
 * stream seeded by (seed, parameter, N), so the values for trial N depend
 * only on the seed, N and the history.
 *
 * Cost: O(n) per parameter to split and gather, a radix sort per numerical
 * parameter, and n_ei_candidates passes over the above kernels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parzen_estimator.h"
#include "sampler_internal.h"

typedef struct tpe_state {
  int64_t n_startup_trials;
  int64_t n_ei_candidates;
  hpt_parzen_config_t parzen;
  bool multivariate;
  bool constant_liar;
} tpe_state_t;

static const char *const tpe_keys[] = {"type",
                                       "seed",
                                       "n_startup_trials",
                                       "n_ei_candidates",
                                       "prior_weight",
                                       "multivariate",
                                       "consider_magic_clip",
                                       "consider_endpoints",
                                       "constant_liar",
                                       NULL};

/* Optuna's default_gamma. */
size_t hpt__tpe_gamma(size_t n) {
  size_t below = (n + 9) / 10;
  return below < 25 ? below : 25;
}

/* ---- options ------------------------------------------------------------- */

static int read_int(const hpt_options_t *options, const char *key,
                    int64_t fallback, int64_t minimum, int64_t maximum,
                    int64_t *out, hpt_error_t *error) {
  int rc = hpt_options_get_int(options, key, fallback, out, error);
  if (rc != HPT_OK)
    return rc;
  if (*out < minimum || *out > maximum) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: must be between %lld and %lld",
                   hpt_options_describe(options, key, place, sizeof place),
                   (long long)minimum, (long long)maximum);
  }
  return HPT_OK;
}

static int tpe_init(hpt_sampler_t *sampler, const hpt_options_t *options,
                    hpt_error_t *error) {
  tpe_state_t *state = calloc(1, sizeof *state);
  if (state == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating sampler");
  sampler->state = state;
  int rc;
  if ((rc = read_int(options, "n_startup_trials", 10, 0, 1000000000,
                     &state->n_startup_trials, error)) != HPT_OK ||
      (rc = read_int(options, "n_ei_candidates", 24, 1, 1000000,
                     &state->n_ei_candidates, error)) != HPT_OK ||
      (rc = hpt_options_get_double(options, "prior_weight", 1.0,
                                   &state->parzen.prior_weight, error)) !=
          HPT_OK ||
      (rc = hpt_options_get_bool(options, "consider_magic_clip", true,
                                 &state->parzen.consider_magic_clip, error)) !=
          HPT_OK ||
      (rc = hpt_options_get_bool(options, "consider_endpoints", false,
                                 &state->parzen.consider_endpoints, error)) !=
          HPT_OK ||
      (rc = hpt_options_get_bool(options, "multivariate", false,
                                 &state->multivariate, error)) != HPT_OK ||
      (rc = hpt_options_get_bool(options, "constant_liar", true,
                                 &state->constant_liar, error)) != HPT_OK)
    return rc;
  double prior = state->parzen.prior_weight;
  if (!(prior >= 0) || !isfinite(prior)) {
    char place[320];
    return HPT_ERR(
        error, HPT_EINVAL, "%s: must be a finite number >= 0",
        hpt_options_describe(options, "prior_weight", place, sizeof place));
  }
  return HPT_OK;
}

static void tpe_destroy(hpt_sampler_t *sampler) {
  free(sampler->state);
  sampler->state = NULL;
}

/* ---- the below/above split ---------------------------------------------- */

typedef struct split {
  size_t n_below, n_above;
  const hpt_trial_t **below; /* ordered by number */
  const hpt_trial_t **above; /* ordered by number */
} split_t;

static void split_free(split_t *split) {
  free(split->below);
  free(split->above);
  memset(split, 0, sizeof *split);
}

/* Whether COMPLETE trial a ranks strictly before b (NaN values last). */
static bool complete_before(const hpt_trial_t *a, const hpt_trial_t *b,
                            hpt_direction_t direction) {
  if (isnan(a->value))
    return false;
  if (isnan(b->value))
    return true;
  return direction == HPT_DIRECTION_MAXIMIZE ? a->value > b->value
                                             : a->value < b->value;
}

/* Optuna's _get_pruned_trial_score: (-last step, value signed so that
 * smaller is better; +inf for NaN), or (1, 0) without steps. */
static void pruned_score(const hpt_trial_t *t, hpt_direction_t direction,
                         double score[2]) {
  if (t->n_steps == 0) {
    score[0] = 1;
    score[1] = 0;
    return;
  }
  size_t last = 0;
  for (size_t i = 1; i < t->n_steps; i++)
    if (t->steps[i] > t->steps[last])
      last = i;
  double v = t->step_values[last];
  score[0] = -(double)t->steps[last];
  score[1] = isnan(v) ? INFINITY : direction == HPT_DIRECTION_MAXIMIZE ? -v : v;
}

static bool pruned_before(const hpt_trial_t *a, const hpt_trial_t *b,
                          hpt_direction_t direction) {
  double sa[2], sb[2];
  pruned_score(a, direction, sa);
  pruned_score(b, direction, sb);
  return sa[0] < sb[0] || (sa[0] == sb[0] && sa[1] < sb[1]);
}

/* Keeps best[0..*n) the k best trials seen so far in rank order; trials
 * arrive in number order, so equal ranks keep the lower number first. */
static void top_insert(const hpt_trial_t **best, size_t *n, size_t k,
                       const hpt_trial_t *t, hpt_direction_t direction,
                       bool pruned) {
  size_t at = *n;
  while (at > 0 && (pruned ? pruned_before(t, best[at - 1], direction)
                           : complete_before(t, best[at - 1], direction)))
    at--;
  if (at >= k)
    return;
  size_t end = *n < k ? *n : k - 1;
  memmove(best + at + 1, best + at, (end - at) * sizeof *best);
  best[at] = t;
  if (*n < k)
    (*n)++;
}

static int compare_pointers(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  return (x > y) - (x < y);
}

/* Splits the trials other than `number` (see the file comment). */
static int split_trials(const hpt_history_t *history, int number,
                        size_t n_finished, bool constant_liar, split_t *split,
                        hpt_error_t *error) {
  memset(split, 0, sizeof *split);
  size_t k = hpt__tpe_gamma(n_finished);
  const hpt_trial_t *best[25 * 2];
  size_t n_complete = 0, n_pruned = 0;
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *t = &history->trials[i];
    if (t->number != number && t->state == HPT_TRIAL_COMPLETE)
      top_insert(best, &n_complete, k, t, history->direction, false);
  }
  size_t k_pruned = k - n_complete;
  for (size_t i = 0; i < history->n_trials && k_pruned > 0; i++) {
    const hpt_trial_t *t = &history->trials[i];
    if (t->number != number && t->state == HPT_TRIAL_PRUNED)
      top_insert(best + n_complete, &n_pruned, k_pruned, t, history->direction,
                 true);
  }
  size_t n_best = n_complete + n_pruned;
  /* Trials sit in one array ordered by number, so address order is number
   * order: sort the few below trials and merge. */
  qsort(best, n_best, sizeof *best, compare_pointers);

  split->below = malloc((n_best + 1) * sizeof *split->below);
  split->above = malloc((history->n_trials + 1) * sizeof *split->above);
  if (split->below == NULL || split->above == NULL) {
    split_free(split);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory in TPE sampler");
  }
  size_t cursor = 0;
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *t = &history->trials[i];
    if (cursor < n_best && best[cursor] == t) {
      split->below[split->n_below++] = t;
      cursor++;
      continue;
    }
    if (t->number == number)
      continue;
    if (t->state == HPT_TRIAL_COMPLETE || t->state == HPT_TRIAL_PRUNED ||
        (constant_liar && t->state == HPT_TRIAL_RUNNING))
      split->above[split->n_above++] = t;
  }
  return HPT_OK;
}

/* ---- sampling one group of parameters ------------------------------------ */

static bool single_valued(const hpt_param_t *param) {
  return param->type == HPT_PARAM_CATEGORICAL ? param->n_choices <= 1
                                              : param->low == param->high;
}

/* Gathers into obs (rows of n_dims) the trials that hold a valid value for
 * every parameter in dims; returns the row count. */
static size_t gather(const hpt_space_t *space, const size_t *dims,
                     size_t n_dims, const hpt_trial_t *const *trials,
                     size_t n_trials, double *obs) {
  size_t n = 0;
  for (size_t t = 0; t < n_trials; t++) {
    const double *values = trials[t]->params;
    if (values == NULL)
      continue;
    size_t d = 0;
    for (; d < n_dims; d++) {
      double v = values[dims[d]];
      if (isnan(v) || !hpt_space_value_valid(&space->params[dims[d]], v))
        break;
      obs[n * n_dims + d] = v;
    }
    if (d == n_dims)
      n++;
  }
  return n;
}

/* Samples parameters dims[0..n_dims) jointly into params (one parameter:
 * univariate TPE), drawing from `rng`. scratch holds max(n_below, n_above)
 * rows of n_dims. */
static int sample_group(const hpt_sampler_t *sampler, const split_t *split,
                        const size_t *dims, size_t n_dims, double *scratch,
                        hpt_rng_t *rng, double *params, hpt_error_t *error) {
  const tpe_state_t *state = sampler->state;
  const hpt_space_t *space = sampler->space;
  const hpt_param_t *group[64];
  const hpt_param_t **ps = group;
  size_t n_cand = (size_t)state->n_ei_candidates;
  hpt_parzen_t *below = NULL, *above = NULL;
  double *candidates = NULL, *log_l = NULL, *log_g = NULL;
  int rc = HPT_OK;
  if (n_dims > 64 && (ps = malloc(n_dims * sizeof *ps)) == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory in TPE sampler");
  for (size_t d = 0; d < n_dims; d++)
    ps[d] = &space->params[dims[d]];

  size_t n = gather(space, dims, n_dims, split->below, split->n_below, scratch);
  if ((rc = hpt_parzen_new(ps, n_dims, scratch, n, NULL, &state->parzen, &below,
                           error)) != HPT_OK)
    goto out;
  n = gather(space, dims, n_dims, split->above, split->n_above, scratch);
  if ((rc = hpt_parzen_new(ps, n_dims, scratch, n, NULL, &state->parzen, &above,
                           error)) != HPT_OK)
    goto out;

  candidates = malloc(n_cand * n_dims * sizeof *candidates);
  log_l = malloc(n_cand * sizeof *log_l);
  log_g = malloc(n_cand * sizeof *log_g);
  if (candidates == NULL || log_l == NULL || log_g == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory in TPE sampler");
    goto out;
  }
  hpt_parzen_sample(below, rng, n_cand, candidates);
  hpt_parzen_log_pdf(below, candidates, n_cand, log_l);
  hpt_parzen_log_pdf(above, candidates, n_cand, log_g);
  size_t best = 0;
  double best_score = -INFINITY;
  for (size_t c = 0; c < n_cand; c++) {
    double score = log_l[c] - log_g[c];
    if (score > best_score) {
      best_score = score;
      best = c;
    }
  }
  for (size_t d = 0; d < n_dims; d++)
    params[dims[d]] = candidates[best * n_dims + d];
out:
  hpt_parzen_destroy(&below);
  hpt_parzen_destroy(&above);
  free(candidates);
  free(log_l);
  free(log_g);
  if (ps != group)
    free(ps);
  return rc;
}

/* Seeds the stream of parameter `index` (index == n_params: the joint
 * group) for trial `number`. */
static void group_rng(const hpt_sampler_t *sampler, size_t index, int number,
                      hpt_rng_t *rng) {
  hpt_rng_seed2(rng, sampler->seed + 0x9E3779B97F4A7C15ull * (index + 1),
                (uint64_t)(int64_t)number);
}

/* Start-up: exactly the random sampler's draws. */
static void suggest_random(const hpt_sampler_t *sampler, int number,
                           double *params) {
  const hpt_space_t *space = sampler->space;
  hpt_rng_t rng;
  hpt__sampler_trial_rng(sampler, number, &rng);
  for (size_t i = 0; i < space->n_params; i++) {
    double value = hpt__sampler_draw_uniform(&space->params[i], &rng);
    params[i] = hpt_space_is_active(space, i, params) ? value : NAN;
  }
}

static int tpe_suggest(hpt_sampler_t *sampler, const hpt_history_t *history,
                       int number, double *params, hpt_error_t *error) {
  const tpe_state_t *state = sampler->state;
  const hpt_space_t *space = sampler->space;
  size_t n_finished = 0;
  for (size_t i = 0; i < history->n_trials; i++) {
    const hpt_trial_t *t = &history->trials[i];
    if (t->number != number &&
        (t->state == HPT_TRIAL_COMPLETE || t->state == HPT_TRIAL_PRUNED))
      n_finished++;
  }
  if (n_finished < (size_t)state->n_startup_trials || space->n_params == 0) {
    suggest_random(sampler, number, params);
    return HPT_OK;
  }

  split_t split;
  int rc = split_trials(history, number, n_finished, state->constant_liar,
                        &split, error);
  if (rc != HPT_OK)
    return rc;
  size_t n_rows = split.n_below > split.n_above ? split.n_below : split.n_above;
  size_t *joint = malloc(space->n_params * sizeof *joint);
  double *scratch = malloc((n_rows + 1) * space->n_params * sizeof *scratch);
  bool *in_joint = calloc(space->n_params, sizeof *in_joint);
  if (joint == NULL || scratch == NULL || in_joint == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory in TPE sampler");
    goto out;
  }

  hpt_rng_t rng;
  size_t n_joint = 0;
  if (state->multivariate) {
    for (size_t i = 0; i < space->n_params; i++)
      if (space->params[i].parent < 0 && !single_valued(&space->params[i])) {
        joint[n_joint++] = i;
        in_joint[i] = true;
      }
    if (n_joint > 0) {
      group_rng(sampler, space->n_params, number, &rng);
      rc = sample_group(sampler, &split, joint, n_joint, scratch, &rng, params,
                        error);
      if (rc != HPT_OK)
        goto out;
    }
  }
  for (size_t i = 0; i < space->n_params; i++) {
    const hpt_param_t *param = &space->params[i];
    if (in_joint[i])
      continue;
    if (!hpt_space_is_active(space, i, params)) {
      params[i] = NAN;
      continue;
    }
    if (single_valued(param)) {
      params[i] = param->type == HPT_PARAM_CATEGORICAL ? 0 : param->low;
      continue;
    }
    group_rng(sampler, i, number, &rng);
    rc = sample_group(sampler, &split, &i, 1, scratch, &rng, params, error);
    if (rc != HPT_OK)
      goto out;
  }
out:
  free(joint);
  free(scratch);
  free(in_joint);
  split_free(&split);
  return rc;
}

const hpt__sampler_ops_t hpt__sampler_tpe = {
    .type = "tpe",
    .keys = tpe_keys,
    .init = tpe_init,
    .suggest = tpe_suggest,
    .destroy = tpe_destroy,
};
