/* objective_check.h — makes a spec's `objective:` section ready to send:
 * checks its type and keys against the objective catalog and turns relative
 * file settings into absolute paths, resolved against the directory of the
 * spec file (spec->base_dir), so that studies do not depend on the directory
 * a command was run from.
 */
#ifndef HPT_OBJECTIVE_CHECK_H
#define HPT_OBJECTIVE_CHECK_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Rewrites path settings in place. With check_files, also checks that each
 * data file exists and has the columns the objective needs (done once, at
 * `hpt study create`). A spec without objective (ask/tell) passes. */
int hpt_objective_prepare(hpt_spec_t *spec, bool check_files,
                          hpt_error_t *error);

#endif
