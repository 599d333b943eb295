/* tokenizer_bpe.c — see tokenizer_bpe.h. */
#include "tokenizer_bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "token_vocab.h"

#define MAX_VOCAB_IDS (1 << 24)

/* Unicode White_Space, for use inside a character class. */
#define WS                                                                     \
  "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"       \
  "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+"
    "|[" WS "]+(?![^" WS "])|[" WS "]+";

struct hpt_bpe {
  hpt_token_vocab_t *vocab;  /* token -> id */
  char **tokens;             /* id -> token, NULL where unused */
  size_t n_tokens;           /* largest id + 1 */
  hpt_token_vocab_t *merges; /* (left id, right id) as 8 bytes -> rank */
  int32_t *merge_result;     /* rank -> id of left + right */
  size_t n_merges;
  int32_t byte_id[256]; /* id of each byte's bytes_to_unicode character */
  pcre2_code *re;
  int32_t pad_id, bos_id, eos_id;
  hpt_token_special_t specials[5]; /* contents are string literals */
  size_t n_specials;
};

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * others, in order, to U+0100 onwards. */
static uint32_t byte_to_cp(int b) {
  if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
      (b >= 0xAE && b <= 0xFF))
    return (uint32_t)b;
  int n = 0;
  for (int c = 0; c < b; c++)
    if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) ||
          (c >= 0xAE && c <= 0xFF)))
      n++;
  return 256u + (uint32_t)n;
}

/* ---- merging one pre-token -------------------------------------------------
 */

typedef struct {
  uint32_t rank, pos;
  int32_t new_id;
} merge_t;

/* Scratch space for one encode call. */
typedef struct {
  int32_t *id, *prev, *next;
  bool *alive;
  merge_t *heap;
  size_t cap, heap_len;
} word_t;

static void word_close(word_t *w) {
  free(w->id);
  free(w->prev);
  free(w->next);
  free(w->alive);
  free(w->heap);
}

static int word_reserve(word_t *w, size_t n) {
  if (n <= w->cap)
    return 0;
  word_close(w);
  memset(w, 0, sizeof *w);
  w->id = malloc(n * sizeof *w->id);
  w->prev = malloc(n * sizeof *w->prev);
  w->next = malloc(n * sizeof *w->next);
  w->alive = malloc(n * sizeof *w->alive);
  w->heap = malloc(3 * n * sizeof *w->heap); /* n - 1 + 2 per merge */
  if (!w->id || !w->prev || !w->next || !w->alive || !w->heap)
    return -1;
  w->cap = n;
  return 0;
}

static bool merge_less(const merge_t *a, const merge_t *b) {
  return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(word_t *w, merge_t m) {
  size_t i = w->heap_len++;
  while (i > 0 && merge_less(&m, &w->heap[(i - 1) / 2])) {
    w->heap[i] = w->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  w->heap[i] = m;
}

static merge_t heap_pop(word_t *w) {
  merge_t top = w->heap[0], last = w->heap[--w->heap_len];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= w->heap_len)
      break;
    if (c + 1 < w->heap_len && merge_less(&w->heap[c + 1], &w->heap[c]))
      c++;
    if (!merge_less(&w->heap[c], &last))
      break;
    w->heap[i] = w->heap[c];
    i = c;
  }
  w->heap[i] = last;
  return top;
}

static int32_t merge_rank(const hpt_bpe_t *bpe, int32_t left, int32_t right) {
  int32_t key[2] = {left, right};
  return hpt_token_vocab_get(bpe->merges, (const char *)key, sizeof key);
}

/* Pushes the merge of the pair starting at symbol `pos`, if any. */
static void push_pair(const hpt_bpe_t *bpe, word_t *w, int32_t pos) {
  int32_t rank = merge_rank(bpe, w->id[pos], w->id[w->next[pos]]);
  if (rank >= 0)
    heap_push(
        w, (merge_t){(uint32_t)rank, (uint32_t)pos, bpe->merge_result[rank]});
}

/* BPE on the bytes piece[0..n) (n > 0), appending ids; as tokenizers'
 * Word::merge_all. */
static int encode_piece(const hpt_bpe_t *bpe, const unsigned char *piece,
                        size_t n, word_t *w, hpt_token_ids_t *out,
                        hpt_error_t *error) {
  if (n > INT32_MAX || word_reserve(w, n) != 0)
    return HPT_ERR(error, HPT_ENOMEM, "bpe: out of memory");
  w->heap_len = 0;
  for (size_t i = 0; i < n; i++) {
    w->id[i] = bpe->byte_id[piece[i]];
    w->prev[i] = (int32_t)i - 1;
    w->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    w->alive[i] = true;
  }
  for (size_t i = 0; i + 1 < n; i++)
    push_pair(bpe, w, (int32_t)i);
  while (w->heap_len > 0) {
    merge_t top = heap_pop(w);
    int32_t pos = (int32_t)top.pos, right = w->next[pos];
    if (!w->alive[pos] || right < 0)
      continue;
    int32_t rank = merge_rank(bpe, w->id[pos], w->id[right]);
    if (rank < 0 || bpe->merge_result[rank] != top.new_id)
      continue; /* stale: the pair changed since it was pushed */
    w->id[pos] = top.new_id;
    w->alive[right] = false;
    w->next[pos] = w->next[right];
    if (w->next[pos] >= 0)
      w->prev[w->next[pos]] = pos;
    if (w->prev[pos] >= 0)
      push_pair(bpe, w, w->prev[pos]);
    if (w->next[pos] >= 0)
      push_pair(bpe, w, pos);
  }
  for (int32_t i = 0; i >= 0; i = w->next[i]) {
    int rc = hpt_token_ids_push(out, w->id[i], error);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Pre-tokenises text[0..len) and BPE-encodes every piece. */
static int encode_segment(const hpt_bpe_t *bpe, const char *text, size_t len,
                          pcre2_match_data *md, word_t *w, hpt_token_ids_t *out,
                          hpt_error_t *error) {
  const unsigned char *s = (const unsigned char *)text;
  size_t off = 0;
  int rc = 0;
  while (off < len && rc == 0) {
    int m = pcre2_match(bpe->re, s, len, off, PCRE2_NO_UTF_CHECK, md, NULL);
    if (m == PCRE2_ERROR_NOMATCH)
      return encode_piece(bpe, s + off, len - off, w, out, error);
    if (m < 0) {
      PCRE2_UCHAR message[128];
      pcre2_get_error_message(m, message, sizeof message);
      return HPT_ERR(error, HPT_EPARSE, "bpe: pre-tokeniser failed: %s",
                     (const char *)message);
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t begin = ov[0], end = ov[1];
    if (end == begin) /* cannot happen with this pattern; never loop */
      end = len;
    if (begin > off)
      rc = encode_piece(bpe, s + off, begin - off, w, out, error);
    if (rc == 0)
      rc = encode_piece(bpe, s + begin, end - begin, w, out, error);
    off = end;
  }
  return rc;
}

int hpt_bpe_encode(const hpt_bpe_t *bpe, const char *text, size_t max_length,
                   hpt_token_ids_t *out, hpt_error_t *error) {
  out->count = 0;
  if (max_length == 1)
    return HPT_ERR(error, HPT_EINVAL,
                   "bpe: max_length 1 leaves no room for <s> </s>");
  size_t len = strlen(text);
  int rc = hpt_token_check_utf8(text, len, "bpe", error);
  if (rc != 0)
    return rc;
  word_t w = {0};
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(bpe->re, NULL);
  if (md == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "bpe: out of memory");
    goto out;
  }
  if ((rc = hpt_token_ids_push(out, bpe->bos_id, error)) != 0)
    goto out;
  size_t from = 0, begin, end;
  int32_t id;
  while (hpt_token_specials_next(bpe->specials, bpe->n_specials, text, len,
                                 from, from, &begin, &end, &id)) {
    if ((rc = encode_segment(bpe, text + from, begin - from, md, &w, out,
                             error)) ||
        (rc = hpt_token_ids_push(out, id, error)))
      goto out;
    from = end;
  }
  if ((rc = encode_segment(bpe, text + from, len - from, md, &w, out, error)) !=
      0)
    goto out;
  if (max_length > 0 && out->count + 1 > max_length)
    out->count = max_length - 1;
  rc = hpt_token_ids_push(out, bpe->eos_id, error);
out:
  pcre2_match_data_free(md);
  word_close(&w);
  if (rc != 0)
    out->count = 0;
  return rc;
}

static int encode_adapter(const void *bpe, const char *text, size_t max_length,
                          hpt_token_ids_t *out, hpt_error_t *error) {
  return hpt_bpe_encode(bpe, text, max_length, out, error);
}

int hpt_bpe_encode_batch(const hpt_bpe_t *bpe, const char *const *texts,
                         size_t n_texts, size_t max_length,
                         hpt_token_batch_t *batch, hpt_error_t *error) {
  return hpt_token_batch_encode(encode_adapter, bpe, texts, n_texts, max_length,
                                bpe->pad_id, batch, error);
}

int32_t hpt_bpe_token_id(const hpt_bpe_t *bpe, const char *token) {
  return hpt_token_vocab_get(bpe->vocab, token, strlen(token));
}

const char *hpt_bpe_id_token(const hpt_bpe_t *bpe, int32_t id) {
  return id >= 0 && (size_t)id < bpe->n_tokens ? bpe->tokens[id] : NULL;
}

size_t hpt_bpe_vocab_size(const hpt_bpe_t *bpe) { return bpe->n_tokens; }
size_t hpt_bpe_merge_count(const hpt_bpe_t *bpe) { return bpe->n_merges; }
int32_t hpt_bpe_pad_id(const hpt_bpe_t *bpe) { return bpe->pad_id; }
int32_t hpt_bpe_bos_id(const hpt_bpe_t *bpe) { return bpe->bos_id; }
int32_t hpt_bpe_eos_id(const hpt_bpe_t *bpe) { return bpe->eos_id; }

/* ---- loading ---------------------------------------------------------------
 */

void hpt_bpe_destroy(hpt_bpe_t **bpe) {
  if (bpe == NULL || *bpe == NULL)
    return;
  hpt_bpe_t *b = *bpe;
  hpt_token_vocab_destroy(&b->vocab);
  hpt_token_vocab_destroy(&b->merges);
  for (size_t i = 0; i < b->n_tokens; i++)
    free(b->tokens[i]);
  free(b->tokens);
  free(b->merge_result);
  pcre2_code_free(b->re);
  free(b);
  *bpe = NULL;
}

static int load_vocab(hpt_bpe_t *bpe, const char *path, hpt_error_t *error) {
  json_t *root = NULL;
  int rc = hpt_json_load_file(path, (size_t)64 << 20, &root, error);
  if (rc != 0)
    return rc;
  size_t n = 0;
  const char *key;
  json_t *value;
  json_object_foreach(root, key, value) {
    if (!json_is_integer(value) || json_integer_value(value) < 0 ||
        json_integer_value(value) >= MAX_VOCAB_IDS) {
      rc = HPT_ERR(error, HPT_EPARSE,
                   "%s: id of '%s' is not an integer in "
                   "[0, %d)",
                   path, key, MAX_VOCAB_IDS);
      goto out;
    }
    if ((size_t)json_integer_value(value) + 1 > n)
      n = (size_t)json_integer_value(value) + 1;
  }
  if (n == 0) {
    rc = HPT_ERR(error, HPT_EPARSE, "%s: empty vocabulary", path);
    goto out;
  }
  if ((bpe->tokens = calloc(n, sizeof *bpe->tokens)) == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  bpe->n_tokens = n;
  json_object_foreach(root, key, value) {
    size_t id = (size_t)json_integer_value(value);
    if (bpe->tokens[id] != NULL) {
      rc = HPT_ERR(error, HPT_EPARSE, "%s: id %zu is used by '%s' and '%s'",
                   path, id, bpe->tokens[id], key);
      goto out;
    }
    if ((bpe->tokens[id] = strdup(key)) == NULL) {
      rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
      goto out;
    }
    if ((rc = hpt_token_vocab_put(bpe->vocab, key, strlen(key), (int32_t)id,
                                  error)) != 0)
      goto out;
  }
out:
  json_decref(root);
  return rc;
}

/* The id of a merge part, or an error naming the line. */
static int part_id(const hpt_bpe_t *bpe, const char *path, size_t line,
                   const char *part, size_t len, int32_t *id,
                   hpt_error_t *error) {
  *id = hpt_token_vocab_get(bpe->vocab, part, len);
  if (*id < 0)
    return HPT_ERR(error, HPT_EPARSE, "%s:%zu: '%.*s' is not in the vocab",
                   path, line, (int)len, part);
  return 0;
}

static int load_merges(hpt_bpe_t *bpe, const char *path, hpt_error_t *error) {
  char *text = NULL, *joined = NULL;
  size_t len = 0, cap = 0;
  int rc = hpt_token_read_file(path, (size_t)64 << 20, &text, &len, error);
  if (rc != 0)
    return rc;
  if ((rc = hpt_token_check_utf8(text, len, path, error)) != 0)
    goto out;
  for (size_t i = 0; i < len; i++)
    cap += text[i] == '\n';
  bpe->merge_result = malloc((cap + 1) * sizeof *bpe->merge_result);
  joined = malloc(len + 1);
  if (bpe->merge_result == NULL || joined == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  size_t line = 0;
  for (size_t at = 0; at < len;) {
    const char *nl = memchr(text + at, '\n', len - at);
    size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
    const char *l = text + at;
    line++;
    at = end + 1;
    if (n > 0 && l[n - 1] == '\r')
      n--;
    if (n >= 8 && memcmp(l, "#version", 8) == 0)
      continue;
    const char *space = memchr(l, ' ', n);
    if (space == NULL || space == l || space == l + n - 1 ||
        memchr(space + 1, ' ', n - (size_t)(space + 1 - l)) != NULL) {
      rc = HPT_ERR(error, HPT_EPARSE, "%s:%zu: expected 'left right'", path,
                   line);
      goto out;
    }
    size_t left_len = (size_t)(space - l), right_len = n - left_len - 1;
    int32_t pair[2], merged;
    if ((rc = part_id(bpe, path, line, l, left_len, &pair[0], error)) ||
        (rc = part_id(bpe, path, line, space + 1, right_len, &pair[1], error)))
      goto out;
    memcpy(joined, l, left_len);
    memcpy(joined + left_len, space + 1, right_len);
    if ((rc = part_id(bpe, path, line, joined, left_len + right_len, &merged,
                      error)))
      goto out;
    /* A repeated pair takes its later rank, as a Rust HashMap insert. */
    bpe->merge_result[bpe->n_merges] = merged;
    if ((rc = hpt_token_vocab_put(bpe->merges, (const char *)pair, sizeof pair,
                                  (int32_t)bpe->n_merges, error)) != 0)
      goto out;
    bpe->n_merges++;
  }
out:
  free(joined);
  free(text);
  return rc;
}

int hpt_bpe_load(const char *vocab_json, const char *merges_txt,
                 hpt_bpe_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_bpe_t *bpe = calloc(1, sizeof *bpe);
  if (bpe == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "bpe: out of memory");
  int rc;
  if ((rc = hpt_token_vocab_new(&bpe->vocab, error)) ||
      (rc = hpt_token_vocab_new(&bpe->merges, error)) ||
      (rc = load_vocab(bpe, vocab_json, error)) ||
      (rc = load_merges(bpe, merges_txt, error)))
    goto out;
  for (int b = 0; b < 256; b++) {
    char ch[4];
    uint32_t cp = byte_to_cp(b);
    size_t n = cp < 0x80 ? 1 : 2;
    if (n == 1)
      ch[0] = (char)cp;
    else {
      ch[0] = (char)(0xC0 | (cp >> 6));
      ch[1] = (char)(0x80 | (cp & 0x3F));
    }
    if ((bpe->byte_id[b] = hpt_token_vocab_get(bpe->vocab, ch, n)) < 0) {
      rc = HPT_ERR(error, HPT_EPARSE,
                   "%s: byte 0x%02x's character '%.*s' is not in the vocab "
                   "(not a byte-level vocabulary)",
                   vocab_json, b, (int)n, ch);
      goto out;
    }
  }
  const struct {
    const char *content;
    bool required, lstrip;
    int32_t *id;
  } specials[] = {{"<s>", true, false, &bpe->bos_id},
                  {"</s>", true, false, &bpe->eos_id},
                  {"<pad>", true, false, &bpe->pad_id},
                  {"<unk>", false, false, NULL},
                  {"<mask>", false, true, NULL}};
  for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
    int32_t id = hpt_bpe_token_id(bpe, specials[i].content);
    if (id < 0 && specials[i].required) {
      rc = HPT_ERR(error, HPT_EPARSE, "%s: the vocabulary has no '%s'",
                   vocab_json, specials[i].content);
      goto out;
    }
    if (id < 0)
      continue;
    if (specials[i].id != NULL)
      *specials[i].id = id;
    bpe->specials[bpe->n_specials++] = (hpt_token_special_t){
        .content = specials[i].content, .id = id, .lstrip = specials[i].lstrip};
  }
  int code;
  PCRE2_SIZE offset;
  bpe->re = pcre2_compile((PCRE2_SPTR)GPT2_PATTERN, PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP, &code, &offset, NULL);
  if (bpe->re == NULL) {
    rc = HPT_ERR(error, HPT_EUNSUPPORTED,
                 "bpe: PCRE2 cannot compile the GPT-2 pattern (error %d at "
                 "%zu)",
                 code, (size_t)offset);
    goto out;
  }
  pcre2_jit_compile(bpe->re, PCRE2_JIT_COMPLETE); /* optional speed-up */
  *out = bpe;
  bpe = NULL;
out:
  hpt_bpe_destroy(&bpe);
  return rc;
}
