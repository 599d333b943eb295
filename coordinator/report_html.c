/* report_html.c — see report_html.h: the study page's parts in order, the
 * summary and the top-trials table written here, the charts by
 * report_charts_study.c and report_importance.c. */
#include "report_html.h"

#include <math.h>
#include <stdlib.h>

#include "report_charts_study.h"
#include "report_importance.h"
#include "report_page.h"

#define TOP_TRIALS 10

static const hpt_report_trial_t *best_trial(const hpt_report_t *report) {
  const hpt_report_trial_t *best = NULL;
  for (size_t i = 0; i < report->n_trials; i++)
    if (hpt_report_trial_has_value(&report->trials[i]) &&
        (best == NULL ||
         hpt_report_better(report, report->trials[i].value, best->value)))
      best = &report->trials[i];
  return best;
}

static void header(const hpt_report_t *report, FILE *out) {
  size_t counts[5] = {0};
  for (size_t i = 0; i < report->n_trials; i++)
    counts[report->trials[i].state <= HPT_TRIAL_FAIL ? report->trials[i].state
                                                     : HPT_TRIAL_FAIL]++;
  fputs("<section id=\"summary\">\n<h1>Study ", out);
  hpt_report_page_escape(out, report->study_name);
  fprintf(out,
          "</h1>\n<table class=\"facts\">\n<tr><th>direction</th><td>%s</td>"
          "</tr>\n<tr><th>state</th><td>%s</td></tr>\n"
          "<tr><th>trials</th><td>%zu of %d: %zu COMPLETE, %zu PRUNED, "
          "%zu FAIL, %zu RUNNING, %zu WAITING</td></tr>\n",
          hpt_direction_name(report->direction),
          report->complete ? "COMPLETE" : "RUNNING", report->n_trials,
          report->budget, counts[HPT_TRIAL_COMPLETE], counts[HPT_TRIAL_PRUNED],
          counts[HPT_TRIAL_FAIL], counts[HPT_TRIAL_RUNNING],
          counts[HPT_TRIAL_WAITING]);
  const hpt_report_trial_t *best = best_trial(report);
  if (best == NULL) {
    fputs("<tr><th>best</th><td>-</td></tr>\n", out);
  } else {
    fprintf(out,
            "<tr><th>best</th><td class=\"best\">%.6g (trial %d)</td></tr>"
            "\n<tr><th>best params</th><td><code>",
            best->value, best->number);
    hpt_report_page_escape(out, best->params_json);
    fputs("</code></td></tr>\n", out);
  }
  fputs("</table>\n</section>\n", out);
}

static int top_table(const hpt_report_t *report, FILE *out,
                     hpt_error_t *error) {
  size_t *order = NULL, n = 0;
  int rc = hpt_report_rank(report, &order, &n, error);
  if (rc != HPT_OK)
    return rc;
  fputs("<section id=\"top-trials\">\n<h2>Top trials</h2>\n", out);
  if (n == 0)
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
  else {
    fputs("<table class=\"trials\">\n<tr><th>rank</th><th>trial</th>"
          "<th>value</th>",
          out);
    for (size_t p = 0; p < report->n_params; p++) {
      fputs("<th>", out);
      hpt_report_page_escape(out, report->params[p].name);
      fputs("</th>", out);
    }
    fputs("<th>duration</th></tr>\n", out);
  }
  for (size_t rank = 0; rank < n && rank < TOP_TRIALS; rank++) {
    const hpt_report_trial_t *trial = &report->trials[order[n - 1 - rank]];
    fprintf(out, "<tr><td>%zu</td><td>%d</td><td>%.6g</td>", rank + 1,
            trial->number, trial->value);
    for (size_t p = 0; p < report->n_params; p++) {
      char text[256];
      hpt_report_param_text(&report->params[p], trial->params[p], text,
                            sizeof text);
      fputs("<td>", out);
      hpt_report_page_escape(out, text);
      fputs("</td>", out);
    }
    if (isnan(trial->duration_s))
      fputs("<td>-</td></tr>\n", out);
    else
      fprintf(out, "<td>%.1f s</td></tr>\n", trial->duration_s);
  }
  if (n > 0)
    fputs("</table>\n", out);
  fputs("</section>\n", out);
  free(order);
  return HPT_OK;
}

int hpt_report_html_write(const hpt_report_t *report, FILE *out,
                          hpt_error_t *error) {
  hpt_report_page_open(out, report->study_name);
  header(report, out);
  int rc = top_table(report, out, error);
  if (rc != HPT_OK)
    return rc;
  hpt_report_page_section_open(
      out, "history", "Optimization history",
      report->direction == HPT_DIRECTION_MINIMIZE
          ? "Value of each COMPLETE trial; the line is the lowest value so "
            "far (minimize)."
          : "Value of each COMPLETE trial; the line is the highest value so "
            "far (maximize).");
  if (report->n_trials > 0)
    hpt_report_chart_history(report, out);
  else
    fputs("<p class=\"empty\">No trial yet.</p>\n", out);
  hpt_report_page_section_close(out);
  hpt_report_page_section_open(out, "intermediate", "Intermediate values",
                               "One line per trial over its reported steps.");
  hpt_report_chart_intermediate(report, out);
  hpt_report_page_section_close(out);
  hpt_report_page_section_open(out, "importance", "Parameter importances",
                               NULL);
  if ((rc = hpt_report_importance_write(report, out, error)) != HPT_OK)
    return rc;
  hpt_report_page_section_close(out);
  hpt_report_page_section_open(
      out, "parallel", "Parallel coordinates",
      "One line per COMPLETE trial over its params and value, each axis over "
      "the param's range (log axes for log params); darker is better, the "
      "best trial is the thick line.");
  if ((rc = hpt_report_chart_parallel(report, out, error)) != HPT_OK)
    return rc;
  hpt_report_page_section_close(out);
  hpt_report_page_section_open(
      out, "slice", "Slice plots",
      "Objective value of each COMPLETE trial against one param.");
  hpt_report_chart_slices(report, out);
  hpt_report_page_section_close(out);
  return hpt_report_page_close(out, error);
}
