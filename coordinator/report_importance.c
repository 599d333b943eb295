/* report_importance.c — see report_importance.h. */
#include "report_importance.h"

#include <math.h>
#include <stdlib.h>

#include "report_page.h"
#include "report_svg.h"

#define IMPORTANCE_BINS 8

typedef struct pair {
  double param, value;
} pair_t;

static int compare_pairs(const void *a, const void *b) {
  double x = ((const pair_t *)a)->param, y = ((const pair_t *)b)->param;
  return x < y ? -1 : x > y;
}

/* Epsilon squared of `value` grouped by bins of `param` over `n` pairs
 * (sorted by param here); NaN when it cannot be estimated. */
static double epsilon_squared(pair_t *pairs, size_t n, bool categorical) {
  if (n < 3)
    return NAN;
  qsort(pairs, n, sizeof *pairs, compare_pairs);
  size_t distinct = 1;
  for (size_t i = 1; i < n; i++)
    distinct += pairs[i].param != pairs[i - 1].param;
  /* About 2 or more trials per bin on average, so the bins cannot simply
   * memorise the values. */
  size_t bins = distinct;
  if (!categorical) {
    bins = bins < IMPORTANCE_BINS ? bins : IMPORTANCE_BINS;
    bins = bins < n / 2 ? bins : n / 2;
  } else if (bins >= n) {
    return NAN;
  }
  double mean = 0, total = 0, between = 0;
  for (size_t i = 0; i < n; i++)
    mean += pairs[i].value / (double)n;
  for (size_t i = 0; i < n; i++)
    total += (pairs[i].value - mean) * (pairs[i].value - mean);
  if (!(total > 0) || bins < 2)
    return NAN;
  /* Bins of consecutive pairs: a new one at each new value when there are
   * few values, else at each quantile boundary (ties stay together). */
  size_t k = 0, start = 0;
  for (size_t i = 1; i <= n; i++) {
    bool boundary = i == n;
    if (!boundary && pairs[i].param != pairs[i - 1].param)
      boundary = bins == distinct || i * bins / n != start * bins / n;
    if (!boundary)
      continue;
    double bin_mean = 0;
    for (size_t j = start; j < i; j++)
      bin_mean += pairs[j].value / (double)(i - start);
    between += (double)(i - start) * (bin_mean - mean) * (bin_mean - mean);
    k++, start = i;
  }
  double within = total - between;
  double epsilon =
      n > k ? (between - (double)(k - 1) * within / (double)(n - k)) / total
            : between / total;
  return epsilon < 0 ? 0 : epsilon > 1 ? 1 : epsilon;
}

int hpt_report_importance_write(const hpt_report_t *report, FILE *out,
                                hpt_error_t *error) {
  size_t n_params = report->n_params;
  pair_t *pairs = malloc((report->n_trials + 1) * sizeof *pairs);
  double *scores = calloc(n_params + 1, sizeof *scores);
  size_t *order = calloc(n_params + 1, sizeof *order);
  if (pairs == NULL || scores == NULL || order == NULL) {
    free(pairs), free(scores), free(order);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  double sum = 0;
  for (size_t p = 0; p < n_params; p++) {
    size_t n = 0;
    for (size_t i = 0; i < report->n_trials; i++) {
      const hpt_report_trial_t *trial = &report->trials[i];
      if (hpt_report_trial_has_value(trial) && !isnan(trial->params[p]))
        pairs[n++] = (pair_t){trial->params[p], trial->value};
    }
    scores[p] = epsilon_squared(
        pairs, n, report->params[p].type == HPT_PARAM_CATEGORICAL);
    sum += isnan(scores[p]) ? 0 : scores[p];
    /* insertion sort, best first, NaN last */
    size_t at = p;
    while (at > 0 &&
           (isnan(scores[order[at - 1]]) ||
            (!isnan(scores[p]) && scores[order[at - 1]] < scores[p]))) {
      order[at] = order[at - 1];
      at--;
    }
    order[at] = p;
  }
  fputs("<p class=\"note\">Method: not fANOVA. For each parameter, the share "
        "of the variance of the objective over COMPLETE trials that is "
        "explained by binning the parameter (numeric: up to 8 quantile bins; "
        "categorical: one bin per choice), as epsilon squared (eta squared "
        "corrected for the number of bins, clipped at 0), then scaled so the "
        "bars sum to 100%. Parameters are judged one at a time, so "
        "interactions are not seen; with few trials the estimates are "
        "rough.</p>\n",
        out);
  if (!(sum > 0)) {
    fputs("<p class=\"empty\">Not enough COMPLETE trials (or no variance in "
          "their values) to estimate importances.</p>\n",
          out);
  } else {
    int height = 30 + 30 * (int)n_params;
    hpt_report_svg_open(out, "importance", HPT_REPORT_CHART_WIDTH, height);
    for (size_t i = 0; i < n_params; i++) {
      size_t p = order[i];
      double y = 15 + 30 * (double)i,
             share = isnan(scores[p]) ? 0 : scores[p] / sum;
      fputs("<text x=\"240\" y=\"", out);
      fprintf(out, "%.1f\" text-anchor=\"end\">", y + 15);
      hpt_report_page_escape(out, report->params[p].name);
      fprintf(out,
              "</text><rect x=\"250\" y=\"%.1f\" width=\"%.1f\" height=\"20\" "
              "fill=\"" HPT_REPORT_COLOR_COMPLETE "\"/>"
              "<text x=\"%.1f\" y=\"%.1f\">",
              y, share * 800, 256 + share * 800, y + 15);
      if (isnan(scores[p]))
        fputs("n/a</text>\n", out);
      else
        fprintf(out, "%.0f%% (&#949;&#178; %.3f)</text>\n", share * 100,
                scores[p]);
    }
    hpt_report_svg_close(out);
  }
  free(pairs), free(scores), free(order);
  return HPT_OK;
}
