/* fuzz_ngram_artifact.c — the n-gram model artifact reader
 * (worker/engine/ngram_artifact.c) on arbitrary bytes, through
 * hpt_ngram_artifact_parse ("a corrupt or hostile file is an error, never
 * a crash"); what parses then scores a few texts, as `hpt predict` does,
 * and must give probabilities in [0, 1]. */
#include <math.h>

#include "fuzz_util.h"
#include "ngram_artifact.h"

static const char *TEXTS[] = {"", "hello world", "a b c a b c !!",
                              "café ünïcode 中文 text"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hpt_ngram_vocab_t *vocab = NULL;
  hpt_ngram_model_t *model = NULL;
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = hpt_ngram_artifact_parse(data, size, &vocab, &model, &error);
  if (rc < 0) {
    FUZZ_CHECK(error.code == rc && vocab == NULL && model == NULL);
    return 0;
  }
  FUZZ_CHECK(vocab != NULL && model != NULL);
  for (size_t i = 0; i < sizeof TEXTS / sizeof *TEXTS; i++) {
    double p = NAN;
    FUZZ_CHECK(hpt_ngram_model_predict_text(model, vocab, TEXTS[i], &p,
                                            &error) == 0);
    FUZZ_CHECK(p >= 0.0 && p <= 1.0);
  }
  hpt_ngram_vocab_destroy(&vocab);
  hpt_ngram_model_destroy(&model);
  return 0;
}
