/* fuzz_wordpiece.c — the BERT WordPiece tokenizer
 * (worker/engine/tokenizer_wordpiece.c) on arbitrary text, with a small
 * vocabulary written at start-up and loaded under five option sets.
 *
 * Input: byte 0 picks the option set (low 3 bits) and max_length (high 5
 * bits: 0 = no limit, else 2 + value); the rest is the text (up to the
 * first NUL). Every encoding is [CLS] ids [SEP] with ids in the vocabulary
 * and at most max_length of them; the batch form agrees with it. */
#include <unistd.h>

#include "fuzz_tokens.h"
#include "fuzz_util.h"
#include "tokenizer_wordpiece.h"

/* ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then words, "##" pieces,
 * punctuation, accented, CJK and case-mapped entries. */
static const char *VOCAB[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un",  "##aff", "##able",
    "hello", "world", ",",     "!",     "cafe",   "café", "中",   "国",
    "a",     "##b",   "##c",   "abc",   "'",      "s",    "Hello", "-",
    "ab",    "x",     "##x",   "ı",     "i",      "##̇",  "##",   "#",
    "[",     "]",     "##a",   "e",     "##e",    "ß",    "ss",   "ﬁ"};
#define N_VOCAB (sizeof VOCAB / sizeof *VOCAB)
#define N_VARIANTS 5

static hpt_wordpiece_t *variants[N_VARIANTS];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  char path[] = "/tmp/hpt-fuzz-wordpiece-XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
  if (f == NULL)
    abort();
  for (size_t i = 0; i < N_VOCAB; i++)
    fprintf(f, "%s%s\n", VOCAB[i], i == 7 ? "\r" : "");
  fclose(f);
  for (int v = 0; v < N_VARIANTS; v++) {
    hpt_wordpiece_options_t o;
    hpt_wordpiece_options_default(&o);
    if (v == 1)
      o.lowercase = false; /* cased, accents kept (strip follows lowercase) */
    if (v == 2) {
      o.lowercase = false;
      o.strip_accents = 1;
    }
    if (v == 3) {
      o.clean_text = false;
      o.handle_chinese_chars = false;
      o.strip_accents = 0;
    }
    if (v == 4)
      o.max_input_chars_per_word = 3;
    hpt_error_t error;
    if (hpt_wordpiece_load_vocab(path, &o, &variants[v], &error) < 0) {
      fprintf(stderr, "fuzz_wordpiece: %s\n", error.message);
      abort();
    }
  }
  unlink(path);
  return 0;
}

static void check_ids(const hpt_wordpiece_t *wp, const int32_t *ids,
                      size_t count, size_t max_length) {
  FUZZ_CHECK(count >= 2);
  FUZZ_CHECK(ids[0] == hpt_wordpiece_cls_id(wp));
  FUZZ_CHECK(ids[count - 1] == hpt_wordpiece_sep_id(wp));
  FUZZ_CHECK(max_length == 0 || count <= max_length);
  for (size_t i = 0; i < count; i++)
    FUZZ_CHECK(ids[i] >= 0 && (size_t)ids[i] < hpt_wordpiece_vocab_size(wp) &&
               hpt_wordpiece_id_token(wp, ids[i]) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const hpt_wordpiece_t *wp = variants[(data[0] & 7) % N_VARIANTS];
  size_t max_length = (data[0] >> 3) == 0 ? 0 : 2 + (data[0] >> 3);
  char *text = fuzz_cstring(data + 1, size - 1);
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = hpt_wordpiece_encode(wp, text, max_length, &ids, &error);
  if (rc < 0) {
    FUZZ_CHECK(rc == HPT_EPARSE && ids.count == 0);
  } else {
    check_ids(wp, ids.ids, ids.count, max_length);
    /* The batch form: the same row, padded to the longest of the two. */
    const char *texts[2] = {text, ""};
    hpt_token_batch_t batch;
    memset(&batch, 0, sizeof batch);
    FUZZ_CHECK(hpt_wordpiece_encode_batch(wp, texts, 2, max_length, &batch,
                                          &error) == 0);
    fuzz_check_batch(&batch, &ids, hpt_wordpiece_pad_id(wp));
    hpt_token_batch_close(&batch);
  }
  /* max_length 1 is refused, never half-encoded. */
  FUZZ_CHECK(hpt_wordpiece_encode(wp, text, 1, &ids, &error) < 0 &&
             ids.count == 0);
  hpt_token_ids_close(&ids);
  free(text);
  return 0;
}
