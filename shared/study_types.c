/* study_types.c — see study_types.h. */
#include "study_types.h"

#include <math.h>
#include <string.h>

static const char *state_names[] = {"WAITING", "RUNNING", "COMPLETE", "PRUNED",
                                    "FAIL"};

const char *hpt_trial_state_name(hpt_trial_state_t state) {
  if ((unsigned)state >= sizeof state_names / sizeof state_names[0])
    return "UNKNOWN";
  return state_names[state];
}

int hpt_trial_state_parse(const char *name) {
  for (int i = 0; i < (int)(sizeof state_names / sizeof state_names[0]); i++)
    if (strcmp(name, state_names[i]) == 0)
      return i;
  return -1;
}

const char *hpt_direction_name(hpt_direction_t direction) {
  return direction == HPT_DIRECTION_MINIMIZE ? "minimize" : "maximize";
}

int hpt_direction_better(hpt_direction_t direction, double candidate,
                         double incumbent) {
  if (isnan(candidate))
    return 0;
  if (isnan(incumbent))
    return 1;
  return direction == HPT_DIRECTION_MINIMIZE ? candidate < incumbent
                                             : candidate > incumbent;
}
