/* ensemble.h — soft voting over members' validation probabilities: the
 * weights, the threshold and the metrics of the vote. Pure computation on
 * plain arrays; the store and the CLI feed it (cli_ensemble.c).
 *
 * Weights and threshold are fitted on validation probabilities only (the
 * members' own held-out split), never on test data. `optimized` weights
 * search the simplex on a grid (step 0.05; coordinate ascent beyond three
 * members) for the lowest log loss, so that they do not overfit accuracy's
 * plateaus; a `tuned` threshold is the one in 0.05..0.95 (step 0.01) with
 * the best accuracy, ties going to the one nearest 0.5.
 */
#ifndef HPT_ENSEMBLE_H
#define HPT_ENSEMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct hpt_ensemble_metrics {
  double accuracy, precision, recall, f1, roc_auc, log_loss;
  int tp, fp, tn, fn;
} hpt_ensemble_metrics_t;

/* probabilities: n_members x n_rows, row-major by member (member m's
 * probability for row r at [m * n_rows + r]); labels: n_rows of 0/1.
 * weights_out: n_members, sums to 1. */
int hpt_ensemble_fit(size_t n_members, size_t n_rows,
                     const double *probabilities, const int *labels,
                     bool optimize_weights, bool tune_threshold,
                     double *weights_out, double *threshold_out,
                     hpt_ensemble_metrics_t *metrics, hpt_error_t *error);

/* The weighted vote for one row. */
double hpt_ensemble_vote(size_t n_members, size_t n_rows,
                         const double *probabilities, const double *weights,
                         size_t row);

/* Metrics of scores against labels at a threshold (ROC-AUC by ranks, ties
 * counted half). */
void hpt_ensemble_metrics(size_t n_rows, const double *scores,
                          const int *labels, double threshold,
                          hpt_ensemble_metrics_t *metrics);

#endif
