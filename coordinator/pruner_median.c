/* pruner_median.c — the `median` rule, with Optuna's MedianPruner semantics:
 * in Optuna (optuna/pruners/_median.py) MedianPruner is PercentilePruner
 * with percentile 50, and here it is the percentile rule
 * (pruner_percentile.c) at 50.
 *
 * Options: n_startup_trials (5), n_warmup_steps (0), interval_steps (1),
 * n_min_trials (1); `percentile` is not accepted. A trial whose latest step
 * is s is pruned iff
 *   - at least one and at least n_startup_trials trials are COMPLETE,
 *   - s >= n_warmup_steps,
 *   - s is the first reported step in its interval: the trial reported no
 *     other step in [floor((s - warmup) / interval) * interval + warmup, s)
 *     (with consecutive steps, this is (s - warmup) % interval == 0),
 *   - its best intermediate value (max when maximizing, min when
 *     minimizing; NaN ignored) is worse than the median of the values that
 *     COMPLETE trials reported at step s (NaN ignored in the median), where
 *     at least n_min_trials of them reported step s (NaN counted, as Optuna
 *     does). A trial whose values are all NaN is pruned; a median of only
 *     NaN values prunes nothing.
 */
#include "pruner_internal.h"

static const char *const median_keys[] = {"type",           "n_startup_trials",
                                          "n_warmup_steps", "interval_steps",
                                          "n_min_trials",   NULL};

static int median_init(hpt_pruner_t *pruner, const hpt_options_t *options,
                       hpt_error_t *error) {
  return hpt__percentile_init(pruner, options, 50, error);
}

const hpt__pruner_ops_t hpt__pruner_median = {
    .type = "median",
    .keys = median_keys,
    .init = median_init,
    .should_prune = hpt__percentile_should_prune,
    .destroy = hpt__percentile_destroy,
};
