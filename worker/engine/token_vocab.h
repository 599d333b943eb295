/* token_vocab.h — the pieces both tokenizers share: a string -> id map
 * (vocabularies, BPE merge ranks), the "added tokens" matched verbatim in
 * raw text before any normalisation ([CLS], <mask>, ...), and the Unicode
 * White_Space test the Hugging Face tokenizers use (Rust's
 * char::is_whitespace).
 *
 * A map or token set is built single-threaded, then read-only: any number
 * of threads may look up at once.
 */
#ifndef HPT_TOKEN_VOCAB_H
#define HPT_TOKEN_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Open-addressing hash map from byte strings to int32 values; it owns
 * copies of its keys. Keys may hold any bytes, NUL included. */
typedef struct hpt_token_vocab hpt_token_vocab_t;

/* An empty map. On success *out is owned by the caller (destroy with
 * hpt_token_vocab_destroy); on failure NULL and HPT_ENOMEM. */
int hpt_token_vocab_new(hpt_token_vocab_t **out, hpt_error_t *error);

/* Frees the map and sets *vocab to NULL. Accepts NULL. Cannot fail. */
void hpt_token_vocab_destroy(hpt_token_vocab_t **vocab);

/* Maps key[0..len) to `value`, replacing an existing value (as Python's
 * dict does when a vocab lists a token twice). Returns 0, or HPT_ENOMEM
 * with the map unchanged. */
int hpt_token_vocab_put(hpt_token_vocab_t *vocab, const char *key, size_t len,
                        int32_t value, hpt_error_t *error);

/* The value of key[0..len), or -1 when absent. Cannot fail. */
int32_t hpt_token_vocab_get(const hpt_token_vocab_t *vocab, const char *key,
                            size_t len);

/* Number of keys. Cannot fail. */
size_t hpt_token_vocab_count(const hpt_token_vocab_t *vocab);

/* One added token, matched verbatim in raw text. */
typedef struct hpt_token_special {
  const char *content; /* borrowed; NUL-terminated, non-empty */
  int32_t id;
  bool lstrip; /* the match absorbs White_Space on its left */
  bool rstrip; /* ... and on its right */
} hpt_token_special_t;

/* Finds the next added token in text[from..len) the way tokenizers'
 * AddedVocabulary does: leftmost match, longest at that position; then
 * lstrip/rstrip widen it over White_Space, never left of `floor` (the end
 * of the previous match). Returns true and sets *begin, *end (the widened
 * span) and *id, or false when none occurs. Cannot fail. */
bool hpt_token_specials_next(const hpt_token_special_t *specials,
                             size_t n_specials, const char *text, size_t len,
                             size_t from, size_t floor, size_t *begin,
                             size_t *end, int32_t *id);

/* Unicode White_Space (Rust char::is_whitespace). Cannot fail. */
bool hpt_token_is_white_space(uint32_t cp);

/* Checks that text[0..len) is valid UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). Returns 0, or HPT_EPARSE with the byte
 * offset of the first bad sequence; `what` prefixes the message. */
int hpt_token_check_utf8(const char *text, size_t len, const char *what,
                         hpt_error_t *error);

/* Reads the whole file at `path` (at most max_bytes) into *out, a new
 * NUL-terminated buffer the caller owns (free()), its size in *len. On
 * failure *out is NULL and HPT_ENOTFOUND, HPT_EIO (unreadable, not a
 * regular file, too large) or HPT_ENOMEM is returned. */
int hpt_token_read_file(const char *path, size_t max_bytes, char **out,
                        size_t *len, hpt_error_t *error);

#endif
