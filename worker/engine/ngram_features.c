/* ngram_features.c — see ngram_features.h. */
#include "ngram_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_clean.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define SEED_WORD (FNV_OFFSET ^ 0x776f7264ULL) /* "word" */
#define SEED_CHAR (FNV_OFFSET ^ 0x63686172ULL) /* "char" */

struct hpt_ngram_vocab {
  hpt_ngram_config_t config;
  size_t n_features;
  uint32_t *bucket; /* n_features, ascending: feature -> bucket */
  float *idf;       /* n_features (all 1 when config.idf is off) */
};

void hpt_ngram_config_default(hpt_ngram_config_t *config) {
  config->word_min = 1;
  config->word_max = 2;
  config->char_min = 2;
  config->char_max = 5;
  config->hash_bits = 20;
  config->signed_hash = false;
  config->sublinear_tf = true;
  config->idf = true;
}

static bool range_ok(int lo, int hi) {
  return (lo == 0 && hi == 0) || (lo >= 1 && lo <= hi && hi <= HPT_NGRAM_MAX_N);
}

int hpt_ngram_config_check(const hpt_ngram_config_t *config,
                           hpt_error_t *error) {
  if (!range_ok(config->word_min, config->word_max))
    return HPT_ERR(error, HPT_EINVAL,
                   "word n-gram range %d-%d is invalid (1 <= min <= max <= %d)",
                   config->word_min, config->word_max, HPT_NGRAM_MAX_N);
  if (!range_ok(config->char_min, config->char_max))
    return HPT_ERR(error, HPT_EINVAL,
                   "char n-gram range %d-%d is invalid (1 <= min <= max <= %d)",
                   config->char_min, config->char_max, HPT_NGRAM_MAX_N);
  if (config->word_max == 0 && config->char_max == 0)
    return HPT_ERR(error, HPT_EINVAL,
                   "word and char n-grams are both disabled");
  if (config->hash_bits < HPT_NGRAM_MIN_HASH_BITS ||
      config->hash_bits > HPT_NGRAM_MAX_HASH_BITS)
    return HPT_ERR(error, HPT_EINVAL, "hash_bits %d is not in %d..%d",
                   config->hash_bits, HPT_NGRAM_MIN_HASH_BITS,
                   HPT_NGRAM_MAX_HASH_BITS);
  return 0;
}

void hpt_ngram_terms_init(hpt_ngram_terms_t *terms) {
  memset(terms, 0, sizeof *terms);
}

void hpt_ngram_terms_close(hpt_ngram_terms_t *terms) {
  if (terms == NULL)
    return;
  free(terms->index);
  free(terms->value);
  memset(terms, 0, sizeof *terms);
}

static int terms_reserve(hpt_ngram_terms_t *terms, size_t need,
                         hpt_error_t *error) {
  if (need <= terms->capacity)
    return 0;
  size_t cap = terms->capacity ? terms->capacity : 256;
  while (cap < need)
    cap *= 2;
  uint32_t *index = realloc(terms->index, cap * sizeof *index);
  if (index != NULL)
    terms->index = index;
  float *value = realloc(terms->value, cap * sizeof *value);
  if (value != NULL)
    terms->value = value;
  if (index == NULL || value == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
  terms->capacity = cap;
  return 0;
}

static inline uint64_t fnv_bytes(uint64_t h, const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= FNV_PRIME;
  }
  return h;
}

/* murmur3's fmix64: FNV's low bits are weak on short keys. */
static inline uint64_t finalize(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

/* Hashed n-grams before merging: key = bucket << 1 | negative. */
typedef struct raw_terms {
  uint64_t *key;
  size_t count, capacity;
} raw_terms_t;

static int raw_push(raw_terms_t *raw, uint64_t h, const hpt_ngram_config_t *c,
                    hpt_error_t *error) {
  if (raw->count == raw->capacity) {
    size_t cap = raw->capacity ? 2 * raw->capacity : 512;
    uint64_t *key = realloc(raw->key, cap * sizeof *key);
    if (key == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
    raw->key = key;
    raw->capacity = cap;
  }
  h = finalize(h);
  uint64_t bucket = h & ((1ULL << c->hash_bits) - 1);
  uint64_t negative = c->signed_hash ? h >> 63 : 0;
  raw->key[raw->count++] = bucket << 1 | negative;
  return 0;
}

static bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

static bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

static int word_ngrams(const hpt_ngram_config_t *c, const char *text,
                       size_t len, raw_terms_t *raw, hpt_error_t *error) {
  int rc = 0;
  /* Token i is text[start[i] .. start[i] + length[i]). */
  size_t *start = malloc((len / 2 + 1) * sizeof *start);
  size_t *length = malloc((len / 2 + 1) * sizeof *length);
  size_t n = 0;
  if (start == NULL || length == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
    goto out;
  }
  for (size_t i = 0; i < len;) {
    if (!is_word_byte((unsigned char)text[i])) {
      i++;
      continue;
    }
    start[n] = i;
    while (i < len && is_word_byte((unsigned char)text[i]))
      i++;
    length[n] = i - start[n];
    n++;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t h = SEED_WORD;
    for (int k = 0; k < c->word_max && i + (size_t)k < n; k++) {
      if (k > 0)
        h = fnv_bytes(h, " ", 1);
      h = fnv_bytes(h, text + start[i + k], length[i + k]);
      if (k + 1 >= c->word_min && (rc = raw_push(raw, h, c, error)) != 0)
        goto out;
    }
  }
out:
  free(start);
  free(length);
  return rc;
}

static size_t utf8_length(const unsigned char *s, size_t left) {
  size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
  return n <= left ? n : 1;
}

static int char_ngrams(const hpt_ngram_config_t *c, const char *text,
                       size_t len, raw_terms_t *raw, hpt_error_t *error) {
  int rc = 0;
  char *padded = malloc(len + 3);                      /* " word " */
  size_t *offset = malloc((len + 3) * sizeof *offset); /* char starts */
  if (padded == NULL || offset == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
    goto out;
  }
  for (size_t i = 0; i < len;) {
    if (is_space((unsigned char)text[i])) {
      i++;
      continue;
    }
    size_t begin = i;
    while (i < len && !is_space((unsigned char)text[i]))
      i++;
    size_t word_len = i - begin;
    padded[0] = ' ';
    memcpy(padded + 1, text + begin, word_len);
    padded[word_len + 1] = ' ';
    size_t padded_len = word_len + 2, n_chars = 0;
    for (size_t p = 0; p < padded_len;) {
      offset[n_chars++] = p;
      p += utf8_length((const unsigned char *)padded + p, padded_len - p);
    }
    offset[n_chars] = padded_len;
    for (size_t s = 0; s < n_chars; s++) {
      uint64_t h = SEED_CHAR;
      for (int k = 0; k < c->char_max && s + (size_t)k < n_chars; k++) {
        size_t from = offset[s + (size_t)k], to = offset[s + (size_t)k + 1];
        h = fnv_bytes(h, padded + from, to - from);
        if (k + 1 >= c->char_min && (rc = raw_push(raw, h, c, error)) != 0)
          goto out;
      }
    }
  }
out:
  free(padded);
  free(offset);
  return rc;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

int hpt_ngram_hash_text(const hpt_ngram_config_t *config, const char *text,
                        hpt_ngram_terms_t *terms, hpt_error_t *error) {
  char *clean = NULL;
  raw_terms_t raw = {0};
  terms->count = 0;
  int rc = hpt_text_clean(text, &clean, error);
  if (rc != 0)
    return rc;
  size_t len = strlen(clean);
  for (size_t i = 0; i < len; i++)
    if (clean[i] >= 'A' && clean[i] <= 'Z')
      clean[i] = (char)(clean[i] - 'A' + 'a');

  if (config->word_max > 0 &&
      (rc = word_ngrams(config, clean, len, &raw, error)) != 0)
    goto out;
  if (config->char_max > 0 &&
      (rc = char_ngrams(config, clean, len, &raw, error)) != 0)
    goto out;
  if (raw.count > 0) /* raw.key is NULL when the text gave no n-gram */
    qsort(raw.key, raw.count, sizeof *raw.key, compare_u64);
  if ((rc = terms_reserve(terms, raw.count, error)) != 0)
    goto out;
  for (size_t i = 0; i < raw.count;) {
    uint32_t bucket = (uint32_t)(raw.key[i] >> 1);
    float sum = 0;
    for (; i < raw.count && (uint32_t)(raw.key[i] >> 1) == bucket; i++)
      sum += (raw.key[i] & 1) ? -1.0f : 1.0f;
    if (sum != 0) {
      terms->index[terms->count] = bucket;
      terms->value[terms->count++] = sum;
    }
  }
out:
  free(clean);
  free(raw.key);
  return rc;
}

int hpt_ngram_vocab_fit(const hpt_ngram_config_t *config,
                        const char *const *texts, size_t n_texts,
                        hpt_ngram_vocab_t **out, hpt_error_t *error) {
  hpt_ngram_terms_t terms;
  hpt_ngram_vocab_t *vocab = NULL;
  uint32_t *df = NULL;
  hpt_ngram_terms_init(&terms);
  *out = NULL;
  int rc = hpt_ngram_config_check(config, error);
  if (rc != 0)
    return rc;
  size_t n_buckets = (size_t)1 << config->hash_bits;
  vocab = calloc(1, sizeof *vocab);
  df = calloc(n_buckets, sizeof *df); /* untouched pages stay unmapped */
  if (vocab == NULL || df == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
    goto out;
  }
  vocab->config = *config;
  for (size_t t = 0; t < n_texts; t++) {
    if ((rc = hpt_ngram_hash_text(config, texts[t], &terms, error)) != 0)
      goto out;
    for (size_t i = 0; i < terms.count; i++)
      df[terms.index[i]]++;
  }
  for (size_t b = 0; b < n_buckets; b++)
    vocab->n_features += df[b] != 0;
  size_t n = vocab->n_features ? vocab->n_features : 1;
  vocab->bucket = malloc(n * sizeof *vocab->bucket);
  vocab->idf = malloc(n * sizeof *vocab->idf);
  if (vocab->bucket == NULL || vocab->idf == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
    goto out;
  }
  size_t f = 0;
  for (size_t b = 0; b < n_buckets; b++) {
    if (df[b] == 0)
      continue;
    vocab->bucket[f] = (uint32_t)b;
    vocab->idf[f++] =
        config->idf
            ? (float)(log((1.0 + (double)n_texts) / (1.0 + df[b])) + 1.0)
            : 1.0f;
  }
out:
  free(df);
  hpt_ngram_terms_close(&terms);
  if (rc != 0)
    hpt_ngram_vocab_destroy(&vocab);
  *out = vocab;
  return rc;
}

size_t hpt_ngram_vocab_size(const hpt_ngram_vocab_t *vocab) {
  return vocab->n_features;
}

const hpt_ngram_config_t *
hpt_ngram_vocab_config(const hpt_ngram_vocab_t *vocab) {
  return &vocab->config;
}

/* Feature of `bucket`, or -1 when the training texts never produced it. */
static long find_feature(const hpt_ngram_vocab_t *vocab, uint32_t bucket) {
  size_t lo = 0, hi = vocab->n_features;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (vocab->bucket[mid] < bucket)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < vocab->n_features && vocab->bucket[lo] == bucket ? (long)lo : -1;
}

int hpt_ngram_vocab_vectorize(const hpt_ngram_vocab_t *vocab, const char *text,
                              hpt_ngram_terms_t *terms, hpt_error_t *error) {
  int rc = hpt_ngram_hash_text(&vocab->config, text, terms, error);
  if (rc != 0)
    return rc;
  /* Buckets ascend, and so do their features: compact in place. */
  size_t kept = 0;
  double norm = 0;
  for (size_t i = 0; i < terms->count; i++) {
    long feature = find_feature(vocab, terms->index[i]);
    if (feature < 0)
      continue;
    double v = terms->value[i];
    if (vocab->config.sublinear_tf)
      v = v > 0 ? 1.0 + log(v) : -(1.0 + log(-v));
    v *= vocab->idf[feature];
    terms->index[kept] = (uint32_t)feature;
    terms->value[kept++] = (float)v;
    norm += v * v;
  }
  terms->count = kept;
  if (norm > 0) {
    float scale = (float)(1.0 / sqrt(norm));
    for (size_t i = 0; i < kept; i++)
      terms->value[i] *= scale;
  }
  return 0;
}

int hpt_ngram_vocab_transform(const hpt_ngram_vocab_t *vocab,
                              const char *const *texts, size_t n_texts,
                              hpt_ngram_matrix_t *matrix, hpt_error_t *error) {
  hpt_ngram_terms_t terms;
  size_t capacity = 0;
  int rc = 0;
  hpt_ngram_terms_init(&terms);
  memset(matrix, 0, sizeof *matrix);
  matrix->n_cols = vocab->n_features;
  matrix->row_start = malloc((n_texts + 1) * sizeof *matrix->row_start);
  if (matrix->row_start == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
    goto out;
  }
  matrix->row_start[0] = 0;
  for (size_t t = 0; t < n_texts; t++) {
    if ((rc = hpt_ngram_vocab_vectorize(vocab, texts[t], &terms, error)) != 0)
      goto out;
    size_t used = matrix->row_start[t];
    if (used + terms.count > capacity) {
      size_t cap = capacity ? capacity : 4096;
      while (cap < used + terms.count)
        cap *= 2;
      uint32_t *col = realloc(matrix->col, cap * sizeof *col);
      if (col != NULL)
        matrix->col = col;
      float *value = realloc(matrix->value, cap * sizeof *value);
      if (value != NULL)
        matrix->value = value;
      if (col == NULL || value == NULL) {
        rc = HPT_ERR(error, HPT_ENOMEM, "ngram: out of memory");
        goto out;
      }
      capacity = cap;
    }
    if (terms.count > 0) {
      memcpy(matrix->col + used, terms.index, terms.count * sizeof(uint32_t));
      memcpy(matrix->value + used, terms.value, terms.count * sizeof(float));
    }
    matrix->row_start[t + 1] = used + terms.count;
    matrix->n_rows = t + 1;
  }
out:
  hpt_ngram_terms_close(&terms);
  if (rc != 0)
    hpt_ngram_matrix_close(matrix);
  return rc;
}

void hpt_ngram_vocab_destroy(hpt_ngram_vocab_t **vocab) {
  if (vocab == NULL || *vocab == NULL)
    return;
  free((*vocab)->bucket);
  free((*vocab)->idf);
  free(*vocab);
  *vocab = NULL;
}

void hpt_ngram_matrix_close(hpt_ngram_matrix_t *matrix) {
  if (matrix == NULL)
    return;
  free(matrix->row_start);
  free(matrix->col);
  free(matrix->value);
  memset(matrix, 0, sizeof *matrix);
}

void hpt_ngram_vocab_parts(const hpt_ngram_vocab_t *vocab,
                           hpt_ngram_config_t *config, size_t *n_features,
                           const uint32_t **bucket, const float **idf) {
  *config = vocab->config;
  *n_features = vocab->n_features;
  *bucket = vocab->bucket;
  *idf = vocab->idf;
}

int hpt_ngram_vocab_from_parts(const hpt_ngram_config_t *config,
                               size_t n_features, const uint32_t *bucket,
                               const float *idf, hpt_ngram_vocab_t **out,
                               hpt_error_t *error) {
  *out = NULL;
  int rc = hpt_ngram_config_check(config, error);
  if (rc != HPT_OK)
    return rc;
  uint64_t limit = (uint64_t)1 << config->hash_bits;
  if (n_features > limit)
    return HPT_ERR(error, HPT_EPARSE,
                   "n-gram vocabulary: %zu features for %d hash bits",
                   n_features, config->hash_bits);
  /* fit writes idf = ln((1 + n) / (1 + df)) + 1 >= 1 (or 1): a weight
   * below 1 (a subnormal one makes 1 / norm overflow) or beyond any corpus
   * would score text as NaN. */
  for (size_t i = 0; i < n_features; i++)
    if (bucket[i] >= limit || (i > 0 && bucket[i] <= bucket[i - 1]) ||
        !(idf[i] >= 1.0f && idf[i] <= 1e6f))
      return HPT_ERR(error, HPT_EPARSE,
                     "n-gram vocabulary: feature %zu is out of order, out of "
                     "range or not finite",
                     i);
  hpt_ngram_vocab_t *vocab = calloc(1, sizeof *vocab);
  if (vocab == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  vocab->config = *config;
  vocab->n_features = n_features;
  vocab->bucket = malloc((n_features ? n_features : 1) * sizeof *bucket);
  vocab->idf = malloc((n_features ? n_features : 1) * sizeof *idf);
  if (vocab->bucket == NULL || vocab->idf == NULL) {
    hpt_ngram_vocab_destroy(&vocab);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  memcpy(vocab->bucket, bucket, n_features * sizeof *bucket);
  memcpy(vocab->idf, idf, n_features * sizeof *idf);
  *out = vocab;
  return HPT_OK;
}
