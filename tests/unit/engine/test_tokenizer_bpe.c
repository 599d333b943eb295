/* test_tokenizer_bpe.c — RoBERTa byte-level BPE
 * (worker/engine/tokenizer_bpe.c): merge order on a hand-made vocabulary,
 * load errors, then exact ids against Hugging Face tokenizers on every
 * message of train.csv and test.csv and on Unicode edge cases, with the
 * committed tests/fixtures/bpe-small vocabulary (written, with the
 * reference ids, by tests/fixtures/make_tokenizer_fixtures.py). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "tokenizer_bpe.h"

static char dir[] = "/tmp/hpt-bpe-XXXXXX";
static char vocab_path[256], merges_path[256];

/* The GPT-2 byte-level character of byte b, as UTF-8 into out (NUL
 * terminated). Written independently of the code under test. */
static void byte_char(int b, char out[3]) {
  static int map[256];
  static bool ready = false;
  if (!ready) {
    int n = 0;
    for (int c = 0; c < 256; c++) {
      bool printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) ||
                       (c >= 174 && c <= 255);
      map[c] = printable ? c : 256 + n++;
    }
    ready = true;
  }
  int cp = map[b];
  if (cp < 0x80) {
    out[0] = (char)cp;
    out[1] = '\0';
  } else {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    out[2] = '\0';
  }
}

/* ids: <s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=4, bytes 5..260, then EXTRA. */
static const char *EXTRA[] = {"he", "ll", "hell", "hello", "\xc4\xa0w",
                              "ab", "bc", "aa",   "or",    "\xc4\xa0wor"};
static const char *MERGES =
    "#version: 0.2\n"
    "h e\nl l\nhe ll\nhell o\n\xc4\xa0 w\na b\nb c\na a\no r\n"
    "\xc4\xa0w or\n";

static void write_files(void) {
  cr_assert_not_null(mkdtemp(dir));
  snprintf(vocab_path, sizeof vocab_path, "%s/vocab.json", dir);
  snprintf(merges_path, sizeof merges_path, "%s/merges.txt", dir);
  json_t *vocab = json_object();
  const char *special[] = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
  int id = 0;
  for (int i = 0; i < 5; i++)
    json_object_set_new(vocab, special[i], json_integer(id++));
  for (int b = 0; b < 256; b++) {
    char ch[3];
    byte_char(b, ch);
    json_object_set_new(vocab, ch, json_integer(id++));
  }
  for (size_t i = 0; i < sizeof EXTRA / sizeof *EXTRA; i++)
    json_object_set_new(vocab, EXTRA[i], json_integer(id++));
  cr_assert_eq(json_dump_file(vocab, vocab_path, 0), 0);
  json_decref(vocab);
  FILE *f = fopen(merges_path, "w");
  fputs(MERGES, f);
  fclose(f);
}

static void remove_files(void) {
  unlink(vocab_path);
  unlink(merges_path);
  rmdir(dir);
}

TestSuite(bpe, .init = write_files, .fini = remove_files);

static hpt_bpe_t *tiny(void) {
  hpt_bpe_t *bpe = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_bpe_load(vocab_path, merges_path, &bpe, &error), 0, "%s",
               error.message);
  return bpe;
}

static int32_t byte_id(int b) { return 5 + b; }
#define X(i) (261 + (i)) /* id of EXTRA[i] */

static void expect_ids(const hpt_bpe_t *bpe, const char *text,
                       size_t max_length, const int32_t *want, size_t n) {
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  hpt_error_t error = {0};
  cr_assert_eq(hpt_bpe_encode(bpe, text, max_length, &ids, &error), 0, "%s",
               error.message);
  cr_expect_eq(ids.count, n, "'%s': %zu ids, want %zu", text, ids.count, n);
  for (size_t i = 0; i < n && i < ids.count; i++)
    cr_expect_eq(ids.ids[i], want[i], "'%s' [%zu]: %d, want %d", text, i,
                 ids.ids[i], want[i]);
  hpt_token_ids_close(&ids);
}

#define EXPECT(bpe, text, ...)                                                 \
  do {                                                                         \
    const int32_t want_[] = {__VA_ARGS__};                                     \
    expect_ids(bpe, text, 0, want_, sizeof want_ / sizeof *want_);             \
  } while (0)

Test(bpe, merges_apply_by_rank) {
  hpt_bpe_t *bpe = tiny();
  cr_expect_eq(hpt_bpe_vocab_size(bpe), 5 + 256 + 10);
  cr_expect_eq(hpt_bpe_merge_count(bpe), 10);
  cr_expect_eq(hpt_bpe_bos_id(bpe), 0);
  cr_expect_eq(hpt_bpe_eos_id(bpe), 2);
  cr_expect_eq(hpt_bpe_pad_id(bpe), 1);
  cr_expect_str_eq(hpt_bpe_id_token(bpe, X(3)), "hello");
  EXPECT(bpe, "hello", 0, X(3), 2);
  /* " world": the space joins the word (Ġw, then Ġw + or). */
  EXPECT(bpe, "hello world", 0, X(3), X(9), byte_id('l'), byte_id('d'), 2);
  EXPECT(bpe, "abc", 0, X(5), byte_id('c'), 2); /* a b before b c */
  EXPECT(bpe, "aaa", 0, X(7), byte_id('a'), 2); /* leftmost on a tie */
  EXPECT(bpe, "", 0, 2);
  /* Non-ASCII: each UTF-8 byte becomes its byte-level character. */
  EXPECT(bpe, "\xc3\xa9", 0, byte_id(0xc3), byte_id(0xa9), 2);
  hpt_bpe_destroy(&bpe);
  cr_expect_null(bpe);
}

Test(bpe, pretokenizer_splits_like_gpt2) {
  hpt_bpe_t *bpe = tiny();
  /* "'s" contraction, " ?\p{N}+", punctuation runs, trailing spaces. */
  EXPECT(bpe, "a's 12!! ", 0, byte_id('a'), byte_id('\''), byte_id('s'),
         byte_id(' '), byte_id('1'), byte_id('2'), byte_id('!'), byte_id('!'),
         byte_id(' '), 2);
  /* Added tokens are matched in raw text; <mask> eats spaces before it. */
  EXPECT(bpe, "a<s>b   <mask>c", 0, byte_id('a'), 0, byte_id('b'), 4,
         byte_id('c'), 2);
  const int32_t cut[] = {0, X(3), 2};
  expect_ids(bpe, "hello world", 3, cut, 3);
  hpt_bpe_destroy(&bpe);
}

Test(bpe, invalid_utf8_and_batch) {
  hpt_bpe_t *bpe = tiny();
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  hpt_error_t error = {0};
  cr_expect_eq(hpt_bpe_encode(bpe, "ok \xff", 0, &ids, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "invalid UTF-8 at byte 3") != NULL, "%s",
            error.message);
  cr_expect_eq(hpt_bpe_encode(bpe, "ok", 1, &ids, &error), HPT_EINVAL);
  const char *texts[] = {"hello", "abc abc"};
  hpt_token_batch_t batch;
  cr_assert_eq(hpt_bpe_encode_batch(bpe, texts, 2, 0, &batch, &error), 0);
  cr_expect_eq(batch.seq_len, 7); /* <s> ab c Ġ ab c </s> */
  cr_expect_eq(batch.ids[3], 1);  /* "hello" padded with <pad> */
  cr_expect_eq(batch.attention_mask[3], 0);
  cr_expect_eq(batch.attention_mask[2], 1);
  hpt_token_batch_close(&batch);
  hpt_token_ids_close(&ids);
  hpt_bpe_destroy(&bpe);
}

static int load_with_merges(const char *merges, hpt_error_t *error) {
  char path[300];
  snprintf(path, sizeof path, "%s/bad-merges.txt", dir);
  FILE *f = fopen(path, "w");
  fputs(merges, f);
  fclose(f);
  hpt_bpe_t *bpe = NULL;
  int rc = hpt_bpe_load(vocab_path, path, &bpe, error);
  hpt_bpe_destroy(&bpe);
  unlink(path);
  return rc;
}

Test(bpe, load_errors) {
  hpt_error_t error = {0};
  hpt_bpe_t *bpe = NULL;
  cr_expect_eq(hpt_bpe_load("/nonexistent.json", merges_path, &bpe, &error),
               HPT_ENOTFOUND);
  cr_expect_null(bpe);
  cr_expect_eq(load_with_merges("h e\nx y z\n", &error), HPT_EPARSE);
  cr_expect(strstr(error.message, ":2:") != NULL, "%s", error.message);
  cr_expect_eq(load_with_merges("h q\n", &error), HPT_EPARSE); /* hq */
  cr_expect(strstr(error.message, "not in the vocab") != NULL, "%s",
            error.message);
  cr_expect_eq(load_with_merges("h\xff e\n", &error), HPT_EPARSE);
  /* A vocab without the byte-level alphabet. */
  char path[300];
  snprintf(path, sizeof path, "%s/small.json", dir);
  FILE *f = fopen(path, "w");
  fputs("{\"<s>\": 0, \"</s>\": 1, \"<pad>\": 2}", f);
  fclose(f);
  cr_expect_eq(hpt_bpe_load(path, merges_path, &bpe, &error), HPT_EPARSE);
  f = fopen(path, "w");
  fputs("{\"<s>\": 0, \"<s>\": 1}", f); /* duplicate key */
  fclose(f);
  cr_expect_eq(hpt_bpe_load(path, merges_path, &bpe, &error), HPT_EPARSE);
  unlink(path);
}

/* ---- exactness against Hugging Face tokenizers -----------------------------
 */

static hpt_bpe_t *small(void) {
  const char *src = getenv("HPT_SOURCE_DIR");
  cr_assert_not_null(src, "HPT_SOURCE_DIR not set");
  char v[4096], m[4096];
  snprintf(v, sizeof v, "%s/tests/fixtures/bpe-small/vocab.json", src);
  snprintf(m, sizeof m, "%s/tests/fixtures/bpe-small/merges.txt", src);
  hpt_bpe_t *bpe = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_bpe_load(v, m, &bpe, &error), 0, "%s", error.message);
  return bpe;
}

static bool same_ids(const hpt_token_ids_t *ids, const char *line) {
  size_t i = 0;
  bool same = true;
  for (char *p = (char *)line, *end;; p = end, i++) {
    long id = strtol(p, &end, 10);
    if (end == p)
      break;
    if (i >= ids->count || ids->ids[i] != id)
      same = false;
  }
  return same && i == ids->count;
}

Test(bpe, small_matches_tokenizers_on_all_messages) {
  hpt_bpe_t *bpe = small();
  const char *src = getenv("HPT_SOURCE_DIR"), *data = getenv("HPT_DATA_DIR");
  cr_assert_not_null(data, "HPT_DATA_DIR not set");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/fixtures/bpe_small_ids.txt", src);
  FILE *fixture = fopen(path, "r");
  cr_assert_not_null(fixture, "%s", path);
  char *line = NULL;
  size_t cap = 0, n_checked = 0, n_bad = 0;
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
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
      cr_assert_eq(hpt_bpe_encode(bpe, ds->texts[r], 0, &ids, NULL), 0);
      if (!same_ids(&ids, line) && n_bad++ < 5)
        cr_log_error("%s row %zu differs from tokenizers", files[f], r + 1);
      n_checked++;
    }
    hpt_dataset_destroy(&ds);
  }
  cr_expect_eq(n_checked, 3000);
  cr_expect_eq(n_bad, 0, "%zu of %zu messages differ", n_bad, n_checked);
  hpt_token_ids_close(&ids);
  free(line);
  fclose(fixture);
  hpt_bpe_destroy(&bpe);
}

Test(bpe, small_matches_tokenizers_on_unicode_cases) {
  hpt_bpe_t *bpe = small();
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/fixtures/tokenizer_cases.jsonl",
           getenv("HPT_SOURCE_DIR"));
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "%s", path);
  char *line = NULL;
  size_t cap = 0, n = 0;
  hpt_token_ids_t ids;
  hpt_token_ids_init(&ids);
  while (getline(&line, &cap, f) > 0) {
    json_error_t jerr;
    json_t *c = json_loads(line, 0, &jerr);
    cr_assert_not_null(c, "%s", jerr.text);
    const char *text = json_string_value(json_object_get(c, "text"));
    json_t *want = json_object_get(c, "bpe");
    cr_assert_eq(hpt_bpe_encode(bpe, text, 0, &ids, NULL), 0);
    bool same = ids.count == json_array_size(want);
    for (size_t i = 0; same && i < ids.count; i++)
      same = ids.ids[i] == json_integer_value(json_array_get(want, i));
    cr_expect(same, "case %zu differs: '%s'", n, text);
    json_decref(c);
    n++;
  }
  cr_expect_geq(n, 30);
  hpt_token_ids_close(&ids);
  free(line);
  fclose(f);
  hpt_bpe_destroy(&bpe);
}
