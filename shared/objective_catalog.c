/* objective_catalog.c — see objective_catalog.h. */
#include "objective_catalog.h"

#include <stddef.h>
#include <string.h>

typedef struct {
  const char *type;
  const char *const *keys;
  const char *const *paths;
} catalog_entry_t;

static const char *const ngram_keys[] = {"type", "train", "val_fraction",
                                         "seed", NULL};
static const char *const ngram_paths[] = {"train", NULL};

static const char *const transformer_keys[] = {
    "type",  "model",   "train",   "val_fraction", "seed", "max_length",
    "folds", "augment", "threads", "amp",          NULL};
static const char *const transformer_paths[] = {"model", "train", NULL};

static const char *const command_keys[] = {"type", "argv", "cwd", "timeout_s",
                                           NULL};
static const char *const command_paths[] = {"cwd", NULL};
static const char *const noop_keys[] = {"type", "sleep_ms", "steps", NULL};
static const char *const no_paths[] = {NULL};

static const catalog_entry_t catalog[] = {
    {"ngram", ngram_keys, ngram_paths},
    {"transformer", transformer_keys, transformer_paths},
    {"command", command_keys, command_paths},
    {"noop", noop_keys, no_paths},
};

static const catalog_entry_t *find(const char *type) {
  if (type == NULL)
    return NULL;
  for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
    if (strcmp(catalog[i].type, type) == 0)
      return &catalog[i];
  return NULL;
}

const char *const *hpt_objective_setting_keys(const char *type) {
  const catalog_entry_t *entry = find(type);
  return entry ? entry->keys : NULL;
}

bool hpt_objective_setting_is_path(const char *type, const char *key) {
  const catalog_entry_t *entry = find(type);
  if (entry == NULL)
    return false;
  for (const char *const *path = entry->paths; *path; path++)
    if (strcmp(*path, key) == 0)
      return true;
  return false;
}

bool hpt_objective_setting_is_dataset(const char *type, const char *key) {
  /* The n-gram and transformer objectives read hpt's labelled CSV. */
  return (strcmp(type, "ngram") == 0 || strcmp(type, "transformer") == 0) &&
         strcmp(key, "train") == 0;
}

const char *hpt_objective_types(void) {
  return "ngram, transformer, command, noop";
}
