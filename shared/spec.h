/* spec.h — a study specification, read from YAML with libyaml.
 *
 *   name: extremism-ngram
 *   direction: maximize          # or minimize
 *   n_trials: 60
 *   max_parallel: 4
 *   max_retries: 2               # retries of trials whose worker died
 *   weight: 1                    # share of a shared worker pool
 *   require: {device: cuda, gpu_mem_gb: ">=40", tags: [h200]}
 *   sampler: {type: random, seed: 42}
 *   pruner: {type: median, n_startup_trials: 5, n_warmup_steps: 1}
 *   params:
 *     lr:     {type: float, low: 1.0e-3, high: 1.0, log: true}
 *     epochs: {type: int, low: 2, high: 20}
 *     ngram:  {type: categorical, choices: ["1-2", "1-3"]}
 *     head:   {type: float, low: 0, high: 1, when: {ngram: ["1-3"]}}
 *   objective: {type: ngram, train: data/train.csv, val_fraction: 0.1}
 *
 * The reader checks everything it owns — top-level keys, types, ranges,
 * parameter definitions — and rejects unknown keys. The `sampler`, `pruner`
 * and `objective` sections are passed on as hpt_options_t, checked later by
 * the rooms that own them. Every error is one line naming the file, the line
 * and the field: "study.yaml:7: params.lr.low: must be > 0 when log: true".
 *
 * Relative paths inside `objective` are NOT rewritten here; base_dir says
 * where the spec lives so that the caller can resolve them.
 *
 * Ownership: the caller owns the returned spec; free with hpt_spec_destroy.
 */
#ifndef HPT_SPEC_H
#define HPT_SPEC_H

#include <stddef.h>

#include "error.h"
#include "options.h"
#include "space.h"
#include "study_types.h"

typedef struct hpt_spec {
  char *name;                /* [A-Za-z0-9_.-]{1,128} */
  hpt_direction_t direction; /* default maximize */
  int n_trials;              /* >= 1, default 100 */
  int max_parallel;          /* >= 1, default 1 */
  int max_retries;           /* 0..1000, default 2: a trial whose worker died
                                is retried with the same params this often */
  double weight;             /* > 0, default 1: share of a shared worker pool */
  int keep_top_k;            /* 0..1000, default 0: keep the trained models of
                                the best k COMPLETE trials */
  hpt_options_t require;     /* worker capabilities: gpu_mem_gb: ">=40",
                                device: cuda, tags: [h200]; count 0 = any */
  hpt_options_t sampler;     /* always has "type" (default random) */
  hpt_options_t pruner;      /* always has "type" (default none) */
  hpt_options_t objective;   /* has "type" when present; count 0 = ask/tell */
  hpt_space_t space;
  char *source;   /* file name as given, or "<string>" */
  char *base_dir; /* directory of the source file; "." for strings */
  char *text;     /* the YAML text itself, stored with the study */
} hpt_spec_t;

/* Reads and validates a spec file. On failure *spec is NULL. */
int hpt_spec_parse_file(const char *path, hpt_spec_t **spec,
                        hpt_error_t *error);

/* Same from memory; `source` names it in messages (may be NULL). */
int hpt_spec_parse_string(const char *text, size_t length, const char *source,
                          hpt_spec_t **spec, hpt_error_t *error);

/* Frees the spec and sets *spec to NULL. Accepts NULL and *spec == NULL. */
void hpt_spec_destroy(hpt_spec_t **spec);

#endif
