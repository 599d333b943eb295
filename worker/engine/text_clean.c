/* text_clean.c — see text_clean.h. */
#include "text_clean.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

/* Bytes in the UTF-8 sequence starting at s[0] (1 for stray bytes),
 * never past `end`. */
static size_t char_length(const unsigned char *s, const unsigned char *end) {
  size_t n = 1;
  if (s[0] >= 0xF0)
    n = 4;
  else if (s[0] >= 0xE0)
    n = 3;
  else if (s[0] >= 0xC0)
    n = 2;
  if (n > (size_t)(end - s))
    return 1;
  for (size_t k = 1; k < n; k++)
    if ((s[k] & 0xC0) != 0x80)
      return 1;
  return n;
}

int hpt_text_clean(const char *text, char **out, hpt_error_t *error) {
  const unsigned char *begin = (const unsigned char *)(text ? text : "");
  const unsigned char *end = begin + strlen((const char *)begin);
  *out = NULL;
  while (begin < end && is_space(begin[0]))
    begin++;
  while (end > begin && is_space(end[-1]))
    end--;

  size_t n_chars = 0;
  for (const unsigned char *p = begin; p < end; p += char_length(p, end))
    n_chars++;
  if (n_chars < HPT_TEXT_CLEAN_MIN_CHARS) {
    *out = strdup(HPT_TEXT_CLEAN_EMPTY);
    return *out ? 0 : HPT_ERR(error, HPT_ENOMEM, "text_clean: out of memory");
  }

  /* Collapsing only shrinks the text, so the trimmed length is enough. */
  char *clean = malloc((size_t)(end - begin) + 1);
  if (clean == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "text_clean: out of memory");
  size_t used = 0;
  const unsigned char *prev = NULL;
  size_t prev_len = 0;
  int run = 0;
  for (const unsigned char *p = begin; p < end;) {
    size_t len = char_length(p, end);
    if (prev != NULL && len == prev_len && memcmp(p, prev, len) == 0)
      run++;
    else
      run = 1;
    if (run <= 2) {
      memcpy(clean + used, p, len);
      used += len;
    }
    prev = p;
    prev_len = len;
    p += len;
  }
  clean[used] = '\0';
  *out = clean;
  return 0;
}
