/* dataset.h — a labelled or unlabelled text-classification CSV in memory.
 *
 * The file is read with libcsv (RFC 4180 quoting, CR/LF/CRLF line ends).
 * Columns are found by header name, in any order; extra columns are
 * ignored:
 *
 *   ID               required, kept as text
 *   Original_Message required, must be valid UTF-8
 *   Extremism_Label  EXTREMIST -> 1, NON_EXTREMIST -> 0; required only when
 *                    the caller asks for labels
 *
 * Every error is one line naming the file (as passed) and, for row errors,
 * the physical line of the row:
 *   "data/train.csv:17: unknown Extremism_Label 'MAYBE' (expected
 *    EXTREMIST or NON_EXTREMIST)"
 *   "data/train.csv: missing column 'Extremism_Label' (header: ID,Text)"
 *
 * Not thread-safe per object; distinct datasets may be used from distinct
 * threads.
 */
#ifndef HPT_DATASET_H
#define HPT_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define HPT_DATASET_LABEL_NON_EXTREMIST 0
#define HPT_DATASET_LABEL_EXTREMIST 1

/* All fields are read-only for callers; the dataset owns every array and
 * string in it. */
typedef struct hpt_dataset {
  size_t n_rows;     /* data rows (header excluded) */
  char **ids;        /* n_rows NUL-terminated strings */
  char **texts;      /* n_rows NUL-terminated UTF-8 strings (may be "") */
  int *labels;       /* n_rows values 0/1, or NULL when the file has no label
                        column (only possible with require_labels == false) */
  size_t n_positive; /* rows labelled 1 (0 when labels == NULL) */
} hpt_dataset_t;

/* Loads the CSV at `path`. With require_labels, a missing Extremism_Label
 * column is an error; without it, the column is read when present.
 * On success *out is a new dataset the caller owns (free with
 * hpt_dataset_destroy). On failure *out is NULL and the return value is
 * HPT_ENOTFOUND (no such file), HPT_EIO (unreadable), HPT_EPARSE (bad CSV,
 * missing column, wrong field count, unknown label, invalid UTF-8) or
 * HPT_ENOMEM. */
int hpt_dataset_load(const char *path, bool require_labels, hpt_dataset_t **out,
                     hpt_error_t *error);

/* Checks only that `path` can be opened and that its header names the
 * required columns (see hpt_dataset_load); reads no further than the
 * header. Returns 0 or the same codes as hpt_dataset_load. */
int hpt_dataset_check_header(const char *path, bool require_labels,
                             hpt_error_t *error);

/* Frees a dataset and sets *dataset to NULL. Accepts NULL and *dataset ==
 * NULL. Cannot fail. */
void hpt_dataset_destroy(hpt_dataset_t **dataset);

/* "EXTREMIST" for 1, "NON_EXTREMIST" for 0, NULL otherwise. Cannot fail. */
const char *hpt_dataset_label_name(int label);

#endif
