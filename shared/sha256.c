/* sha256.c — see sha256.h. */
#include "sha256.h"

#include <openssl/evp.h>
#include <stdio.h>

void hpt_sha256(const void *bytes, size_t length,
                uint8_t digest[HPT_SHA256_BYTES]) {
  unsigned int size = HPT_SHA256_BYTES;
  EVP_Digest(bytes, length, digest, &size, EVP_sha256(), NULL);
}

void hpt_sha256_hex(const uint8_t digest[HPT_SHA256_BYTES],
                    char hex[HPT_SHA256_HEX]) {
  for (int i = 0; i < HPT_SHA256_BYTES; i++)
    snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}
