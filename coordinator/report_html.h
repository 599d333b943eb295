/* report_html.h — `hpt report STUDY --output FILE`: one self-contained HTML
 * page about a study, drawn as inline SVG (no JavaScript, no network,
 * nothing to install).
 *
 * The page: a header (study, direction, counts by state, best value and
 * params), the top 10 COMPLETE trials, and five charts: optimization history
 * (value per trial plus the best-so-far line), intermediate values (one line
 * per trial over steps; pruned trials in their own colour), parameter
 * importances, parallel coordinates (COMPLETE trials over normalized params
 * and value) and one slice plot per parameter (value against the param).
 *
 * The parts: the skeleton in report_page.c, the charts in
 * report_charts_study.c, the importances (and their method) in
 * report_importance.c, chart primitives in report_svg.c; this file puts
 * them in order and writes the summary and the table. The data come in as
 * report_study.h's plain structs (store_report.c fills them from
 * PostgreSQL). Every piece of user text (study and param names,
 * categorical choices, params JSON) is escaped for HTML.
 */
#ifndef HPT_REPORT_HTML_H
#define HPT_REPORT_HTML_H

#include <stdio.h>

#include "error.h"
#include "report_study.h"

/* Writes the whole page to `out`. Fails only when writing fails (HPT_EIO)
 * or memory runs out (HPT_ENOMEM); `out` then holds a partial page. */
int hpt_report_html_write(const hpt_report_t *report, FILE *out,
                          hpt_error_t *error);

#endif
