/* test_truncnorm.c — coordinator/truncnorm.c against scipy.
 *
 * Every expected value below was computed once with scipy 1.17.1
 * (scipy.special.log_ndtr / ndtri_exp, scipy.stats.truncnorm.logpdf /
 * logcdf / ppf, scipy.stats._continuous_distns._log_gauss_mass) and pasted
 * here; the far-tail rows are where a naive log(Φ(b) - Φ(a)) underflows.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "truncnorm.h"

/* |got - want| <= rtol·|want| (+ a tiny absolute floor for zeros). */
static void expect_close(double got, double want, double rtol, const char *what,
                         double arg) {
  if (isinf(want)) {
    cr_expect(got == want, "%s(%g) = %.17g, want %g", what, arg, got, want);
    return;
  }
  cr_expect(fabs(got - want) <= rtol * fabs(want) + 1e-300,
            "%s(%g) = %.17g, want %.17g (rel err %.3g)", what, arg, got, want,
            fabs(got - want) / fabs(want));
}

Test(truncnorm, log_ndtr_matches_scipy_into_both_tails) {
  static const double cases[][2] = {
      {-40.0, -804.6084420137539},     {-25.0, -316.63940800802027},
      {-20.0, -203.9171553710973},     {-10.0, -53.23128515051248},
      {-1.0, -1.8410216450092634},     {0.0, -0.6931471805599453},
      {0.5, -0.36894641528865635},     {3.0, -0.0013508099647481925},
      {7.0, -1.2798125438866539e-12},  {10.0, -7.61985302416047e-24},
      {30.0, -4.906713927147908e-198},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_close(hpt_truncnorm_log_ndtr(cases[i][0]), cases[i][1], 1e-13,
                 "log_ndtr", cases[i][0]);
  cr_expect(hpt_truncnorm_log_ndtr(-INFINITY) == -INFINITY);
  cr_expect(hpt_truncnorm_log_ndtr(INFINITY) == 0.0);
}

Test(truncnorm, ndtri_exp_matches_scipy_and_inverts_log_ndtr) {
  static const double cases[][2] = {
      {-100000.0, -447.19789367876837}, {-700.0, -37.295079632647415},
      {-50.0, -9.674825283612355},      {-10.0, -3.913946240531893},
      {-2.0, -1.10151962849875},        {-0.1, 1.309617799458493},
      {-0.001, 3.090380786917045},      {-1e-10, 6.361340902411735},
      {-1e-300, 37.0470962993612},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_close(hpt_truncnorm_ndtri_exp(cases[i][0]), cases[i][1], 1e-12,
                 "ndtri_exp", cases[i][0]);
  cr_expect(fabs(hpt_truncnorm_ndtri_exp(-0.6931471805599453)) < 1e-15);
  cr_expect(hpt_truncnorm_ndtri_exp(0.0) == INFINITY);
  cr_expect(hpt_truncnorm_ndtri_exp(-INFINITY) == -INFINITY);
  cr_expect(isnan(hpt_truncnorm_ndtri_exp(0.5)));
  for (double x = -30; x <= 8; x += 0.37) {
    double back = hpt_truncnorm_ndtri_exp(hpt_truncnorm_log_ndtr(x));
    cr_expect(fabs(back - x) <= 1e-11 * fabs(x) + 1e-12, "x=%g back=%.17g", x,
              back);
  }
}

Test(truncnorm, log_mass_matches_scipy_in_the_tails) {
  static const double cases[][3] = {
      {-1.0, 2.0, -0.20016629432446262},    {-40.0, -39.0, -765.0831565643776},
      {39.0, 40.0, -765.0831565643776},     {-1000.0, 1000.0, 0.0},
      {5.0, 6.0, -15.068446096529454},      {-0.001, 0.001, -7.133546798293504},
      {-9.0, 9.0, -2.2571768119076647e-19}, {-100.0, -20.0, -203.9171553710973},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_close(hpt_truncnorm_log_mass(cases[i][0], cases[i][1]), cases[i][2],
                 1e-12, "log_mass", cases[i][0]);
  cr_expect(hpt_truncnorm_log_mass(1.0, 1.0) == -INFINITY);
}

Test(truncnorm, logpdf_matches_scipy) {
  /* x, a, b, loc, scale, scipy.stats.truncnorm.logpdf */
  static const double cases[][6] = {
      {0.3, -1.0, 2.0, 0.0, 1.0, -0.7637722388802101},
      {1.5, -1.0, 2.0, 0.5, 0.7, -1.3825054582067837},
      {-38.0, -40.0, -30.0, 0.0, 1.0, -268.59769457686144},
      {35.0, 30.0, 40.0, 0.0, 1.0, -159.09769457686144},
      {0.1, -0.5, 0.5, 0.0, 0.01, -INFINITY},
      {9.0, 8.0, 1000.0, 0.0, 1.0, -6.4055013732901145},
      {-5.0, -1000.0, -4.0, 0.0, 1.0, -3.0588370466773807},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const double *c = cases[i];
    expect_close(hpt_truncnorm_logpdf(c[0], c[1], c[2], c[3], c[4]), c[5],
                 1e-12, "logpdf", c[0]);
  }
  cr_expect(isnan(hpt_truncnorm_logpdf(0.0, 1.0, 1.0, 0.0, 1.0)));
}

Test(truncnorm, logcdf_matches_scipy) {
  /* x, a, b, loc, scale, scipy.stats.truncnorm.logcdf */
  static const double cases[][6] = {
      {0.3, -1.0, 2.0, 0.0, 1.0, -0.5779808294985905},
      {1.9, -1.0, 2.0, 0.0, 1.0, -0.007315315202360696},
      {-39.9, -40.0, -30.0, 0.0, 1.0, -346.30823020377835},
      {-35.0, -40.0, -30.0, 0.0, 1.0, -162.65385730557927},
      {30.5, 30.0, 40.0, 0.0, 1.0, -2.655418892390456e-07},
      {39.0, 30.0, 40.0, 0.0, 1.0, -1.0909784413011504e-135},
      {0.05, -0.5, 0.5, 0.0, 0.1, 0.0},
      {-0.49, -0.5, 0.5, 0.0, 0.01, -INFINITY},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const double *c = cases[i];
    expect_close(hpt_truncnorm_logcdf(c[0], c[1], c[2], c[3], c[4]), c[5],
                 1e-10, "logcdf", c[0]);
  }
}

Test(truncnorm, ppf_matches_scipy_and_stays_in_bounds) {
  /* q, a, b, scipy.stats.truncnorm.ppf */
  static const double cases[][4] = {
      {0.5, -1.0, 2.0, 0.17116391801782482},
      {0.01, -3.0, 3.0, -2.2793578771038914},
      {0.999, -3.0, 3.0, 2.8272888358711152},
      {0.3, -40.0, -30.0, -30.040061293677958},
      {0.7, 30.0, 40.0, 30.040061293677958},
      {0.5, 8.0, 9.0, 8.08488889901817},
      {0.25, -1000.0, 1000.0, -0.6744897501960817},
      {1e-10, -2.0, 2.0, -1.9999999982321124},
      {0.9, -50.0, -49.0, -49.00214927307501},
      {0.2, 0.0, 0.5, 0.09613290804802138},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const double *c = cases[i];
    expect_close(hpt_truncnorm_ppf(c[0], c[1], c[2]), c[3], 1e-10, "ppf", c[0]);
  }
  cr_expect(hpt_truncnorm_ppf(0.0, -1.0, 2.0) == -1.0);
  cr_expect(hpt_truncnorm_ppf(1.0, -1.0, 2.0) == 2.0);
  cr_expect(isnan(hpt_truncnorm_ppf(0.5, 1.0, 1.0)));
  cr_expect(isnan(hpt_truncnorm_ppf(1.5, 0.0, 1.0)));
  for (double q = 0.001; q < 1; q += 0.0371) {
    double x = hpt_truncnorm_ppf(q, 12.0, 13.0);
    cr_expect(x >= 12.0 && x <= 13.0);
    /* ppf inverts the cdf */
    double back = exp(hpt_truncnorm_logcdf(x, 12.0, 13.0, 0.0, 1.0));
    cr_expect(fabs(back - q) < 1e-9, "q=%g back=%.17g", q, back);
  }
}
