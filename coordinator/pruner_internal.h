/* pruner_internal.h — private to the pruner files: the per-rule vtable
 * behind pruner.h.
 *
 * Adding a rule: write pruner_<type>.c defining a
 * `const hpt__pruner_ops_t hpt__pruner_<type>`, and list it in pruner.c's
 * `pruner_types`.
 */
#ifndef HPT_PRUNER_INTERNAL_H
#define HPT_PRUNER_INTERNAL_H

#include <stdint.h>

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
extern const hpt__pruner_ops_t hpt__pruner_percentile;
extern const hpt__pruner_ops_t hpt__pruner_successive_halving;
extern const hpt__pruner_ops_t hpt__pruner_hyperband;

/* Reads integer option `key` (absent: fallback), which must lie in
 * [minimum, maximum]; otherwise HPT_EINVAL naming file:line and key. */
int hpt__pruner_option_int(const hpt_options_t *options, const char *key,
                           int64_t fallback, int64_t minimum, int64_t maximum,
                           int64_t *out, hpt_error_t *error);

/* Reads an option that is either the word "auto" (*out = 0) or an integer
 * >= 1 (absent: auto). Otherwise HPT_EINVAL naming file:line and key. */
int hpt__pruner_option_auto_int(const hpt_options_t *options, const char *key,
                                int64_t *out, hpt_error_t *error);

/* The percentile rule (pruner_percentile.c), shared with the median rule,
 * which is percentile 50 with the same options less `percentile`. */

/* Allocates pruner->state for the cut at `percentile` (0..100) and reads
 * n_startup_trials, n_warmup_steps, interval_steps and n_min_trials. On
 * failure sets error; hpt__percentile_destroy still frees. */
int hpt__percentile_init(hpt_pruner_t *pruner, const hpt_options_t *options,
                         double percentile, hpt_error_t *error);

/* Optuna's PercentilePruner.prune for `trial`. Cannot fail. */
bool hpt__percentile_should_prune(hpt_pruner_t *pruner,
                                  const hpt_history_t *history,
                                  const hpt_trial_t *trial);

void hpt__percentile_destroy(hpt_pruner_t *pruner);

/* One successive-halving rule (pruner_successive_halving.c), shared with
 * hyperband's brackets. */
typedef struct hpt__sh_rule {
  int64_t min_resource;            /* >= 1 */
  int64_t reduction_factor;        /* >= 2 */
  int64_t min_early_stopping_rate; /* >= 0 */
  int64_t bootstrap_count;         /* >= 0 */
} hpt__sh_rule_t;

/* The largest step reported by any COMPLETE trial, or -1 when none has: what
 * an 'auto' resource (successive halving's min_resource, hyperband's
 * max_resource) is resolved from. Cannot fail. */
int64_t hpt__sh_last_complete_step(const hpt_history_t *history);

/* bootstrap_count > 0 needs a known resource: HPT_EINVAL naming
 * bootstrap_count and `resource_key` when that option is 'auto'
 * (resource_auto), else HPT_OK. */
int hpt__sh_check_bootstrap(const hpt_options_t *options,
                            const char *resource_key, bool resource_auto,
                            int64_t bootstrap_count, hpt_error_t *error);

/* Reports that Optuna never saw with the rule known: when an 'auto'
 * resource is resolved, the trials then in the history had made reports
 * the rule did not record. numbers ascending, n_unseen[i] reports of trial
 * numbers[i] skipped. */
typedef struct hpt__sh_unseen {
  size_t count;
  int *numbers;
  size_t *n_unseen;
} hpt__sh_unseen_t;

/* Fills unseen from the history at the moment the rule became known, while
 * judging `current` (whose latest report is seen). Cannot fail: without
 * memory it stays empty (every report counts as seen). */
void hpt__sh_unseen_capture(hpt__sh_unseen_t *unseen,
                            const hpt_history_t *history,
                            const hpt_trial_t *current);

void hpt__sh_unseen_free(hpt__sh_unseen_t *unseen);

/* Optuna's SuccessiveHalvingPruner.prune for `trial`, competing only with
 * the trials for which member(t, context) is true (NULL: all); `unseen`
 * may be NULL. Cannot fail. */
bool hpt__sh_should_prune(
    const hpt__sh_rule_t *rule, const hpt_history_t *history,
    const hpt_trial_t *trial, const hpt__sh_unseen_t *unseen,
    bool (*member)(const hpt_trial_t *trial, const void *context),
    const void *context);

#endif
