/* json.c — see json.h. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token_vocab.h"

int hpt_json_parse(const char *text, size_t size, const char *what,
                   json_t **out, hpt_error_t *error) {
  *out = NULL;
  if (what == NULL)
    what = "json";
  json_error_t jerr;
  json_t *root =
      json_loadb(text, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    if (json_error_code(&jerr) == json_error_out_of_memory)
      return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
    return HPT_ERR(error, HPT_EPARSE, "%s:%d:%d: %s", what, jerr.line,
                   jerr.column, jerr.text);
  }
  *out = root;
  return 0;
}

int hpt_json_load_file(const char *path, size_t max_bytes, json_t **out,
                       hpt_error_t *error) {
  char *text = NULL;
  size_t size = 0;
  json_t *root = NULL;
  *out = NULL;
  if (max_bytes == 0)
    max_bytes = HPT_JSON_MAX_FILE_BYTES;
  int rc = hpt_token_read_file(path, max_bytes, &text, &size, error);
  if (rc != 0)
    return rc;
  rc = hpt_json_parse(text, size, path, &root, error);
  if (rc == 0 && !json_is_object(root))
    rc = HPT_ERR(error, HPT_EPARSE, "%s: top-level value is not an object",
                 path);
  if (rc == 0) {
    *out = root;
    root = NULL;
  }
  json_decref(root);
  free(text);
  return rc;
}

/* The member, or NULL when absent or null. */
static json_t *member(const json_t *object, const char *key) {
  json_t *value = json_object_get(object, key);
  return json_is_null(value) ? NULL : value;
}

int hpt_json_member_int(const json_t *object, const char *key, int64_t min,
                        int64_t max, const char *what, int64_t *out,
                        hpt_error_t *error) {
  json_t *value = member(object, key);
  if (value == NULL)
    return HPT_ENOTFOUND;
  if (!json_is_integer(value))
    return HPT_ERR(error, HPT_EPARSE, "%s: '%s' must be an integer", what, key);
  int64_t v = json_integer_value(value);
  if (v < min || v > max)
    return HPT_ERR(error, HPT_EPARSE, "%s: '%s' is %lld, outside [%lld, %lld]",
                   what, key, (long long)v, (long long)min, (long long)max);
  *out = v;
  return 0;
}

int hpt_json_member_number(const json_t *object, const char *key,
                           const char *what, double *out, hpt_error_t *error) {
  json_t *value = member(object, key);
  if (value == NULL)
    return HPT_ENOTFOUND;
  if (!json_is_number(value))
    return HPT_ERR(error, HPT_EPARSE, "%s: '%s' must be a number", what, key);
  /* jansson refuses overflowing reals at parse time, so this is finite. */
  *out = json_number_value(value);
  return 0;
}

int hpt_json_member_string(const json_t *object, const char *key,
                           const char *what, const char **out,
                           hpt_error_t *error) {
  json_t *value = member(object, key);
  if (value == NULL)
    return HPT_ENOTFOUND;
  if (!json_is_string(value))
    return HPT_ERR(error, HPT_EPARSE, "%s: '%s' must be a string", what, key);
  *out = json_string_value(value);
  return 0;
}

int hpt_json_member_bool(const json_t *object, const char *key,
                         const char *what, bool *out, hpt_error_t *error) {
  json_t *value = member(object, key);
  if (value == NULL)
    return HPT_ENOTFOUND;
  if (!json_is_boolean(value))
    return HPT_ERR(error, HPT_EPARSE, "%s: '%s' must be true or false", what,
                   key);
  *out = json_is_true(value);
  return 0;
}
