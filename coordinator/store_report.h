/* store_report.h — what `hpt report NAME --output FILE` reads from
 * PostgreSQL, as the plain structs of report_study.h (a study) and
 * report_ensemble.h (an ensemble). Implemented in store_report.c (the store
 * room: the only one that speaks SQL).
 */
#ifndef HPT_STORE_REPORT_H
#define HPT_STORE_REPORT_H

#include "error.h"
#include "report_ensemble.h"
#include "report_study.h"
#include "store.h"

/* Fills `report` (zeroed here first) with the study called `study_name`:
 * its direction, budget and state, its search-space parameters in spec order
 * (categorical choices as display text), and every trial by number with its
 * state, value, duration, params (internal values and display JSON) and
 * intermediate values. HPT_ENOTFOUND ("no study named 'x'") when there is no
 * such study; HPT_EDB / HPT_ENOMEM otherwise. On failure the report is
 * empty. The caller owns the result: hpt_report_free. */
int hpt_store_report_load(hpt_store_t *store, const char *study_name,
                          hpt_report_t *report, hpt_error_t *error);

/* Fills `ensemble` (zeroed here first) with the ensemble called `name`: its
 * modes, threshold, validation rows, build time and stored metrics, and its
 * members in position order with their study, trial number, weight and
 * value. Not its validation predictions (ensemble_members.h reads those).
 * HPT_ENOTFOUND ("no ensemble named 'x'") when there is no such ensemble;
 * HPT_EDB / HPT_ENOMEM otherwise. On failure the ensemble is empty. The
 * caller owns the result: hpt_report_ensemble_free. */
int hpt_store_report_ensemble_load(hpt_store_t *store, const char *name,
                                   hpt_report_ensemble_t *ensemble,
                                   hpt_error_t *error);

#endif
