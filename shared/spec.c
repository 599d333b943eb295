/* spec.c — reads a study spec from YAML; see spec.h.
 *
 * The YAML is loaded with libyaml's document API (so flow and block styles,
 * anchors and aliases all come for free) and then walked: this file handles
 * the top-level keys and the option sections (sampler, pruner, objective);
 * spec_params.c builds the search space. Every failure is one line,
 * "source:line: field: problem".
 */
#include "spec.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec_internal.h"

#define NAME_MAX_LENGTH 128

static const char *const top_keys[] = {
    "name",   "direction", "n_trials",   "max_parallel", "max_retries",
    "weight", "require",   "keep_top_k", "sampler",      "pruner",
    "params", "objective", NULL};

static const char top_keys_text[] =
    "name, direction, n_trials, max_parallel, max_retries, weight, require, "
    "keep_top_k, sampler, pruner, params, objective";

int hpt__spec_line(const yaml_node_t *node) {
  return node != NULL ? (int)node->start_mark.line + 1 : 0;
}

int hpt__spec_fail(hpt__spec_ctx_t *ctx, const yaml_node_t *node,
                   const char *format, ...) {
  char message[HPT_ERROR_MESSAGE_MAX];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  return HPT_ERR(ctx->error, HPT_EINVAL, "%s:%d: %s", ctx->source,
                 hpt__spec_line(node), message);
}

const char *hpt__spec_scalar(const yaml_node_t *node) {
  if (node == NULL || node->type != YAML_SCALAR_NODE)
    return NULL;
  return (const char *)node->data.scalar.value;
}

yaml_node_t *hpt__spec_node(hpt__spec_ctx_t *ctx, int index) {
  return yaml_document_get_node(ctx->doc, index);
}

bool hpt__spec_parse_bool(const char *text, bool *out) {
  static const char *yes[] = {"true", "yes", "on"};
  static const char *no[] = {"false", "no", "off"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp(text, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(text, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

static bool valid_name(const char *name) {
  size_t length = strlen(name);
  if (length == 0 || length > NAME_MAX_LENGTH)
    return false;
  for (const char *p = name; *p; p++) {
    char c = *p;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

/* A positive int scalar for top-level key `key`. */
static int positive_int(hpt__spec_ctx_t *ctx, const char *key,
                        const yaml_node_t *node, int *out) {
  const char *text = hpt__spec_scalar(node);
  if (text == NULL)
    return hpt__spec_fail(ctx, node, "%s: must be an integer", key);
  char *end = NULL;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE)
    return hpt__spec_fail(ctx, node, "%s: must be an integer, not '%s'", key,
                          text);
  if (value < 1 || value > INT_MAX)
    return hpt__spec_fail(ctx, node, "%s: must be between 1 and %d, not %s",
                          key, INT_MAX, text);
  *out = (int)value;
  return HPT_OK;
}

static int non_negative_int(hpt__spec_ctx_t *ctx, const char *key,
                            const yaml_node_t *node, int *out) {
  const char *text = hpt__spec_scalar(node);
  char *end = NULL;
  errno = 0;
  long long value = text ? strtoll(text, &end, 10) : -1;
  if (text == NULL || end == text || *end != '\0' || errno == ERANGE ||
      value < 0 || value > 1000)
    return hpt__spec_fail(ctx, node, "%s: must be an integer from 0 to 1000",
                          key);
  *out = (int)value;
  return HPT_OK;
}

static int positive_number(hpt__spec_ctx_t *ctx, const char *key,
                           const yaml_node_t *node, double *out) {
  const char *text = hpt__spec_scalar(node);
  char *end = NULL;
  double value = text ? strtod(text, &end) : NAN;
  if (text == NULL || end == text || *end != '\0' || !(value > 0) ||
      !isfinite(value))
    return hpt__spec_fail(ctx, node, "%s: must be a positive number", key);
  *out = value;
  return HPT_OK;
}

/* Turns a mapping section into options: scalars keep their text, sequences
 * of scalars become lists. Nested mappings are rejected. With
 * `require_type`, the section must have a scalar `type`. */
static int section_options(hpt__spec_ctx_t *ctx, const char *section,
                           yaml_node_t *node, bool require_type,
                           hpt_options_t *out) {
  const char **items = NULL;
  int rc = HPT_OK;
  if (node->type != YAML_MAPPING_NODE)
    return hpt__spec_fail(ctx, node,
                          "%s: must be a mapping such as {type: ...}", section);
  for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
       pair < node->data.mapping.pairs.top; pair++) {
    yaml_node_t *key_node = hpt__spec_node(ctx, pair->key);
    yaml_node_t *value = hpt__spec_node(ctx, pair->value);
    const char *key = hpt__spec_scalar(key_node);
    if (key == NULL)
      return hpt__spec_fail(ctx, key_node, "%s: keys must be plain names",
                            section);
    if (hpt_options_find(out, key) != NULL)
      return hpt__spec_fail(ctx, key_node, "%s.%s: duplicate key", section,
                            key);
    int line = hpt__spec_line(key_node);
    if (value->type == YAML_SCALAR_NODE) {
      rc = hpt_options_add(out, key, hpt__spec_scalar(value), line, ctx->error);
    } else if (value->type == YAML_SEQUENCE_NODE) {
      size_t n = (size_t)(value->data.sequence.items.top -
                          value->data.sequence.items.start);
      items = calloc(n > 0 ? n : 1, sizeof *items);
      if (items == NULL)
        return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
      for (size_t i = 0; i < n; i++) {
        yaml_node_t *item =
            hpt__spec_node(ctx, value->data.sequence.items.start[i]);
        items[i] = hpt__spec_scalar(item);
        if (items[i] == NULL) {
          rc = hpt__spec_fail(ctx, item, "%s.%s: list items must be scalars",
                              section, key);
          goto out;
        }
      }
      rc = hpt_options_add_list(out, key, items, n, line, ctx->error);
      free(items);
      items = NULL;
    } else {
      return hpt__spec_fail(
          ctx, value, "%s.%s: nested mappings are not supported", section, key);
    }
    if (rc != HPT_OK)
      goto out;
  }
  if (require_type) {
    const hpt_option_t *type = hpt_options_find(out, "type");
    if (type == NULL)
      return hpt__spec_fail(ctx, node, "%s: missing required key 'type'",
                            section);
    if (type->is_list || type->value[0] == '\0')
      return hpt__spec_fail(ctx, node, "%s.type: must be a name", section);
  }
out:
  free(items);
  return rc;
}

/* Names the section, records the source, and fills it from `node`. */
static int read_section(hpt__spec_ctx_t *ctx, const char *section,
                        yaml_node_t *node, hpt_options_t *out) {
  hpt_options_free(out);
  out->section = strdup(section);
  out->source = strdup(ctx->source);
  if (out->section == NULL || out->source == NULL)
    return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
  return section_options(ctx, section, node, true, out);
}

/* A section absent from the spec: {type: default_type}, or empty. */
static int default_section(hpt__spec_ctx_t *ctx, const char *section,
                           const char *default_type, hpt_options_t *out) {
  out->section = strdup(section);
  out->source = strdup(ctx->source);
  if (out->section == NULL || out->source == NULL)
    return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
  if (default_type == NULL)
    return HPT_OK;
  return hpt_options_add(out, "type", default_type, 0, ctx->error);
}

/* Handles one top-level key. */
static int top_level(hpt__spec_ctx_t *ctx, const char *key, yaml_node_t *value,
                     hpt_spec_t *spec) {
  const char *text = hpt__spec_scalar(value);
  if (strcmp(key, "name") == 0) {
    if (text == NULL || !valid_name(text))
      return hpt__spec_fail(ctx, value,
                            "name: must match [A-Za-z0-9_.-]{1,128}, not "
                            "'%s'",
                            text != NULL ? text : "(not a scalar)");
    spec->name = strdup(text);
    return spec->name != NULL ? HPT_OK
                              : HPT_ERR(ctx->error, HPT_ENOMEM, "no memory");
  }
  if (strcmp(key, "direction") == 0) {
    if (text != NULL && strcmp(text, "maximize") == 0)
      spec->direction = HPT_DIRECTION_MAXIMIZE;
    else if (text != NULL && strcmp(text, "minimize") == 0)
      spec->direction = HPT_DIRECTION_MINIMIZE;
    else
      return hpt__spec_fail(ctx, value,
                            "direction: must be maximize or minimize, not "
                            "'%s'",
                            text != NULL ? text : "(not a scalar)");
    return HPT_OK;
  }
  if (strcmp(key, "n_trials") == 0)
    return positive_int(ctx, key, value, &spec->n_trials);
  if (strcmp(key, "max_parallel") == 0)
    return positive_int(ctx, key, value, &spec->max_parallel);
  if (strcmp(key, "max_retries") == 0)
    return non_negative_int(ctx, key, value, &spec->max_retries);
  if (strcmp(key, "keep_top_k") == 0)
    return non_negative_int(ctx, key, value, &spec->keep_top_k);
  if (strcmp(key, "weight") == 0)
    return positive_number(ctx, key, value, &spec->weight);
  if (strcmp(key, "require") == 0) {
    hpt_options_free(&spec->require);
    spec->require.section = strdup("require");
    spec->require.source = strdup(ctx->source);
    if (spec->require.section == NULL || spec->require.source == NULL)
      return HPT_ERR(ctx->error, HPT_ENOMEM, "out of memory");
    return section_options(ctx, "require", value, false, &spec->require);
  }
  if (strcmp(key, "sampler") == 0)
    return read_section(ctx, "sampler", value, &spec->sampler);
  if (strcmp(key, "pruner") == 0)
    return read_section(ctx, "pruner", value, &spec->pruner);
  if (strcmp(key, "objective") == 0)
    return read_section(ctx, "objective", value, &spec->objective);
  /* "params" */
  return hpt__spec_parse_params(ctx, value, &spec->space);
}

/* Walks the root mapping into `spec` (defaults already set). */
static int read_root(hpt__spec_ctx_t *ctx, hpt_spec_t *spec) {
  yaml_node_t *root = yaml_document_get_root_node(ctx->doc);
  if (root == NULL)
    return HPT_ERR(ctx->error, HPT_EINVAL,
                   "%s:1: empty spec (expected a mapping with at least "
                   "'name')",
                   ctx->source);
  if (root->type != YAML_MAPPING_NODE)
    return hpt__spec_fail(ctx, root,
                          "the spec must be a mapping (name: ..., params: "
                          "...)");
  int seen_line[sizeof top_keys / sizeof top_keys[0]] = {0};
  for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
       pair < root->data.mapping.pairs.top; pair++) {
    yaml_node_t *key_node = hpt__spec_node(ctx, pair->key);
    const char *key = hpt__spec_scalar(key_node);
    int index = -1;
    for (int i = 0; key != NULL && top_keys[i] != NULL; i++)
      if (strcmp(key, top_keys[i]) == 0)
        index = i;
    if (index < 0)
      return hpt__spec_fail(
          ctx, key_node, "unknown key '%s' (expected one of: %s)",
          key != NULL ? key : "(not a scalar)", top_keys_text);
    if (seen_line[index] > 0)
      return hpt__spec_fail(ctx, key_node,
                            "duplicate key '%s' (first on line %d)", key,
                            seen_line[index]);
    seen_line[index] = hpt__spec_line(key_node);
    int rc = top_level(ctx, key, hpt__spec_node(ctx, pair->value), spec);
    if (rc != HPT_OK)
      return rc;
  }
  if (spec->name == NULL)
    return hpt__spec_fail(ctx, root, "missing required key 'name'");
  return HPT_OK;
}

void hpt_spec_destroy(hpt_spec_t **spec) {
  if (spec == NULL || *spec == NULL)
    return;
  hpt_spec_t *s = *spec;
  free(s->name);
  hpt_options_free(&s->sampler);
  hpt_options_free(&s->pruner);
  hpt_options_free(&s->objective);
  hpt_options_free(&s->require);
  hpt_space_free(&s->space);
  free(s->source);
  free(s->base_dir);
  free(s->text);
  free(s);
  *spec = NULL;
}

/* Loads the YAML; a syntax error becomes "source:line: problem (context)". */
static int load_yaml(const char *text, size_t length, const char *source,
                     yaml_document_t *doc, hpt_error_t *error) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);
  int rc = HPT_OK;
  if (!yaml_parser_load(&parser, doc)) {
    if (parser.error == YAML_MEMORY_ERROR)
      rc = HPT_ERR(error, HPT_ENOMEM, "out of memory reading %s", source);
    else if (parser.context != NULL)
      rc = HPT_ERR(error, HPT_EPARSE, "%s:%d: %s (%s, line %d)", source,
                   (int)parser.problem_mark.line + 1,
                   parser.problem ? parser.problem : "YAML error",
                   parser.context, (int)parser.context_mark.line + 1);
    else
      rc = HPT_ERR(error, HPT_EPARSE, "%s:%d: %s", source,
                   (int)parser.problem_mark.line + 1,
                   parser.problem ? parser.problem : "YAML error");
  }
  yaml_parser_delete(&parser);
  return rc;
}

/* Reads and validates a spec from memory. On failure *spec is NULL. */
int hpt_spec_parse_string(const char *text, size_t length, const char *source,
                          hpt_spec_t **spec, hpt_error_t *error) {
  *spec = NULL;
  hpt_spec_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  int rc = HPT_OK;
  s->direction = HPT_DIRECTION_MAXIMIZE;
  s->n_trials = 100;
  s->max_parallel = 1;
  s->max_retries = 2;
  s->weight = 1.0;
  s->source = strdup(source != NULL ? source : "<string>");
  s->base_dir = strdup(".");
  s->text = malloc(length + 1);
  if (s->source == NULL || s->base_dir == NULL || s->text == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  memcpy(s->text, text, length);
  s->text[length] = '\0';

  yaml_document_t doc;
  rc = load_yaml(text, length, s->source, &doc, error);
  if (rc != HPT_OK)
    goto out;
  hpt__spec_ctx_t ctx = {.source = s->source, .doc = &doc, .error = error};
  rc = read_root(&ctx, s);
  if (rc == HPT_OK && s->sampler.section == NULL)
    rc = default_section(&ctx, "sampler", "random", &s->sampler);
  if (rc == HPT_OK && s->pruner.section == NULL)
    rc = default_section(&ctx, "pruner", "none", &s->pruner);
  if (rc == HPT_OK && s->objective.section == NULL)
    rc = default_section(&ctx, "objective", NULL, &s->objective);
  if (rc == HPT_OK && s->require.section == NULL)
    rc = default_section(&ctx, "require", NULL, &s->require);
  yaml_document_delete(&doc);
out:
  if (rc != HPT_OK)
    hpt_spec_destroy(&s);
  *spec = s;
  return rc;
}

/* Reads the whole file into a NUL-terminated buffer (caller frees). */
static int read_file(const char *path, char **text, size_t *length,
                     hpt_error_t *error) {
  *text = NULL;
  FILE *file = fopen(path, "rb");
  if (file == NULL)
    return HPT_ERR(error, errno == ENOENT ? HPT_ENOTFOUND : HPT_EIO,
                   "%s: cannot open: %s", path, strerror(errno));
  size_t capacity = 4096, used = 0;
  char *buffer = malloc(capacity);
  int rc = HPT_OK;
  while (buffer != NULL) {
    used += fread(buffer + used, 1, capacity - used - 1, file);
    if (used < capacity - 1)
      break;
    capacity *= 2;
    char *grown = realloc(buffer, capacity);
    if (grown == NULL)
      free(buffer);
    buffer = grown;
  }
  if (buffer == NULL)
    rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory reading", path);
  else if (ferror(file))
    rc = HPT_ERR(error, HPT_EIO, "%s: read error", path);
  fclose(file);
  if (rc != HPT_OK) {
    free(buffer);
    return rc;
  }
  buffer[used] = '\0';
  *text = buffer;
  *length = used;
  return HPT_OK;
}

/* Reads and validates a spec file; base_dir is the file's directory. On
 * failure *spec is NULL. */
int hpt_spec_parse_file(const char *path, hpt_spec_t **spec,
                        hpt_error_t *error) {
  *spec = NULL;
  char *text = NULL;
  size_t length = 0;
  int rc = read_file(path, &text, &length, error);
  if (rc != HPT_OK)
    return rc;
  rc = hpt_spec_parse_string(text, length, path, spec, error);
  free(text);
  if (rc != HPT_OK)
    return rc;
  char *copy = strdup(path);
  char *dir = copy != NULL ? strdup(dirname(copy)) : NULL;
  free(copy);
  if (dir == NULL) {
    hpt_spec_destroy(spec);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  free((*spec)->base_dir);
  (*spec)->base_dir = dir;
  return HPT_OK;
}
