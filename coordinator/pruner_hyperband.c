/* pruner_hyperband.c — the `hyperband` rule, with Optuna's HyperbandPruner
 * semantics (optuna/pruners/_hyperband.py): several successive-halving
 * brackets with growing early-stopping rates, each trial in one of them.
 *
 * Options: min_resource (1), max_resource ('auto' or an integer >= 1;
 * auto), reduction_factor (3, >= 2), bootstrap_count (0; > 0 needs an
 * integer max_resource).
 *
 * Set-up, once, at the first verdict where max_resource is known ('auto':
 * the largest step reported by a COMPLETE trial, plus one, as Optuna):
 *   n_brackets = floor(log(max_resource / min_resource) /
 *                      log(reduction_factor)) + 1
 *   budget(b)  = ceil(n_brackets · reduction_factor^s / (s + 1)),
 *                s = n_brackets - 1 - b.
 * Until then, and if n_brackets < 1, nothing is pruned, and reports made
 * until then are not recorded in any rung (see the successive-halving
 * file on how that is remembered).
 *
 * Bracket of trial N: CRC-32 (IEEE, as zlib and Python's binascii.crc32)
 * of the text "hpt_N" modulo the total budget, walked through the budgets
 * in bracket order. Optuna hashes "<study name>_N"; hpt's choice is exactly
 * Optuna's for a study named "hpt", and deterministic across restarts.
 *
 * Bracket b is successive halving (pruner_successive_halving.c) with
 * min_resource, reduction_factor, min_early_stopping_rate b and
 * bootstrap_count, among the trials of bracket b only.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pruner_internal.h"

typedef struct hyperband_state {
  int64_t min_resource;
  int64_t max_resource; /* 0: 'auto', not yet known */
  int64_t reduction_factor;
  int64_t bootstrap_count;
  int64_t n_brackets; /* 0: not set up yet */
  int64_t total_budget;
  int64_t *budgets;        /* [n_brackets] */
  hpt__sh_unseen_t unseen; /* reports made before set-up */
} hyperband_state_t;

static const char *const hyperband_keys[] = {"type",
                                             "min_resource",
                                             "max_resource",
                                             "reduction_factor",
                                             "bootstrap_count",
                                             NULL};

static int hyperband_init(hpt_pruner_t *pruner, const hpt_options_t *options,
                          hpt_error_t *error) {
  hyperband_state_t *state = calloc(1, sizeof *state);
  if (state == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating pruner");
  pruner->state = state;
  int rc;
  if ((rc = hpt__pruner_option_int(options, "min_resource", 1, 1, 1000000000,
                                   &state->min_resource, error)) != HPT_OK ||
      (rc = hpt__pruner_option_auto_int(
           options, "max_resource", &state->max_resource, error)) != HPT_OK ||
      (rc = hpt__pruner_option_int(options, "reduction_factor", 3, 2, 1000000,
                                   &state->reduction_factor, error)) !=
          HPT_OK ||
      (rc = hpt__pruner_option_int(options, "bootstrap_count", 0, 0, 1000000000,
                                   &state->bootstrap_count, error)) != HPT_OK)
    return rc;
  return hpt__sh_check_bootstrap(options, "max_resource",
                                 state->max_resource == 0,
                                 state->bootstrap_count, error);
}

static void hyperband_destroy(hpt_pruner_t *pruner) {
  hyperband_state_t *state = pruner->state;
  if (state != NULL) {
    free(state->budgets);
    hpt__sh_unseen_free(&state->unseen);
  }
  free(state);
  pruner->state = NULL;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib). */
static uint32_t crc32_text(const char *text) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    crc ^= *p;
    for (int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/* Sets up the brackets once max_resource is known. False: not yet. */
static bool set_up(hyperband_state_t *state, const hpt_history_t *history,
                   const hpt_trial_t *current) {
  if (state->n_brackets != 0)
    return true;
  if (state->max_resource == 0) {
    int64_t last_step = hpt__sh_last_complete_step(history);
    if (last_step < 0)
      return false;
    state->max_resource = last_step + 1;
  }
  /* Same doubles as Python's math.log(x, base) = log(x) / log(base). */
  double ratio = (double)state->max_resource / (double)state->min_resource;
  int64_t n =
      (int64_t)floor(log(ratio) / log((double)state->reduction_factor)) + 1;
  if (n < 1) {
    state->n_brackets = -1; /* never prunes, as Optuna with no brackets */
    return false;
  }
  state->budgets = malloc((size_t)n * sizeof *state->budgets);
  if (state->budgets == NULL)
    return false; /* cannot fail: try again next time */
  state->n_brackets = n;
  state->total_budget = 0;
  for (int64_t b = 0; b < n; b++) {
    int64_t s = n - 1 - b;
    double power = pow((double)state->reduction_factor, (double)s);
    state->budgets[b] = (int64_t)ceil((double)n * power / (double)(s + 1));
    state->total_budget += state->budgets[b];
  }
  /* Optuna's brackets saw none of the reports made before this call. */
  hpt__sh_unseen_capture(&state->unseen, history, current);
  return true;
}

static int64_t bracket_of(const hyperband_state_t *state, int number) {
  char text[32];
  snprintf(text, sizeof text, "hpt_%d", number);
  int64_t n = (int64_t)(crc32_text(text) % (uint64_t)state->total_budget);
  for (int64_t b = 0; b < state->n_brackets; b++) {
    n -= state->budgets[b];
    if (n < 0)
      return b;
  }
  return state->n_brackets - 1; /* unreachable */
}

typedef struct bracket_filter {
  const hyperband_state_t *state;
  int64_t bracket;
} bracket_filter_t;

static bool in_bracket(const hpt_trial_t *trial, const void *context) {
  const bracket_filter_t *filter = context;
  return bracket_of(filter->state, trial->number) == filter->bracket;
}

static bool hyperband_should_prune(hpt_pruner_t *pruner,
                                   const hpt_history_t *history,
                                   const hpt_trial_t *trial) {
  hyperband_state_t *state = pruner->state;
  if (state->n_brackets < 0 || !set_up(state, history, trial))
    return false;
  bracket_filter_t filter = {state, bracket_of(state, trial->number)};
  hpt__sh_rule_t rule = {
      .min_resource = state->min_resource,
      .reduction_factor = state->reduction_factor,
      .min_early_stopping_rate = filter.bracket,
      .bootstrap_count = state->bootstrap_count,
  };
  return hpt__sh_should_prune(&rule, history, trial, &state->unseen, in_bracket,
                              &filter);
}

const hpt__pruner_ops_t hpt__pruner_hyperband = {
    .type = "hyperband",
    .keys = hyperband_keys,
    .init = hyperband_init,
    .should_prune = hyperband_should_prune,
    .destroy = hyperband_destroy,
};
