/* log.h — one line per event, key=value fields, a level.
 *
 *   2026-11-28T22:10:03.123Z level=info proc=hpt event=trial_complete study=x
 * trial=3
 *
 * Lines go to stderr. The threshold comes from HPT_LOG_LEVEL (debug, info,
 * warn, error; default info) or hpt_log_set_level(). Thread-safe: each line
 * is written with a single fputs. Cannot fail (a line that does not fit is
 * truncated).
 */
#ifndef HPT_LOG_H
#define HPT_LOG_H

typedef enum {
  HPT_LOG_DEBUG = 0,
  HPT_LOG_INFO = 1,
  HPT_LOG_WARN = 2,
  HPT_LOG_ERROR = 3,
  HPT_LOG_OFF = 4,
} hpt_log_level_t;

/* Sets the process name printed in proc= (e.g. "hpt", "hpt-worker"). The
 * string is borrowed and must outlive all logging. */
void hpt_log_set_process(const char *name);

void hpt_log_set_level(hpt_log_level_t level);

/* Parses "debug" | "info" | "warn" | "error" | "off"; returns -1 if unknown. */
int hpt_log_level_parse(const char *text);

/* Whether a line at `level` would be printed. */
int hpt_log_enabled(hpt_log_level_t level);

/* Logs `event` with the key=value text made from format. */
void hpt_log(hpt_log_level_t level, const char *event, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
