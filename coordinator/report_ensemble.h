/* report_ensemble.h — `hpt report ENSEMBLE --output FILE`: one
 * self-contained HTML page about a soft-voting ensemble (ensemble.h), drawn
 * as inline SVG like the study page (no JavaScript, no network).
 *
 * The page: a header (members, weights and threshold with their modes,
 * validation rows, when it was built), the members (study, trial number,
 * weight, the trial's own validation accuracy, its ROC-AUC), the stored
 * metrics (accuracy, F1, precision, recall, ROC-AUC), the confusion matrix
 * (from the stored tp/fp/tn/fn) and the ROC curves (report_roc.h) of the
 * weighted vote and of every member, computed from the members' stored
 * validation probabilities, with each AUC in the legend and the stored
 * threshold's operating point marked. When a member's predictions are no
 * longer kept (keep_top_k pruned them since), the page says so instead of
 * drawing the curves; everything else is still shown.
 *
 * The data come in as the plain structs below: store_report.c fills the
 * record and the members from PostgreSQL, ensemble_members.c the
 * predictions; nothing here knows SQL. Every piece of user text (ensemble
 * and study names, error text) is escaped for HTML.
 *
 * Ownership: an hpt_report_ensemble_t owns every array and string inside
 * it; free it with hpt_report_ensemble_free.
 */
#ifndef HPT_REPORT_ENSEMBLE_H
#define HPT_REPORT_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ensemble.h"
#include "ensemble_members.h"
#include "error.h"

/* One member, as the page shows it. */
typedef struct hpt_report_member {
  int64_t trial_id; /* trials.id */
  char *study;      /* its study's name; owned */
  int number;       /* its trial number in that study */
  double weight;    /* its weight in the vote; weights sum to 1 */
  double value;     /* the trial's value (its validation accuracy); NaN:
                       none */
} hpt_report_member_t;

/* Everything one ensemble report shows. */
typedef struct hpt_report_ensemble {
  char *name;           /* owned */
  char *weights_mode;   /* "equal" | "optimized"; owned */
  char *threshold_mode; /* "fixed" | "tuned"; owned */
  char *created_at;     /* "YYYY-MM-DD HH:MM UTC"; owned */
  double threshold;     /* the vote predicts 1 at >= threshold */
  int n_val;            /* validation rows it was fitted and measured on */
  /* As stored by `hpt ensemble build`: accuracy, f1, precision, recall,
   * roc_auc (NaN when NULL) and tp, fp, tn, fn (-1 when NULL); log_loss is
   * not stored (NaN). */
  hpt_ensemble_metrics_t metrics;
  size_t n_members;
  hpt_report_member_t *members; /* owned, by position (the weights' order) */
  /* The members' validation predictions, in the members' order; empty
   * (n_rows 0) when they could not be read, and then `missing` says why
   * (owned), else NULL. */
  hpt_ensemble_members_t validation;
  char *missing;
} hpt_report_ensemble_t;

/* Frees everything the ensemble report owns and zeroes it. Accepts NULL. */
void hpt_report_ensemble_free(hpt_report_ensemble_t *ensemble);

/* Writes the whole page to `out`. Fails only when writing fails (HPT_EIO)
 * or memory runs out (HPT_ENOMEM); `out` then holds a partial page. */
int hpt_report_ensemble_html_write(const hpt_report_ensemble_t *ensemble,
                                   FILE *out, hpt_error_t *error);

#endif
