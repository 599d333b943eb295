/* objective_check.c — see objective_check.h. */
#include "objective_check.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "objective_catalog.h"

int hpt_objective_prepare(hpt_spec_t *spec, bool check_files,
                          hpt_error_t *error) {
  hpt_options_t *objective = &spec->objective;
  if (objective->count == 0)
    return HPT_OK;
  const char *type = NULL;
  int rc = hpt_options_get_string(objective, "type", NULL, &type, error);
  if (rc < 0)
    return rc;
  if (type == NULL)
    return HPT_ERR(error, HPT_EINVAL, "%s: objective: missing key 'type'",
                   spec->source);
  const char *const *keys = hpt_objective_setting_keys(type);
  if (keys == NULL)
    return HPT_ERR(error, HPT_EINVAL,
                   "%s: objective.type: unknown objective '%s' (expected one "
                   "of: %s)",
                   spec->source, type, hpt_objective_types());
  if ((rc = hpt_options_check_keys(objective, keys, error)) < 0)
    return rc;
  for (size_t i = 0; i < objective->count; i++) {
    hpt_option_t *option = &objective->items[i];
    if (!hpt_objective_setting_is_path(type, option->key))
      continue;
    if (option->is_list)
      return HPT_ERR(error, HPT_EINVAL,
                     "%s:%d: objective.%s: must be a path, not a list",
                     spec->source, option->line, option->key);
    if (option->value[0] != '/') {
      char joined[PATH_MAX];
      int n = snprintf(joined, sizeof joined, "%s/%s", spec->base_dir,
                       option->value);
      if (n < 0 || (size_t)n >= sizeof joined)
        return HPT_ERR(error, HPT_EINVAL, "%s:%d: objective.%s: path too long",
                       spec->source, option->line, option->key);
      char *absolute = strdup(joined);
      if (absolute == NULL)
        return HPT_ERR(error, HPT_ENOMEM, "out of memory");
      free(option->value);
      option->value = absolute;
    }
    if (check_files && hpt_objective_setting_is_dataset(type, option->key)) {
      rc = hpt_dataset_check_header(option->value, true, error);
      if (rc < 0)
        return hpt_error_prefix(error, "%s:%d: objective.%s", spec->source,
                                option->line, option->key);
    } else if (check_files && access(option->value, F_OK) != 0) {
      return HPT_ERR(error, HPT_ENOTFOUND, "%s:%d: objective.%s: %s: %s",
                     spec->source, option->line, option->key, option->value,
                     strerror(errno));
    }
  }
  return HPT_OK;
}
