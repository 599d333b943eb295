/* space.h — the search-space model: typed parameters and their values.
 *
 * A parameter value is carried everywhere as a double in its "internal"
 * representation: the number itself for float and int parameters, the choice
 * index (0, 1, ...) for categorical ones, and NaN for a conditional parameter
 * that is absent in a trial. Samplers, the history, the store and the wire
 * all use this one representation; text is made only at the edges
 * (hpt_space_format_value for the worker's argv, hpt_space_value_json for
 * PostgreSQL and the CLI).
 *
 * Ownership: an hpt_space_t owns its parameters and every string in them;
 * hpt_space_free releases them all.
 */
#ifndef HPT_SPACE_H
#define HPT_SPACE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Longest categorical choice, in bytes (the spec reader enforces it; no
 * control characters either), and buffers that always hold a value's text
 * and its JSON literal (every byte escaped as \u00XX at worst). */
#define HPT_SPACE_CHOICE_MAX 512
#define HPT_SPACE_VALUE_TEXT_MAX (HPT_SPACE_CHOICE_MAX + 1)
#define HPT_SPACE_VALUE_JSON_MAX (6 * HPT_SPACE_CHOICE_MAX + 3)

typedef enum {
  HPT_PARAM_FLOAT = 0,
  HPT_PARAM_INT = 1,
  HPT_PARAM_CATEGORICAL = 2,
} hpt_param_type_t;

/* How a categorical choice was written in YAML, so JSON keeps its type. */
typedef enum {
  HPT_CHOICE_STRING = 0,
  HPT_CHOICE_NUMBER = 1,
  HPT_CHOICE_BOOL = 2,
} hpt_choice_kind_t;

typedef struct hpt_param {
  char *name; /* unique within the space */
  hpt_param_type_t type;
  double low, high; /* float, int: inclusive bounds, low <= high */
  double step;      /* float, int: grid step; 0 = none (int: 1) */
  bool log;         /* float, int: sample in log space; low > 0 */
  size_t n_choices; /* categorical: >= 1 */
  char **choices;   /* categorical: text of each choice as written */
  hpt_choice_kind_t *choice_kinds; /* categorical: per choice */
  /* Conditional parameters: present only when the categorical parameter
   * `parent` (index into the space, earlier than this one) takes one of
   * `when_choices` (choice indices). parent == -1: always present. */
  int parent;
  size_t n_when;
  int *when_choices;
  int line; /* line in the spec file, for error messages; 0 if none */
} hpt_param_t;

typedef struct hpt_space {
  size_t n_params;
  hpt_param_t *params; /* parents come before their children */
} hpt_space_t;

/* Releases everything the space owns and zeroes it. Accepts NULL. */
void hpt_space_free(hpt_space_t *space);

/* Deep copy. On failure *copy is left zeroed. */
int hpt_space_copy(const hpt_space_t *space, hpt_space_t *copy,
                   hpt_error_t *error);

/* Index of the parameter called `name`, or -1. */
int hpt_space_find(const hpt_space_t *space, const char *name);

/* Whether parameter `index` is active given the other values of the same
 * trial (its parent present and holding one of its `when` choices). */
bool hpt_space_is_active(const hpt_space_t *space, size_t index,
                         const double *values);

/* Text of a value as given to objectives: "0.0123", "7", "1-2". Floats use
 * %.17g so they round-trip. Writes at most `size` bytes including the NUL.
 * Returns HPT_EINVAL for NaN or an out-of-range choice index. */
int hpt_space_format_value(const hpt_param_t *param, double value, char *buffer,
                           size_t size);

/* JSON literal of a value: 0.0123, 7, "1-2", true; null for NaN. Strings are
 * escaped. Same buffer contract as hpt_space_format_value. */
int hpt_space_value_json(const hpt_param_t *param, double value, char *buffer,
                         size_t size);

/* Parses the text form back into the internal representation (the inverse
 * of hpt_space_format_value; categorical text must match a choice). */
int hpt_space_parse_value(const hpt_param_t *param, const char *text,
                          double *value, hpt_error_t *error);

/* Checks a value against the parameter's type and bounds. */
bool hpt_space_value_valid(const hpt_param_t *param, double value);

#endif
