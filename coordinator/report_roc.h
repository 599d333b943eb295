/* report_roc.h — the ROC curve of scores against 0/1 labels, for the
 * ensemble report's chart. Pure computation on plain arrays.
 *
 * One point per distinct score, from the highest down: predicting positive
 * every row whose score is >= that score gives (false positive rate, true
 * positive rate). The curve starts at (0, 0) (nothing predicted positive)
 * and ends at (1, 1). Rows with equal scores move together, so a tie is one
 * diagonal step; the area under the curve by trapezoids is then exactly the
 * Mann–Whitney probability with ties counted half, i.e. the roc_auc of
 * hpt_ensemble_metrics (ensemble.h).
 */
#ifndef HPT_REPORT_ROC_H
#define HPT_REPORT_ROC_H

#include <stddef.h>

#include "error.h"

typedef struct hpt_report_roc_point {
  double fpr;       /* false positive rate, 0..1, non-decreasing */
  double tpr;       /* true positive rate, 0..1, non-decreasing */
  double threshold; /* predict positive at score >= threshold; +inf at the
                       first point */
} hpt_report_roc_point_t;

/* The ROC curve of `scores` (n_rows, finite) against `labels` (n_rows of
 * 0/1): *points (caller frees; distinct scores + 1 of them, fpr and tpr
 * both non-decreasing) and *auc. HPT_EINVAL when the labels are not both
 * present (no curve exists) or a score is not finite; HPT_ENOMEM. On
 * failure *points is NULL, *n_points 0 and *auc NaN. */
int hpt_report_roc_compute(size_t n_rows, const double *scores,
                           const int *labels, hpt_report_roc_point_t **points,
                           size_t *n_points, double *auc, hpt_error_t *error);

#endif
