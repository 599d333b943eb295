/* test_safetensors.c — the safetensors reader
 * (worker/engine/safetensors.c): a small file with known F32/F16/BF16/I64
 * tensors, every kind of corruption (each a clear error, never a crash),
 * random mutations, and the real all-MiniLM-L6-v2 checkpoint when
 * ./ops/fetch-models has fetched it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"

typedef struct {
  unsigned char *bytes;
  size_t size;
} file_t;

/* 8-byte length + header (space-padded to a multiple of 8) + data. */
static file_t build(const char *header, const void *data, size_t data_len) {
  size_t n = strlen(header), padded = (n + 7) / 8 * 8;
  file_t f = {malloc(8 + padded + data_len + 1), 8 + padded + data_len};
  cr_assert_not_null(f.bytes);
  for (int i = 0; i < 8; i++)
    f.bytes[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  memcpy(f.bytes + 8, header, n);
  memset(f.bytes + 8 + n, ' ', padded - n);
  if (data_len > 0)
    memcpy(f.bytes + 8 + padded, data, data_len);
  return f;
}

/* F32 "a" [2,2] @0, F16 "h" [8] @16, BF16 "b" [3] @32, I64 "s" [] @38,
 * F32 "e" [0,3] @46 (empty), metadata. 46 data bytes. */
static const char GOOD_HEADER[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"h\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[16,32]},"
    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
    "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[32,38]},"
    "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[38,46]},"
    "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[46,46]}}";
static const uint16_t HALF[8] = {0x3C00, 0x0001, 0x03FF, 0x7C00,
                                 0xFC00, 0x7E00, 0x8000, 0x7BFF};
static const uint16_t BF16[3] = {0x3F80, 0xC000, 0x7F80};

static file_t good_file(void) {
  unsigned char data[46];
  float a[4] = {1.5f, -2.0f, 0.25f, 3e38f};
  memcpy(data, a, 16);
  memcpy(data + 16, HALF, 16);
  memcpy(data + 32, BF16, 6);
  int64_t s = -7;
  memcpy(data + 38, &s, 8);
  return build(GOOD_HEADER, data, sizeof data);
}

Test(safetensors, reads_known_tensors) {
  file_t f = good_file();
  hpt_safetensors_t *st = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(
      hpt_safetensors_open_buffer(f.bytes, f.size, "good", &st, &error), 0,
      "%s", error.message);
  cr_expect_eq(hpt_safetensors_count(st), 5);
  const char *order[] = {"a", "h", "b", "s", "e"}; /* by data offset */
  for (size_t i = 0; i < 5; i++)
    cr_expect_str_eq(hpt_safetensors_at(st, i)->name, order[i]);
  cr_expect_null(hpt_safetensors_at(st, 5));
  cr_expect_null(hpt_safetensors_find(st, "missing"));
  cr_expect_null(hpt_safetensors_find(st, "__metadata__"));
  cr_expect_str_eq(hpt_safetensors_metadata(st, "format"), "pt");
  cr_expect_null(hpt_safetensors_metadata(st, "other"));

  const hpt_safetensors_tensor_t *a = hpt_safetensors_find(st, "a");
  cr_assert_not_null(a);
  cr_expect_eq(a->dtype, HPT_SAFETENSORS_F32);
  cr_expect_eq(a->rank, 2);
  cr_expect_eq(a->shape[0], 2);
  cr_expect_eq(a->shape[1], 2);
  cr_expect_eq(a->n_elements, 4);
  cr_expect_eq(a->nbytes, 16);
  float out[8];
  cr_assert_eq(hpt_safetensors_to_f32(a, out, 4, &error), 0);
  cr_expect_eq(out[0], 1.5f);
  cr_expect_eq(out[3], 3e38f);

  const hpt_safetensors_tensor_t *h = hpt_safetensors_find(st, "h");
  cr_assert_eq(hpt_safetensors_to_f32(h, out, 8, &error), 0);
  cr_expect_eq(out[0], 1.0f);
  cr_expect_eq(out[1], 0x1p-24f);        /* smallest subnormal */
  cr_expect_eq(out[2], 1023 * 0x1p-24f); /* largest subnormal */
  cr_expect(isinf(out[3]) && out[3] > 0);
  cr_expect(isinf(out[4]) && out[4] < 0);
  cr_expect(isnan(out[5]));
  cr_expect(out[6] == 0 && signbit(out[6])); /* -0 */
  cr_expect_eq(out[7], 65504.0f);            /* largest normal */

  const hpt_safetensors_tensor_t *b = hpt_safetensors_find(st, "b");
  cr_assert_eq(hpt_safetensors_to_f32(b, out, 3, &error), 0);
  cr_expect_eq(out[0], 1.0f);
  cr_expect_eq(out[1], -2.0f);
  cr_expect(isinf(out[2]));

  const hpt_safetensors_tensor_t *s = hpt_safetensors_find(st, "s");
  cr_expect_eq(s->rank, 0);
  cr_expect_eq(s->n_elements, 1);
  int64_t v;
  memcpy(&v, s->data, 8); /* unaligned-safe read */
  cr_expect_eq(v, -7);
  cr_expect_eq(hpt_safetensors_to_f32(s, out, 1, &error), HPT_EUNSUPPORTED);
  cr_expect_eq(hpt_safetensors_to_f32(a, out, 3, &error), HPT_EINVAL);

  const hpt_safetensors_tensor_t *e = hpt_safetensors_find(st, "e");
  cr_expect_eq(e->n_elements, 0);
  cr_expect_eq(e->nbytes, 0);
  cr_expect_eq(hpt_safetensors_to_f32(e, out, 0, &error), 0);
  hpt_safetensors_close(&st);
  cr_expect_null(st);
  hpt_safetensors_close(&st);
  free(f.bytes);
}

Test(safetensors, half_decoder_is_exact_for_every_value) {
  for (uint32_t bits = 0; bits < 0x10000; bits++) {
    float f = hpt_f16_to_f32((uint16_t)bits);
    int exponent = (bits >> 10) & 31, mantissa = bits & 1023;
    double want = exponent == 0    ? ldexp(mantissa, -24)
                  : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                   : ldexp(1024 + mantissa, exponent - 25);
    if (bits & 0x8000)
      want = -want;
    if (isnan(want))
      cr_assert(isnan(f), "bits 0x%04x", bits);
    else
      cr_assert(f == (float)want && !!signbit(f) == !!(bits & 0x8000),
                "bits 0x%04x: %g, want %g", bits, f, want);
  }
  cr_expect_eq(hpt_bf16_to_f32(0x4049), 3.140625f);
}

Test(safetensors, open_from_a_file_and_errors_about_files) {
  char path[] = "/tmp/hpt-st-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  file_t f = good_file();
  cr_assert_eq(write(fd, f.bytes, f.size), (ssize_t)f.size);
  close(fd);
  hpt_safetensors_t *st = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_safetensors_open(path, &st, &error), 0, "%s", error.message);
  cr_expect_eq(hpt_safetensors_count(st), 5);
  hpt_safetensors_close(&st);
  cr_assert_eq(truncate(path, 5), 0);
  cr_expect_eq(hpt_safetensors_open(path, &st, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "too short") != NULL, "%s", error.message);
  cr_expect_null(st);
  cr_assert_eq(truncate(path, 0), 0);
  cr_expect_eq(hpt_safetensors_open(path, &st, &error), HPT_EPARSE);
  unlink(path);
  cr_expect_eq(hpt_safetensors_open(path, &st, &error), HPT_ENOTFOUND);
  cr_expect_eq(hpt_safetensors_open("/tmp", &st, &error), HPT_EIO);
  free(f.bytes);
}

/* Opens header + data_len zero bytes and expects `code` and `needle`. */
static void expect_bad(const char *header, size_t data_len, int code,
                       const char *needle) {
  unsigned char *data = calloc(1, data_len + 1);
  file_t f = build(header, data, data_len);
  hpt_safetensors_t *st = NULL;
  hpt_error_t error = {0};
  int rc = hpt_safetensors_open_buffer(f.bytes, f.size, "bad", &st, &error);
  cr_expect_eq(rc, code, "%s: rc %d (%s), want %d", header, rc, error.message,
               code);
  cr_expect(strstr(error.message, needle) != NULL,
            "%s: message '%s' lacks '%s'", header, error.message, needle);
  cr_expect_null(st);
  hpt_safetensors_close(&st);
  free(f.bytes);
  free(data);
}

#define T(name, rest) "{\"" name "\":{" rest "}}"

Test(safetensors, every_corruption_is_a_clear_error) {
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
             4, HPT_EPARSE, "bad:");                  /* bad JSON */
  expect_bad("[1]", 0, HPT_EPARSE, "start with '{'"); /* not an object */
  expect_bad(" {}", 0, HPT_EPARSE, "start with '{'");
  expect_bad("{\"a\xff\":1}", 0, HPT_EPARSE, "bad"); /* invalid UTF-8 */
  expect_bad("{\"a\":1} x", 0, HPT_EPARSE, "bad");   /* trailing junk */
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
             4, HPT_EPARSE, "duplicate");
  expect_bad(T("a", "\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]"),
             4, HPT_EUNSUPPORTED, "unknown dtype 'F17'");
  expect_bad(T("a", "\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]"), 4,
             HPT_EPARSE, "'dtype'");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]"),
             8, HPT_EPARSE, "need 12 bytes"); /* size lie */
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"),
             4, HPT_EPARSE, "run past the data buffer"); /* out of range */
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]"),
             8, HPT_EPARSE, "0 <= begin <= end");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"),
             8, HPT_EPARSE, "0 <= begin <= end");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), 4,
             HPT_EPARSE, "[begin, end]");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"),
             4, HPT_EPARSE, "shape[0]");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]"),
             4, HPT_EPARSE, "shape[0]");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]"), 4,
             HPT_EPARSE, "'shape'");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                    "\"data_offsets\":[0,4]"),
             4, HPT_EUNSUPPORTED, "rank 9");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
                    "\"data_offsets\":[0,4]"),
             4, HPT_EPARSE, "overflow");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,"
                    "99999999999999999999]"),
             4, HPT_EPARSE, "bad"); /* integer beyond int64 */
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
                    "\"extra\":1"),
             4, HPT_EPARSE, "unexpected key 'extra'");
  expect_bad("{\"a\":[]}", 0, HPT_EPARSE, "not an object");
  expect_bad("{\"__metadata__\":{\"k\":1}}", 0, HPT_EPARSE, "not a string");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
             6, HPT_EPARSE, "overlaps");
  expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
             12, HPT_EPARSE, "hole before 'b'");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]"),
             8, HPT_EPARSE, "hole before 'a'");
  expect_bad(T("a", "\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"),
             9, HPT_EPARSE, "5 bytes after the last tensor");
  expect_bad("{}", 1, HPT_EPARSE, "1 bytes after");
}

Test(safetensors, header_length_lies) {
  hpt_safetensors_t *st = NULL;
  hpt_error_t error = {0};
  unsigned char short_file[7] = {0};
  cr_expect_eq(hpt_safetensors_open_buffer(short_file, 7, "f", &st, &error),
               HPT_EPARSE);
  cr_expect_eq(hpt_safetensors_open_buffer(NULL, 0, "f", &st, &error),
               HPT_EPARSE);
  file_t f = good_file();
  uint64_t lies[] = {0,          f.size - 7, f.size,
                     UINT64_MAX, 1ull << 63, HPT_SAFETENSORS_MAX_HEADER + 1ull};
  const char *needles[] = {"start with '{'",  "runs past",
                           "runs past",       "above the limit",
                           "above the limit", "above the limit"};
  for (size_t i = 0; i < sizeof lies / sizeof *lies; i++) {
    for (int b = 0; b < 8; b++)
      f.bytes[b] = (unsigned char)(lies[i] >> (8 * b));
    cr_expect_eq(hpt_safetensors_open_buffer(f.bytes, f.size, "f", &st, &error),
                 HPT_EPARSE, "lie %zu", i);
    cr_expect(strstr(error.message, needles[i]) != NULL, "lie %zu: %s", i,
              error.message);
  }
  /* A length that cuts the JSON short. */
  uint64_t n = 20;
  for (int b = 0; b < 8; b++)
    f.bytes[b] = (unsigned char)(n >> (8 * b));
  cr_expect_eq(hpt_safetensors_open_buffer(f.bytes, f.size, "f", &st, &error),
               HPT_EPARSE);
  free(f.bytes);
}

Test(safetensors, random_mutations_never_crash) {
  file_t good = good_file();
  unsigned char *copy = malloc(good.size);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  size_t n_ok = 0;
  for (int iter = 0; iter < 20000; iter++) {
    memcpy(copy, good.bytes, good.size);
    size_t size = good.size;
    int edits = 1 + iter % 4;
    for (int e = 0; e < edits; e++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      uint64_t r = state >> 17;
      if (r % 5 == 0)
        size = (size_t)(r >> 8) % (good.size + 1); /* truncate */
      else if (size > 0)
        copy[(r >> 8) % size] = (unsigned char)(r >> 40); /* overwrite */
    }
    hpt_safetensors_t *st = NULL;
    int rc = hpt_safetensors_open_buffer(copy, size, "fuzz", &st, NULL);
    cr_assert(rc == 0 || (rc < 0 && st == NULL));
    if (rc == 0) {
      n_ok++;
      for (size_t i = 0; i < hpt_safetensors_count(st); i++) {
        const hpt_safetensors_tensor_t *t = hpt_safetensors_at(st, i);
        cr_assert((const unsigned char *)t->data + t->nbytes <= copy + size);
      }
    }
    hpt_safetensors_close(&st);
  }
  for (size_t size = 0; size < good.size; size++) {
    hpt_safetensors_t *st = NULL;
    cr_expect_neq(
        hpt_safetensors_open_buffer(good.bytes, size, "cut", &st, NULL), 0,
        "truncated to %zu bytes", size);
  }
  cr_log_info("%zu of 20000 mutants still valid", n_ok);
  free(copy);
  free(good.bytes);
}

Test(safetensors, minilm_checkpoint) {
  const char *src = getenv("HPT_SOURCE_DIR");
  cr_assert_not_null(src, "HPT_SOURCE_DIR not set");
  char path[4096];
  snprintf(path, sizeof path, "%s/models/all-MiniLM-L6-v2/model.safetensors",
           src);
  if (access(path, R_OK) != 0)
    cr_skip_test("models/all-MiniLM-L6-v2 absent: run ./ops/fetch-models");
  hpt_safetensors_t *st = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_safetensors_open(path, &st, &error), 0, "%s", error.message);
  cr_expect_eq(hpt_safetensors_count(st), 104);
  cr_expect_str_eq(hpt_safetensors_metadata(st, "format"), "pt");
  const hpt_safetensors_tensor_t *w =
      hpt_safetensors_find(st, "embeddings.word_embeddings.weight");
  cr_assert_not_null(w);
  cr_expect_eq(w->dtype, HPT_SAFETENSORS_F32);
  cr_expect_eq(w->rank, 2);
  cr_expect_eq(w->shape[0], 30522);
  cr_expect_eq(w->shape[1], 384);
  cr_expect_eq(w->offset, 796672);
  const hpt_safetensors_tensor_t *b =
      hpt_safetensors_find(st, "encoder.layer.5.output.LayerNorm.bias");
  cr_assert_not_null(b);
  float bias[384];
  cr_assert_eq(hpt_safetensors_to_f32(b, bias, 384, &error), 0);
  cr_expect_float_eq(bias[0], -0.03630739822983742f, 1e-9);
  cr_expect_float_eq(bias[1], 0.06616555154323578f, 1e-9);
  cr_expect_eq(hpt_safetensors_find(st, "embeddings.position_ids")->dtype,
               HPT_SAFETENSORS_I64);
  hpt_safetensors_close(&st);
}
