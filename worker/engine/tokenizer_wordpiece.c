/* tokenizer_wordpiece.c — see tokenizer_wordpiece.h. */
#include "tokenizer_wordpiece.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "token_vocab.h"
#include "tokenizer_wordpiece_internal.h"

/* ---- growable byte buffer ------------------------------------------------ */

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

static int buf_reserve(buf_t *b, size_t extra) {
  if (b->len + extra <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra)
    cap *= 2;
  char *p = realloc(b->p, cap);
  if (p == NULL)
    return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int buf_put(buf_t *b, const char *s, size_t n) {
  if (n == 0) /* b->p may still be NULL: memcpy(NULL, .., 0) is undefined */
    return 0;
  if (buf_reserve(b, n) != 0)
    return -1;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 0;
}

static int buf_put_cp(buf_t *b, utf8proc_int32_t cp) {
  if (buf_reserve(b, 4) != 0)
    return -1;
  b->len += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)b->p + b->len);
  return 0;
}

/* ---- Unicode classes, as tokenizers' normalizers/bert.rs ----------------- */

static bool is_control(utf8proc_int32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r')
    return false;
  utf8proc_category_t c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF ||
         c == UTF8PROC_CATEGORY_CS || c == UTF8PROC_CATEGORY_CO ||
         c == UTF8PROC_CATEGORY_CN;
}

static bool is_chinese(utf8proc_int32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

static bool is_punctuation(utf8proc_int32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) ||
      (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  utf8proc_category_t c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_PC || c == UTF8PROC_CATEGORY_PD ||
         c == UTF8PROC_CATEGORY_PS || c == UTF8PROC_CATEGORY_PE ||
         c == UTF8PROC_CATEGORY_PI || c == UTF8PROC_CATEGORY_PF ||
         c == UTF8PROC_CATEGORY_PO;
}

/* Rust char::to_lowercase: utf8proc's simple mapping, plus the one
 * unconditional multi-character lowercase in SpecialCasing.txt. */
static int put_lower(buf_t *b, utf8proc_int32_t cp) {
  if (cp == 0x130)
    return buf_put(b, "i\xcc\x87", 3);
  return buf_put_cp(b, utf8proc_tolower(cp));
}

/* ---- encoding --------------------------------------------------------------
 */

/* Scratch space for one encode call. */
typedef struct {
  buf_t clean, norm, piece;
  utf8proc_int32_t *cps;
  size_t cps_cap;
} scratch_t;

static void scratch_close(scratch_t *s) {
  free(s->clean.p);
  free(s->norm.p);
  free(s->piece.p);
  free(s->cps);
}

/* Steps 1-3 on text[0..len) (valid UTF-8) into s->norm. */
static int normalize(const hpt_wordpiece_t *wp, const char *text, size_t len,
                     scratch_t *s) {
  const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
  s->clean.len = s->norm.len = 0;
  for (size_t at = 0; at < len;) {
    utf8proc_int32_t cp;
    at += (size_t)utf8proc_iterate(p + at, (utf8proc_ssize_t)(len - at), &cp);
    if (wp->clean_text) {
      if (cp == 0 || cp == 0xFFFD || is_control(cp))
        continue;
      if (hpt_token_is_white_space((uint32_t)cp))
        cp = ' ';
    }
    int rc = wp->handle_chinese_chars && is_chinese(cp)
                 ? (buf_put(&s->clean, " ", 1) || buf_put_cp(&s->clean, cp) ||
                    buf_put(&s->clean, " ", 1))
                 : buf_put_cp(&s->clean, cp);
    if (rc != 0)
      return HPT_ENOMEM;
  }
  if (!wp->strip_accents) {
    if (!wp->lowercase)
      return buf_put(&s->norm, s->clean.p ? s->clean.p : "", s->clean.len)
                 ? HPT_ENOMEM
                 : 0;
    for (size_t at = 0; at < s->clean.len;) {
      utf8proc_int32_t cp;
      at +=
          (size_t)utf8proc_iterate((utf8proc_uint8_t *)s->clean.p + at,
                                   (utf8proc_ssize_t)(s->clean.len - at), &cp);
      if (put_lower(&s->norm, cp) != 0)
        return HPT_ENOMEM;
    }
    return 0;
  }
  /* NFD (canonical decomposition with reordering), then drop Mn. */
  utf8proc_ssize_t n = 0;
  if (s->clean.len > 0) {
    n = utf8proc_decompose((utf8proc_uint8_t *)s->clean.p,
                           (utf8proc_ssize_t)s->clean.len, s->cps,
                           (utf8proc_ssize_t)s->cps_cap, UTF8PROC_DECOMPOSE);
    if (n < 0)
      return HPT_EPARSE;
    if ((size_t)n > s->cps_cap) {
      free(s->cps);
      s->cps_cap = (size_t)n;
      if ((s->cps = malloc(s->cps_cap * sizeof *s->cps)) == NULL) {
        s->cps_cap = 0;
        return HPT_ENOMEM;
      }
      n = utf8proc_decompose((utf8proc_uint8_t *)s->clean.p,
                             (utf8proc_ssize_t)s->clean.len, s->cps,
                             (utf8proc_ssize_t)s->cps_cap, UTF8PROC_DECOMPOSE);
      if (n < 0)
        return HPT_EPARSE;
    }
  }
  for (utf8proc_ssize_t i = 0; i < n; i++) {
    utf8proc_int32_t cp = s->cps[i];
    if (utf8proc_category(cp) == UTF8PROC_CATEGORY_MN)
      continue;
    if ((wp->lowercase ? put_lower(&s->norm, cp) : buf_put_cp(&s->norm, cp)) !=
        0)
      return HPT_ENOMEM;
  }
  return 0;
}

/* Step 5 on one word (n_chars code points in word[0..len)). */
static int wordpiece_word(const hpt_wordpiece_t *wp, const char *word,
                          size_t len, size_t n_chars, hpt_token_ids_t *out,
                          scratch_t *s, hpt_error_t *error) {
  if (n_chars > wp->max_chars)
    return hpt_token_ids_push(out, wp->unk_id, error);
  size_t mark = out->count;
  for (size_t start = 0; start < len;) {
    size_t end = len;
    int32_t found = -1;
    while (end > start) {
      s->piece.len = 0;
      if ((start > 0 && buf_put(&s->piece, wp->prefix, wp->prefix_len)) ||
          buf_put(&s->piece, word + start, end - start))
        return HPT_ERR(error, HPT_ENOMEM, "wordpiece: out of memory");
      found = hpt_token_vocab_get(wp->vocab, s->piece.p, s->piece.len);
      if (found >= 0)
        break;
      do
        end--;
      while (end > start && ((unsigned char)word[end] & 0xC0) == 0x80);
    }
    if (found < 0) {
      out->count = mark;
      return hpt_token_ids_push(out, wp->unk_id, error);
    }
    int rc = hpt_token_ids_push(out, found, error);
    if (rc != 0)
      return rc;
    start = end;
  }
  return 0;
}

/* Steps 1-5 on text[0..len), appending ids. */
static int encode_segment(const hpt_wordpiece_t *wp, const char *text,
                          size_t len, hpt_token_ids_t *out, scratch_t *s,
                          hpt_error_t *error) {
  int rc = normalize(wp, text, len, s);
  if (rc != 0)
    return HPT_ERR(error, rc, "wordpiece: normalisation failed: %s",
                   hpt_strerror(rc));
  const char *n = s->norm.p;
  size_t word = 0, n_chars = 0;
  for (size_t at = 0; at < s->norm.len;) {
    utf8proc_int32_t cp;
    size_t step =
        (size_t)utf8proc_iterate((const utf8proc_uint8_t *)n + at,
                                 (utf8proc_ssize_t)(s->norm.len - at), &cp);
    bool space = hpt_token_is_white_space((uint32_t)cp);
    if (space || is_punctuation(cp)) {
      if (n_chars > 0 && (rc = wordpiece_word(wp, n + word, at - word, n_chars,
                                              out, s, error)) != 0)
        return rc;
      if (!space &&
          (rc = wordpiece_word(wp, n + at, step, 1, out, s, error)) != 0)
        return rc;
      word = at + step;
      n_chars = 0;
    } else {
      n_chars++;
    }
    at += step;
  }
  if (n_chars > 0)
    return wordpiece_word(wp, n + word, s->norm.len - word, n_chars, out, s,
                          error);
  return 0;
}

int hpt_wordpiece_encode(const hpt_wordpiece_t *wp, const char *text,
                         size_t max_length, hpt_token_ids_t *out,
                         hpt_error_t *error) {
  out->count = 0;
  if (max_length == 1)
    return HPT_ERR(error, HPT_EINVAL,
                   "wordpiece: max_length 1 leaves no room for [CLS] [SEP]");
  size_t len = strlen(text);
  int rc = hpt_token_check_utf8(text, len, "wordpiece", error);
  if (rc != 0)
    return rc;
  scratch_t s = {0};
  if ((rc = hpt_token_ids_push(out, wp->cls_id, error)) != 0)
    goto out;
  size_t from = 0, begin, end;
  int32_t id;
  while (hpt_token_specials_next(wp->specials, wp->n_specials, text, len, from,
                                 from, &begin, &end, &id)) {
    if ((rc = encode_segment(wp, text + from, begin - from, out, &s, error)) ||
        (rc = hpt_token_ids_push(out, id, error)))
      goto out;
    from = end;
  }
  if ((rc = encode_segment(wp, text + from, len - from, out, &s, error)) != 0)
    goto out;
  if (max_length > 0 && out->count + 1 > max_length)
    out->count = max_length - 1;
  rc = hpt_token_ids_push(out, wp->sep_id, error);
out:
  scratch_close(&s);
  if (rc != 0)
    out->count = 0;
  return rc;
}

static int encode_adapter(const void *wp, const char *text, size_t max_length,
                          hpt_token_ids_t *out, hpt_error_t *error) {
  return hpt_wordpiece_encode(wp, text, max_length, out, error);
}

int hpt_wordpiece_encode_batch(const hpt_wordpiece_t *wp,
                               const char *const *texts, size_t n_texts,
                               size_t max_length, hpt_token_batch_t *batch,
                               hpt_error_t *error) {
  return hpt_token_batch_encode(encode_adapter, wp, texts, n_texts, max_length,
                                wp->pad_id, batch, error);
}

int32_t hpt_wordpiece_token_id(const hpt_wordpiece_t *wp, const char *token) {
  return hpt_token_vocab_get(wp->vocab, token, strlen(token));
}

const char *hpt_wordpiece_id_token(const hpt_wordpiece_t *wp, int32_t id) {
  return id >= 0 && (size_t)id < wp->n_tokens ? wp->tokens[id] : NULL;
}

size_t hpt_wordpiece_vocab_size(const hpt_wordpiece_t *wp) {
  return wp->n_tokens;
}
int32_t hpt_wordpiece_pad_id(const hpt_wordpiece_t *wp) { return wp->pad_id; }
int32_t hpt_wordpiece_unk_id(const hpt_wordpiece_t *wp) { return wp->unk_id; }
int32_t hpt_wordpiece_cls_id(const hpt_wordpiece_t *wp) { return wp->cls_id; }
int32_t hpt_wordpiece_sep_id(const hpt_wordpiece_t *wp) { return wp->sep_id; }
