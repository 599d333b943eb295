/* report_study.h — a study as its report sees it: plain structs filled by
 * store_report.c from PostgreSQL and read by the page (report_html.c), its
 * charts (report_charts_study.c) and the importances
 * (report_importance.c); nothing here knows SQL or HTML.
 *
 * Also the few questions every part of the study page asks of these
 * structs: which trials have a value, which value is better, the range of
 * values, a param's display text and the trials ranked by value.
 *
 * Ownership: an hpt_report_t owns every array and string inside it; free
 * it with hpt_report_free.
 */
#ifndef HPT_REPORT_STUDY_H
#define HPT_REPORT_STUDY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "space.h"
#include "study_types.h"

/* One search-space parameter, as the report shows it. */
typedef struct hpt_report_param {
  char *name; /* owned */
  hpt_param_type_t type;
  double low, high; /* float, int: bounds */
  bool log;         /* float, int: log scale */
  size_t n_choices; /* categorical */
  char **choices;   /* categorical: display text of each choice; owned */
} hpt_report_param_t;

/* One trial. */
typedef struct hpt_report_trial {
  int number;
  hpt_trial_state_t state;
  double value;        /* NaN: none */
  double duration_s;   /* NaN: unknown */
  double *params;      /* n_params internal values (choice index for
                          categoricals), NaN = absent; owned */
  char *params_json;   /* display form, {"lr":0.01,...}; owned, never NULL */
  size_t n_steps;      /* intermediate values, by step */
  int *steps;          /* owned */
  double *step_values; /* owned; NaN where NaN was reported */
} hpt_report_trial_t;

/* Everything one study report shows. */
typedef struct hpt_report {
  char *study_name; /* owned */
  hpt_direction_t direction;
  int budget;    /* the spec's n_trials */
  bool complete; /* study state COMPLETE */
  size_t n_params;
  hpt_report_param_t *params; /* owned, spec order */
  size_t n_trials;
  hpt_report_trial_t *trials; /* owned, by number */
} hpt_report_t;

/* Frees everything the report owns and zeroes it. Accepts NULL. */
void hpt_report_free(hpt_report_t *report);

/* Whether the trial is COMPLETE with a finite value: the trials that the
 * charts, the ranking and the importances are about. */
bool hpt_report_trial_has_value(const hpt_report_trial_t *trial);

/* Whether value `a` is strictly better than `b` in the study's direction. */
bool hpt_report_better(const hpt_report_t *report, double a, double b);

/* Lowest and highest value of the trials with a value; both NaN when there
 * is none. */
void hpt_report_value_range(const hpt_report_t *report, double *lo, double *hi);

/* A param value as people read it, in `buffer`: "0.0123", "7", the choice's
 * text, or "-" when absent (NaN). Not escaped. */
void hpt_report_param_text(const hpt_report_param_t *param, double value,
                           char *buffer, size_t size);

/* Indices (into report->trials) of the trials with a value, worst first
 * (so that the best come last: drawn on top, or read from the end), ties
 * by number. *order: caller frees; NULL on failure (HPT_ENOMEM). */
int hpt_report_rank(const hpt_report_t *report, size_t **order, size_t *count,
                    hpt_error_t *error);

#endif
