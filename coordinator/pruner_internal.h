/* pruner_internal.h — private to the pruner files: the per-rule vtable
 * behind pruner.h.
 *
 * Adding a rule: write pruner_<type>.c defining a
 * `const hpt__pruner_ops_t hpt__pruner_<type>`, and list it in pruner.c's
 * `pruner_types`.
 */
#ifndef HPT_PRUNER_INTERNAL_H
#define HPT_PRUNER_INTERNAL_H

#include "pruner.h"

typedef struct hpt__pruner_ops {
  const char *type;        /* "none", "median", ... */
  const char *const *keys; /* accepted option keys (with "type"), NULL-ended */
  /* Reads options into pruner->state. Optional. On failure sets error;
   * destroy is still called. */
  int (*init)(hpt_pruner_t *pruner, const hpt_options_t *options,
              hpt_error_t *error);
  /* The verdict for `trial` (found in `history`). Cannot fail. */
  bool (*should_prune)(hpt_pruner_t *pruner, const hpt_history_t *history,
                       const hpt_trial_t *trial);
  /* Frees pruner->state. Optional. */
  void (*destroy)(hpt_pruner_t *pruner);
} hpt__pruner_ops_t;

struct hpt_pruner {
  const hpt__pruner_ops_t *ops; /* read-only */
  void *state;                  /* the rule's own; owned via ops */
};

extern const hpt__pruner_ops_t hpt__pruner_none;
extern const hpt__pruner_ops_t hpt__pruner_median;

#endif
