/* error.c — see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

const char *hpt_strerror(int code) {
  switch (code) {
#define HPT__ERROR_TEXT(name, value, text)                                     \
  case value:                                                                  \
    return text;
    HPT_ERRNO_MAP(HPT__ERROR_TEXT)
#undef HPT__ERROR_TEXT
  }
  return "unknown error";
}

const char *hpt_error_name(int code) {
  switch (code) {
#define HPT__ERROR_NAME(name, value, text)                                     \
  case value:                                                                  \
    return #name;
    HPT_ERRNO_MAP(HPT__ERROR_NAME)
#undef HPT__ERROR_NAME
  }
  return "EUNKNOWN";
}

void hpt_error_clear(hpt_error_t *error) {
  if (error == NULL)
    return;
  error->code = HPT_OK;
  error->message[0] = '\0';
}

int hpt__error_set_at(hpt_error_t *error, int code, const char *file, int line,
                      const char *format, ...) {
  char message[HPT_ERROR_MESSAGE_MAX];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  /* One line only: a message is printed as "hpt: <message>". */
  for (char *p = message; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  hpt_log(HPT_LOG_DEBUG, "error", "code=%s at=%s:%d message=\"%s\"",
          hpt_error_name(code), file, line, message);
  if (error != NULL) {
    error->code = code;
    memcpy(error->message, message, sizeof message);
  }
  return code;
}

int hpt_error_prefix(hpt_error_t *error, const char *format, ...) {
  if (error == NULL)
    return HPT_OK;
  char prefix[HPT_ERROR_MESSAGE_MAX];
  va_list args;
  va_start(args, format);
  vsnprintf(prefix, sizeof prefix, format, args);
  va_end(args);
  char joined[HPT_ERROR_MESSAGE_MAX];
  snprintf(joined, sizeof joined, "%s: %s", prefix, error->message);
  memcpy(error->message, joined, sizeof joined);
  return error->code;
}
