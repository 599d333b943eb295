/* token_vocab.c — see token_vocab.h. */
#include "token_vocab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

typedef struct {
  char *key; /* NULL: empty slot */
  size_t len;
  uint64_t hash;
  int32_t value;
} slot_t;

struct hpt_token_vocab {
  slot_t *slots;
  size_t capacity; /* a power of two */
  size_t count;    /* kept <= capacity / 2 */
};

static uint64_t hash_bytes(const char *key, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)key[i];
    h *= 1099511628211ull;
  }
  return h ^ (h >> 29);
}

int hpt_token_vocab_new(hpt_token_vocab_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_token_vocab_t *v = calloc(1, sizeof *v);
  if (v == NULL || (v->slots = calloc(64, sizeof *v->slots)) == NULL) {
    free(v);
    return HPT_ERR(error, HPT_ENOMEM, "vocab: out of memory");
  }
  v->capacity = 64;
  *out = v;
  return 0;
}

void hpt_token_vocab_destroy(hpt_token_vocab_t **vocab) {
  if (vocab == NULL || *vocab == NULL)
    return;
  for (size_t i = 0; i < (*vocab)->capacity; i++)
    free((*vocab)->slots[i].key);
  free((*vocab)->slots);
  free(*vocab);
  *vocab = NULL;
}

static slot_t *probe(slot_t *slots, size_t capacity, const char *key,
                     size_t len, uint64_t hash) {
  size_t i = (size_t)hash & (capacity - 1);
  while (slots[i].key != NULL &&
         !(slots[i].hash == hash && slots[i].len == len &&
           memcmp(slots[i].key, key, len) == 0))
    i = (i + 1) & (capacity - 1);
  return &slots[i];
}

static int grow(hpt_token_vocab_t *v) {
  size_t capacity = v->capacity * 2;
  slot_t *slots = calloc(capacity, sizeof *slots);
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < v->capacity; i++)
    if (v->slots[i].key != NULL)
      *probe(slots, capacity, v->slots[i].key, v->slots[i].len,
             v->slots[i].hash) = v->slots[i];
  free(v->slots);
  v->slots = slots;
  v->capacity = capacity;
  return 0;
}

int hpt_token_vocab_put(hpt_token_vocab_t *vocab, const char *key, size_t len,
                        int32_t value, hpt_error_t *error) {
  if ((vocab->count + 1) * 2 > vocab->capacity && grow(vocab) != 0)
    return HPT_ERR(error, HPT_ENOMEM, "vocab: out of memory");
  uint64_t hash = hash_bytes(key, len);
  slot_t *slot = probe(vocab->slots, vocab->capacity, key, len, hash);
  if (slot->key == NULL) {
    char *copy = malloc(len + 1);
    if (copy == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "vocab: out of memory");
    memcpy(copy, key, len);
    copy[len] = '\0';
    slot->key = copy;
    slot->len = len;
    slot->hash = hash;
    vocab->count++;
  }
  slot->value = value;
  return 0;
}

int32_t hpt_token_vocab_get(const hpt_token_vocab_t *vocab, const char *key,
                            size_t len) {
  slot_t *slot =
      probe(vocab->slots, vocab->capacity, key, len, hash_bytes(key, len));
  return slot->key != NULL ? slot->value : -1;
}

size_t hpt_token_vocab_count(const hpt_token_vocab_t *vocab) {
  return vocab->count;
}

bool hpt_token_is_white_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* The code point ending just before text[at] (at > 0, valid UTF-8) and
 * its start. */
static uint32_t previous_cp(const char *text, size_t at, size_t *start) {
  size_t i = at - 1;
  while (i > 0 && ((unsigned char)text[i] & 0xC0) == 0x80)
    i--;
  utf8proc_int32_t cp = 0;
  utf8proc_iterate((const utf8proc_uint8_t *)text + i,
                   (utf8proc_ssize_t)(at - i), &cp);
  *start = i;
  return (uint32_t)cp;
}

bool hpt_token_specials_next(const hpt_token_special_t *specials,
                             size_t n_specials, const char *text, size_t len,
                             size_t from, size_t floor, size_t *begin,
                             size_t *end, int32_t *id) {
  if (n_specials == 0)
    return false;
  for (size_t at = from; at < len; at++) {
    const hpt_token_special_t *best = NULL;
    size_t best_len = 0;
    for (size_t k = 0; k < n_specials; k++) {
      size_t n = strlen(specials[k].content);
      if (n > best_len && n <= len - at &&
          memcmp(text + at, specials[k].content, n) == 0) {
        best = &specials[k];
        best_len = n;
      }
    }
    if (best == NULL)
      continue;
    size_t b = at, e = at + best_len;
    if (best->lstrip)
      while (b > floor) {
        size_t start;
        if (!hpt_token_is_white_space(previous_cp(text, b, &start)))
          break;
        b = start;
      }
    if (best->rstrip)
      while (e < len) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)text + e,
                             (utf8proc_ssize_t)(len - e), &cp);
        if (n <= 0 || !hpt_token_is_white_space((uint32_t)cp))
          break;
        e += (size_t)n;
      }
    *begin = b;
    *end = e;
    *id = best->id;
    return true;
  }
  return false;
}

int hpt_token_check_utf8(const char *text, size_t len, const char *what,
                         hpt_error_t *error) {
  size_t at = 0;
  while (at < len) {
    unsigned char c = (unsigned char)text[at];
    if (c < 0x80) {
      at++;
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)text + at,
                                          (utf8proc_ssize_t)(len - at), &cp);
    if (n <= 0)
      return HPT_ERR(error, HPT_EPARSE, "%s: invalid UTF-8 at byte %zu",
                     what ? what : "text", at);
    at += (size_t)n;
  }
  return 0;
}

int hpt_token_read_file(const char *path, size_t max_bytes, char **out,
                        size_t *len, hpt_error_t *error) {
  int rc = 0;
  char *text = NULL;
  *out = NULL;
  *len = 0;
  FILE *file = fopen(path, "rb");
  if (file == NULL)
    return HPT_ERR(error, errno == ENOENT ? HPT_ENOTFOUND : HPT_EIO,
                   "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(file), &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = HPT_ERR(error, HPT_EIO, "%s: not a regular file", path);
    goto out;
  }
  if ((uint64_t)st.st_size > max_bytes) {
    rc = HPT_ERR(error, HPT_EIO, "%s: %lld bytes, more than the %zu allowed",
                 path, (long long)st.st_size, max_bytes);
    goto out;
  }
  size_t size = (size_t)st.st_size;
  if ((text = malloc(size + 1)) == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  if (fread(text, 1, size, file) != size || ferror(file)) {
    rc = HPT_ERR(error, HPT_EIO, "%s: read failed", path);
    goto out;
  }
  text[size] = '\0';
  *out = text;
  *len = size;
  text = NULL;
out:
  free(text);
  fclose(file);
  return rc;
}
