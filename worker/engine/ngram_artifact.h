/* ngram_artifact.h — the trained n-gram classifier as a file: its features'
 * configuration, vocabulary (hash buckets and IDF weights) and the logistic
 * regression's weights, so that `hpt predict` can score new text without
 * retraining.
 *
 * Format (all integers and floats little-endian, IEEE 754):
 *   magic     8 bytes  "HPTNGRAM"
 *   version   u32      1
 *   config    7 x i32  word_min, word_max, char_min, char_max, hash_bits,
 *                      signed_hash, sublinear_tf (0/1)
 *             i32      idf (0/1)
 *   n         u64      number of features
 *   bucket    n x u32  ascending, < 2^hash_bits
 *   idf       n x f32
 *   weight    n x f32
 *   bias      f64
 * Reading checks every field (sizes against the file's length, ranges,
 * order, finiteness): a corrupt or hostile file is an error, never a crash.
 */
#ifndef HPT_NGRAM_ARTIFACT_H
#define HPT_NGRAM_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ngram_features.h"
#include "ngram_model.h"

/* Writes the artifact to `path` (replacing it). */
int hpt_ngram_artifact_save(const char *path, const hpt_ngram_vocab_t *vocab,
                            const hpt_ngram_model_t *model, hpt_error_t *error);

/* Reads an artifact from memory. The caller owns *vocab and *model. */
int hpt_ngram_artifact_parse(const uint8_t *bytes, size_t length,
                             hpt_ngram_vocab_t **vocab,
                             hpt_ngram_model_t **model, hpt_error_t *error);

/* Reads an artifact file. */
int hpt_ngram_artifact_load(const char *path, hpt_ngram_vocab_t **vocab,
                            hpt_ngram_model_t **model, hpt_error_t *error);

#endif
