/* conninfo.c — see conninfo.h. */
#include "conninfo.h"

#include <string.h>

typedef struct out {
  char *buffer;
  size_t size;
  size_t used;
} out_t;

static void put(out_t *out, const char *text, size_t length) {
  for (size_t i = 0; i < length && out->used + 1 < out->size; i++)
    out->buffer[out->used++] = text[i];
}

/* Length of a password value at `value` in a key=value string or a URL
 * query: a '...' quoted value (with \' and \\ escapes), else everything up
 * to a blank, '&' or '"' (a quoted message around the string). */
static size_t value_length(const char *value) {
  size_t i = 0;
  if (value[0] == '\'') {
    for (i = 1; value[i] != '\0' && value[i] != '\''; i++)
      if (value[i] == '\\' && value[i + 1] != '\0')
        i++;
    return value[i] == '\'' ? i + 1 : i;
  }
  while (value[i] != '\0' && strchr(" \t\r\n&\"", value[i]) == NULL)
    i++;
  return i;
}

/* At `p`, just after "://": the length of a URL's "user:" and of its
 * ":pass" up to the '@', if the authority has both; else 0. */
static size_t userinfo_password(const char *p, size_t *user_length) {
  size_t end = strcspn(p, "/?#\" \t\r\n");
  const char *at = NULL;
  for (size_t i = 0; i < end; i++)
    if (p[i] == '@')
      at = p + i; /* the last one: a password may not hold a raw '@', but
                     be lenient */
  if (at == NULL)
    return 0;
  const char *colon = memchr(p, ':', (size_t)(at - p));
  if (colon == NULL)
    return 0;
  *user_length = (size_t)(colon - p) + 1;
  return (size_t)(at - colon) - 1;
}

void hpt_conninfo_mask(const char *text, char *buffer, size_t size) {
  if (size == 0)
    return;
  out_t out = {buffer, size, 0};
  const char *p = text;
  while (*p != '\0') {
    if (strncmp(p, "://", 3) == 0) {
      put(&out, p, 3);
      p += 3;
      size_t user_length = 0;
      size_t length = userinfo_password(p, &user_length);
      if (length > 0) {
        put(&out, p, user_length);
        put(&out, "***", 3);
        p += user_length + length;
      }
      continue;
    }
    int at_key = p == text || strchr(" \t?&'\"", p[-1]) != NULL;
    if (at_key && strncmp(p, "password", 8) == 0) {
      const char *q = p + 8;
      while (*q == ' ' || *q == '\t')
        q++;
      if (*q == '=') {
        q++;
        while (*q == ' ' || *q == '\t')
          q++;
        put(&out, p, (size_t)(q - p));
        put(&out, "***", 3);
        p = q + value_length(q);
        continue;
      }
    }
    put(&out, p, 1);
    p++;
  }
  buffer[out.used] = '\0';
}
