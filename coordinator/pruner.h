/* pruner.h — decides whether a running trial should stop early.
 *
 * One interface, one file per rule, each with Optuna's semantics and
 * defaults: `none`, `median` (pruner_median.c), `percentile`
 * (pruner_percentile.c), `successive_halving` (pruner_successive_halving.c)
 * and `hyperband` (pruner_hyperband.c, a successive halving per bracket).
 */
#ifndef HPT_PRUNER_H
#define HPT_PRUNER_H

#include <stdbool.h>

#include "error.h"
#include "history.h"
#include "options.h"

typedef struct hpt_pruner hpt_pruner_t;

/* Creates the pruner named by options' "type". */
int hpt_pruner_new(const hpt_options_t *options, hpt_pruner_t **pruner,
                   hpt_error_t *error);

/* Called after trial `number` reported its latest intermediate value (already
 * recorded in `history`). True: stop it now. Cannot fail; unknown trial
 * numbers are never pruned. */
bool hpt_pruner_should_prune(hpt_pruner_t *pruner, const hpt_history_t *history,
                             int number);

const char *hpt_pruner_type(const hpt_pruner_t *pruner);

void hpt_pruner_destroy(hpt_pruner_t **pruner);

#endif
