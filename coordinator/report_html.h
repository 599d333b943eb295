/* report_html.h — `hpt report STUDY --output FILE`: one self-contained HTML
 * page about a study, drawn as inline SVG written here (no JavaScript, no
 * network, nothing to install).
 *
 * The page: a header (study, direction, counts by state, best value and
 * params), the top 10 COMPLETE trials, and five charts: optimization history
 * (value per trial plus the best-so-far line), intermediate values (one line
 * per trial over steps; pruned trials in their own colour), parameter
 * importances, parallel coordinates (COMPLETE trials over normalized params
 * and value) and one slice plot per parameter (value against the param).
 *
 * Importances are not fANOVA: for each parameter, the share of the variance
 * of the objective over COMPLETE trials that binning the parameter explains
 * (numeric: up to 8 quantile bins; categorical: one bin per choice), as
 * epsilon squared (eta squared corrected for the number of bins, clipped at
 * 0), then scaled to sum to 1. The page says so.
 *
 * The data come in as plain structs (store_report.c fills them from
 * PostgreSQL); nothing here knows SQL. Every piece of user text (study and
 * param names, categorical choices, params JSON) is escaped for HTML.
 */
#ifndef HPT_REPORT_HTML_H
#define HPT_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/* Everything one report shows. */
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

/* Writes the whole page to `out`. Fails only when writing fails (HPT_EIO)
 * or memory runs out (HPT_ENOMEM); `out` then holds a partial page. */
int hpt_report_html_write(const hpt_report_t *report, FILE *out,
                          hpt_error_t *error);

/* Writes `text` to `out` with & < > " ' escaped. Cannot fail (errors show on
 * the stream). */
void hpt_report_html_escape(FILE *out, const char *text);

#endif
