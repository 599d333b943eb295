/* report_charts_ensemble.h — the ensemble page's two charts, each inline
 * SVG written to the caller's stream (or a note saying why there is none):
 *
 * - confusion: the 2x2 confusion matrix of the vote at its threshold on
 *   the validation rows (from the stored tp/fp/tn/fn), actual label by
 *   row, predicted by column, each cell's count and share of its row;
 * - roc: the ROC curves (report_roc.h) of the weighted vote and of every
 *   member over the validation rows, the chance diagonal, the threshold's
 *   operating point, and a legend with each curve's AUC.
 *
 * Every piece of user text is escaped. Write errors stay on the stream.
 */
#ifndef HPT_REPORT_CHARTS_ENSEMBLE_H
#define HPT_REPORT_CHARTS_ENSEMBLE_H

#include <stdio.h>

#include "error.h"
#include "report_ensemble.h"

/* Cannot fail. */
void hpt_report_chart_confusion(const hpt_report_ensemble_t *ensemble,
                                FILE *out);

/* Fails only when memory runs out (HPT_ENOMEM), having written part of the
 * chart. Without validation predictions (or with one class only) it writes
 * a note instead. */
int hpt_report_chart_roc(const hpt_report_ensemble_t *ensemble, FILE *out,
                         hpt_error_t *error);

/* The area under member `m`'s ROC curve over the validation rows; NaN when
 * there are no predictions, one class only, or no memory. */
double hpt_report_member_auc(const hpt_report_ensemble_t *ensemble, size_t m);

/* The colour of member `m`'s curve ("#1f77b4"; static). Cannot fail. */
const char *hpt_report_member_color(size_t m);

#endif
