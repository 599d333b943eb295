/* report_roc.c — see report_roc.h. O(n log n): one sort of the rows by
 * score, then one pass. */
#include "report_roc.h"

#include <math.h>
#include <stdlib.h>

typedef struct row {
  double score;
  int label;
} row_t;

static int by_score_descending(const void *a, const void *b) {
  double x = ((const row_t *)a)->score, y = ((const row_t *)b)->score;
  return (x < y) - (x > y);
}

int hpt_report_roc_compute(size_t n_rows, const double *scores,
                           const int *labels, hpt_report_roc_point_t **points,
                           size_t *n_points, double *auc, hpt_error_t *error) {
  *points = NULL;
  *n_points = 0;
  *auc = NAN;
  size_t positives = 0;
  for (size_t i = 0; i < n_rows; i++) {
    if (!isfinite(scores[i]))
      return HPT_ERR(error, HPT_EINVAL, "ROC: score of row %zu is not finite",
                     i);
    positives += labels[i] != 0;
  }
  size_t negatives = n_rows - positives;
  if (positives == 0 || negatives == 0)
    return HPT_ERR(error, HPT_EINVAL,
                   "ROC: the labels need both classes (%zu positive, %zu "
                   "negative)",
                   positives, negatives);
  row_t *rows = malloc(n_rows * sizeof *rows);
  hpt_report_roc_point_t *curve = malloc((n_rows + 1) * sizeof *curve);
  if (rows == NULL || curve == NULL) {
    free(rows);
    free(curve);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < n_rows; i++)
    rows[i] = (row_t){scores[i], labels[i] != 0};
  qsort(rows, n_rows, sizeof *rows, by_score_descending);
  size_t n = 0, tp = 0, fp = 0;
  double area = 0;
  curve[n++] = (hpt_report_roc_point_t){0, 0, INFINITY};
  for (size_t i = 0; i < n_rows;) {
    size_t j = i;
    for (; j < n_rows && rows[j].score == rows[i].score; j++) {
      tp += (size_t)rows[j].label;
      fp += (size_t)!rows[j].label;
    }
    hpt_report_roc_point_t point = {(double)fp / (double)negatives,
                                    (double)tp / (double)positives,
                                    rows[i].score};
    const hpt_report_roc_point_t *last = &curve[n - 1];
    area += (point.fpr - last->fpr) * (point.tpr + last->tpr) / 2;
    curve[n++] = point;
    i = j;
  }
  free(rows);
  /* The last point is (1, 1) exactly: every row predicted positive. */
  *points = curve;
  *n_points = n;
  *auc = area;
  return HPT_OK;
}
