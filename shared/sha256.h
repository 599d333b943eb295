/* sha256.h — SHA-256 through OpenSSL's libcrypto (a well-kept library;
 * nothing hand-rolled). Used to check model artifacts end to end: the
 * worker hashes a file before it sends it, the coordinator checks the hash
 * before storing it and on every read. Cannot fail on valid input. */
#ifndef HPT_SHA256_H
#define HPT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HPT_SHA256_BYTES 32
#define HPT_SHA256_HEX (2 * HPT_SHA256_BYTES + 1)

void hpt_sha256(const void *bytes, size_t length,
                uint8_t digest[HPT_SHA256_BYTES]);

/* Lower-case hex of a digest, NUL-terminated. */
void hpt_sha256_hex(const uint8_t digest[HPT_SHA256_BYTES],
                    char hex[HPT_SHA256_HEX]);

#endif
