/* truncnorm.c — the (truncated) standard normal in log space; see
 * truncnorm.h.
 *
 * Accuracy notes. Φ is computed from erf/erfc so that neither tail loses
 * digits to 1 - x; log Φ switches to log1p(-Φ(-x)) above 0 (scipy does so
 * above 6 only, and loses digits of 1 - Φ in between) and to the
 * asymptotic series of scipy.special.log_ndtr below -20, where erfc would
 * underflow. Masses of intervals are taken in whichever tail keeps both
 * ends at or left of zero (Φ is exact there), and the inverse of log Φ is
 * found by Newton's method from the usual tail approximations, as in
 * Optuna's _truncnorm.py, iterated to full double precision.
 */
#include "truncnorm.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>

/* log(sqrt(2π)) */
#define LOG_SQRT_2PI 0.91893853320467274178
/* sqrt(3) / π: slope of the logistic approximation of Φ. */
#define LOGISTIC_C 0.55132889542179204315

double hpt_truncnorm_ndtr(double x) {
  double t = x * M_SQRT1_2;
  if (t < -M_SQRT1_2)
    return 0.5 * erfc(-t);
  if (t < M_SQRT1_2)
    return 0.5 + 0.5 * erf(t);
  return 1.0 - 0.5 * erfc(t);
}

/* log Φ(x) for x <= -20: log(φ(x)/-x) + log(1 - 1/x² + 3/x⁴ - ...). The
 * series is asymptotic; at |x| >= 20 its terms shrink fast enough that it
 * converges to rounding well before they grow again. */
static double log_ndtr_series(double x) {
  double log_lhs = -0.5 * x * x - log(-x) - LOG_SQRT_2PI;
  double total = 1.0, last = 0.0, numerator = 1.0, denominator = 1.0;
  double inv_x2 = 1.0 / (x * x), sign = 1.0;
  for (int i = 1; fabs(last - total) > DBL_EPSILON && i < 100; i++) {
    last = total;
    sign = -sign;
    denominator *= inv_x2;
    numerator *= 2.0 * i - 1.0;
    total += sign * numerator * denominator;
  }
  return log_lhs + log(total);
}

double hpt_truncnorm_log_ndtr(double x) {
  if (isnan(x))
    return x;
  if (x > 0.0)
    return log1p(-0.5 * erfc(x * M_SQRT1_2));
  if (x > -20.0)
    return log(0.5 * erfc(-x * M_SQRT1_2));
  if (x == -INFINITY)
    return -INFINITY;
  return log_ndtr_series(x);
}

/* log(e^p - e^q) for p >= q. */
static double log_diff(double p, double q) {
  if (q == -INFINITY)
    return p;
  return p + log1p(-exp(q - p));
}

/* log(e^p + e^q). */
static double log_sum(double p, double q) {
  if (p == -INFINITY)
    return q;
  if (q == -INFINITY)
    return p;
  double hi = p > q ? p : q, lo = p > q ? q : p;
  return hi + log1p(exp(lo - hi));
}

double hpt_truncnorm_log_mass(double a, double b) {
  if (isnan(a) || isnan(b) || a > b)
    return NAN;
  if (a == b)
    return -INFINITY;
  if (b <= 0.0)
    return log_diff(hpt_truncnorm_log_ndtr(b), hpt_truncnorm_log_ndtr(a));
  if (a > 0.0)
    return log_diff(hpt_truncnorm_log_ndtr(-a), hpt_truncnorm_log_ndtr(-b));
  /* Straddling zero: 1 minus both tails, each computed exactly; the mass is
   * at least Φ(0) - Φ(a) so the log1p is well conditioned. */
  return log1p(-hpt_truncnorm_ndtr(a) - hpt_truncnorm_ndtr(-b));
}

double hpt_truncnorm_ndtri_exp(double y) {
  if (isnan(y) || y > 0.0)
    return NAN;
  if (y == 0.0)
    return INFINITY;
  if (y == -INFINITY)
    return -INFINITY;
  /* Near y = 0 (x >> 0) solve for -x in the left tail instead:
   * log Φ(-x) = log(1 - e^y). */
  bool flipped = y > -1e-2;
  double z = flipped ? log(-expm1(y)) : y;
  double x = z < -5.0 ? -sqrt(-2.0 * (z + LOG_SQRT_2PI))
                      : -LOGISTIC_C * log(expm1(-z));
  /* Newton on f(x) = log Φ(x) - z, f'(x) = φ(x)/Φ(x). Convergence is
   * quadratic, so one more step after |dx| < 1e-9 reaches rounding. */
  bool last = false;
  for (int i = 0; i < 100; i++) {
    double log_ndtr_x = hpt_truncnorm_log_ndtr(x);
    double log_pdf_x = -0.5 * x * x - LOG_SQRT_2PI;
    double dx = (log_ndtr_x - z) * exp(log_ndtr_x - log_pdf_x);
    x -= dx;
    if (last || !isfinite(x))
      break;
    if (fabs(dx) <= 1e-9 * (fabs(x) + 1e-3))
      last = true;
  }
  return flipped ? -x : x;
}

double hpt_truncnorm_logpdf(double x, double a, double b, double loc,
                            double scale) {
  if (!(a < b))
    return NAN;
  double z = (x - loc) / scale;
  if (isnan(z))
    return NAN;
  if (z < a || z > b)
    return -INFINITY;
  return -0.5 * z * z - LOG_SQRT_2PI - hpt_truncnorm_log_mass(a, b) -
         log(scale);
}

double hpt_truncnorm_logcdf(double x, double a, double b, double loc,
                            double scale) {
  if (!(a < b))
    return NAN;
  double z = (x - loc) / scale;
  if (isnan(z))
    return NAN;
  if (z <= a)
    return -INFINITY;
  if (z >= b)
    return 0.0;
  double log_mass = hpt_truncnorm_log_mass(a, b);
  double log_cdf = hpt_truncnorm_log_mass(a, z) - log_mass;
  /* Close to 1, go through the survival function, as scipy does, rather
   * than lose the digits of 1 - cdf. */
  if (log_cdf > -0.1)
    log_cdf = log1p(-exp(hpt_truncnorm_log_mass(z, b) - log_mass));
  return log_cdf;
}

double hpt_truncnorm_ppf(double q, double a, double b) {
  if (isnan(q) || q < 0.0 || q > 1.0 || !(a < b))
    return NAN;
  if (q == 0.0)
    return a;
  if (q == 1.0)
    return b;
  double log_mass = hpt_truncnorm_log_mass(a, b);
  double x;
  if (a < 0.0) {
    /* Φ(x) = Φ(a) + q (Φ(b) - Φ(a)), in logs. */
    x = hpt_truncnorm_ndtri_exp(
        log_sum(hpt_truncnorm_log_ndtr(a), log(q) + log_mass));
  } else {
    /* Mirror to the left tail, where Φ keeps its digits. */
    x = -hpt_truncnorm_ndtri_exp(
        log_sum(hpt_truncnorm_log_ndtr(-b), log1p(-q) + log_mass));
  }
  return x < a ? a : x > b ? b : x;
}
