/* test_report_roc.c — the ROC curve of the ensemble report
 * (coordinator/report_roc.c): shape, ties, and its area equal to
 * hpt_ensemble_metrics's roc_auc (coordinator/ensemble.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "ensemble.h"
#include "report_roc.h"

static void
expect_monotone_from_origin_to_one(const hpt_report_roc_point_t *points,
                                   size_t n) {
  cr_assert_geq(n, 2);
  cr_expect_eq(points[0].fpr, 0);
  cr_expect_eq(points[0].tpr, 0);
  cr_expect(isinf(points[0].threshold) && points[0].threshold > 0);
  cr_expect_eq(points[n - 1].fpr, 1);
  cr_expect_eq(points[n - 1].tpr, 1);
  for (size_t i = 1; i < n; i++) {
    cr_expect_geq(points[i].fpr, points[i - 1].fpr, "fpr at %zu", i);
    cr_expect_geq(points[i].tpr, points[i - 1].tpr, "tpr at %zu", i);
    cr_expect_lt(points[i].threshold, points[i - 1].threshold,
                 "thresholds decrease at %zu", i);
  }
}

Test(report_roc, hand_made_example_matches_ensemble_metrics) {
  /* 4 positives, 4 negatives; 0.6 is a tie between a positive and a
   * negative. Pairs (positive beats negative): 0.9 beats 4, 0.8 beats 4,
   * 0.6 beats 2 and ties 1, 0.2 beats 1 -> (4 + 4 + 2.5 + 1) / 16. */
  const double scores[] = {0.9, 0.8, 0.7, 0.6, 0.6, 0.4, 0.2, 0.1};
  const int labels[] = {1, 1, 0, 1, 0, 0, 1, 0};
  hpt_report_roc_point_t *points = NULL;
  size_t n = 0;
  double auc = NAN;
  cr_assert_eq(
      hpt_report_roc_compute(8, scores, labels, &points, &n, &auc, NULL),
      HPT_OK);
  cr_expect_eq(n, 8, "7 distinct scores + the origin");
  expect_monotone_from_origin_to_one(points, n);
  cr_expect_float_eq(auc, 11.5 / 16, 1e-12);
  hpt_ensemble_metrics_t metrics;
  hpt_ensemble_metrics(8, scores, labels, 0.5, &metrics);
  cr_expect_float_eq(auc, metrics.roc_auc, 1e-12);
  /* The tie is one diagonal step: from (1/4, 2/4) to (2/4, 3/4). */
  cr_expect_float_eq(points[3].fpr, 0.25, 1e-12);
  cr_expect_float_eq(points[3].tpr, 0.5, 1e-12);
  cr_expect_float_eq(points[4].fpr, 0.5, 1e-12);
  cr_expect_float_eq(points[4].tpr, 0.75, 1e-12);
  cr_expect_eq(points[4].threshold, 0.6);
  free(points);
}

Test(report_roc, random_scores_with_ties_match_ensemble_metrics) {
  enum { N = 500 };
  double scores[N];
  int labels[N];
  srand(7);
  for (size_t i = 0; i < N; i++) {
    labels[i] = rand() % 3 == 0;
    /* Scores on a coarse grid, so that many tie; positives score higher
     * on average. */
    scores[i] = (double)((rand() % 20) + (labels[i] ? 6 : 0)) / 26.0;
  }
  hpt_report_roc_point_t *points = NULL;
  size_t n = 0;
  double auc = NAN;
  cr_assert_eq(
      hpt_report_roc_compute(N, scores, labels, &points, &n, &auc, NULL),
      HPT_OK);
  expect_monotone_from_origin_to_one(points, n);
  cr_expect_leq(n, 27);
  hpt_ensemble_metrics_t metrics;
  hpt_ensemble_metrics(N, scores, labels, 0.5, &metrics);
  cr_expect_float_eq(auc, metrics.roc_auc, 1e-12);
  cr_expect(auc > 0.6 && auc < 1, "%f", auc);
  free(points);
}

Test(report_roc, perfect_and_inverted_scores) {
  const double scores[] = {0.1, 0.2, 0.8, 0.9};
  const int good[] = {0, 0, 1, 1}, bad[] = {1, 1, 0, 0};
  hpt_report_roc_point_t *points = NULL;
  size_t n = 0;
  double auc = NAN;
  cr_assert_eq(hpt_report_roc_compute(4, scores, good, &points, &n, &auc, NULL),
               HPT_OK);
  cr_expect_eq(auc, 1.0);
  cr_expect_eq(points[2].fpr, 0, "both positives first");
  cr_expect_eq(points[2].tpr, 1);
  free(points);
  cr_assert_eq(hpt_report_roc_compute(4, scores, bad, &points, &n, &auc, NULL),
               HPT_OK);
  cr_expect_eq(auc, 0.0);
  free(points);
}

Test(report_roc, one_class_or_a_bad_score_is_refused) {
  const double scores[] = {0.1, 0.2, 0.3};
  const int ones[] = {1, 1, 1};
  hpt_report_roc_point_t *points = (void *)1;
  size_t n = 99;
  double auc = 0;
  hpt_error_t error;
  cr_expect_eq(
      hpt_report_roc_compute(3, scores, ones, &points, &n, &auc, &error),
      HPT_EINVAL);
  cr_expect_str_eq(error.message,
                   "ROC: the labels need both classes (3 positive, 0 "
                   "negative)");
  cr_expect_null(points);
  cr_expect_eq(n, 0);
  cr_expect(isnan(auc));
  const double nan_score[] = {0.1, NAN, 0.3};
  const int mixed[] = {0, 1, 1};
  cr_expect_eq(
      hpt_report_roc_compute(3, nan_score, mixed, &points, &n, &auc, &error),
      HPT_EINVAL);
  cr_expect_null(points);
  cr_expect_eq(hpt_report_roc_compute(0, NULL, NULL, &points, &n, &auc, NULL),
               HPT_EINVAL, "no rows: no classes");
}
