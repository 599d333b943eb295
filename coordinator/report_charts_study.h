/* report_charts_study.h — the study page's charts, each one inline SVG
 * written to the caller's stream (or a one-line note when there is nothing
 * to draw):
 *
 * - history: the value of each COMPLETE trial by number, and the
 *   best-so-far line in the study's direction;
 * - intermediate: one line per trial over its reported steps, pruned trials
 *   in their own colour with an x where they were pruned;
 * - parallel coordinates: one line per COMPLETE trial over its params and
 *   value, each axis over the param's range (log for log params), darker
 *   is better, the best thick;
 * - slices: one small plot per param, value against the param.
 *
 * Every piece of user text is escaped. Write errors stay on the stream.
 */
#ifndef HPT_REPORT_CHARTS_STUDY_H
#define HPT_REPORT_CHARTS_STUDY_H

#include <stdio.h>

#include "error.h"
#include "report_study.h"

/* Needs report->n_trials > 0. Cannot fail. */
void hpt_report_chart_history(const hpt_report_t *report, FILE *out);

/* Cannot fail. */
void hpt_report_chart_intermediate(const hpt_report_t *report, FILE *out);

/* Fails only when memory runs out (HPT_ENOMEM), having written part of
 * the chart. */
int hpt_report_chart_parallel(const hpt_report_t *report, FILE *out,
                              hpt_error_t *error);

/* Cannot fail. */
void hpt_report_chart_slices(const hpt_report_t *report, FILE *out);

#endif
