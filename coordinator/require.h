/* require.h — matching studies to workers by capability.
 *
 * A study's `require:` section names what a worker must have:
 *   require: {device: cuda, gpu_mem_gb: ">=40", tags: [h200]}
 * device: the worker's first device must start with it ("cuda" matches
 * "cuda:0 NVIDIA H200"); memory_gb / gpu_mem_gb: a comparison (">=40",
 * ">40", "<=80", "<80", "==80", or a bare number meaning ">="); tags: every
 * listed tag must be among the worker's. Workers advertise these in Hello.
 */
#ifndef HPT_REQUIRE_H
#define HPT_REQUIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "options.h"

typedef struct hpt_worker_caps {
  const char *device;      /* first device, e.g. "cpu", "cuda:0 ..." */
  double memory_gb;        /* 0: unknown */
  const char *const *tags; /* borrowed */
  size_t n_tags;
} hpt_worker_caps_t;

/* Checks the keys and values of a require section (at study creation). */
int hpt_require_validate(const hpt_options_t *require, hpt_error_t *error);

/* Whether a worker with `caps` may run the study's trials. An empty section
 * matches every worker; a malformed one matches none. */
bool hpt_require_matches(const hpt_options_t *require,
                         const hpt_worker_caps_t *caps);

#endif
