/* sha256.h — SHA-256 through OpenSSL's libcrypto (a well-kept library;
 * nothing hand-rolled). Used to check model artifacts end to end: the
 * worker hashes a file while it sends it, the coordinator hashes the
 * chunks as they arrive and checks the sender's hash before it records the
 * file, and every read checks the hash again.
 *
 * One-shot (hpt_sha256) or incremental (hpt_sha256_new / _update /
 * _final / _destroy) for data that never sits in memory at once. */
#ifndef HPT_SHA256_H
#define HPT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HPT_SHA256_BYTES 32
#define HPT_SHA256_HEX (2 * HPT_SHA256_BYTES + 1)

/* Cannot fail on valid input. */
void hpt_sha256(const void *bytes, size_t length,
                uint8_t digest[HPT_SHA256_BYTES]);

/* Lower-case hex of a digest, NUL-terminated. Cannot fail. */
void hpt_sha256_hex(const uint8_t digest[HPT_SHA256_BYTES],
                    char hex[HPT_SHA256_HEX]);

/* An incremental hash; opaque. */
typedef struct hpt_sha256_ctx hpt_sha256_ctx_t;

/* A fresh hash of nothing yet. NULL when out of memory. The caller owns
 * it; free with hpt_sha256_destroy. */
hpt_sha256_ctx_t *hpt_sha256_new(void);

/* Adds `length` bytes. Cannot fail on a context from hpt_sha256_new. */
void hpt_sha256_update(hpt_sha256_ctx_t *ctx, const void *bytes, size_t length);

/* The digest of everything added so far. The context is then reset to a
 * fresh hash, so it can be reused. Cannot fail. */
void hpt_sha256_final(hpt_sha256_ctx_t *ctx, uint8_t digest[HPT_SHA256_BYTES]);

/* Frees the context; sets *ctx to NULL. Accepts NULL. Cannot fail. */
void hpt_sha256_destroy(hpt_sha256_ctx_t **ctx);

#endif
