/* report_study.c — see report_study.h. */
#include "report_study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hpt_report_free(hpt_report_t *report) {
  if (report == NULL)
    return;
  for (size_t i = 0; i < report->n_params; i++) {
    for (size_t c = 0; c < report->params[i].n_choices; c++)
      free(report->params[i].choices[c]);
    free(report->params[i].choices);
    free(report->params[i].name);
  }
  for (size_t i = 0; i < report->n_trials; i++) {
    free(report->trials[i].params);
    free(report->trials[i].params_json);
    free(report->trials[i].steps);
    free(report->trials[i].step_values);
  }
  free(report->params);
  free(report->trials);
  free(report->study_name);
  memset(report, 0, sizeof *report);
}

bool hpt_report_trial_has_value(const hpt_report_trial_t *trial) {
  return trial->state == HPT_TRIAL_COMPLETE && isfinite(trial->value);
}

bool hpt_report_better(const hpt_report_t *report, double a, double b) {
  return report->direction == HPT_DIRECTION_MINIMIZE ? a < b : a > b;
}

void hpt_report_value_range(const hpt_report_t *report, double *lo,
                            double *hi) {
  *lo = NAN, *hi = NAN;
  for (size_t i = 0; i < report->n_trials; i++) {
    double v = report->trials[i].value;
    if (!hpt_report_trial_has_value(&report->trials[i]))
      continue;
    if (isnan(*lo) || v < *lo)
      *lo = v;
    if (isnan(*hi) || v > *hi)
      *hi = v;
  }
}

void hpt_report_param_text(const hpt_report_param_t *param, double value,
                           char *buffer, size_t size) {
  if (isnan(value))
    snprintf(buffer, size, "-");
  else if (param->type == HPT_PARAM_CATEGORICAL)
    snprintf(buffer, size, "%s",
             value >= 0 && (size_t)value < param->n_choices
                 ? param->choices[(size_t)value]
                 : "?");
  else if (param->type == HPT_PARAM_INT)
    snprintf(buffer, size, "%.0f", value);
  else
    snprintf(buffer, size, "%.6g", value);
}

/* qsort_r order of trial indices: worst first, ties by number (higher
 * numbers first, so that among equals the earliest ranks best). */
static int compare_worst_first(const void *a, const void *b, void *context) {
  const hpt_report_t *report = context;
  const hpt_report_trial_t *x = &report->trials[*(const size_t *)a];
  const hpt_report_trial_t *y = &report->trials[*(const size_t *)b];
  if (hpt_report_better(report, x->value, y->value))
    return 1;
  if (hpt_report_better(report, y->value, x->value))
    return -1;
  return x->number < y->number ? 1 : x->number > y->number ? -1 : 0;
}

int hpt_report_rank(const hpt_report_t *report, size_t **order, size_t *count,
                    hpt_error_t *error) {
  *count = 0;
  *order = malloc((report->n_trials + 1) * sizeof **order);
  if (*order == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  for (size_t i = 0; i < report->n_trials; i++)
    if (hpt_report_trial_has_value(&report->trials[i]))
      (*order)[(*count)++] = i;
  qsort_r(*order, *count, sizeof **order, compare_worst_first, (void *)report);
  return HPT_OK;
}
