/* sha256.c — see sha256.h. EVP is OpenSSL 3's non-deprecated interface
 * (SHA256_Init and friends are deprecated). */
#include "sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

struct hpt_sha256_ctx {
  EVP_MD_CTX *md;
};

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

hpt_sha256_ctx_t *hpt_sha256_new(void) {
  hpt_sha256_ctx_t *ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL)
    return NULL;
  ctx->md = EVP_MD_CTX_new();
  if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx->md);
    free(ctx);
    return NULL;
  }
  return ctx;
}

void hpt_sha256_update(hpt_sha256_ctx_t *ctx, const void *bytes,
                       size_t length) {
  EVP_DigestUpdate(ctx->md, bytes, length);
}

void hpt_sha256_final(hpt_sha256_ctx_t *ctx, uint8_t digest[HPT_SHA256_BYTES]) {
  unsigned int size = HPT_SHA256_BYTES;
  EVP_DigestFinal_ex(ctx->md, digest, &size);
  EVP_DigestInit_ex(ctx->md, EVP_sha256(), NULL);
}

void hpt_sha256_destroy(hpt_sha256_ctx_t **ctx) {
  if (ctx == NULL || *ctx == NULL)
    return;
  EVP_MD_CTX_free((*ctx)->md);
  free(*ctx);
  *ctx = NULL;
}
