/* options.h — a flat, ordered key -> scalar-or-list map, as written in a
 * spec's `sampler:`, `pruner:` and `objective:` sections.
 *
 * The spec reader does not know which keys a sampler or an objective takes;
 * it hands the section over as options, and the room that owns the section
 * checks the keys it accepts (hpt_options_check_keys) and reads the values
 * with the typed getters. Values keep the text written in YAML.
 *
 * Ownership: hpt_options_t owns every string in it; hpt_options_free.
 */
#ifndef HPT_OPTIONS_H
#define HPT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct hpt_option {
  char *key;
  bool is_list;    /* true: `values` holds the list items */
  char *value;     /* scalar text; NULL when is_list */
  size_t n_values;
  char **values;
  int line;        /* line in the spec file, 0 if unknown */
} hpt_option_t;

typedef struct hpt_options {
  char *section; /* "sampler", "pruner", "objective": used in messages */
  char *source;  /* file name for messages, may be NULL */
  size_t count;
  hpt_option_t *items;
} hpt_options_t;

void hpt_options_free(hpt_options_t *options);

int hpt_options_copy(const hpt_options_t *options, hpt_options_t *copy,
                     hpt_error_t *error);

/* Appends a scalar (copies key and value). */
int hpt_options_add(hpt_options_t *options, const char *key, const char *value,
                    int line, hpt_error_t *error);

/* Appends a list (copies everything). */
int hpt_options_add_list(hpt_options_t *options, const char *key,
                         const char *const *values, size_t n_values, int line,
                         hpt_error_t *error);

/* The option called `key`, or NULL. Borrowed. */
const hpt_option_t *hpt_options_find(const hpt_options_t *options,
                                     const char *key);

/* Fails with HPT_EINVAL "file:line: section.key: unknown key (expected one
 * of: a, b, c)" for the first key not in the NULL-terminated `allowed`. */
int hpt_options_check_keys(const hpt_options_t *options,
                           const char *const *allowed, hpt_error_t *error);

/* Writes where `key` was written, "file:line: section.key" (parts that are
 * unknown left out), into buffer (NUL-terminated, truncated to `size`) and
 * returns buffer. For messages about a value the caller checks itself.
 * Cannot fail. */
const char *hpt_options_describe(const hpt_options_t *options, const char *key,
                                 char *buffer, size_t size);

/* Typed getters: if the key is absent, *out = fallback and HPT_OK; if it is
 * present but malformed (or a list), HPT_EINVAL naming file:line and key. */
int hpt_options_get_string(const hpt_options_t *options, const char *key,
                           const char *fallback, const char **out,
                           hpt_error_t *error);
int hpt_options_get_double(const hpt_options_t *options, const char *key,
                           double fallback, double *out, hpt_error_t *error);
int hpt_options_get_int(const hpt_options_t *options, const char *key,
                        int64_t fallback, int64_t *out, hpt_error_t *error);
int hpt_options_get_bool(const hpt_options_t *options, const char *key,
                         bool fallback, bool *out, hpt_error_t *error);

#endif
