/* test_tokenizer_wordpiece.c — the BERT WordPiece tokenizer
 * (worker/engine/tokenizer_wordpiece.c): hand cases on a tiny vocabulary,
 * then exact ids against Hugging Face tokenizers (fixtures written by
 * tests/fixtures/make_tokenizer_fixtures.py) on every message of train.csv
 * and test.csv and on hand-written Unicode edge cases, with the real
 * all-MiniLM-L6-v2 vocabulary (./ops/fetch-models; skipped when absent). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "tokenizer_wordpiece.h"

static char tiny_path[] = "/tmp/hpt-wordpiece-XXXXXX";

/* ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the words below. */
static const char *TINY[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un",   "##aff", "##able",
    "hello", "world", ",",     "!",     "cafe",   "café", "中",    "国",
    "a",     "##b",   "##c",   "abc",   "'",      "s",    "Hello", "-",
    "ab",    "x",     "##x",   "ı",     "i",      "##̇"};
#define N_TINY (sizeof TINY / sizeof *TINY)

static void write_tiny(void) {
  int fd = mkstemp(tiny_path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  for (size_t i = 0; i < N_TINY; i++)
    fprintf(f, "%s%s\n", TINY[i], i == 7 ? "\r" : ""); /* one CRLF line */
  fclose(f);
}

static void remove_tiny(void) { unlink(tiny_path); }

TestSuite(wordpiece, .init = write_tiny, .fini = remove_tiny);

static hpt_wordpiece_t *tiny(const hpt_wordpiece_options_t *options) {
  hpt_wordpiece_t *wp = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_wordpiece_load_vocab(tiny_path, options, &wp, &error), 0,
               "%s", error.message);
  return wp;
}

/* Encodes and compares with want[0..n) (CLS/SEP included). */
static void expect_ids(const hpt_wordpiece_t *wp, const char *text,
                       size_t max_length, const int32_t *want, size_t n) {
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  hpt_error_t error = {0};
  cr_assert_eq(hpt_wordpiece_encode(wp, text, max_length, &ids, &error), 0,
               "%s", error.message);
  cr_expect_eq(ids.count, n, "'%s': %zu ids, want %zu", text, ids.count, n);
  for (size_t i = 0; i < n && i < ids.count; i++)
    cr_expect_eq(ids.ids[i], want[i], "'%s' [%zu]: %d, want %d", text, i,
                 ids.ids[i], want[i]);
  hpt_token_ids_close(&ids);
}

#define EXPECT(wp, text, ...)                                                  \
  do {                                                                         \
    const int32_t want_[] = {__VA_ARGS__};                                     \
    expect_ids(wp, text, 0, want_, sizeof want_ / sizeof *want_);              \
  } while (0)

Test(wordpiece, tiny_vocab_greedy_longest_match) {
  hpt_wordpiece_t *wp = tiny(NULL);
  cr_expect_eq(hpt_wordpiece_vocab_size(wp), N_TINY);
  cr_expect_eq(hpt_wordpiece_token_id(wp, "##able"), 7); /* CRLF line */
  cr_expect_str_eq(hpt_wordpiece_id_token(wp, 8), "hello");
  cr_expect_eq(hpt_wordpiece_pad_id(wp), 0);
  cr_expect_eq(hpt_wordpiece_unk_id(wp), 1);
  EXPECT(wp, "unaffable", 2, 5, 6, 7, 3);
  EXPECT(wp, "Hello, WORLD!", 2, 8, 10, 9, 11, 3);
  EXPECT(wp, "abc ab abcc", 2, 19, 24, 19, 18, 3); /* longest first */
  EXPECT(wp, "", 2, 3);
  EXPECT(wp, " \t\n ", 2, 3);
  hpt_wordpiece_destroy(&wp);
  cr_expect_null(wp);
  hpt_wordpiece_destroy(&wp); /* twice is fine */
}

Test(wordpiece, accents_case_and_cjk) {
  hpt_wordpiece_t *wp = tiny(NULL);
  EXPECT(wp, "CAFÉ Café cafe\xcc\x81", 2, 12, 12, 12, 3); /* stripped */
  EXPECT(wp, "中国", 2, 14, 15, 3);
  EXPECT(wp, "x中x", 2, 25, 14, 25, 3); /* CJK is split off words */
  /* U+0130: NFD gives I + U+0307, the mark is stripped, I lowercased. */
  EXPECT(wp, "\xc4\xb0", 2, 28, 3);
  hpt_wordpiece_destroy(&wp);

  hpt_wordpiece_options_t keep;
  hpt_wordpiece_options_default(&keep);
  keep.strip_accents = 0; /* lowercase only: U+0130 -> "i" U+0307 */
  wp = tiny(&keep);
  EXPECT(wp, "\xc4\xb0", 2, 28, 29, 3);
  EXPECT(wp, "Café", 2, 13, 3);
  hpt_wordpiece_destroy(&wp);

  hpt_wordpiece_options_t cased;
  hpt_wordpiece_options_default(&cased);
  cased.lowercase = false; /* strip_accents -1 follows: off too */
  wp = tiny(&cased);
  EXPECT(wp, "Hello café CAFE", 2, 22, 13, 1, 3);
  hpt_wordpiece_destroy(&wp);
}

Test(wordpiece, punctuation_controls_and_unknowns) {
  hpt_wordpiece_t *wp = tiny(NULL);
  EXPECT(wp, "a's-x", 2, 16, 20, 21, 23, 25, 3);
  /* Controls vanish (no split); NBSP and ideographic space split. */
  EXPECT(wp,
         "a\x01\x7f"
         "b\xc2\xa0x\xe3\x80\x80x",
         2, 24, 25, 25, 3);
  EXPECT(wp, "zzz a", 2, 1, 16, 3); /* unsplittable word */
  EXPECT(wp, "a¿", 2, 16, 1, 3);    /* Unicode punctuation, not in vocab */
  char word[160];
  memset(word, 'x', 100);
  word[100] = '\0';
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  cr_assert_eq(hpt_wordpiece_encode(wp, word, 0, &ids, NULL), 0);
  cr_expect_eq(ids.count, 102); /* x ##x * 99 */
  word[100] = 'x';
  word[101] = '\0';
  cr_assert_eq(hpt_wordpiece_encode(wp, word, 0, &ids, NULL), 0);
  cr_expect_eq(ids.count, 3); /* 101 chars: [UNK] */
  cr_expect_eq(ids.ids[1], 1);
  hpt_token_ids_close(&ids);
  /* Added tokens are matched verbatim in raw text, not lowercased. */
  EXPECT(wp, "a[MASK]b [mask]", 2, 16, 4, 1, 1, 1, 1, 3);
  hpt_wordpiece_destroy(&wp);
}

Test(wordpiece, truncation_and_batch_padding) {
  hpt_wordpiece_t *wp = tiny(NULL);
  const int32_t want[] = {2, 5, 6, 3};
  expect_ids(wp, "unaffable", 4, want, 4);
  const int32_t two[] = {2, 3};
  expect_ids(wp, "unaffable", 2, two, 2);
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  hpt_error_t error = {0};
  cr_expect_eq(hpt_wordpiece_encode(wp, "a", 1, &ids, &error), HPT_EINVAL);

  const char *texts[] = {"hello", "unaffable world", ""};
  hpt_token_batch_t batch;
  cr_assert_eq(hpt_wordpiece_encode_batch(wp, texts, 3, 0, &batch, &error), 0);
  cr_expect_eq(batch.n_rows, 3);
  cr_expect_eq(batch.seq_len, 6);
  const int32_t ids0[] = {2, 8, 3, 0, 0, 0}, ids1[] = {2, 5, 6, 7, 9, 3},
                ids2[] = {2, 3, 0, 0, 0, 0};
  const int32_t *rows[] = {ids0, ids1, ids2};
  size_t lengths[] = {3, 6, 2};
  for (size_t r = 0; r < 3; r++) {
    cr_expect_eq(batch.lengths[r], lengths[r]);
    for (size_t j = 0; j < 6; j++) {
      cr_expect_eq(batch.ids[r * 6 + j], rows[r][j]);
      cr_expect_eq(batch.attention_mask[r * 6 + j], j < lengths[r]);
    }
  }
  hpt_token_batch_close(&batch);
  cr_assert_eq(hpt_wordpiece_encode_batch(wp, texts, 3, 4, &batch, &error), 0);
  cr_expect_eq(batch.seq_len, 4);
  hpt_token_batch_close(&batch);
  hpt_token_ids_close(&ids);
  hpt_wordpiece_destroy(&wp);
}

Test(wordpiece, invalid_utf8_is_an_error) {
  hpt_wordpiece_t *wp = tiny(NULL);
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  hpt_error_t error = {0};
  const char *bad[] = {"ab\xff",           "\xc3(",  "\xed\xa0\x80", "\xc0\xaf",
                       "\xf4\x90\x80\x80", "caf\xc3"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_expect_eq(hpt_wordpiece_encode(wp, bad[i], 0, &ids, &error), HPT_EPARSE,
                 "case %zu", i);
    cr_expect(strstr(error.message, "invalid UTF-8") != NULL, "%s",
              error.message);
    cr_expect_eq(ids.count, 0);
  }
  const char *texts[] = {"ok", "bad\xfe"};
  hpt_token_batch_t batch;
  cr_expect_eq(hpt_wordpiece_encode_batch(wp, texts, 2, 0, &batch, &error),
               HPT_EPARSE);
  cr_expect(strstr(error.message, "text 1") != NULL, "%s", error.message);
  cr_expect_null(batch.ids);
  hpt_token_ids_close(&ids);
  hpt_wordpiece_destroy(&wp);
}

Test(wordpiece, load_errors) {
  hpt_wordpiece_t *wp = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(
      hpt_wordpiece_load_vocab("/nonexistent/vocab.txt", NULL, &wp, &error),
      HPT_ENOTFOUND);
  hpt_wordpiece_options_t o;
  hpt_wordpiece_options_default(&o);
  o.cls_token = "<s>";
  cr_expect_eq(hpt_wordpiece_load_vocab(tiny_path, &o, &wp, &error),
               HPT_EPARSE);
  cr_expect(strstr(error.message, "<s>") != NULL, "%s", error.message);
  cr_expect_null(wp);
  cr_expect_eq(hpt_wordpiece_load_json(tiny_path, &wp, &error), HPT_EPARSE);
}

/* ---- exactness against Hugging Face tokenizers -----------------------------
 */

static char *minilm_file(const char *name) {
  const char *src = getenv("HPT_SOURCE_DIR");
  cr_assert_not_null(src, "HPT_SOURCE_DIR not set");
  char *path = NULL;
  cr_assert_geq(asprintf(&path, "%s/models/all-MiniLM-L6-v2/%s", src, name), 0);
  if (access(path, R_OK) != 0) {
    free(path);
    cr_skip_test("models/all-MiniLM-L6-v2 absent: run ./ops/fetch-models");
  }
  return path;
}

static hpt_wordpiece_t *minilm(bool json) {
  char *path = minilm_file(json ? "tokenizer.json" : "vocab.txt");
  hpt_wordpiece_t *wp = NULL;
  hpt_error_t error = {0};
  int rc = json ? hpt_wordpiece_load_json(path, &wp, &error)
                : hpt_wordpiece_load_vocab(path, NULL, &wp, &error);
  cr_assert_eq(rc, 0, "%s", error.message);
  free(path);
  return wp;
}

/* Compares the encoding of `text` with the ids on `line`; true if equal. */
static bool same_ids(const hpt_wordpiece_t *wp, const char *text,
                     const char *line, size_t max_length) {
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  cr_assert_eq(hpt_wordpiece_encode(wp, text, max_length, &ids, NULL), 0);
  bool same = true;
  size_t i = 0;
  for (char *p = (char *)line, *end; *p != '\0' && *p != '\n'; p = end, i++) {
    long id = strtol(p, &end, 10);
    if (end == p)
      break;
    if (i >= ids.count || ids.ids[i] != id)
      same = false;
  }
  same = same && i == ids.count;
  hpt_token_ids_close(&ids);
  return same;
}

static void all_messages(bool json) {
  hpt_wordpiece_t *wp = minilm(json);
  const char *src = getenv("HPT_SOURCE_DIR"), *data = getenv("HPT_DATA_DIR");
  cr_assert_not_null(data, "HPT_DATA_DIR not set");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/fixtures/wordpiece_minilm_ids.txt",
           src);
  FILE *fixture = fopen(path, "r");
  cr_assert_not_null(fixture, "%s", path);
  char *line = NULL;
  size_t cap = 0, n_checked = 0, n_bad = 0;
  const char *files[] = {"train.csv", "test.csv"};
  for (int f = 0; f < 2; f++) {
    snprintf(path, sizeof path, "%s/%s", data, files[f]);
    hpt_dataset_t *ds = NULL;
    hpt_error_t error = {0};
    cr_assert_eq(hpt_dataset_load(path, false, &ds, &error), 0, "%s",
                 error.message);
    for (size_t r = 0; r < ds->n_rows; r++) {
      do
        cr_assert_geq(getline(&line, &cap, fixture), 0, "fixture too short");
      while (line[0] == '#');
      bool same = same_ids(wp, ds->texts[r], line, 0);
      if (!same && n_bad++ < 5)
        cr_log_error("%s row %zu differs from tokenizers", files[f], r + 1);
      n_checked++;
      /* The truncation rule, cheaply: max_length 8 keeps 6 pieces. */
      hpt_token_ids_t ids;
      hpt_token_ids_init(&ids);
      cr_assert_eq(hpt_wordpiece_encode(wp, ds->texts[r], 8, &ids, NULL), 0);
      cr_expect_leq(ids.count, 8);
      cr_expect_eq(ids.ids[ids.count - 1], hpt_wordpiece_sep_id(wp));
      hpt_token_ids_close(&ids);
    }
    hpt_dataset_destroy(&ds);
  }
  cr_expect_eq(n_checked, 3000);
  cr_expect_eq(n_bad, 0, "%zu of %zu messages differ", n_bad, n_checked);
  free(line);
  fclose(fixture);
  hpt_wordpiece_destroy(&wp);
}

Test(wordpiece, minilm_vocab_txt_matches_tokenizers_on_all_messages) {
  all_messages(false);
}

Test(wordpiece, minilm_tokenizer_json_matches_tokenizers_on_all_messages) {
  all_messages(true);
}

Test(wordpiece, minilm_matches_tokenizers_on_unicode_cases) {
  hpt_wordpiece_t *wp = minilm(false);
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/fixtures/tokenizer_cases.jsonl",
           getenv("HPT_SOURCE_DIR"));
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "%s", path);
  char *line = NULL;
  size_t cap = 0, n = 0;
  while (getline(&line, &cap, f) > 0) {
    json_error_t jerr;
    json_t *c = json_loads(line, 0, &jerr);
    cr_assert_not_null(c, "%s", jerr.text);
    const char *text = json_string_value(json_object_get(c, "text"));
    json_t *want = json_object_get(c, "wordpiece");
    hpt_token_ids_t ids;
    hpt_token_ids_init(&ids);
    cr_assert_eq(hpt_wordpiece_encode(wp, text, 0, &ids, NULL), 0);
    bool same = ids.count == json_array_size(want);
    for (size_t i = 0; same && i < ids.count; i++)
      same = ids.ids[i] == json_integer_value(json_array_get(want, i));
    cr_expect(same, "case %zu differs: '%s'", n, text);
    hpt_token_ids_close(&ids);
    json_decref(c);
    n++;
  }
  cr_expect_geq(n, 30);
  free(line);
  fclose(f);
  hpt_wordpiece_destroy(&wp);
}
