/* spec_params.c — builds the search space from a spec's `params:` mapping.
 *
 *   params:
 *     lr:    {type: float, low: 1.0e-3, high: 1.0, log: true}
 *     ngram: {type: categorical, choices: ["1-2", "1-3"]}
 *     head:  {type: float, low: 0, high: 1, when: {ngram: ["1-3"]}}
 *
 * Two passes: each parameter is read and checked on its own (in YAML
 * order), then `when` conditions are resolved against the others and the
 * parameters are ordered so that parents come before their children
 * (space.h's invariant), keeping YAML order otherwise.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

/* Relative tolerance for "step divides high - low". */
#define STEP_TOLERANCE 1e-9
/* Integers beyond 2^53 do not survive the trip through a double. */
#define INT_LIMIT 9007199254740992.0

static const char param_keys_text[] =
    "type, low, high, log, step, choices, when";

/* One parameter while the space is built. */
typedef struct draft {
  hpt_param_t param;
  yaml_node_t *key_node;   /* the name, for line numbers */
  yaml_node_t *when_node;  /* the `when` value, or NULL */
  const char *parent_name; /* from `when`; borrowed from the document */
  bool placed;
} draft_t;

/* The value node of `key` in a param mapping, checking the key set. */
typedef struct fields {
  yaml_node_t *type, *low, *high, *log, *step, *choices, *when;
} fields_t;

static int read_fields(hpt__spec_ctx_t *ctx, const char *name,
                       yaml_node_t *node, fields_t *f) {
  memset(f, 0, sizeof *f);
  for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
       pair < node->data.mapping.pairs.top; pair++) {
    yaml_node_t *key_node = hpt__spec_node(ctx, pair->key);
    yaml_node_t *value = hpt__spec_node(ctx, pair->value);
    const char *key = hpt__spec_scalar(key_node);
    yaml_node_t **slot = NULL;
    if (key == NULL)
      slot = NULL;
    else if (strcmp(key, "type") == 0)
      slot = &f->type;
    else if (strcmp(key, "low") == 0)
      slot = &f->low;
    else if (strcmp(key, "high") == 0)
      slot = &f->high;
    else if (strcmp(key, "log") == 0)
      slot = &f->log;
    else if (strcmp(key, "step") == 0)
      slot = &f->step;
    else if (strcmp(key, "choices") == 0)
      slot = &f->choices;
    else if (strcmp(key, "when") == 0)
      slot = &f->when;
    if (slot == NULL)
      return hpt__spec_fail(ctx, key_node,
                            "params.%s: unknown key '%s' (expected one of: "
                            "%s)",
                            name, key != NULL ? key : "(not a scalar)",
                            param_keys_text);
    if (*slot != NULL)
      return hpt__spec_fail(ctx, key_node, "params.%s: duplicate key '%s'",
                            name, key);
    *slot = value;
  }
  return HPT_OK;
}

/* A finite number (integer when `integer`) from a scalar node. */
static int number(hpt__spec_ctx_t *ctx, const char *name, const char *field,
                  yaml_node_t *node, bool integer, double *out) {
  const char *text = hpt__spec_scalar(node);
  const char *what = integer ? "an integer" : "a number";
  if (text == NULL)
    return hpt__spec_fail(ctx, node, "params.%s.%s: must be %s", name, field,
                          what);
  char *end = NULL;
  errno = 0;
  double value = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(value) ||
      (integer && (value != floor(value) || fabs(value) > INT_LIMIT)))
    return hpt__spec_fail(ctx, node, "params.%s.%s: must be %s, not '%s'", name,
                          field, what, text);
  *out = value;
  return HPT_OK;
}

/* Rejects a key the parameter's type does not take. */
static int not_for(hpt__spec_ctx_t *ctx, const char *name, const char *field,
                   yaml_node_t *node, const char *types) {
  if (node == NULL)
    return HPT_OK;
  return hpt__spec_fail(ctx, node, "params.%s.%s: only %s parameters take %s",
                        name, field, types, field);
}

/* float and int: low, high, log, step and their consistency. */
static int read_numeric(hpt__spec_ctx_t *ctx, draft_t *d, const fields_t *f) {
  hpt_param_t *p = &d->param;
  const char *name = p->name;
  bool integer = p->type == HPT_PARAM_INT;
  int rc = not_for(ctx, name, "choices", f->choices, "categorical");
  if (rc != HPT_OK)
    return rc;
  if (f->low == NULL || f->high == NULL)
    return hpt__spec_fail(ctx, d->key_node, "params.%s: missing '%s'", name,
                          f->low == NULL ? "low" : "high");
  if ((rc = number(ctx, name, "low", f->low, integer, &p->low)) != HPT_OK ||
      (rc = number(ctx, name, "high", f->high, integer, &p->high)) != HPT_OK)
    return rc;
  if (p->low > p->high)
    return hpt__spec_fail(ctx, d->key_node, "params.%s: low (%s) > high (%s)",
                          name, hpt__spec_scalar(f->low),
                          hpt__spec_scalar(f->high));
  if (f->log != NULL) {
    const char *text = hpt__spec_scalar(f->log);
    if (text == NULL || !hpt__spec_parse_bool(text, &p->log))
      return hpt__spec_fail(ctx, f->log, "params.%s.log: must be true or false",
                            name);
  }
  if (p->log && p->low <= 0)
    return hpt__spec_fail(ctx, f->low,
                          "params.%s.low: must be > 0 when log: true (got %s)",
                          name, hpt__spec_scalar(f->low));
  p->step = integer ? 1 : 0;
  if (f->step == NULL)
    return HPT_OK;
  if ((rc = number(ctx, name, "step", f->step, integer, &p->step)) != HPT_OK)
    return rc;
  if (p->step <= 0)
    return hpt__spec_fail(ctx, f->step, "params.%s.step: must be > 0", name);
  if (p->log && (!integer || p->step != 1))
    return hpt__spec_fail(
        ctx, f->step, "params.%s: step and log: true cannot be combined", name);
  double k = (p->high - p->low) / p->step;
  if (fabs(k - round(k)) > STEP_TOLERANCE * fmax(1.0, fabs(k)))
    return hpt__spec_fail(ctx, f->step,
                          "params.%s.step: %s does not divide high - low (%g)",
                          name, hpt__spec_scalar(f->step), p->high - p->low);
  return HPT_OK;
}

/* How a choice was written: plain true/false -> BOOL, plain number ->
 * NUMBER, anything else (quoted included) -> STRING. */
static hpt_choice_kind_t choice_kind(const yaml_node_t *node) {
  const char *text = hpt__spec_scalar(node);
  if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return HPT_CHOICE_STRING;
  if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0 ||
      strcmp(text, "True") == 0 || strcmp(text, "False") == 0 ||
      strcmp(text, "TRUE") == 0 || strcmp(text, "FALSE") == 0)
    return HPT_CHOICE_BOOL;
  char c = text[0];
  bool numeric_start =
      (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
  char *end = NULL;
  double value = strtod(text, &end);
  if (numeric_start && end != text && *end == '\0' && isfinite(value) &&
      strpbrk(text, "xXpP") == NULL)
    return HPT_CHOICE_NUMBER;
  return HPT_CHOICE_STRING;
}

static int read_categorical(hpt__spec_ctx_t *ctx, draft_t *d,
                            const fields_t *f) {
  hpt_param_t *p = &d->param;
  const char *name = p->name;
  int rc;
  if ((rc = not_for(ctx, name, "low", f->low, "float and int")) != HPT_OK ||
      (rc = not_for(ctx, name, "high", f->high, "float and int")) != HPT_OK ||
      (rc = not_for(ctx, name, "log", f->log, "float and int")) != HPT_OK ||
      (rc = not_for(ctx, name, "step", f->step, "float and int")) != HPT_OK)
    return rc;
  if (f->choices == NULL)
    return hpt__spec_fail(ctx, d->key_node, "params.%s: missing 'choices'",
                          name);
  yaml_node_t *list = f->choices;
  size_t n = list->type == YAML_SEQUENCE_NODE
                 ? (size_t)(list->data.sequence.items.top -
                            list->data.sequence.items.start)
                 : 0;
  if (n == 0)
    return hpt__spec_fail(ctx, list,
                          "params.%s.choices: must be a non-empty list", name);
  p->choices = calloc(n, sizeof *p->choices);
  p->choice_kinds = calloc(n, sizeof *p->choice_kinds);
  if (p->choices == NULL || p->choice_kinds == NULL)
    return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    yaml_node_t *item = hpt__spec_node(ctx, list->data.sequence.items.start[i]);
    const char *text = hpt__spec_scalar(item);
    if (text == NULL)
      return hpt__spec_fail(ctx, item,
                            "params.%s.choices: items must be scalars", name);
    size_t length = strlen(text);
    if (length > HPT_SPACE_CHOICE_MAX)
      return hpt__spec_fail(ctx, item,
                            "params.%s.choices: a choice of %zu bytes "
                            "(at most %d)",
                            name, length, HPT_SPACE_CHOICE_MAX);
    for (const char *c = text; *c; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7f)
        return hpt__spec_fail(
            ctx, item, "params.%s.choices: a control character in a choice",
            name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(p->choices[j], text) == 0)
        return hpt__spec_fail(
            ctx, item, "params.%s.choices: duplicate choice '%s'", name, text);
    p->choices[i] = strdup(text);
    if (p->choices[i] == NULL)
      return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
    p->choice_kinds[i] = choice_kind(item);
    p->n_choices = i + 1;
  }
  return HPT_OK;
}

/* Syntax of `when: {parent: choice}` or `{parent: [choice, ...]}`; the
 * parent is resolved later, once every parameter is known. */
static int read_when(hpt__spec_ctx_t *ctx, draft_t *d, yaml_node_t *when) {
  const char *name = d->param.name;
  if (when->type != YAML_MAPPING_NODE ||
      when->data.mapping.pairs.top - when->data.mapping.pairs.start != 1)
    return hpt__spec_fail(ctx, when,
                          "params.%s.when: must be a mapping with one "
                          "parent, such as {optimizer: [sgd]}",
                          name);
  yaml_node_pair_t *pair = when->data.mapping.pairs.start;
  d->parent_name = hpt__spec_scalar(hpt__spec_node(ctx, pair->key));
  yaml_node_t *values = hpt__spec_node(ctx, pair->value);
  if (d->parent_name == NULL)
    return hpt__spec_fail(ctx, when, "params.%s.when: parent must be a name",
                          name);
  if (values->type == YAML_MAPPING_NODE ||
      (values->type == YAML_SEQUENCE_NODE &&
       values->data.sequence.items.top == values->data.sequence.items.start))
    return hpt__spec_fail(ctx, values,
                          "params.%s.when: %s must map to a choice or a "
                          "non-empty list of choices",
                          name, d->parent_name);
  d->when_node = values;
  return HPT_OK;
}

/* Reads and checks one parameter on its own. */
static int read_param(hpt__spec_ctx_t *ctx, yaml_node_t *key_node,
                      yaml_node_t *value, draft_t *d) {
  const char *name = hpt__spec_scalar(key_node);
  d->key_node = key_node;
  d->param.parent = -1;
  d->param.line = hpt__spec_line(key_node);
  if (name == NULL || name[0] == '\0' || strlen(name) > 128 ||
      strpbrk(name, " \t\r\n=\"'\\") != NULL)
    return hpt__spec_fail(ctx, key_node,
                          "params: '%s' is not a valid parameter name",
                          name != NULL ? name : "(not a scalar)");
  d->param.name = strdup(name);
  if (d->param.name == NULL)
    return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
  if (value->type != YAML_MAPPING_NODE)
    return hpt__spec_fail(ctx, value,
                          "params.%s: must be a mapping such as {type: float, "
                          "low: 0, high: 1}",
                          name);
  fields_t f;
  int rc = read_fields(ctx, name, value, &f);
  if (rc != HPT_OK)
    return rc;
  const char *type = hpt__spec_scalar(f.type);
  if (f.type == NULL)
    return hpt__spec_fail(ctx, key_node, "params.%s: missing 'type'", name);
  if (type != NULL && strcmp(type, "float") == 0)
    d->param.type = HPT_PARAM_FLOAT;
  else if (type != NULL && strcmp(type, "int") == 0)
    d->param.type = HPT_PARAM_INT;
  else if (type != NULL && strcmp(type, "categorical") == 0)
    d->param.type = HPT_PARAM_CATEGORICAL;
  else
    return hpt__spec_fail(ctx, f.type,
                          "params.%s.type: must be float, int or "
                          "categorical, not '%s'",
                          name, type != NULL ? type : "(not a scalar)");
  rc = d->param.type == HPT_PARAM_CATEGORICAL ? read_categorical(ctx, d, &f)
                                              : read_numeric(ctx, d, &f);
  if (rc == HPT_OK && f.when != NULL)
    rc = read_when(ctx, d, f.when);
  return rc;
}

static int find_draft(const draft_t *drafts, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(drafts[i].param.name, name) == 0)
      return (int)i;
  return -1;
}

/* Resolves d's `when` into parent (a draft index) and when_choices. */
static int resolve_when(hpt__spec_ctx_t *ctx, draft_t *drafts, size_t n,
                        draft_t *d) {
  const char *name = d->param.name;
  int parent = find_draft(drafts, n, d->parent_name);
  if (parent < 0)
    return hpt__spec_fail(ctx, d->when_node,
                          "params.%s.when: unknown parameter '%s'", name,
                          d->parent_name);
  const hpt_param_t *pp = &drafts[parent].param;
  if (&drafts[parent] == d)
    return hpt__spec_fail(ctx, d->when_node,
                          "params.%s.when: a parameter cannot depend on "
                          "itself",
                          name);
  if (pp->type != HPT_PARAM_CATEGORICAL)
    return hpt__spec_fail(ctx, d->when_node,
                          "params.%s.when: '%s' is not categorical", name,
                          d->parent_name);
  yaml_node_t *values = d->when_node;
  bool single = values->type == YAML_SCALAR_NODE;
  size_t count = single ? 1
                        : (size_t)(values->data.sequence.items.top -
                                   values->data.sequence.items.start);
  d->param.when_choices = calloc(count, sizeof *d->param.when_choices);
  if (d->param.when_choices == NULL)
    return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
  for (size_t i = 0; i < count; i++) {
    yaml_node_t *item =
        single ? values
               : hpt__spec_node(ctx, values->data.sequence.items.start[i]);
    const char *text = hpt__spec_scalar(item);
    int index = -1;
    for (size_t c = 0; text != NULL && c < pp->n_choices; c++)
      if (strcmp(pp->choices[c], text) == 0)
        index = (int)c;
    if (index < 0)
      return hpt__spec_fail(
          ctx, item, "params.%s.when: '%s' is not a choice of '%s'", name,
          text != NULL ? text : "(not a scalar)", d->parent_name);
    d->param.when_choices[d->param.n_when++] = index;
  }
  d->param.parent = parent; /* a draft index for now */
  return HPT_OK;
}

/* Moves the drafts into `space`, parents before children. */
static int place(hpt__spec_ctx_t *ctx, draft_t *drafts, size_t n,
                 hpt_space_t *space) {
  int *position = malloc((n > 0 ? n : 1) * sizeof *position);
  space->params = calloc(n > 0 ? n : 1, sizeof *space->params);
  if (position == NULL || space->params == NULL) {
    free(position);
    return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
  }
  while (space->n_params < n) {
    size_t before = space->n_params;
    for (size_t i = 0; i < n; i++) {
      draft_t *d = &drafts[i];
      if (d->placed ||
          (d->param.parent >= 0 && !drafts[d->param.parent].placed))
        continue;
      position[i] = (int)space->n_params;
      hpt_param_t *p = &space->params[space->n_params++];
      *p = d->param;
      if (p->parent >= 0)
        p->parent = position[p->parent];
      memset(&d->param, 0, sizeof d->param);
      d->placed = true;
    }
    if (space->n_params == before) {
      for (size_t i = 0; i < n; i++)
        if (!drafts[i].placed) {
          free(position);
          return hpt__spec_fail(ctx, drafts[i].when_node,
                                "params.%s.when: conditions form a cycle",
                                drafts[i].param.name);
        }
    }
  }
  free(position);
  return HPT_OK;
}

static void free_param(hpt_param_t *param) {
  free(param->name);
  for (size_t i = 0; i < param->n_choices; i++)
    free(param->choices[i]);
  free(param->choices);
  free(param->choice_kinds);
  free(param->when_choices);
  memset(param, 0, sizeof *param);
}

int hpt__spec_parse_params(hpt__spec_ctx_t *ctx, yaml_node_t *node,
                           hpt_space_t *space) {
  if (node->type != YAML_MAPPING_NODE)
    return hpt__spec_fail(ctx, node,
                          "params: must be a mapping of name -> {type: ...}");
  size_t n =
      (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
  draft_t *drafts = calloc(n > 0 ? n : 1, sizeof *drafts);
  if (drafts == NULL)
    return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
  int rc = HPT_OK;
  size_t n_read = 0;
  for (size_t i = 0; i < n && rc == HPT_OK; i++) {
    yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
    yaml_node_t *key_node = hpt__spec_node(ctx, pair->key);
    const char *name = hpt__spec_scalar(key_node);
    int previous = name != NULL ? find_draft(drafts, n_read, name) : -1;
    if (previous >= 0) {
      rc = hpt__spec_fail(ctx, key_node,
                          "params.%s: duplicate parameter (first on line %d)",
                          name, drafts[previous].param.line);
      break;
    }
    n_read++;
    rc =
        read_param(ctx, key_node, hpt__spec_node(ctx, pair->value), &drafts[i]);
  }
  for (size_t i = 0; i < n_read && rc == HPT_OK; i++)
    if (drafts[i].when_node != NULL)
      rc = resolve_when(ctx, drafts, n_read, &drafts[i]);
  if (rc == HPT_OK)
    rc = place(ctx, drafts, n_read, space);
  for (size_t i = 0; i < n_read; i++)
    free_param(&drafts[i].param); /* what place() did not move */
  free(drafts);
  if (rc != HPT_OK)
    hpt_space_free(space);
  return rc;
}
