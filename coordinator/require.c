/* require.c — see require.h. */
#include "require.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"device", "memory_gb", "gpu_mem_gb", "tags",
                                   NULL};

/* Parses ">=40" etc. into an operator and a number. */
static bool parse_comparison(const char *text, char op[3], double *number) {
  size_t n = 0;
  while (n < 2 && (text[n] == '<' || text[n] == '>' || text[n] == '='))
    n++;
  memcpy(op, n ? text : ">=", n ? n : 2);
  op[n ? n : 2] = '\0';
  if (strcmp(op, ">=") != 0 && strcmp(op, ">") != 0 && strcmp(op, "<=") != 0 &&
      strcmp(op, "<") != 0 && strcmp(op, "==") != 0)
    return false;
  char *end = NULL;
  *number = strtod(text + n, &end);
  return end != text + n && *end == '\0' && isfinite(*number);
}

static bool compare(const char *op, double have, double want) {
  if (strcmp(op, ">=") == 0)
    return have >= want;
  if (strcmp(op, ">") == 0)
    return have > want;
  if (strcmp(op, "<=") == 0)
    return have <= want;
  if (strcmp(op, "<") == 0)
    return have < want;
  return have == want;
}

int hpt_require_validate(const hpt_options_t *require, hpt_error_t *error) {
  int rc = hpt_options_check_keys(require, keys, error);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < require->count; i++) {
    const hpt_option_t *option = &require->items[i];
    char op[3];
    double number;
    bool is_memory = strcmp(option->key, "memory_gb") == 0 ||
                     strcmp(option->key, "gpu_mem_gb") == 0;
    if (is_memory &&
        (option->is_list || !parse_comparison(option->value, op, &number)))
      return HPT_ERR(error, HPT_EINVAL,
                     "%s:%d: require.%s: expected a comparison such as "
                     "\">=40\"",
                     require->source ? require->source : "spec", option->line,
                     option->key);
    if (strcmp(option->key, "device") == 0 && option->is_list)
      return HPT_ERR(error, HPT_EINVAL,
                     "%s:%d: require.device: expected one device kind",
                     require->source ? require->source : "spec", option->line);
  }
  return HPT_OK;
}

static bool has_tag(const hpt_worker_caps_t *caps, const char *tag) {
  for (size_t i = 0; i < caps->n_tags; i++)
    if (strcmp(caps->tags[i], tag) == 0)
      return true;
  return false;
}

bool hpt_require_matches(const hpt_options_t *require,
                         const hpt_worker_caps_t *caps) {
  for (size_t i = 0; i < require->count; i++) {
    const hpt_option_t *option = &require->items[i];
    if (strcmp(option->key, "device") == 0) {
      const char *device = caps->device ? caps->device : "";
      if (option->is_list ||
          strncmp(device, option->value, strlen(option->value)) != 0)
        return false;
    } else if (strcmp(option->key, "tags") == 0) {
      if (!option->is_list)
        return option->value != NULL && has_tag(caps, option->value);
      for (size_t j = 0; j < option->n_values; j++)
        if (!has_tag(caps, option->values[j]))
          return false;
    } else {
      char op[3];
      double want;
      if (option->is_list || !parse_comparison(option->value, op, &want) ||
          !compare(op, caps->memory_gb, want))
        return false;
    }
  }
  return true;
}
