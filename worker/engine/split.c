/* split.c — see split.h. */
#include "split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static int compare_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

int hpt_split_stratified(const int *labels, size_t n_rows, double val_fraction,
                         uint64_t seed, hpt_split_t *split,
                         hpt_error_t *error) {
  int rc = 0;
  int *group = NULL;
  memset(split, 0, sizeof *split);
  if (!(val_fraction > 0.0 && val_fraction < 1.0))
    return HPT_ERR(error, HPT_EINVAL, "split: val_fraction %g is not in (0, 1)",
                   val_fraction);
  if (n_rows > (size_t)INT32_MAX)
    return HPT_ERR(error, HPT_EINVAL, "split: too many rows (%zu)", n_rows);
  int max_label = -1;
  for (size_t i = 0; i < n_rows; i++) {
    if (labels[i] < 0 || labels[i] > HPT_SPLIT_MAX_LABEL)
      return HPT_ERR(error, HPT_EINVAL, "split: row %zu has label %d", i,
                     labels[i]);
    if (labels[i] > max_label)
      max_label = labels[i];
  }

  group = malloc((n_rows ? n_rows : 1) * sizeof *group);
  split->train = malloc((n_rows ? n_rows : 1) * sizeof *split->train);
  split->val = malloc((n_rows ? n_rows : 1) * sizeof *split->val);
  if (group == NULL || split->train == NULL || split->val == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "split: out of memory");
    goto out;
  }

  hpt_rng_t rng;
  hpt_rng_seed(&rng, seed);
  for (int label = 0; label <= max_label; label++) {
    uint64_t n_group = 0;
    for (size_t i = 0; i < n_rows; i++)
      if (labels[i] == label)
        group[n_group++] = (int)i;
    if (n_group == 0)
      continue;
    hpt_rng_shuffle_ints(&rng, group, n_group);
    size_t n_val = (size_t)floor(val_fraction * (double)n_group + 0.5);
    for (uint64_t k = 0; k < n_group; k++) {
      if (k < n_val)
        split->val[split->n_val++] = (size_t)group[k];
      else
        split->train[split->n_train++] = (size_t)group[k];
    }
  }
  qsort(split->train, split->n_train, sizeof *split->train, compare_size);
  qsort(split->val, split->n_val, sizeof *split->val, compare_size);

out:
  free(group);
  if (rc != 0)
    hpt_split_close(split);
  return rc;
}

void hpt_split_close(hpt_split_t *split) {
  if (split == NULL)
    return;
  free(split->train);
  free(split->val);
  memset(split, 0, sizeof *split);
}
