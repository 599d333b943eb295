/* error.h — hpt's one error convention.
 *
 * Every fallible function returns int: 0 (HPT_OK) on success, a negative
 * HPT_E* code on failure. Functions that can explain a failure take a
 * trailing `hpt_error_t *error` (may be NULL) and fill it with the code and a
 * one-line, user-facing message ("spec.yaml:7: params.lr: low > high").
 * Foreign errors (libpq, libzmq, libuv, errno) are mapped to HPT_E* at the
 * edge of the room that calls them; their text goes into the message.
 *
 * HPT_ERR(error, code, fmt, ...) sets the error, logs file:line at debug
 * level once (where the error started, as SQLite's _BKPT macros do) and
 * evaluates to `code`, so `return HPT_ERR(error, HPT_EINVAL, "...");` reads
 * as one statement.
 */
#ifndef HPT_ERROR_H
#define HPT_ERROR_H

#include <stddef.h>

#define HPT_ERRNO_MAP(X)                                                       \
  X(OK, 0, "success")                                                          \
  X(EINVAL, -1, "invalid argument")                                            \
  X(ENOMEM, -2, "out of memory")                                               \
  X(EIO, -3, "input/output error")                                             \
  X(ENOTFOUND, -4, "not found")                                                \
  X(EEXIST, -5, "already exists")                                              \
  X(EPARSE, -6, "parse error")                                                 \
  X(EDB, -7, "database error")                                                 \
  X(EWIRE, -8, "wire protocol error")                                          \
  X(ESTATE, -9, "invalid state")                                               \
  X(ETIMEOUT, -10, "timed out")                                                \
  X(ESYSTEM, -11, "system call failed")                                        \
  X(EUNSUPPORTED, -12, "unsupported")                                          \
  X(ECHILD, -13, "child process failed")                                       \
  X(EINTERRUPTED, -14, "interrupted")                                          \
  X(EDEVICE, -15, "device lost")

typedef enum {
#define HPT__ERROR_ENUM(name, value, text) HPT_##name = (value),
  HPT_ERRNO_MAP(HPT__ERROR_ENUM)
#undef HPT__ERROR_ENUM
} hpt_error_code_t;

#define HPT_ERROR_MESSAGE_MAX 512

typedef struct hpt_error {
  int code;                            /* HPT_OK or a negative HPT_E* */
  char message[HPT_ERROR_MESSAGE_MAX]; /* one line, no trailing newline */
} hpt_error_t;

/* Static text for a code ("invalid argument"); never NULL. Cannot fail. */
const char *hpt_strerror(int code);

/* Name of a code ("EINVAL"); never NULL. Cannot fail. */
const char *hpt_error_name(int code);

/* Resets `error` to HPT_OK with an empty message. Accepts NULL. */
void hpt_error_clear(hpt_error_t *error);

/* Fills `error` (which may be NULL) and returns `code`. Prefer HPT_ERR. */
int hpt__error_set_at(hpt_error_t *error, int code, const char *file, int line,
                      const char *format, ...)
    __attribute__((format(printf, 5, 6)));

#define HPT_ERR(error, code, ...)                                              \
  hpt__error_set_at((error), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Prepends "prefix: " to an error's message (e.g. a file name), keeping the
 * code. Accepts NULL. Returns the error's code. */
int hpt_error_prefix(hpt_error_t *error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
