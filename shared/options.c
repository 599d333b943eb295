/* options.c — a flat, ordered key -> scalar-or-list map; see options.h.
 *
 * Messages name where a value was written: "study.yaml:9: sampler.seed: must
 * be an integer". Without a source or line the prefix shrinks accordingly.
 */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void option_free(hpt_option_t *option) {
  free(option->key);
  free(option->value);
  for (size_t i = 0; i < option->n_values; i++)
    free(option->values[i]);
  free(option->values);
  memset(option, 0, sizeof *option);
}

/* Frees every string and zeroes the options. Accepts NULL. */
void hpt_options_free(hpt_options_t *options) {
  if (options == NULL)
    return;
  for (size_t i = 0; i < options->count; i++)
    option_free(&options->items[i]);
  free(options->items);
  free(options->section);
  free(options->source);
  memset(options, 0, sizeof *options);
}

/* Appends a zeroed item; NULL on ENOMEM. Grows by one: options are few. */
static hpt_option_t *append(hpt_options_t *options) {
  hpt_option_t *items =
      realloc(options->items, (options->count + 1) * sizeof *items);
  if (items == NULL)
    return NULL;
  options->items = items;
  hpt_option_t *item = &items[options->count];
  memset(item, 0, sizeof *item);
  return item;
}

/* Appends a scalar (copies key and value). On failure nothing is added. */
int hpt_options_add(hpt_options_t *options, const char *key, const char *value,
                    int line, hpt_error_t *error) {
  hpt_option_t *item = append(options);
  if (item == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  item->key = strdup(key);
  item->value = strdup(value != NULL ? value : "");
  item->line = line;
  if (item->key == NULL || item->value == NULL) {
    option_free(item);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  options->count++;
  return HPT_OK;
}

/* Appends a list (copies everything). On failure nothing is added. */
int hpt_options_add_list(hpt_options_t *options, const char *key,
                         const char *const *values, size_t n_values, int line,
                         hpt_error_t *error) {
  hpt_option_t *item = append(options);
  if (item == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  item->key = strdup(key);
  item->is_list = true;
  item->line = line;
  if (item->key == NULL)
    goto fail;
  if (n_values > 0) {
    item->values = calloc(n_values, sizeof *item->values);
    if (item->values == NULL)
      goto fail;
    for (size_t i = 0; i < n_values; i++) {
      item->values[i] = strdup(values[i]);
      if (item->values[i] == NULL)
        goto fail;
      item->n_values = i + 1;
    }
  }
  options->count++;
  return HPT_OK;
fail:
  option_free(item);
  return HPT_ERR(error, HPT_ENOMEM, "out of memory");
}

static int dup_or_null(const char *text, char **out) {
  *out = NULL;
  if (text == NULL)
    return HPT_OK;
  *out = strdup(text);
  return *out != NULL ? HPT_OK : HPT_ENOMEM;
}

/* Deep copy into `copy`. On failure *copy is zeroed. */
int hpt_options_copy(const hpt_options_t *options, hpt_options_t *copy,
                     hpt_error_t *error) {
  memset(copy, 0, sizeof *copy);
  if (dup_or_null(options->section, &copy->section) != HPT_OK ||
      dup_or_null(options->source, &copy->source) != HPT_OK)
    goto fail;
  for (size_t i = 0; i < options->count; i++) {
    const hpt_option_t *item = &options->items[i];
    int rc =
        item->is_list
            ? hpt_options_add_list(copy, item->key,
                                   (const char *const *)item->values,
                                   item->n_values, item->line, NULL)
            : hpt_options_add(copy, item->key, item->value, item->line, NULL);
    if (rc != HPT_OK)
      goto fail;
  }
  return HPT_OK;
fail:
  hpt_options_free(copy);
  return HPT_ERR(error, HPT_ENOMEM, "out of memory copying options");
}

/* The option called `key` (the first one), or NULL. Borrowed. */
const hpt_option_t *hpt_options_find(const hpt_options_t *options,
                                     const char *key) {
  for (size_t i = 0; i < options->count; i++)
    if (strcmp(options->items[i].key, key) == 0)
      return &options->items[i];
  return NULL;
}

/* "file:line: section.key" into `buffer`, omitting what is unknown. */
static const char *where(const hpt_options_t *options, const hpt_option_t *item,
                         char *buffer, size_t size) {
  char place[256] = "";
  if (options->source != NULL && item->line > 0)
    snprintf(place, sizeof place, "%s:%d: ", options->source, item->line);
  else if (options->source != NULL)
    snprintf(place, sizeof place, "%s: ", options->source);
  else if (item->line > 0)
    snprintf(place, sizeof place, "line %d: ", item->line);
  if (options->section != NULL)
    snprintf(buffer, size, "%s%s.%s", place, options->section, item->key);
  else
    snprintf(buffer, size, "%s%s", place, item->key);
  return buffer;
}

/* Fails with HPT_EINVAL for the first key not in `allowed`; see options.h. */
int hpt_options_check_keys(const hpt_options_t *options,
                           const char *const *allowed, hpt_error_t *error) {
  for (size_t i = 0; i < options->count; i++) {
    const hpt_option_t *item = &options->items[i];
    bool known = false;
    for (const char *const *a = allowed; *a != NULL; a++)
      if (strcmp(*a, item->key) == 0)
        known = true;
    if (known)
      continue;
    char expected[256] = "";
    size_t used = 0;
    for (const char *const *a = allowed; *a != NULL; a++) {
      int n = snprintf(expected + used, sizeof expected - used, "%s%s",
                       a == allowed ? "" : ", ", *a);
      if (n < 0 || (size_t)n >= sizeof expected - used)
        break;
      used += (size_t)n;
    }
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: unknown key (expected one of: %s)",
                   where(options, item, place, sizeof place), expected);
  }
  return HPT_OK;
}

/* The scalar option `key`: HPT_OK with *item NULL when absent, HPT_EINVAL
 * when it is a list. */
static int scalar(const hpt_options_t *options, const char *key,
                  const hpt_option_t **item, hpt_error_t *error) {
  *item = hpt_options_find(options, key);
  if (*item != NULL && (*item)->is_list) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: must be a single value, not a list",
                   where(options, *item, place, sizeof place));
  }
  return HPT_OK;
}

/* Value text (borrowed from options) or `fallback`. */
int hpt_options_get_string(const hpt_options_t *options, const char *key,
                           const char *fallback, const char **out,
                           hpt_error_t *error) {
  const hpt_option_t *item;
  *out = fallback;
  int rc = scalar(options, key, &item, error);
  if (rc == HPT_OK && item != NULL)
    *out = item->value;
  return rc;
}

/* A finite number, or `fallback` when absent. */
int hpt_options_get_double(const hpt_options_t *options, const char *key,
                           double fallback, double *out, hpt_error_t *error) {
  const hpt_option_t *item;
  *out = fallback;
  int rc = scalar(options, key, &item, error);
  if (rc != HPT_OK || item == NULL)
    return rc;
  char *end = NULL;
  errno = 0;
  double value = strtod(item->value, &end);
  if (end == item->value || *end != '\0' || errno == ERANGE ||
      !isfinite(value)) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: must be a number, not '%s'",
                   where(options, item, place, sizeof place), item->value);
  }
  *out = value;
  return HPT_OK;
}

/* A base-10 integer, or `fallback` when absent. */
int hpt_options_get_int(const hpt_options_t *options, const char *key,
                        int64_t fallback, int64_t *out, hpt_error_t *error) {
  const hpt_option_t *item;
  *out = fallback;
  int rc = scalar(options, key, &item, error);
  if (rc != HPT_OK || item == NULL)
    return rc;
  char *end = NULL;
  errno = 0;
  long long value = strtoll(item->value, &end, 10);
  if (end == item->value || *end != '\0' || errno == ERANGE) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: must be an integer, not '%s'",
                   where(options, item, place, sizeof place), item->value);
  }
  *out = (int64_t)value;
  return HPT_OK;
}

/* true/false (also yes/no, on/off, 1/0; any case), or `fallback`. */
int hpt_options_get_bool(const hpt_options_t *options, const char *key,
                         bool fallback, bool *out, hpt_error_t *error) {
  static const char *yes[] = {"true", "yes", "on", "1"};
  static const char *no[] = {"false", "no", "off", "0"};
  const hpt_option_t *item;
  *out = fallback;
  int rc = scalar(options, key, &item, error);
  if (rc != HPT_OK || item == NULL)
    return rc;
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp(item->value, yes[i]) == 0) {
      *out = true;
      return HPT_OK;
    }
    if (strcasecmp(item->value, no[i]) == 0) {
      *out = false;
      return HPT_OK;
    }
  }
  char place[320];
  return HPT_ERR(error, HPT_EINVAL, "%s: must be true or false, not '%s'",
                 where(options, item, place, sizeof place), item->value);
}

/* "file:line: section.key" for `key` (its line when present). */
const char *hpt_options_describe(const hpt_options_t *options, const char *key,
                                 char *buffer, size_t size) {
  const hpt_option_t *found = hpt_options_find(options, key);
  hpt_option_t item = {.key = (char *)key, .line = found ? found->line : 0};
  return where(options, &item, buffer, size);
}
