/* truncnorm.h — the standard normal and the truncated normal, computed in
 * log space so that far tails stay finite (TPE's kernels are truncated to
 * the search bounds, and their masses can be 1e-300 or 1 - 1e-17).
 *
 * Conventions follow scipy.stats.truncnorm: `a` and `b` are the truncation
 * bounds in standard units ((low - loc) / scale), a < b. The algorithms are
 * those of scipy.special (log_ndtr's asymptotic series below -20) and of
 * Optuna's optuna/samplers/_tpe/_truncnorm.py (mass by symmetry in the left
 * tail, ndtri_exp by Newton's method).
 *
 * Pure functions of their arguments: no state, no allocation, thread-safe,
 * cannot fail (out-of-domain input gives NaN or ±inf as documented).
 */
#ifndef HPT_TRUNCNORM_H
#define HPT_TRUNCNORM_H

/* Φ(x), the standard normal CDF. */
double hpt_truncnorm_ndtr(double x);

/* log Φ(x), accurate for every x (about -x²/2 for x → -inf, -Φ(-x) for
 * x → +inf). */
double hpt_truncnorm_log_ndtr(double x);

/* The inverse of log_ndtr: x such that log Φ(x) = y, for y <= 0. y = 0
 * gives +inf, y = -inf gives -inf, y > 0 NaN. */
double hpt_truncnorm_ndtri_exp(double y);

/* log(Φ(b) - Φ(a)), the log of the standard normal mass on [a, b], a <= b.
 * -inf when a == b. */
double hpt_truncnorm_log_mass(double a, double b);

/* Log-density at x of the normal (loc, scale) truncated to
 * [loc + a·scale, loc + b·scale]: -inf outside, NaN when a == b. */
double hpt_truncnorm_logpdf(double x, double a, double b, double loc,
                            double scale);

/* Log of the CDF at x of the same distribution: -inf below the lower
 * bound, 0 above the upper one, NaN when a == b. */
double hpt_truncnorm_logcdf(double x, double a, double b, double loc,
                            double scale);

/* The quantile q in [0, 1] of the standard normal truncated to [a, b]
 * (standard units; scale and shift it yourself). q = 0 gives a, q = 1 gives
 * b; the result is clamped to [a, b]. NaN when a == b or q is outside. */
double hpt_truncnorm_ppf(double q, double a, double b);

#endif
