/* ensemble.c — see ensemble.h. */
#include "ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double hpt_ensemble_vote(size_t n_members, size_t n_rows,
                         const double *probabilities, const double *weights,
                         size_t row) {
  double vote = 0.0;
  for (size_t m = 0; m < n_members; m++)
    vote += weights[m] * probabilities[m * n_rows + row];
  return vote;
}

typedef struct ranked {
  double score;
  int label;
} ranked_t;

static int by_score(const void *a, const void *b) {
  double x = ((const ranked_t *)a)->score, y = ((const ranked_t *)b)->score;
  return (x > y) - (x < y);
}

/* Mann–Whitney: the probability that a random positive outscores a random
 * negative, ties half. */
static double roc_auc(size_t n, const double *scores, const int *labels) {
  ranked_t *rows = malloc((n ? n : 1) * sizeof *rows);
  if (rows == NULL)
    return NAN;
  for (size_t i = 0; i < n; i++)
    rows[i] = (ranked_t){scores[i], labels[i]};
  qsort(rows, n, sizeof *rows, by_score);
  double rank_sum = 0.0, positives = 0.0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && rows[j].score == rows[i].score)
      j++;
    double rank = (double)(i + j + 1) / 2.0; /* average 1-based rank */
    for (size_t k = i; k < j; k++)
      if (rows[k].label) {
        rank_sum += rank;
        positives++;
      }
    i = j;
  }
  free(rows);
  double negatives = (double)n - positives;
  if (positives == 0 || negatives == 0)
    return NAN;
  return (rank_sum - positives * (positives + 1) / 2.0) /
         (positives * negatives);
}

void hpt_ensemble_metrics(size_t n_rows, const double *scores,
                          const int *labels, double threshold,
                          hpt_ensemble_metrics_t *m) {
  memset(m, 0, sizeof *m);
  double loss = 0.0;
  for (size_t i = 0; i < n_rows; i++) {
    int predicted = scores[i] >= threshold;
    if (predicted && labels[i])
      m->tp++;
    else if (predicted)
      m->fp++;
    else if (labels[i])
      m->fn++;
    else
      m->tn++;
    double p = fmin(fmax(scores[i], 1e-12), 1.0 - 1e-12);
    loss -= labels[i] ? log(p) : log(1.0 - p);
  }
  m->accuracy = n_rows ? (double)(m->tp + m->tn) / (double)n_rows : NAN;
  m->precision = m->tp + m->fp ? (double)m->tp / (m->tp + m->fp) : 0.0;
  m->recall = m->tp + m->fn ? (double)m->tp / (m->tp + m->fn) : 0.0;
  m->f1 = m->precision + m->recall > 0
              ? 2 * m->precision * m->recall / (m->precision + m->recall)
              : 0.0;
  m->roc_auc = roc_auc(n_rows, scores, labels);
  m->log_loss = n_rows ? loss / (double)n_rows : NAN;
}

static double log_loss_of(size_t n_members, size_t n_rows, const double *p,
                          const int *labels, const double *weights,
                          double *scores) {
  for (size_t r = 0; r < n_rows; r++)
    scores[r] = hpt_ensemble_vote(n_members, n_rows, p, weights, r);
  hpt_ensemble_metrics_t m;
  hpt_ensemble_metrics(n_rows, scores, labels, 0.5, &m);
  return m.log_loss;
}

/* Coordinate ascent on the simplex: move weight between pairs of members
 * in steps of 0.05 while the log loss improves. Starts from equal weights,
 * so it never ends worse than them. */
static void optimize(size_t n_members, size_t n_rows, const double *p,
                     const int *labels, double *weights, double *scores) {
  double best = log_loss_of(n_members, n_rows, p, labels, weights, scores);
  for (int round = 0; round < 200; round++) {
    bool improved = false;
    for (size_t from = 0; from < n_members; from++)
      for (size_t to = 0; to < n_members; to++) {
        if (from == to || weights[from] < 0.05 - 1e-12)
          continue;
        weights[from] -= 0.05;
        weights[to] += 0.05;
        double loss = log_loss_of(n_members, n_rows, p, labels, weights,
                                  scores);
        if (loss < best - 1e-12) {
          best = loss;
          improved = true;
        } else {
          weights[from] += 0.05;
          weights[to] -= 0.05;
        }
      }
    if (!improved)
      break;
  }
}

int hpt_ensemble_fit(size_t n_members, size_t n_rows,
                     const double *probabilities, const int *labels,
                     bool optimize_weights, bool tune_threshold,
                     double *weights, double *threshold,
                     hpt_ensemble_metrics_t *metrics, hpt_error_t *error) {
  if (n_members == 0 || n_rows == 0)
    return HPT_ERR(error, HPT_EINVAL,
                   "an ensemble needs members and validation rows");
  double *scores = malloc(n_rows * sizeof *scores);
  if (scores == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  for (size_t m = 0; m < n_members; m++)
    weights[m] = 1.0 / (double)n_members;
  if (optimize_weights && n_members > 1)
    optimize(n_members, n_rows, probabilities, labels, weights, scores);
  for (size_t r = 0; r < n_rows; r++)
    scores[r] = hpt_ensemble_vote(n_members, n_rows, probabilities, weights, r);
  *threshold = 0.5;
  if (tune_threshold) {
    double best = -1.0;
    for (int step = 5; step <= 95; step++) {
      double t = step / 100.0;
      hpt_ensemble_metrics_t m;
      hpt_ensemble_metrics(n_rows, scores, labels, t, &m);
      if (m.accuracy > best + 1e-12 ||
          (fabs(m.accuracy - best) <= 1e-12 &&
           fabs(t - 0.5) < fabs(*threshold - 0.5))) {
        best = m.accuracy;
        *threshold = t;
      }
    }
  }
  hpt_ensemble_metrics(n_rows, scores, labels, *threshold, metrics);
  free(scores);
  return HPT_OK;
}
