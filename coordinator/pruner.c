/* pruner.c — the pruner interface: picks the rule named by the `pruner:`
 * options' "type" and forwards to its vtable (pruner_internal.h). Also
 * holds the trivial `none` rule, which never prunes, and the option readers
 * the rules share.
 */
#include "pruner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pruner_internal.h"

static const char *const none_keys[] = {"type", NULL};

static bool none_should_prune(hpt_pruner_t *pruner,
                              const hpt_history_t *history,
                              const hpt_trial_t *trial) {
  return false;
}

const hpt__pruner_ops_t hpt__pruner_none = {
    .type = "none",
    .keys = none_keys,
    .should_prune = none_should_prune,
};

int hpt__pruner_option_int(const hpt_options_t *options, const char *key,
                           int64_t fallback, int64_t minimum, int64_t maximum,
                           int64_t *out, hpt_error_t *error) {
  int rc = hpt_options_get_int(options, key, fallback, out, error);
  if (rc != HPT_OK)
    return rc;
  if (*out < minimum || *out > maximum) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: must be between %lld and %lld",
                   hpt_options_describe(options, key, place, sizeof place),
                   (long long)minimum, (long long)maximum);
  }
  return HPT_OK;
}

int hpt__pruner_option_auto_int(const hpt_options_t *options, const char *key,
                                int64_t *out, hpt_error_t *error) {
  *out = 0;
  const hpt_option_t *option = hpt_options_find(options, key);
  if (option == NULL ||
      (!option->is_list && strcmp(option->value, "auto") == 0))
    return HPT_OK;
  int rc = hpt_options_get_int(options, key, 0, out, error);
  if (rc != HPT_OK || *out < 1 || *out > 1000000000) {
    char place[320];
    *out = 0;
    return HPT_ERR(error, HPT_EINVAL, "%s: must be 'auto' or an integer >= 1",
                   hpt_options_describe(options, key, place, sizeof place));
  }
  return HPT_OK;
}

/* Every rule, in the order listed in messages. */
static const hpt__pruner_ops_t *const pruner_types[] = {
    &hpt__pruner_none,       &hpt__pruner_median,
    &hpt__pruner_percentile, &hpt__pruner_successive_halving,
    &hpt__pruner_hyperband,
};
#define N_PRUNER_TYPES (sizeof pruner_types / sizeof pruner_types[0])

/* Creates the pruner named by options' "type" (default none); unknown types
 * and keys fail with HPT_EINVAL. On failure *pruner is NULL. */
int hpt_pruner_new(const hpt_options_t *options, hpt_pruner_t **pruner,
                   hpt_error_t *error) {
  *pruner = NULL;
  const char *type = NULL;
  int rc = hpt_options_get_string(options, "type", "none", &type, error);
  if (rc != HPT_OK)
    return rc;
  const hpt__pruner_ops_t *ops = NULL;
  char known[128] = "";
  for (size_t i = 0; i < N_PRUNER_TYPES; i++) {
    if (strcmp(pruner_types[i]->type, type) == 0)
      ops = pruner_types[i];
    size_t used = strlen(known);
    snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
             pruner_types[i]->type);
  }
  if (ops == NULL) {
    char place[320];
    return HPT_ERR(error, HPT_EINVAL, "%s: unknown pruner '%s' (known: %s)",
                   hpt_options_describe(options, "type", place, sizeof place),
                   type, known);
  }
  rc = hpt_options_check_keys(options, ops->keys, error);
  if (rc != HPT_OK)
    return rc;
  hpt_pruner_t *p = calloc(1, sizeof *p);
  if (p == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating pruner");
  p->ops = ops;
  if (ops->init != NULL && (rc = ops->init(p, options, error)) != HPT_OK) {
    hpt_pruner_destroy(&p);
    return rc;
  }
  *pruner = p;
  return HPT_OK;
}

/* The verdict for trial `number`; unknown trials are never pruned. */
bool hpt_pruner_should_prune(hpt_pruner_t *pruner, const hpt_history_t *history,
                             int number) {
  const hpt_trial_t *trial = hpt_history_find(history, number);
  if (trial == NULL)
    return false;
  return pruner->ops->should_prune(pruner, history, trial);
}

/* The rule's name; static text. */
const char *hpt_pruner_type(const hpt_pruner_t *pruner) {
  return pruner->ops->type;
}

/* Frees the pruner and sets *pruner to NULL. Accepts NULL. */
void hpt_pruner_destroy(hpt_pruner_t **pruner) {
  if (pruner == NULL || *pruner == NULL)
    return;
  if ((*pruner)->ops->destroy != NULL)
    (*pruner)->ops->destroy(*pruner);
  free(*pruner);
  *pruner = NULL;
}
