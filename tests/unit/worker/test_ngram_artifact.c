/* test_ngram_artifact.c — the n-gram model file: a round trip gives the
 * same predictions; every corruption is an error, never a crash. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ngram_artifact.h"

static const char *texts[] = {
    "they should burn it all down",    "we will destroy them all",
    "burn the traitors to the ground", "kill every last one of them",
    "what a lovely sunny day",         "my cat loves this blanket",
    "the library opens at nine",       "great match last night",
};
static const int labels[] = {1, 1, 1, 1, 0, 0, 0, 0};

static void train(hpt_ngram_vocab_t **vocab, hpt_ngram_model_t **model) {
  hpt_ngram_config_t config;
  hpt_ngram_config_default(&config);
  config.hash_bits = 16;
  hpt_error_t error;
  hpt_ngram_matrix_t matrix = {0};
  cr_assert_eq(hpt_ngram_vocab_fit(&config, texts, 8, vocab, &error), HPT_OK,
               "%s", error.message);
  cr_assert_eq(hpt_ngram_vocab_transform(*vocab, texts, 8, &matrix, &error),
               HPT_OK);
  hpt_ngram_train_config_t train_config;
  hpt_ngram_train_config_default(&train_config);
  train_config.epochs = 20;
  train_config.lr = 0.1;
  cr_assert_eq(hpt_ngram_model_train(&matrix, labels, NULL, NULL, &train_config,
                                     NULL, NULL, model, &error),
               HPT_OK, "%s", error.message);
  hpt_ngram_matrix_close(&matrix);
}

static uint8_t *read_all(const char *path, size_t *length) {
  FILE *file = fopen(path, "rb");
  cr_assert(file != NULL);
  fseek(file, 0, SEEK_END);
  *length = (size_t)ftell(file);
  fseek(file, 0, SEEK_SET);
  uint8_t *bytes = malloc(*length);
  cr_assert_eq(fread(bytes, 1, *length, file), *length);
  fclose(file);
  return bytes;
}

Test(ngram_artifact, round_trip_predicts_the_same) {
  hpt_ngram_vocab_t *vocab = NULL, *vocab2 = NULL;
  hpt_ngram_model_t *model = NULL, *model2 = NULL;
  train(&vocab, &model);
  char path[] = "/tmp/hpt-ngram-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  hpt_error_t error;
  cr_assert_eq(hpt_ngram_artifact_save(path, vocab, model, &error), HPT_OK,
               "%s", error.message);
  cr_assert_eq(hpt_ngram_artifact_load(path, &vocab2, &model2, &error), HPT_OK,
               "%s", error.message);
  const char *probes[] = {"burn them down", "sunny library day", "", "x"};
  for (int i = 0; i < 4; i++) {
    double p1 = 0, p2 = 1;
    cr_assert_eq(
        hpt_ngram_model_predict_text(model, vocab, probes[i], &p1, &error),
        HPT_OK);
    cr_assert_eq(
        hpt_ngram_model_predict_text(model2, vocab2, probes[i], &p2, &error),
        HPT_OK);
    cr_assert_eq(p1, p2, "'%s': %.17g vs %.17g", probes[i], p1, p2);
  }
  unlink(path);
  hpt_ngram_vocab_destroy(&vocab);
  hpt_ngram_vocab_destroy(&vocab2);
  hpt_ngram_model_destroy(&model);
  hpt_ngram_model_destroy(&model2);
}

Test(ngram_artifact, every_corruption_is_an_error) {
  hpt_ngram_vocab_t *vocab = NULL, *out_vocab = NULL;
  hpt_ngram_model_t *model = NULL, *out_model = NULL;
  train(&vocab, &model);
  char path[] = "/tmp/hpt-ngram-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  hpt_error_t error;
  cr_assert_eq(hpt_ngram_artifact_save(path, vocab, model, &error), HPT_OK);
  size_t length = 0;
  uint8_t *bytes = read_all(path, &length);
  unlink(path);
  /* Every truncation. */
  for (size_t cut = 0; cut < length; cut++) {
    cr_assert_lt(
        hpt_ngram_artifact_parse(bytes, cut, &out_vocab, &out_model, &error), 0,
        "a file cut at %zu bytes was accepted", cut);
    cr_assert_null(out_vocab);
    cr_assert_null(out_model);
  }
  /* Bad magic, version, hash bits, feature count, a NaN weight, a NaN
   * bias. */
  uint8_t *copy = malloc(length);
  size_t offsets[] = {0, 8, 28, 44, length - 12, length - 4};
  for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
    memcpy(copy, bytes, length);
    memset(copy + offsets[k], 0xff, 4);
    cr_assert_lt(
        hpt_ngram_artifact_parse(copy, length, &out_vocab, &out_model, &error),
        0, "corruption at %zu was accepted", offsets[k]);
    cr_assert(strlen(error.message) > 0);
  }
  free(copy);
  free(bytes);
  hpt_ngram_vocab_destroy(&vocab);
  hpt_ngram_model_destroy(&model);
}
