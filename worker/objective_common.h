/* objective_common.h — what the dataset objectives (objective_ngram.c,
 * objective_transformer.c) share: the training-data settings, row
 * gathering, result metrics and wall time. */
#ifndef HPT_OBJECTIVE_COMMON_H
#define HPT_OBJECTIVE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "objective.h"
#include "options.h"

/* The settings every dataset objective reads: train (a labelled CSV),
 * val_fraction (default 0.1) and seed (default 42). */
typedef struct hpt_objective_data_settings {
  const char *train;
  double val_fraction;
  int64_t seed;
} hpt_objective_data_settings_t;

/* Reads train, val_fraction and seed from `options` (not NULL). */
int hpt_objective_data_settings_read(const hpt_options_t *options,
                                     hpt_objective_data_settings_t *s,
                                     hpt_error_t *error);

/* Checks that train is given and val_fraction is in (0, 1); `who` (e.g.
 * "objective ngram") prefixes the message. */
int hpt_objective_data_settings_check(const hpt_objective_data_settings_t *s,
                                      const char *who, hpt_error_t *error);

/* Texts and labels of the rows `rows[0..n)`, borrowed from `texts` and
 * `labels`, into new arrays *out_texts and *out_labels that the caller
 * frees, also on failure (HPT_ENOMEM, prefixed with `who`). */
int hpt_objective_gather(char *const *texts, const int *labels,
                         const size_t *rows, size_t n, const char *who,
                         const char ***out_texts, int **out_labels,
                         hpt_error_t *error);

/* Appends metric `name` = value; ignored past HPT_OBJECTIVE_MAX_METRICS. */
void hpt_objective_add_metric(hpt_objective_result_t *result, const char *name,
                              double value);

/* Monotonic clock in seconds. */
double hpt_objective_now(void);

#endif
