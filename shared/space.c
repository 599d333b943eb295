/* space.c — the search-space model; see space.h.
 *
 * Values are doubles in the internal representation (number, or choice
 * index for categoricals, NaN when absent). This file only converts them to
 * and from text and checks them; the spec reader (spec_params.c) builds
 * spaces and the samplers draw values.
 */
#include "space.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tolerance, in grid units, for "this value lies on the step grid". */
#define GRID_TOLERANCE 1e-6

static void param_free(hpt_param_t *param) {
  free(param->name);
  for (size_t i = 0; i < param->n_choices; i++)
    free(param->choices[i]);
  free(param->choices);
  free(param->choice_kinds);
  free(param->when_choices);
  memset(param, 0, sizeof *param);
}

/* Releases everything the space owns and zeroes it. Accepts NULL. */
void hpt_space_free(hpt_space_t *space) {
  if (space == NULL)
    return;
  for (size_t i = 0; i < space->n_params; i++)
    param_free(&space->params[i]);
  free(space->params);
  memset(space, 0, sizeof *space);
}

/* Deep-copies one parameter into zeroed `out`; on failure `out` holds what
 * was copied so far (param_free releases it). */
static int param_copy(const hpt_param_t *param, hpt_param_t *out) {
  *out = *param;
  out->name = NULL;
  out->choices = NULL;
  out->choice_kinds = NULL;
  out->when_choices = NULL;
  out->n_choices = 0;
  out->n_when = 0;
  out->name = strdup(param->name);
  if (out->name == NULL)
    return HPT_ENOMEM;
  if (param->n_choices > 0) {
    out->choices = calloc(param->n_choices, sizeof *out->choices);
    out->choice_kinds = calloc(param->n_choices, sizeof *out->choice_kinds);
    if (out->choices == NULL || out->choice_kinds == NULL)
      return HPT_ENOMEM;
    out->n_choices = param->n_choices;
    for (size_t i = 0; i < param->n_choices; i++) {
      out->choices[i] = strdup(param->choices[i]);
      if (out->choices[i] == NULL)
        return HPT_ENOMEM;
      out->choice_kinds[i] = param->choice_kinds[i];
    }
  }
  if (param->n_when > 0) {
    out->when_choices = malloc(param->n_when * sizeof *out->when_choices);
    if (out->when_choices == NULL)
      return HPT_ENOMEM;
    memcpy(out->when_choices, param->when_choices,
           param->n_when * sizeof *out->when_choices);
    out->n_when = param->n_when;
  }
  return HPT_OK;
}

/* Deep copy. On failure *copy is zeroed and HPT_ENOMEM returned. */
int hpt_space_copy(const hpt_space_t *space, hpt_space_t *copy,
                   hpt_error_t *error) {
  memset(copy, 0, sizeof *copy);
  if (space->n_params == 0)
    return HPT_OK;
  copy->params = calloc(space->n_params, sizeof *copy->params);
  if (copy->params == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory copying search space");
  for (size_t i = 0; i < space->n_params; i++) {
    copy->n_params = i + 1; /* so that hpt_space_free sees the partial one */
    if (param_copy(&space->params[i], &copy->params[i]) != HPT_OK) {
      hpt_space_free(copy);
      return HPT_ERR(error, HPT_ENOMEM, "out of memory copying search space");
    }
  }
  return HPT_OK;
}

/* Index of the parameter called `name`, or -1. Cannot fail. */
int hpt_space_find(const hpt_space_t *space, const char *name) {
  for (size_t i = 0; i < space->n_params; i++)
    if (strcmp(space->params[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* Whether parameter `index` is active. Parents come first and an inactive
 * parent holds NaN, so checking the direct parent's value is enough. */
bool hpt_space_is_active(const hpt_space_t *space, size_t index,
                         const double *values) {
  const hpt_param_t *param = &space->params[index];
  if (param->parent < 0)
    return true;
  double parent_value = values[param->parent];
  if (isnan(parent_value))
    return false;
  for (size_t i = 0; i < param->n_when; i++)
    if ((double)param->when_choices[i] == parent_value)
      return true;
  return false;
}

/* Writes the shortest %.*g text of `value` that reads back as the same
 * double (at most 17 digits), so "0.0123" rather than
 * "0.012300000000000000". */
static int format_double(double value, char *buffer, size_t size) {
  char text[64];
  for (int precision = 15; precision <= 17; precision++) {
    snprintf(text, sizeof text, "%.*g", precision, value);
    if (strtod(text, NULL) == value)
      break;
  }
  int n = snprintf(buffer, size, "%s", text);
  return n >= 0 && (size_t)n < size ? HPT_OK : HPT_EINVAL;
}

static int choice_index(const hpt_param_t *param, double value) {
  if (!(value >= 0) || value >= (double)param->n_choices ||
      value != floor(value))
    return -1;
  return (int)value;
}

/* Text of a value for objectives; see space.h. HPT_EINVAL for NaN, a bad
 * choice index or a buffer too small. */
int hpt_space_format_value(const hpt_param_t *param, double value, char *buffer,
                           size_t size) {
  if (size > 0)
    buffer[0] = '\0';
  if (isnan(value))
    return HPT_EINVAL;
  int n;
  switch (param->type) {
  case HPT_PARAM_FLOAT:
    return format_double(value, buffer, size);
  case HPT_PARAM_INT:
    n = snprintf(buffer, size, "%.0f", value);
    break;
  case HPT_PARAM_CATEGORICAL: {
    int index = choice_index(param, value);
    if (index < 0)
      return HPT_EINVAL;
    n = snprintf(buffer, size, "%s", param->choices[index]);
    break;
  }
  default:
    return HPT_EINVAL;
  }
  return n >= 0 && (size_t)n < size ? HPT_OK : HPT_EINVAL;
}

/* Whether `text` is a JSON number (RFC 8259 grammar). */
static bool is_json_number(const char *text) {
  const char *p = text;
  if (*p == '-')
    p++;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    while (*p >= '0' && *p <= '9')
      p++;
  else
    return false;
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!(*p >= '0' && *p <= '9'))
      return false;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  return *p == '\0';
}

/* Writes `text` as a JSON string literal. */
static int json_string(const char *text, char *buffer, size_t size) {
  size_t n = 0;
#define PUT(c)                                                                 \
  do {                                                                         \
    if (n + 1 >= size)                                                         \
      return HPT_EINVAL;                                                       \
    buffer[n++] = (c);                                                         \
  } while (0)
  PUT('"');
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      PUT('\\');
      PUT((char)c);
    } else if (c == '\n') {
      PUT('\\');
      PUT('n');
    } else if (c == '\t') {
      PUT('\\');
      PUT('t');
    } else if (c == '\r') {
      PUT('\\');
      PUT('r');
    } else if (c < 0x20) {
      char escape[8];
      snprintf(escape, sizeof escape, "\\u%04x", c);
      for (char *e = escape; *e; e++)
        PUT(*e);
    } else {
      PUT((char)c);
    }
  }
  PUT('"');
#undef PUT
  buffer[n] = '\0';
  return HPT_OK;
}

/* JSON literal of a value; see space.h. Numbers written as categorical
 * choices are kept verbatim when they are valid JSON ("1e-3"), otherwise
 * rewritten (".5" -> 0.5). */
int hpt_space_value_json(const hpt_param_t *param, double value, char *buffer,
                         size_t size) {
  if (size > 0)
    buffer[0] = '\0';
  if (isnan(value)) {
    int n = snprintf(buffer, size, "null");
    return n >= 0 && (size_t)n < size ? HPT_OK : HPT_EINVAL;
  }
  if (param->type != HPT_PARAM_CATEGORICAL) {
    if (!isfinite(value))
      return HPT_EINVAL;
    return hpt_space_format_value(param, value, buffer, size);
  }
  int index = choice_index(param, value);
  if (index < 0)
    return HPT_EINVAL;
  const char *text = param->choices[index];
  int n;
  switch (param->choice_kinds[index]) {
  case HPT_CHOICE_BOOL:
    n = snprintf(buffer, size, "%s",
                 (text[0] == 't' || text[0] == 'T') ? "true" : "false");
    break;
  case HPT_CHOICE_NUMBER: {
    if (is_json_number(text)) {
      n = snprintf(buffer, size, "%s", text);
      break;
    }
    double number = strtod(text, NULL);
    if (!isfinite(number))
      return json_string(text, buffer, size);
    return format_double(number, buffer, size);
  }
  default:
    return json_string(text, buffer, size);
  }
  return n >= 0 && (size_t)n < size ? HPT_OK : HPT_EINVAL;
}

/* Parses text into the internal representation and checks it with
 * hpt_space_value_valid. On failure *value is NaN. */
int hpt_space_parse_value(const hpt_param_t *param, const char *text,
                          double *value, hpt_error_t *error) {
  *value = NAN;
  if (param->type == HPT_PARAM_CATEGORICAL) {
    for (size_t i = 0; i < param->n_choices; i++)
      if (strcmp(param->choices[i], text) == 0) {
        *value = (double)i;
        return HPT_OK;
      }
    return HPT_ERR(error, HPT_EINVAL, "%s: '%s' is not one of its choices",
                   param->name, text);
  }
  char *end = NULL;
  errno = 0;
  double number = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(number))
    return HPT_ERR(error, HPT_EINVAL, "%s: '%s' is not a number", param->name,
                   text);
  if (param->type == HPT_PARAM_INT && number != floor(number))
    return HPT_ERR(error, HPT_EINVAL, "%s: '%s' is not an integer", param->name,
                   text);
  if (!hpt_space_value_valid(param, number))
    return HPT_ERR(error, HPT_EINVAL, "%s: %s is outside [%g, %g]%s",
                   param->name, text, param->low, param->high,
                   param->step > 0 ? " or off its step grid" : "");
  *value = number;
  return HPT_OK;
}

/* Whether `value` (not NaN) fits the parameter's type, bounds and grid.
 * Cannot fail. */
bool hpt_space_value_valid(const hpt_param_t *param, double value) {
  if (!isfinite(value))
    return false;
  if (param->type == HPT_PARAM_CATEGORICAL)
    return choice_index(param, value) >= 0;
  if (param->type == HPT_PARAM_INT && value != floor(value))
    return false;
  if (value < param->low || value > param->high)
    return false;
  if (param->step > 0) {
    double k = (value - param->low) / param->step;
    if (fabs(k - round(k)) > GRID_TOLERANCE)
      return false;
  }
  return true;
}
