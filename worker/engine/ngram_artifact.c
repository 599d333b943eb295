/* ngram_artifact.c — see ngram_artifact.h for the format. */
#include "ngram_artifact.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "HPTNGRAM"
#define VERSION 1u

static void put(FILE *out, const void *bytes, size_t size) {
  fwrite(bytes, 1, size, out); /* errors are checked once, at fclose */
}

static void put_u32(FILE *out, uint32_t value) {
  uint8_t b[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                  (uint8_t)(value >> 24)};
  put(out, b, 4);
}

static void put_u64(FILE *out, uint64_t value) {
  put_u32(out, (uint32_t)value);
  put_u32(out, (uint32_t)(value >> 32));
}

static void put_f32(FILE *out, float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  put_u32(out, bits);
}

int hpt_ngram_artifact_save(const char *path, const hpt_ngram_vocab_t *vocab,
                            const hpt_ngram_model_t *model,
                            hpt_error_t *error) {
  hpt_ngram_config_t config;
  size_t n_features, n_weights;
  const uint32_t *bucket;
  const float *idf, *weight;
  double bias;
  hpt_ngram_vocab_parts(vocab, &config, &n_features, &bucket, &idf);
  hpt_ngram_model_parts(model, &n_weights, &weight, &bias);
  if (n_weights != n_features)
    return HPT_ERR(error, HPT_EINVAL,
                   "n-gram artifact: %zu weights for %zu features", n_weights,
                   n_features);
  FILE *out = fopen(path, "wb");
  if (out == NULL)
    return HPT_ERR(error, HPT_EIO, "%s: cannot write: %s", path,
                   strerror(errno));
  put(out, MAGIC, 8);
  put_u32(out, VERSION);
  int32_t fields[8] = {config.word_min,     config.word_max,
                       config.char_min,     config.char_max,
                       config.hash_bits,    config.signed_hash,
                       config.sublinear_tf, config.idf};
  for (int i = 0; i < 8; i++)
    put_u32(out, (uint32_t)fields[i]);
  put_u64(out, n_features);
  for (size_t i = 0; i < n_features; i++)
    put_u32(out, bucket[i]);
  for (size_t i = 0; i < n_features; i++)
    put_f32(out, idf[i]);
  for (size_t i = 0; i < n_features; i++)
    put_f32(out, weight[i]);
  uint64_t bias_bits;
  memcpy(&bias_bits, &bias, 8);
  put_u64(out, bias_bits);
  if (ferror(out) | (fclose(out) != 0))
    return HPT_ERR(error, HPT_EIO, "%s: write failed", path);
  return HPT_OK;
}

/* A bounds-checked reader over the artifact's bytes. */
typedef struct reader {
  const uint8_t *bytes;
  size_t length, at;
  bool short_read;
} reader_t;

static const uint8_t *take(reader_t *r, size_t size) {
  if (r->short_read || size > r->length - r->at) {
    r->short_read = true;
    return NULL;
  }
  const uint8_t *p = r->bytes + r->at;
  r->at += size;
  return p;
}

static uint32_t get_u32(reader_t *r) {
  const uint8_t *b = take(r, 4);
  return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                 (uint32_t)b[3] << 24
           : 0;
}

static uint64_t get_u64(reader_t *r) {
  uint64_t low = get_u32(r);
  return low | (uint64_t)get_u32(r) << 32;
}

int hpt_ngram_artifact_parse(const uint8_t *bytes, size_t length,
                             hpt_ngram_vocab_t **vocab,
                             hpt_ngram_model_t **model, hpt_error_t *error) {
  *vocab = NULL;
  *model = NULL;
  reader_t r = {.bytes = bytes, .length = length};
  const uint8_t *magic = take(&r, 8);
  if (magic == NULL || memcmp(magic, MAGIC, 8) != 0)
    return HPT_ERR(error, HPT_EPARSE, "not an hpt n-gram artifact");
  uint32_t version = get_u32(&r);
  if (version != VERSION)
    return HPT_ERR(error, HPT_EPARSE,
                   "n-gram artifact version %u (this build reads %u)", version,
                   VERSION);
  int32_t fields[8];
  for (int i = 0; i < 8; i++)
    fields[i] = (int32_t)get_u32(&r);
  uint64_t n = get_u64(&r);
  /* The rest must be exactly n x (4 + 4 + 4) + 8 bytes. */
  if (r.short_read || n > (length - r.at) / 12 || length - r.at != n * 12 + 8)
    return HPT_ERR(error, HPT_EPARSE,
                   "n-gram artifact: %llu features do not fit its %zu bytes",
                   (unsigned long long)n, length);
  hpt_ngram_config_t config = {
      .word_min = fields[0],
      .word_max = fields[1],
      .char_min = fields[2],
      .char_max = fields[3],
      .hash_bits = fields[4],
      .signed_hash = fields[5] != 0,
      .sublinear_tf = fields[6] != 0,
      .idf = fields[7] != 0,
  };
  uint32_t *bucket = malloc((n ? n : 1) * sizeof *bucket);
  float *idf = malloc((n ? n : 1) * sizeof *idf);
  float *weight = malloc((n ? n : 1) * sizeof *weight);
  int rc = HPT_OK;
  if (bucket == NULL || idf == NULL || weight == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  for (uint64_t i = 0; i < n; i++)
    bucket[i] = get_u32(&r);
  for (uint64_t i = 0; i < n; i++) {
    uint32_t bits = get_u32(&r);
    memcpy(&idf[i], &bits, 4);
  }
  for (uint64_t i = 0; i < n; i++) {
    uint32_t bits = get_u32(&r);
    memcpy(&weight[i], &bits, 4);
  }
  uint64_t bias_bits = get_u64(&r);
  double bias;
  memcpy(&bias, &bias_bits, 8);
  if ((rc = hpt_ngram_vocab_from_parts(&config, n, bucket, idf, vocab, error)) <
          0 ||
      (rc = hpt_ngram_model_from_parts(n, weight, bias, model, error)) < 0) {
    hpt_ngram_vocab_destroy(vocab);
    hpt_error_prefix(error, "n-gram artifact");
  }
out:
  free(bucket);
  free(idf);
  free(weight);
  return rc;
}

int hpt_ngram_artifact_load(const char *path, hpt_ngram_vocab_t **vocab,
                            hpt_ngram_model_t **model, hpt_error_t *error) {
  *vocab = NULL;
  *model = NULL;
  FILE *in = fopen(path, "rb");
  if (in == NULL)
    return HPT_ERR(error, errno == ENOENT ? HPT_ENOTFOUND : HPT_EIO,
                   "%s: cannot open: %s", path, strerror(errno));
  uint8_t *bytes = NULL;
  size_t length = 0, capacity = 0;
  int rc = HPT_OK;
  for (;;) {
    if (length == capacity) {
      capacity = capacity ? capacity * 2 : 65536;
      uint8_t *grown = realloc(bytes, capacity);
      if (grown == NULL) {
        rc = HPT_ERR(error, HPT_ENOMEM, "out of memory reading %s", path);
        goto out;
      }
      bytes = grown;
    }
    size_t n = fread(bytes + length, 1, capacity - length, in);
    length += n;
    if (n == 0)
      break;
  }
  if (ferror(in)) {
    rc = HPT_ERR(error, HPT_EIO, "%s: read failed", path);
    goto out;
  }
  rc = hpt_ngram_artifact_parse(bytes, length, vocab, model, error);
  if (rc < 0)
    hpt_error_prefix(error, "%s", path);
out:
  fclose(in);
  free(bytes);
  return rc;
}
