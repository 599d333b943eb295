/* log.c — see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *process_name = "hpt";
static int threshold = -1; /* -1: not yet read from the environment */

void hpt_log_set_process(const char *name) { process_name = name; }

void hpt_log_set_level(hpt_log_level_t level) { threshold = (int)level; }

int hpt_log_level_parse(const char *text) {
  static const char *names[] = {"debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 5; i++)
    if (strcmp(text, names[i]) == 0)
      return i;
  return -1;
}

static int current_threshold(void) {
  if (threshold < 0) {
    const char *env = getenv("HPT_LOG_LEVEL");
    int parsed = env ? hpt_log_level_parse(env) : -1;
    threshold = parsed >= 0 ? parsed : HPT_LOG_INFO;
  }
  return threshold;
}

int hpt_log_enabled(hpt_log_level_t level) {
  return (int)level >= current_threshold();
}

void hpt_log(hpt_log_level_t level, const char *event, const char *format,
             ...) {
  static const char *level_names[] = {"debug", "info", "warn", "error"};
  if (!hpt_log_enabled(level) || level >= HPT_LOG_OFF)
    return;
  struct timeval now;
  gettimeofday(&now, NULL);
  struct tm utc;
  gmtime_r(&now.tv_sec, &utc);
  char line[2048];
  int used = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &utc);
  used +=
      snprintf(line + used, sizeof line - (size_t)used,
               ".%03dZ level=%s proc=%s event=%s ", (int)(now.tv_usec / 1000),
               level_names[level], process_name, event);
  if (used < (int)sizeof line) {
    va_list args;
    va_start(args, format);
    vsnprintf(line + used, sizeof line - (size_t)used, format, args);
    va_end(args);
  }
  size_t length = strnlen(line, sizeof line - 2);
  line[length] = '\n';
  line[length + 1] = '\0';
  fputs(line, stderr);
}
