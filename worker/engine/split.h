/* split.h — a stratified, seeded train/validation split of labelled rows.
 *
 * Rows are grouped by label; each group (in ascending label order) is
 * shuffled with one hpt_rng stream seeded from `seed`, and the first
 * round(val_fraction x group size) rows of it go to validation, the rest to
 * training. The same labels, fraction and seed always give the same split,
 * on every platform. Both index lists are returned in ascending order.
 *
 * Caller storage: hpt_split_t is filled by hpt_split_stratified and
 * released with hpt_split_close.
 */
#ifndef HPT_SPLIT_H
#define HPT_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HPT_SPLIT_MAX_LABEL 1023

typedef struct hpt_split {
  size_t *train; /* n_train row indices, ascending; owned */
  size_t n_train;
  size_t *val; /* n_val row indices, ascending; owned */
  size_t n_val;
} hpt_split_t;

/* Splits rows 0..n_rows-1 whose labels are `labels` (each in
 * 0..HPT_SPLIT_MAX_LABEL). val_fraction must lie in (0, 1). Either side may
 * come out empty for tiny inputs; callers that need both check n_train and
 * n_val. Returns 0, HPT_EINVAL (bad fraction or label) or HPT_ENOMEM; on
 * failure *split is zeroed. */
int hpt_split_stratified(const int *labels, size_t n_rows, double val_fraction,
                         uint64_t seed, hpt_split_t *split, hpt_error_t *error);

/* Frees the index lists and zeroes *split. Accepts NULL. Cannot fail. */
void hpt_split_close(hpt_split_t *split);

#endif
