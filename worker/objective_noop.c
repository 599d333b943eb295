/* objective_noop.c — the no-op objective: a deterministic function of the
 * params, returned at once (or after sleep_ms), for benchmarks and tests of
 * the job queue. See objective.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "objective.h"

/* FNV-1a of the text, mapped to [0, 1). */
static double text_fraction(const char *text) {
  uint64_t hash = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    hash ^= *p;
    hash *= 1099511628211ULL;
  }
  return (double)(hash >> 11) * 0x1.0p-53;
}

static void sleep_ms(int64_t ms) {
  if (ms <= 0)
    return;
  struct timespec delay = {.tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&delay, &delay) != 0)
    ;
}

int hpt_objective_noop_run(const hpt_objective_call_t *call,
                           hpt_objective_result_t *result, hpt_error_t *error) {
  int64_t total_sleep_ms = 0, steps = 0;
  int rc;
  if ((rc = hpt_options_get_int(call->settings, "sleep_ms", 0, &total_sleep_ms,
                                error)) < 0 ||
      (rc = hpt_options_get_int(call->settings, "steps", 0, &steps, error)) < 0)
    return rc;
  if (total_sleep_ms < 0 || steps < 0 || steps > 100000)
    return HPT_ERR(error, HPT_EINVAL,
                   "noop: sleep_ms must be >= 0 and steps in 0..100000");
  double value = 0.0;
  for (size_t i = 0; i < call->n_params; i++) {
    const char *text = call->params[i].value;
    char *end = NULL;
    double number = strtod(text, &end);
    value += (end != text && *end == '\0') ? number : text_fraction(text);
  }
  for (int64_t step = 1; step <= steps; step++) {
    sleep_ms(total_sleep_ms / steps);
    call->report(call->user, (int)step, value * (double)step / (double)steps);
  }
  if (steps == 0)
    sleep_ms(total_sleep_ms);
  memset(result, 0, sizeof *result);
  result->value = value;
  return HPT_OK;
}
