/* objective_catalog.h — which objective types exist and which settings each
 * takes, shared by the coordinator (to check a spec before any trial runs)
 * and the worker (to run it). Static data; nothing can fail.
 */
#ifndef HPT_OBJECTIVE_CATALOG_H
#define HPT_OBJECTIVE_CATALOG_H

#include <stdbool.h>

/* Keys the objective `type` accepts (type included), NULL-terminated; NULL
 * when the type is unknown. */
const char *const *hpt_objective_setting_keys(const char *type);

/* Whether setting `key` of objective `type` is a file path (resolved against
 * the spec's directory when relative, and checked at study creation). */
bool hpt_objective_setting_is_path(const char *type, const char *key);

/* Whether setting `key` is a labelled data file whose columns are checked
 * at study creation (a path setting that is not a dataset only has to
 * exist). */
bool hpt_objective_setting_is_dataset(const char *type, const char *key);

/* Comma-separated list of known types, for messages. */
const char *hpt_objective_types(void);

#endif
