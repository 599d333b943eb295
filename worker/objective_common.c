/* objective_common.c — see objective_common.h. */
#include "objective_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int hpt_objective_data_settings_read(const hpt_options_t *options,
                                     hpt_objective_data_settings_t *s,
                                     hpt_error_t *error) {
  int rc;
  if ((rc = hpt_options_get_string(options, "train", NULL, &s->train, error)) !=
          0 ||
      (rc = hpt_options_get_double(options, "val_fraction", 0.1,
                                   &s->val_fraction, error)) != 0 ||
      (rc = hpt_options_get_int(options, "seed", 42, &s->seed, error)) != 0)
    return rc;
  return 0;
}

int hpt_objective_data_settings_check(const hpt_objective_data_settings_t *s,
                                      const char *who, hpt_error_t *error) {
  if (s->train == NULL || s->train[0] == '\0')
    return HPT_ERR(error, HPT_EINVAL,
                   "%s: setting 'train' (a labelled CSV) is required", who);
  if (!(s->val_fraction > 0 && s->val_fraction < 1))
    return HPT_ERR(error, HPT_EINVAL, "%s: val_fraction %g is not in (0, 1)",
                   who, s->val_fraction);
  return 0;
}

int hpt_objective_gather(char *const *texts, const int *labels,
                         const size_t *rows, size_t n, const char *who,
                         const char ***out_texts, int **out_labels,
                         hpt_error_t *error) {
  *out_texts = malloc((n ? n : 1) * sizeof **out_texts);
  *out_labels = malloc((n ? n : 1) * sizeof **out_labels);
  if (*out_texts == NULL || *out_labels == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", who);
  for (size_t i = 0; i < n; i++) {
    (*out_texts)[i] = texts[rows[i]];
    (*out_labels)[i] = labels[rows[i]];
  }
  return 0;
}

void hpt_objective_add_metric(hpt_objective_result_t *result, const char *name,
                              double value) {
  if (result->n_metrics >= HPT_OBJECTIVE_MAX_METRICS)
    return;
  snprintf(result->metric_names[result->n_metrics],
           sizeof result->metric_names[0], "%s", name);
  result->metric_values[result->n_metrics++] = value;
}

double hpt_objective_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
