/* text_clean.h — the text normalisation of the reference notebook, applied
 * to every post before featurisation (training and prediction alike).
 *
 *   1. A post that is empty or shorter than 5 characters (code points, after
 *      trimming ASCII whitespace) becomes "empty post".
 *   2. Runs of 3 or more identical characters (code points) collapse to 2:
 *      "soooo!!!!" -> "soo!!".
 *
 * Case is kept: lowercasing belongs to the featuriser. Text is assumed to be
 * UTF-8 (shared/dataset.c validates it); stray bytes are treated as single
 * characters rather than rejected.
 */
#ifndef HPT_TEXT_CLEAN_H
#define HPT_TEXT_CLEAN_H

#include "error.h"

#define HPT_TEXT_CLEAN_EMPTY "empty post"
#define HPT_TEXT_CLEAN_MIN_CHARS 5

/* Cleans `text` (NULL is treated as ""). On success *out is a new
 * NUL-terminated string the caller owns (free()). On failure *out is NULL
 * and HPT_ENOMEM is returned. Thread-safe. */
int hpt_text_clean(const char *text, char **out, hpt_error_t *error);

#endif
