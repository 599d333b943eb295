/* spec_internal.h — private to spec.c and spec_params.c: the parse context
 * and the YAML node helpers both files use. Not part of the public API.
 */
#ifndef HPT_SPEC_INTERNAL_H
#define HPT_SPEC_INTERNAL_H

#include <stdbool.h>
#include <yaml.h>

#include "error.h"
#include "space.h"

typedef struct hpt__spec_ctx {
  const char *source;   /* file name used in messages; borrowed */
  yaml_document_t *doc; /* the loaded document; borrowed */
  hpt_error_t *error;   /* where failures go; may be NULL */
} hpt__spec_ctx_t;

/* 1-based line of a node. */
int hpt__spec_line(const yaml_node_t *node);

/* Fails with HPT_EINVAL "source:line: <message>", line taken from `node`.
 * Returns HPT_EINVAL. */
int hpt__spec_fail(hpt__spec_ctx_t *ctx, const yaml_node_t *node,
                   const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Text of a scalar node, or NULL when the node is not a scalar. Borrowed
 * from the document. */
const char *hpt__spec_scalar(const yaml_node_t *node);

/* Node `index` of the document. */
yaml_node_t *hpt__spec_node(hpt__spec_ctx_t *ctx, int index);

/* Parses a YAML boolean scalar (true/false, yes/no, on/off; any case). */
bool hpt__spec_parse_bool(const char *text, bool *out);

/* Builds `space` (zeroed on entry) from the `params:` mapping node. On
 * failure the space is freed and ctx->error says why. */
int hpt__spec_parse_params(hpt__spec_ctx_t *ctx, yaml_node_t *node,
                           hpt_space_t *space);

#endif
