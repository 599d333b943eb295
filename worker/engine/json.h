/* json.h — strict JSON loading for the engine, on top of jansson.
 *
 * The engine reads three kinds of JSON written by others: safetensors
 * headers, Hugging Face config.json and tokenizer files (tokenizer.json,
 * vocab.json). All of them go through here so that every one is parsed the
 * same strict way:
 *
 *   - valid UTF-8 only, no NUL (raw or \u0000) inside strings;
 *   - \uXXXX escapes incl. surrogate pairs; lone surrogates are rejected;
 *   - duplicate keys in an object are an error (JSON_REJECT_DUPLICATES);
 *   - nesting deeper than JSON_PARSER_MAX_DEPTH (2048) is an error;
 *   - integers outside int64 are an error, not a silent wrap;
 *   - exactly one value, then only whitespace.
 *
 * jansson keeps an object's keys in insertion order, so iteration follows
 * the file. Errors name the source ("config.json:3:7: ...").
 *
 * The member helpers read typed fields of an object with one-line errors;
 * the returned json_t values are borrowed from the parent (valid while the
 * root is alive; free the root with json_decref).
 */
#ifndef HPT_JSON_H
#define HPT_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Files larger than this are refused by hpt_json_load_file by default. */
#define HPT_JSON_MAX_FILE_BYTES ((size_t)256 << 20)

/* Parses `size` bytes at `text` (need not be NUL-terminated) as one JSON
 * value of any type. `what` names the source in messages (e.g. a path);
 * NULL reads as "json". On success *out is a new reference the caller owns
 * (json_decref). On failure *out is NULL and HPT_EPARSE (syntax, encoding,
 * duplicate key, depth, number range) or HPT_ENOMEM is returned.
 * Thread-safe. */
int hpt_json_parse(const char *text, size_t size, const char *what,
                   json_t **out, hpt_error_t *error);

/* Reads the file at `path` (at most `max_bytes`; 0 means
 * HPT_JSON_MAX_FILE_BYTES) and parses it as hpt_json_parse does, requiring
 * the top-level value to be an object. On success *out is a new reference
 * the caller owns. On failure *out is NULL and HPT_ENOTFOUND (no such
 * file), HPT_EIO (unreadable or too large), HPT_EPARSE or HPT_ENOMEM is
 * returned. Thread-safe. */
int hpt_json_load_file(const char *path, size_t max_bytes, json_t **out,
                       hpt_error_t *error);

/* The member helpers below look up `key` in `object` (which must be a JSON
 * object). Each returns 0 and sets *out when the member exists with the
 * right type, HPT_ENOTFOUND (error untouched) when it is absent or JSON
 * null, and HPT_EPARSE with a message naming `what` and `key` when it has
 * the wrong type or range. *out is unchanged unless 0 is returned.
 * Cannot fail otherwise; thread-safe on a read-only tree. */

/* An integer (a JSON number without fraction or exponent) in
 * [min, max]. */
int hpt_json_member_int(const json_t *object, const char *key, int64_t min,
                        int64_t max, const char *what, int64_t *out,
                        hpt_error_t *error);

/* Any finite JSON number (integer or real), as a double. */
int hpt_json_member_number(const json_t *object, const char *key,
                           const char *what, double *out, hpt_error_t *error);

/* A string; *out is borrowed from `object`. */
int hpt_json_member_string(const json_t *object, const char *key,
                           const char *what, const char **out,
                           hpt_error_t *error);

/* true or false. */
int hpt_json_member_bool(const json_t *object, const char *key,
                         const char *what, bool *out, hpt_error_t *error);

#endif
