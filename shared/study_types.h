/* study_types.h — the small vocabulary every room shares: optimisation
 * direction and trial states. Plain enums, no functions that can fail. */
#ifndef HPT_STUDY_TYPES_H
#define HPT_STUDY_TYPES_H

typedef enum {
  HPT_DIRECTION_MAXIMIZE = 0,
  HPT_DIRECTION_MINIMIZE = 1,
} hpt_direction_t;

/* Order matters only for display. Stored in PostgreSQL as the names below. */
typedef enum {
  HPT_TRIAL_WAITING = 0,
  HPT_TRIAL_RUNNING = 1,
  HPT_TRIAL_COMPLETE = 2,
  HPT_TRIAL_PRUNED = 3,
  HPT_TRIAL_FAIL = 4,
} hpt_trial_state_t;

/* "WAITING", "RUNNING", ...; never NULL. */
const char *hpt_trial_state_name(hpt_trial_state_t state);

/* Parses a state name; returns -1 if unknown. */
int hpt_trial_state_parse(const char *name);

/* "maximize" | "minimize". */
const char *hpt_direction_name(hpt_direction_t direction);

/* Whether `candidate` is better than `incumbent` in `direction`. NaN is never
 * better; anything beats a NaN incumbent. */
int hpt_direction_better(hpt_direction_t direction, double candidate,
                         double incumbent);

#endif
