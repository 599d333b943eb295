/* fuzz_bpe.c — RoBERTa's byte-level BPE (worker/engine/tokenizer_bpe.c) on
 * arbitrary text, with the committed tests/fixtures/bpe-small vocabulary
 * and merges.
 *
 * Input: byte 0 picks max_length (0 = no limit, else 2 + value); the rest
 * is the text (up to the first NUL). Every encoding is <s> ids </s> with
 * ids in the vocabulary and at most max_length of them; the batch form
 * agrees with it. */
#include "fuzz_tokens.h"
#include "fuzz_util.h"
#include "tokenizer_bpe.h"

static hpt_bpe_t *bpe;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  hpt_error_t error;
  if (hpt_bpe_load(HPT_FUZZ_FIXTURES "/bpe-small/vocab.json",
                   HPT_FUZZ_FIXTURES "/bpe-small/merges.txt", &bpe,
                   &error) < 0) {
    fprintf(stderr, "fuzz_bpe: %s\n", error.message);
    abort();
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t max_length = data[0] < 0x80 ? 0 : 2 + (data[0] & 0x3f);
  char *text = fuzz_cstring(data + 1, size - 1);
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = hpt_bpe_encode(bpe, text, max_length, &ids, &error);
  if (rc < 0) {
    FUZZ_CHECK(rc == HPT_EPARSE && ids.count == 0);
  } else {
    FUZZ_CHECK(ids.count >= 2);
    FUZZ_CHECK(ids.ids[0] == hpt_bpe_bos_id(bpe));
    FUZZ_CHECK(ids.ids[ids.count - 1] == hpt_bpe_eos_id(bpe));
    FUZZ_CHECK(max_length == 0 || ids.count <= max_length);
    for (size_t i = 0; i < ids.count; i++)
      FUZZ_CHECK(ids.ids[i] >= 0 &&
                 (size_t)ids.ids[i] < hpt_bpe_vocab_size(bpe) &&
                 hpt_bpe_id_token(bpe, ids.ids[i]) != NULL);
    const char *texts[2] = {text, ""};
    hpt_token_batch_t batch;
    memset(&batch, 0, sizeof batch);
    FUZZ_CHECK(hpt_bpe_encode_batch(bpe, texts, 2, max_length, &batch,
                                    &error) == 0);
    fuzz_check_batch(&batch, &ids, hpt_bpe_pad_id(bpe));
    hpt_token_batch_close(&batch);
  }
  FUZZ_CHECK(hpt_bpe_encode(bpe, text, 1, &ids, &error) < 0 && ids.count == 0);
  hpt_token_ids_close(&ids);
  free(text);
  return 0;
}
