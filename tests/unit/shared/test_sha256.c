/* test_sha256.c — SHA-256 (shared/sha256.c): the FIPS 180-2 test vectors,
 * and the incremental API agrees with the one-shot one on any split. */
#include <criterion/criterion.h>
#include <string.h>

#include "sha256.h"

static void hex_of(const void *bytes, size_t length, char hex[HPT_SHA256_HEX]) {
  uint8_t digest[HPT_SHA256_BYTES];
  hpt_sha256(bytes, length, digest);
  hpt_sha256_hex(digest, hex);
}

Test(sha256, known_vectors) {
  char hex[HPT_SHA256_HEX];
  hex_of("", 0, hex);
  cr_assert_str_eq(
      hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hex_of("abc", 3, hex);
  cr_assert_str_eq(
      hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(sha256, incremental_matches_one_shot) {
  uint8_t data[10000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 131 + 7);
  uint8_t whole[HPT_SHA256_BYTES], parts[HPT_SHA256_BYTES];
  hpt_sha256(data, sizeof data, whole);
  hpt_sha256_ctx_t *ctx = hpt_sha256_new();
  cr_assert_not_null(ctx);
  size_t splits[] = {1, 63, 64, 65, 4096, 9999};
  for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
    hpt_sha256_update(ctx, data, splits[s]);
    hpt_sha256_update(ctx, data + splits[s], sizeof data - splits[s]);
    hpt_sha256_final(ctx, parts); /* also resets for the next split */
    cr_assert_eq(memcmp(whole, parts, sizeof whole), 0, "split %zu", splits[s]);
  }
  hpt_sha256_destroy(&ctx);
  cr_assert_null(ctx);
  hpt_sha256_destroy(&ctx);
}
