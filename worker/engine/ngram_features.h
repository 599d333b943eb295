/* ngram_features.h — hashed word and character n-gram features, TF-IDF
 * weighted and L2-normalised, as a sparse row matrix.
 *
 * Pipeline for one text (training and prediction alike):
 *   hpt_text_clean -> ASCII lowercase ->
 *   word n-grams: tokens are maximal runs of [a-z0-9_] or non-ASCII bytes;
 *                 n-grams of word_min..word_max consecutive tokens;
 *   char n-grams: each whitespace-separated word is padded as " word " and
 *                 cut into n-grams of char_min..char_max characters (code
 *                 points), like scikit-learn's analyzer='char_wb';
 *   each n-gram is hashed (64-bit FNV-1a + murmur finaliser, word and char
 *   n-grams in separate hash namespaces) into 2^hash_bits buckets; with
 *   signed_hash the hash's top bit chooses +1 or -1 (collisions then cancel
 *   out on average).
 *
 * A vocabulary is fitted on the training texts: the buckets that occur
 * there, numbered 0..n_features-1 in bucket order, with smoothed IDF
 * ln((1 + n) / (1 + df)) + 1. Transforming a text keeps only known buckets,
 * weighs tf (1 + ln tf with sublinear_tf) by IDF (when enabled), and
 * L2-normalises the row. Compacting the buckets keeps the model as small as
 * the training data, whatever hash_bits is.
 */
#ifndef HPT_NGRAM_FEATURES_H
#define HPT_NGRAM_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HPT_NGRAM_MAX_N 8
#define HPT_NGRAM_MIN_HASH_BITS 16
#define HPT_NGRAM_MAX_HASH_BITS 24

typedef struct hpt_ngram_config {
  int word_min, word_max; /* 1 <= min <= max <= 8; 0, 0 disables */
  int char_min, char_max; /* 1 <= min <= max <= 8; 0, 0 disables */
  int hash_bits;          /* 16..24 */
  bool signed_hash;       /* +-1 per hash instead of +1 */
  bool sublinear_tf;      /* 1 + ln(tf) instead of tf */
  bool idf;               /* weigh by the training set's smoothed IDF */
} hpt_ngram_config_t;

/* Sparse terms of one text: `count` (index, value) pairs in ascending index
 * order, no duplicates, no zero values. Caller storage: zero-initialise (or
 * hpt_ngram_terms_init), reuse across calls, release with
 * hpt_ngram_terms_close. */
typedef struct hpt_ngram_terms {
  uint32_t *index; /* bucket (raw hashing) or feature (after a vocabulary) */
  float *value;
  size_t count;
  size_t capacity; /* private */
} hpt_ngram_terms_t;

/* Compressed sparse rows: row r holds entries row_start[r] ..
 * row_start[r + 1] - 1 of col/value, cols ascending. Caller storage,
 * released with hpt_ngram_matrix_close. */
typedef struct hpt_ngram_matrix {
  size_t n_rows;
  size_t n_cols;
  size_t *row_start; /* n_rows + 1 */
  uint32_t *col;     /* row_start[n_rows] */
  float *value;      /* row_start[n_rows] */
} hpt_ngram_matrix_t;

typedef struct hpt_ngram_vocab hpt_ngram_vocab_t;

/* Word 1-2, char 2-5, 20 bits, unsigned hashing, sublinear tf, IDF. Cannot
 * fail. */
void hpt_ngram_config_default(hpt_ngram_config_t *config);

/* HPT_EINVAL with a message naming the bad field, or 0. */
int hpt_ngram_config_check(const hpt_ngram_config_t *config,
                           hpt_error_t *error);

void hpt_ngram_terms_init(hpt_ngram_terms_t *terms);
/* Frees the arrays and zeroes *terms. Accepts NULL. Cannot fail. */
void hpt_ngram_terms_close(hpt_ngram_terms_t *terms);

/* Raw hashed n-gram counts of `text` into `terms` (previous content
 * replaced): index = bucket in [0, 2^hash_bits), value = (signed) count.
 * Deterministic across runs and platforms. Returns 0 or HPT_ENOMEM. */
int hpt_ngram_hash_text(const hpt_ngram_config_t *config, const char *text,
                        hpt_ngram_terms_t *terms, hpt_error_t *error);

/* Fits a vocabulary (buckets seen + IDF) on n_texts training texts. The
 * config is copied. On success *out is new and caller-owned (free with
 * hpt_ngram_vocab_destroy); on failure it is NULL. Returns 0, HPT_EINVAL
 * (bad config) or HPT_ENOMEM. */
int hpt_ngram_vocab_fit(const hpt_ngram_config_t *config,
                        const char *const *texts, size_t n_texts,
                        hpt_ngram_vocab_t **out, hpt_error_t *error);

/* Number of features (columns) of the vocabulary. Cannot fail. */
size_t hpt_ngram_vocab_size(const hpt_ngram_vocab_t *vocab);

/* The config the vocabulary was fitted with. Borrowed. Cannot fail. */
const hpt_ngram_config_t *
hpt_ngram_vocab_config(const hpt_ngram_vocab_t *vocab);

/* The weighted, normalised feature vector of one text (index = feature).
 * Returns 0 or HPT_ENOMEM. */
int hpt_ngram_vocab_vectorize(const hpt_ngram_vocab_t *vocab, const char *text,
                              hpt_ngram_terms_t *terms, hpt_error_t *error);

/* Feature vectors of n_texts texts as a matrix with vocab-size columns. On
 * failure *matrix is zeroed; returns 0 or HPT_ENOMEM. */
int hpt_ngram_vocab_transform(const hpt_ngram_vocab_t *vocab,
                              const char *const *texts, size_t n_texts,
                              hpt_ngram_matrix_t *matrix, hpt_error_t *error);

/* Frees and sets *vocab to NULL. Accepts NULL. Cannot fail. */
void hpt_ngram_vocab_destroy(hpt_ngram_vocab_t **vocab);

/* The vocabulary's parts, borrowed (for ngram_artifact.c). */
void hpt_ngram_vocab_parts(const hpt_ngram_vocab_t *vocab,
                           hpt_ngram_config_t *config, size_t *n_features,
                           const uint32_t **bucket, const float **idf);

/* A vocabulary from parts (copied), checked as untrusted input: a valid
 * config, buckets ascending and below 2^hash_bits, finite IDFs. */
int hpt_ngram_vocab_from_parts(const hpt_ngram_config_t *config,
                               size_t n_features, const uint32_t *bucket,
                               const float *idf, hpt_ngram_vocab_t **vocab,
                               hpt_error_t *error);

/* Frees the arrays and zeroes *matrix. Accepts NULL. Cannot fail. */
void hpt_ngram_matrix_close(hpt_ngram_matrix_t *matrix);

#endif
