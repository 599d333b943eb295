/* parzen_estimator.c — TPE's mixture of truncated-normal and categorical
 * kernels; semantics in parzen_estimator.h.
 *
 * Layout: kernels stay in observation order (oldest first, the prior last)
 * and every dimension keeps struct-of-arrays columns over them, so that the
 * log-density of a point is one pass per dimension over contiguous arrays
 * plus one log-sum-exp. Per-kernel constants (log normalisers, 1/sigma) are
 * computed once at construction. Grid dimensions group kernels with equal
 * (mu, sigma) (repeated grid values), so a cell's mass is computed once per
 * group rather than once per kernel: with thousands of trials on a grid of a
 * few dozen values that is the difference between 10^5 and 10^2 erfc calls.
 * Bandwidths need the kernels in sorted order: a stable LSD radix sort keeps
 * that O(n) at 10,000 trials.
 */
#include "parzen_estimator.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "truncnorm.h"

#define LOG_SQRT_2PI 0.91893853320467274178
/* Terms this far below the largest one are left out of a log-sum-exp: even
 * 10^6 of them change the sum by less than 1e-15 of itself. */
#define LSE_CUTOFF (-50.0)

typedef enum { DIM_CATEGORICAL, DIM_CONTINUOUS, DIM_GRID } dim_kind_t;

typedef struct dim {
  dim_kind_t kind;
  bool log;             /* kernels live in log space */
  double low, high;     /* the parameter's bounds, original space */
  double step;          /* grid: cell width, original space; else 0 */
  double t_low, t_high; /* kernel support: log'd and widened by step/2 */
  double *mu, *sigma;   /* numerical: [n_kernels], kernel space */
  double *inv_sigma;    /* continuous: 1 / sigma */
  double *log_norm;     /* continuous: -log(sigma·√2π·mass); grid: -log
                           mass over [t_low, t_high] (per group) */
  size_t n_choices;     /* categorical */
  double *log_probs;    /* categorical: [n_choices][n_kernels] */
  size_t n_groups;      /* grid: distinct (mu, sigma) */
  uint32_t *group;      /* grid: [n_kernels] -> group */
  double *group_mu, *group_sigma; /* grid: [n_groups] */
  double *group_value;            /* grid: [n_groups] scratch for log_pdf */
} dim_t;

/* One-dimensional fast paths (univariate TPE), built when n_dims == 1.
 * Continuous: the observation kernels in ascending mu with log weight and
 * normaliser folded into one constant, summarised in blocks of BLOCK so that
 * a point's log-density only visits blocks whose upper bound is within
 * LSE_CUTOFF of the best term; the prior kernel (bandwidth = the whole
 * range) is kept apart so it does not widen any block's bound.
 * Categorical: the mixture's probability of each choice, precomputed. */
#define BLOCK 32
typedef struct fast1d {
  size_t n;                   /* observation kernels */
  double *mu, *inv_sigma, *c; /* [n] sorted by mu; c = log w + log_norm */
  size_t n_blocks;
  double *block_lo, *block_hi; /* [n_blocks] mu range */
  double *block_c;             /* [n_blocks] max c */
  double *block_inv;           /* [n_blocks] min 1/sigma */
  double prior_mu, prior_inv, prior_c;
  double *log_p; /* categorical: [n_choices] */
} fast1d_t;

struct hpt_parzen {
  size_t n_dims;
  size_t n_kernels;
  double *log_w; /* [n_kernels] normalised log mixture weights */
  double *cum_w; /* [n_kernels] cumulative weights, last exactly 1 */
  double *acc;   /* [n_kernels] scratch for log_pdf */
  dim_t *dims;   /* [n_dims] */
  fast1d_t fast; /* n_dims == 1: see fast1d_t */
};

void hpt_parzen_default_weights(size_t n, double *out) {
  if (n < 25) {
    for (size_t i = 0; i < n; i++)
      out[i] = 1.0;
    return;
  }
  /* numpy.linspace(1/n, 1, n - 25): start + i·delta, the last exactly 1. */
  size_t n_ramp = n - 25;
  double start = 1.0 / (double)n;
  double delta = n_ramp > 1 ? (1.0 - start) / (double)(n_ramp - 1) : 0.0;
  for (size_t i = 0; i < n_ramp; i++)
    out[i] = start + (double)i * delta;
  if (n_ramp > 1)
    out[n_ramp - 1] = 1.0;
  for (size_t i = n_ramp; i < n; i++)
    out[i] = 1.0;
}

static void dim_free(dim_t *d) {
  free(d->mu);
  free(d->sigma);
  free(d->inv_sigma);
  free(d->log_norm);
  free(d->log_probs);
  free(d->group);
  free(d->group_mu);
  free(d->group_sigma);
  free(d->group_value);
}

void hpt_parzen_destroy(hpt_parzen_t **parzen) {
  if (parzen == NULL || *parzen == NULL)
    return;
  hpt_parzen_t *p = *parzen;
  if (p->dims != NULL)
    for (size_t i = 0; i < p->n_dims; i++)
      dim_free(&p->dims[i]);
  free(p->dims);
  free(p->fast.mu);
  free(p->fast.inv_sigma);
  free(p->fast.c);
  free(p->fast.block_lo);
  free(p->fast.block_hi);
  free(p->fast.block_c);
  free(p->fast.block_inv);
  free(p->fast.log_p);
  free(p->log_w);
  free(p->cum_w);
  free(p->acc);
  free(p);
  *parzen = NULL;
}

size_t hpt_parzen_n_kernels(const hpt_parzen_t *parzen) {
  return parzen->n_kernels;
}

/* ---- stable argsort of doubles (LSD radix, 8 bits a pass) --------------- */

/* Maps a double to an unsigned key with the same order (no NaN here). */
static uint64_t order_key(double value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return (bits >> 63) ? ~bits : bits | 0x8000000000000000ull;
}

/* order[0..n) = indices of values, ascending, ties by index. keys and tmp
 * are scratch of n slots each. */
static void argsort(const double *values, size_t n, uint32_t *order,
                    uint64_t *keys, uint64_t *keys_tmp, uint32_t *order_tmp) {
  if (n < 32) {
    for (size_t i = 0; i < n; i++) {
      uint32_t j = (uint32_t)i;
      size_t at = i;
      while (at > 0 && values[order[at - 1]] > values[j]) {
        order[at] = order[at - 1];
        at--;
      }
      order[at] = j;
    }
    return;
  }
  static const int n_passes = 8;
  size_t counts[8][256];
  memset(counts, 0, sizeof counts);
  for (size_t i = 0; i < n; i++) {
    keys[i] = order_key(values[i]);
    order[i] = (uint32_t)i;
    for (int p = 0; p < n_passes; p++)
      counts[p][(keys[i] >> (8 * p)) & 0xff]++;
  }
  for (int p = 0; p < n_passes; p++) {
    int shift = 8 * p;
    if (counts[p][(keys[0] >> shift) & 0xff] == n)
      continue; /* every key has the same digit: the pass changes nothing */
    size_t offset[256], total = 0;
    for (int b = 0; b < 256; b++) {
      offset[b] = total;
      total += counts[p][b];
    }
    for (size_t i = 0; i < n; i++) {
      size_t at = offset[(keys[i] >> shift) & 0xff]++;
      keys_tmp[at] = keys[i];
      order_tmp[at] = order[i];
    }
    memcpy(keys, keys_tmp, n * sizeof *keys);
    memcpy(order, order_tmp, n * sizeof *order);
  }
}

/* ---- construction -------------------------------------------------------- */

/* Bandwidths of n observation kernels at mus (kernel space) on [low, high]:
 * see the header. order is the ascending argsort of mus. */
static void compute_sigmas(const double *mus, const uint32_t *order, size_t n,
                           double low, double high,
                           const hpt_parzen_config_t *config, double *sigmas) {
  for (size_t i = 0; i < n; i++) {
    double m = mus[order[i]];
    double left = i == 0 ? low : mus[order[i - 1]];
    double right = i + 1 == n ? high : mus[order[i + 1]];
    sigmas[order[i]] = fmax(m - left, right - m);
  }
  if (!config->consider_endpoints && n >= 2) {
    sigmas[order[0]] = mus[order[1]] - mus[order[0]];
    sigmas[order[n - 1]] = mus[order[n - 1]] - mus[order[n - 2]];
  }
  double max_sigma = high - low;
  double min_sigma = 1e-12;
  if (config->consider_magic_clip)
    min_sigma = (high - low) / fmin(100.0, 1.0 + (double)(n + 1));
  for (size_t i = 0; i < n; i++)
    sigmas[i] = fmin(fmax(sigmas[i], min_sigma), max_sigma);
}

static int build_categorical(dim_t *d, const double *observations, size_t n_obs,
                             size_t n_dims, size_t column, size_t n_kernels,
                             const hpt_parzen_config_t *config) {
  size_t nc = d->n_choices;
  d->log_probs = malloc(nc * n_kernels * sizeof *d->log_probs);
  if (d->log_probs == NULL)
    return HPT_ENOMEM;
  if (n_obs == 0) {
    for (size_t j = 0; j < nc; j++)
      d->log_probs[j] = -log((double)nc);
    return HPT_OK;
  }
  double base = config->prior_weight / (double)n_kernels;
  for (size_t k = 0; k < n_kernels; k++) {
    int observed = -1;
    if (k < n_obs)
      observed = (int)observations[k * n_dims + column];
    double row_sum = base * (double)nc + (observed >= 0 ? 1.0 : 0.0);
    if (row_sum == 0)
      row_sum = 1; /* prior kernel with prior_weight 0: all zero */
    for (size_t j = 0; j < nc; j++) {
      double p = (base + ((int)j == observed ? 1.0 : 0.0)) / row_sum;
      d->log_probs[j * n_kernels + k] = log(p);
    }
  }
  return HPT_OK;
}

/* The mixture's log-probability of each choice: log Σ_k w_k p_kj. */
static int build_fast_categorical(fast1d_t *f, const dim_t *d,
                                  const double *log_w, size_t n_kernels) {
  f->log_p = malloc(d->n_choices * sizeof *f->log_p);
  if (f->log_p == NULL)
    return HPT_ENOMEM;
  for (size_t j = 0; j < d->n_choices; j++) {
    double total = 0;
    for (size_t k = 0; k < n_kernels; k++)
      total += exp(log_w[k] + d->log_probs[j * n_kernels + k]);
    f->log_p[j] = log(total);
  }
  return HPT_OK;
}

/* Numerical dimension: mus, sigmas, per-kernel constants, grid groups. */
/* log(Φ(b) - Φ(a)) for a kernel's normaliser: kernels more than 9 sigma
 * inside both bounds skip the erfc calls (the true value is above -2.3e-19,
 * far below what their log-densities can resolve). */
static double kernel_log_mass(double a, double b) {
  if (a < -9.0 && b > 9.0)
    return 0.0;
  return hpt_truncnorm_log_mass(a, b);
}

static int build_fast_continuous(fast1d_t *f, const dim_t *d,
                                 const double *log_w, const uint32_t *order,
                                 size_t n_obs) {
  size_t n_kernels = n_obs + 1;
  f->n = n_obs;
  f->prior_mu = d->mu[n_kernels - 1];
  f->prior_inv = d->inv_sigma[n_kernels - 1];
  f->prior_c = log_w[n_kernels - 1] + d->log_norm[n_kernels - 1];
  if (n_obs == 0)
    return HPT_OK;
  f->n_blocks = (n_obs + BLOCK - 1) / BLOCK;
  f->mu = malloc(n_obs * sizeof *f->mu);
  f->inv_sigma = malloc(n_obs * sizeof *f->inv_sigma);
  f->c = malloc(n_obs * sizeof *f->c);
  f->block_lo = malloc(f->n_blocks * sizeof *f->block_lo);
  f->block_hi = malloc(f->n_blocks * sizeof *f->block_hi);
  f->block_c = malloc(f->n_blocks * sizeof *f->block_c);
  f->block_inv = malloc(f->n_blocks * sizeof *f->block_inv);
  if (f->mu == NULL || f->inv_sigma == NULL || f->c == NULL ||
      f->block_lo == NULL || f->block_hi == NULL || f->block_c == NULL ||
      f->block_inv == NULL)
    return HPT_ENOMEM;
  for (size_t i = 0; i < n_obs; i++) {
    uint32_t k = order[i];
    f->mu[i] = d->mu[k];
    f->inv_sigma[i] = d->inv_sigma[k];
    f->c[i] = log_w[k] + d->log_norm[k];
  }
  for (size_t b = 0; b < f->n_blocks; b++) {
    size_t first = b * BLOCK,
           end = first + BLOCK < n_obs ? first + BLOCK : n_obs;
    double c = -INFINITY, inv = INFINITY;
    for (size_t i = first; i < end; i++) {
      c = fmax(c, f->c[i]);
      inv = fmin(inv, f->inv_sigma[i]);
    }
    f->block_lo[b] = f->mu[first];
    f->block_hi[b] = f->mu[end - 1];
    f->block_c[b] = c;
    f->block_inv[b] = inv;
  }
  return HPT_OK;
}

static int build_numerical(dim_t *d, const double *observations, size_t n_obs,
                           size_t n_dims, size_t column, size_t n_kernels,
                           const hpt_parzen_config_t *config,
                           const double *log_w, fast1d_t *fast) {
  int rc = HPT_ENOMEM;
  uint32_t *order = NULL, *order_tmp = NULL;
  uint64_t *keys = NULL, *keys_tmp = NULL;
  d->mu = malloc(n_kernels * sizeof *d->mu);
  d->sigma = malloc(n_kernels * sizeof *d->sigma);
  order = malloc(n_kernels * sizeof *order);
  order_tmp = malloc(n_kernels * sizeof *order_tmp);
  keys = malloc(n_kernels * sizeof *keys);
  keys_tmp = malloc(n_kernels * sizeof *keys_tmp);
  if (d->mu == NULL || d->sigma == NULL || order == NULL || order_tmp == NULL ||
      keys == NULL || keys_tmp == NULL)
    goto out;
  for (size_t k = 0; k < n_obs; k++) {
    double v = observations[k * n_dims + column];
    d->mu[k] = d->log ? log(v) : v;
  }
  argsort(d->mu, n_obs, order, keys, keys_tmp, order_tmp);
  compute_sigmas(d->mu, order, n_obs, d->t_low, d->t_high, config, d->sigma);
  /* The prior kernel, last. */
  d->mu[n_kernels - 1] = 0.5 * (d->t_low + d->t_high);
  d->sigma[n_kernels - 1] = d->t_high - d->t_low;
  order[n_kernels - 1] = (uint32_t)(n_kernels - 1);

  if (d->kind == DIM_CONTINUOUS) {
    d->inv_sigma = malloc(n_kernels * sizeof *d->inv_sigma);
    d->log_norm = malloc(n_kernels * sizeof *d->log_norm);
    if (d->inv_sigma == NULL || d->log_norm == NULL)
      goto out;
    for (size_t k = 0; k < n_kernels; k++) {
      double mu = d->mu[k], sigma = d->sigma[k];
      d->inv_sigma[k] = 1.0 / sigma;
      double log_mass =
          kernel_log_mass((d->t_low - mu) / sigma, (d->t_high - mu) / sigma);
      d->log_norm[k] = -log(sigma) - LOG_SQRT_2PI - log_mass;
    }
    if (fast != NULL &&
        build_fast_continuous(fast, d, log_w, order, n_obs) != HPT_OK)
      goto out;
  } else {
    /* Group kernels with equal (mu, sigma), walking them in sorted order
     * so that repeated grid values are adjacent. */
    d->group = malloc(n_kernels * sizeof *d->group);
    d->group_mu = malloc(n_kernels * sizeof *d->group_mu);
    d->group_sigma = malloc(n_kernels * sizeof *d->group_sigma);
    d->log_norm = malloc(n_kernels * sizeof *d->log_norm);
    d->group_value = malloc(n_kernels * sizeof *d->group_value);
    if (d->group == NULL || d->group_mu == NULL || d->group_sigma == NULL ||
        d->log_norm == NULL || d->group_value == NULL)
      goto out;
    size_t n_groups = 0;
    for (size_t i = 0; i < n_kernels; i++) {
      uint32_t k = order[i];
      double mu = d->mu[k], sigma = d->sigma[k];
      if (n_groups == 0 || d->group_mu[n_groups - 1] != mu ||
          d->group_sigma[n_groups - 1] != sigma) {
        d->group_mu[n_groups] = mu;
        d->group_sigma[n_groups] = sigma;
        d->log_norm[n_groups] =
            -kernel_log_mass((d->t_low - mu) / sigma, (d->t_high - mu) / sigma);
        n_groups++;
      }
      d->group[k] = (uint32_t)(n_groups - 1);
    }
    d->n_groups = n_groups;
  }
  rc = HPT_OK;
out:
  free(order);
  free(order_tmp);
  free(keys);
  free(keys_tmp);
  return rc;
}

int hpt_parzen_new(const hpt_param_t *const *params, size_t n_dims,
                   const double *observations, size_t n_obs,
                   const double *weights, const hpt_parzen_config_t *config,
                   hpt_parzen_t **parzen, hpt_error_t *error) {
  *parzen = NULL;
  if (n_obs >= UINT32_MAX)
    return HPT_ERR(error, HPT_EINVAL, "too many observations (%zu)", n_obs);
  hpt_parzen_t *p = calloc(1, sizeof *p);
  if (p == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory building TPE kernels");
  size_t n_kernels = n_obs + 1;
  p->n_dims = n_dims;
  p->n_kernels = n_kernels;
  p->dims = calloc(n_dims ? n_dims : 1, sizeof *p->dims);
  p->log_w = malloc(n_kernels * sizeof *p->log_w);
  p->cum_w = malloc(n_kernels * sizeof *p->cum_w);
  p->acc = malloc(n_kernels * sizeof *p->acc);
  if (p->dims == NULL || p->log_w == NULL || p->cum_w == NULL || p->acc == NULL)
    goto nomem;

  /* Mixture weights: the observations' and the prior's, normalised. */
  if (n_obs == 0) {
    p->log_w[0] = 1.0; /* the prior alone */
  } else {
    if (weights != NULL)
      memcpy(p->log_w, weights, n_obs * sizeof *p->log_w);
    else
      hpt_parzen_default_weights(n_obs, p->log_w);
    p->log_w[n_obs] = config->prior_weight;
  }
  double total = 0;
  for (size_t k = 0; k < n_kernels; k++)
    total += p->log_w[k];
  if (!(total > 0) || !isfinite(total)) {
    hpt_parzen_destroy(&p);
    return HPT_ERR(error, HPT_EINVAL,
                   "TPE kernel weights must be finite and not all zero");
  }
  double running = 0;
  for (size_t k = 0; k < n_kernels; k++) {
    double w = p->log_w[k] / total;
    running += w;
    p->cum_w[k] = running;
    p->log_w[k] = log(w);
  }
  p->cum_w[n_kernels - 1] = 1.0;

  for (size_t i = 0; i < n_dims; i++) {
    const hpt_param_t *param = params[i];
    dim_t *d = &p->dims[i];
    d->low = param->low;
    d->high = param->high;
    int rc;
    if (param->type == HPT_PARAM_CATEGORICAL) {
      d->kind = DIM_CATEGORICAL;
      d->n_choices = param->n_choices;
      rc = build_categorical(d, observations, n_obs, n_dims, i, n_kernels,
                             config);
      if (rc == HPT_OK && n_dims == 1)
        rc = build_fast_categorical(&p->fast, d, p->log_w, n_kernels);
    } else {
      double step = param->step;
      if (param->type == HPT_PARAM_INT && step <= 0)
        step = 1;
      d->kind = step > 0 ? DIM_GRID : DIM_CONTINUOUS;
      d->step = step > 0 ? step : 0;
      d->log = param->log;
      d->t_low = d->low - d->step / 2;
      d->t_high = d->high + d->step / 2;
      if (d->log) {
        d->t_low = log(d->t_low);
        d->t_high = log(d->t_high);
      }
      rc = build_numerical(d, observations, n_obs, n_dims, i, n_kernels, config,
                           p->log_w, n_dims == 1 ? &p->fast : NULL);
    }
    if (rc != HPT_OK)
      goto nomem;
  }
  *parzen = p;
  return HPT_OK;
nomem:
  hpt_parzen_destroy(&p);
  return HPT_ERR(error, HPT_ENOMEM, "out of memory building TPE kernels");
}

/* ---- sampling ------------------------------------------------------------ */

/* First kernel whose cumulative weight exceeds u (numpy's choice). */
static size_t pick_kernel(const hpt_parzen_t *p, double u) {
  size_t lo = 0, hi = p->n_kernels - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (p->cum_w[mid] > u)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

static double clamp(double value, double low, double high) {
  return value < low ? low : value > high ? high : value;
}

static double sample_dim(const hpt_parzen_t *p, const dim_t *d, size_t k,
                         hpt_rng_t *rng) {
  double u = hpt_rng_uniform(rng);
  if (d->kind == DIM_CATEGORICAL) {
    /* Count of cumulative probabilities below u, the last taken as 1. */
    double cum = 0;
    size_t j = 0;
    for (; j + 1 < d->n_choices; j++) {
      cum += exp(d->log_probs[j * p->n_kernels + k]);
      if (!(cum < u))
        break;
    }
    return (double)j;
  }
  double mu = d->mu[k], sigma = d->sigma[k];
  double z =
      hpt_truncnorm_ppf(u, (d->t_low - mu) / sigma, (d->t_high - mu) / sigma);
  double x = mu + sigma * z;
  if (d->log)
    x = exp(x);
  if (d->kind == DIM_GRID)
    x = d->low + round((x - d->low) / d->step) * d->step;
  return clamp(x, d->low, d->high);
}

void hpt_parzen_sample(const hpt_parzen_t *parzen, hpt_rng_t *rng, size_t n,
                       double *out) {
  for (size_t s = 0; s < n; s++) {
    size_t k = pick_kernel(parzen, hpt_rng_uniform(rng));
    for (size_t i = 0; i < parzen->n_dims; i++)
      out[s * parzen->n_dims + i] =
          sample_dim(parzen, &parzen->dims[i], k, rng);
  }
}

/* ---- log-density --------------------------------------------------------- */

/* acc[k] += log-density of x under kernel k in dimension d. */
static void add_dim(const hpt_parzen_t *p, dim_t *d, double x, double *acc) {
  size_t n = p->n_kernels;
  if (d->kind == DIM_CATEGORICAL) {
    const double *column = d->log_probs + (size_t)x * n;
    for (size_t k = 0; k < n; k++)
      acc[k] += column[k];
  } else if (d->kind == DIM_CONTINUOUS) {
    double t = d->log ? log(x) : x;
    const double *mu = d->mu, *inv = d->inv_sigma, *norm = d->log_norm;
    for (size_t k = 0; k < n; k++) {
      double z = (t - mu[k]) * inv[k];
      acc[k] += norm[k] - 0.5 * z * z;
    }
  } else {
    double left = x - d->step / 2, right = x + d->step / 2;
    if (d->log) {
      left = log(left);
      right = log(right);
    }
    for (size_t g = 0; g < d->n_groups; g++) {
      double mu = d->group_mu[g], sigma = d->group_sigma[g];
      d->group_value[g] =
          hpt_truncnorm_log_mass((left - mu) / sigma, (right - mu) / sigma) +
          d->log_norm[g];
    }
    for (size_t k = 0; k < n; k++)
      acc[k] += d->group_value[d->group[k]];
  }
}

static double log_sum_exp(const double *acc, size_t n) {
  double max = -INFINITY;
  for (size_t k = 0; k < n; k++)
    if (acc[k] > max)
      max = acc[k];
  if (max == -INFINITY || isnan(max))
    return max;
  double sum = 0;
  double cutoff = max + LSE_CUTOFF;
  for (size_t k = 0; k < n; k++)
    if (acc[k] > cutoff)
      sum += exp(acc[k] - max);
  return max + log(sum);
}

/* Log-density of the 1-D continuous mixture at t (kernel space): the
 * prior's term, then every block whose bound
 *   max c - (distance to the block's mu range · min 1/sigma)² / 2
 * is within LSE_CUTOFF of the best term found so far, starting with the
 * block where t falls. Skipped kernels are each below e^-50 of the best
 * term. */
static double log_pdf_fast_continuous(const fast1d_t *f, double t,
                                      double *acc) {
  double z = (t - f->prior_mu) * f->prior_inv;
  double best = f->prior_c - 0.5 * z * z;
  size_t n_terms = 0;
  acc[n_terms++] = best;
  if (f->n_blocks > 0) {
    /* The first block whose upper end is >= t, or the last one. */
    size_t lo = 0, hi = f->n_blocks - 1;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (f->block_hi[mid] >= t)
        hi = mid;
      else
        lo = mid + 1;
    }
    size_t start = lo;
    for (size_t visit = 0; visit < 2 * f->n_blocks; visit++) {
      /* Alternate outwards from the start block: start, start-1, start+1,
       * ... so the best term is found early and prunes most blocks. */
      size_t b;
      size_t step = (visit + 1) / 2;
      if (visit % 2 == 1) {
        if (step > start)
          continue;
        b = start - step;
      } else {
        if (start + step >= f->n_blocks)
          continue;
        b = start + step;
      }
      double gap = t < f->block_lo[b]   ? f->block_lo[b] - t
                   : t > f->block_hi[b] ? t - f->block_hi[b]
                                        : 0.0;
      double zb = gap * f->block_inv[b];
      if (f->block_c[b] - 0.5 * zb * zb < best + LSE_CUTOFF)
        continue;
      size_t first = b * BLOCK,
             end = first + BLOCK < f->n ? first + BLOCK : f->n;
      for (size_t i = first; i < end; i++) {
        double zi = (t - f->mu[i]) * f->inv_sigma[i];
        double term = f->c[i] - 0.5 * zi * zi;
        acc[n_terms++] = term;
        if (term > best)
          best = term;
      }
    }
  }
  double sum = 0, cutoff = best + LSE_CUTOFF;
  for (size_t i = 0; i < n_terms; i++)
    if (acc[i] > cutoff)
      sum += exp(acc[i] - best);
  return best + log(sum);
}

void hpt_parzen_log_pdf(hpt_parzen_t *parzen, const double *x, size_t n,
                        double *out) {
  size_t n_dims = parzen->n_dims;
  if (n_dims == 1 && parzen->dims[0].kind != DIM_GRID) {
    const dim_t *d = &parzen->dims[0];
    for (size_t s = 0; s < n; s++) {
      if (d->kind == DIM_CATEGORICAL)
        out[s] = parzen->fast.log_p[(size_t)x[s]];
      else
        out[s] = log_pdf_fast_continuous(
            &parzen->fast, d->log ? log(x[s]) : x[s], parzen->acc);
    }
    return;
  }
  for (size_t s = 0; s < n; s++) {
    const double *point = x + s * n_dims;
    /* Repeated points (common on grids) get the same value. */
    size_t same = 0;
    for (; same < s; same++)
      if (memcmp(x + same * n_dims, point, n_dims * sizeof *point) == 0)
        break;
    if (same < s) {
      out[s] = out[same];
      continue;
    }
    memcpy(parzen->acc, parzen->log_w, parzen->n_kernels * sizeof *parzen->acc);
    for (size_t i = 0; i < n_dims; i++)
      add_dim(parzen, &parzen->dims[i], point[i], parzen->acc);
    out[s] = log_sum_exp(parzen->acc, parzen->n_kernels);
  }
}
