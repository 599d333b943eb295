/* report_charts_study.c — see report_charts_study.h. Every chart is a plot
 * (report_svg.h) whose marks are placed here; params get axes of their own
 * kind: spec bounds (log for log params) or one slot per choice. */
#include "report_charts_study.h"

#include <math.h>
#include <stdlib.h>

#include "report_page.h"
#include "report_svg.h"

static const char *state_color(hpt_trial_state_t state) {
  switch (state) {
  case HPT_TRIAL_COMPLETE:
    return HPT_REPORT_COLOR_COMPLETE;
  case HPT_TRIAL_PRUNED:
    return HPT_REPORT_COLOR_PRUNED;
  case HPT_TRIAL_RUNNING:
    return HPT_REPORT_COLOR_RUNNING;
  default:
    return HPT_REPORT_COLOR_FAIL;
  }
}

/* Axis for a search-space param: its spec bounds, its choices, or log. */
static hpt_report_axis_t param_axis(const hpt_report_param_t *param) {
  if (param->type == HPT_PARAM_CATEGORICAL)
    return hpt_report_axis_categorical((const char *const *)param->choices,
                                       param->n_choices);
  hpt_report_axis_t axis =
      hpt_report_axis_make(param->low, param->high, param->log, false);
  axis.integer = param->type == HPT_PARAM_INT;
  if (axis.log) { /* a little room around the bounds, in log space */
    double factor = pow(axis.hi / axis.lo, 0.04);
    axis.lo /= factor;
    axis.hi *= factor;
  }
  return axis;
}

void hpt_report_chart_history(const hpt_report_t *report, FILE *out) {
  double lo, hi;
  hpt_report_value_range(report, &lo, &hi);
  if (isnan(lo)) {
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
    return;
  }
  double first = report->trials[0].number;
  double last = report->trials[report->n_trials - 1].number;
  hpt_report_plot_t plot = {out,
                            80,
                            20,
                            HPT_REPORT_CHART_WIDTH - 110,
                            300,
                            hpt_report_axis_make(first, last, false, false),
                            hpt_report_axis_make(lo, hi, false, false)};
  plot.x.integer = true;
  hpt_report_svg_open(out, "history", HPT_REPORT_CHART_WIDTH, 390);
  hpt_report_plot_frame(&plot, "trial number", "objective value");
  double best = NAN;
  fputs("<polyline class=\"best\" fill=\"none\" stroke=\"" HPT_REPORT_COLOR_BEST
        "\" stroke-width=\"2\" points=\"",
        out);
  for (size_t i = 0; i < report->n_trials; i++) {
    const hpt_report_trial_t *trial = &report->trials[i];
    if (!hpt_report_trial_has_value(trial))
      continue;
    if (!isnan(best))
      fprintf(out, "%.1f,%.1f ", hpt_report_plot_x(&plot, trial->number),
              hpt_report_plot_y(&plot, best));
    if (isnan(best) || hpt_report_better(report, trial->value, best))
      best = trial->value;
    fprintf(out, "%.1f,%.1f ", hpt_report_plot_x(&plot, trial->number),
            hpt_report_plot_y(&plot, best));
  }
  fprintf(out, "%.1f,%.1f\"/>\n", hpt_report_plot_x(&plot, last),
          hpt_report_plot_y(&plot, best));
  for (size_t i = 0; i < report->n_trials; i++) {
    const hpt_report_trial_t *trial = &report->trials[i];
    if (hpt_report_trial_has_value(trial))
      fprintf(out,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
              "fill=\"" HPT_REPORT_COLOR_COMPLETE
              "\"><title>trial %d: %.6g</title></circle>\n",
              hpt_report_plot_x(&plot, trial->number),
              hpt_report_plot_y(&plot, trial->value), trial->number,
              trial->value);
  }
  hpt_report_svg_legend(out, plot.left + 10, 380, HPT_REPORT_COLOR_COMPLETE,
                        "objective value");
  hpt_report_svg_legend(out, plot.left + 170, 380, HPT_REPORT_COLOR_BEST,
                        "best so far");
  hpt_report_svg_close(out);
}

void hpt_report_chart_intermediate(const hpt_report_t *report, FILE *out) {
  double step_lo = NAN, step_hi = NAN, lo = NAN, hi = NAN;
  for (size_t i = 0; i < report->n_trials; i++) {
    const hpt_report_trial_t *trial = &report->trials[i];
    for (size_t s = 0; s < trial->n_steps; s++) {
      double step = trial->steps[s], v = trial->step_values[s];
      if (!isfinite(v))
        continue;
      step_lo = isnan(step_lo) || step < step_lo ? step : step_lo;
      step_hi = isnan(step_hi) || step > step_hi ? step : step_hi;
      lo = isnan(lo) || v < lo ? v : lo;
      hi = isnan(hi) || v > hi ? v : hi;
    }
  }
  if (isnan(lo)) {
    fputs("<p class=\"empty\">No intermediate values reported.</p>\n", out);
    return;
  }
  hpt_report_plot_t plot = {
      out,
      80,
      20,
      HPT_REPORT_CHART_WIDTH - 110,
      300,
      hpt_report_axis_make(step_lo, step_hi, false, false),
      hpt_report_axis_make(lo, hi, false, false)};
  plot.x.integer = true;
  hpt_report_svg_open(out, "intermediate", HPT_REPORT_CHART_WIDTH, 390);
  hpt_report_plot_frame(&plot, "step", "intermediate value");
  /* Pruned trials last, so that they show above the others. */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < report->n_trials; i++) {
      const hpt_report_trial_t *trial = &report->trials[i];
      if ((trial->state == HPT_TRIAL_PRUNED) != (pass == 1) ||
          trial->n_steps == 0)
        continue;
      const char *color = state_color(trial->state);
      fprintf(out,
              "<g class=\"trial %s\"><title>trial %d (%s)</title>"
              "<polyline fill=\"none\" stroke=\"%s\" stroke-opacity=\"0.75\" "
              "stroke-width=\"1.5\" points=\"",
              hpt_trial_state_name(trial->state), trial->number,
              hpt_trial_state_name(trial->state), color);
      double last_x = NAN, last_y = NAN;
      for (size_t s = 0; s < trial->n_steps; s++) {
        if (!isfinite(trial->step_values[s]))
          continue;
        last_x = hpt_report_plot_x(&plot, trial->steps[s]);
        last_y = hpt_report_plot_y(&plot, trial->step_values[s]);
        fprintf(out, "%.1f,%.1f ", last_x, last_y);
      }
      fputs("\"/>", out);
      if (trial->state == HPT_TRIAL_PRUNED && !isnan(last_x)) /* an x mark */
        fprintf(out,
                "<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\" stroke=\"%s\" "
                "stroke-width=\"2\"/>",
                last_x - 4, last_y - 4, color);
      else if (!isnan(last_x))
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
                last_x, last_y, color);
      fputs("</g>\n", out);
    }
  }
  hpt_report_svg_legend(out, plot.left + 10, 380, HPT_REPORT_COLOR_COMPLETE,
                        "COMPLETE");
  hpt_report_svg_legend(out, plot.left + 130, 380, HPT_REPORT_COLOR_PRUNED,
                        "PRUNED (x: where pruned)");
  hpt_report_svg_legend(out, plot.left + 350, 380, HPT_REPORT_COLOR_FAIL,
                        "FAIL");
  hpt_report_svg_legend(out, plot.left + 430, 380, HPT_REPORT_COLOR_RUNNING,
                        "RUNNING");
  hpt_report_svg_close(out);
}

int hpt_report_chart_parallel(const hpt_report_t *report, FILE *out,
                              hpt_error_t *error) {
  double lo, hi;
  hpt_report_value_range(report, &lo, &hi);
  if (isnan(lo)) {
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
    return HPT_OK;
  }
  size_t n_axes = report->n_params + 1, n = 0, *order = NULL;
  int rc = hpt_report_rank(report, &order, &n, error);
  if (rc != HPT_OK)
    return rc;
  hpt_report_axis_t *axes = malloc(n_axes * sizeof *axes);
  if (axes == NULL) {
    free(order);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  for (size_t a = 0; a < report->n_params; a++)
    axes[a] = param_axis(&report->params[a]);
  axes[n_axes - 1] = hpt_report_axis_make(lo, hi, false, true);
  double top = 40, height = 320, left = 90;
  double gap = n_axes > 1
                   ? (HPT_REPORT_CHART_WIDTH - 2 * left) / (double)(n_axes - 1)
                   : 0;
  hpt_report_svg_open(out, "parallel", HPT_REPORT_CHART_WIDTH, 420);
  for (size_t k = 0; k < n; k++) {
    const hpt_report_trial_t *trial = &report->trials[order[k]];
    char color[32];
    double goodness = hi > lo ? (trial->value - lo) / (hi - lo) : 1;
    if (report->direction == HPT_DIRECTION_MINIMIZE)
      goodness = 1 - goodness;
    hpt_report_svg_ramp(0.15 + 0.85 * goodness, color, sizeof color);
    fprintf(out,
            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
            "points=\"",
            color, k + 1 == n ? "3" : "1.5");
    for (size_t a = 0; a < n_axes; a++) {
      double v = a + 1 == n_axes ? trial->value : trial->params[a];
      if (!hpt_report_axis_contains(&axes[a], v))
        continue;
      fprintf(out, "%.1f,%.1f ", left + gap * (double)a,
              top + (1 - hpt_report_axis_fraction(&axes[a], v)) * height);
    }
    fprintf(out, "\"><title>trial %d: %.6g</title></polyline>\n", trial->number,
            trial->value);
  }
  for (size_t a = 0; a < n_axes; a++) {
    double x = left + gap * (double)a, ticks[32];
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "class=\"axis\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"middle\" class=\"title\">",
            x, top, x, top + height, x, top - 14);
    hpt_report_page_escape(out, a + 1 == n_axes ? "objective value"
                                                : report->params[a].name);
    fputs("</text>\n", out);
    int n_ticks = hpt_report_axis_ticks(&axes[a], ticks, 32);
    for (int t = 0; t < n_ticks; t++) {
      fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">", x + 5,
              top +
                  (1 - hpt_report_axis_fraction(&axes[a], ticks[t])) * height +
                  4);
      hpt_report_axis_tick_label(&axes[a], ticks[t], out);
      fputs("</text>\n", out);
    }
  }
  hpt_report_svg_close(out);
  free(order), free(axes);
  return HPT_OK;
}

/* ---- slices -------------------------------------------------------------- */

void hpt_report_chart_slices(const hpt_report_t *report, FILE *out) {
  double lo, hi;
  hpt_report_value_range(report, &lo, &hi);
  if (isnan(lo) || report->n_params == 0) {
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
    return;
  }
  double first = report->trials[0].number;
  double last = report->trials[report->n_trials - 1].number;
  fputs("<div class=\"slices\">\n", out);
  for (size_t p = 0; p < report->n_params; p++) {
    const hpt_report_param_t *param = &report->params[p];
    hpt_report_plot_t plot = {out,
                              70,
                              15,
                              300,
                              200,
                              param_axis(param),
                              hpt_report_axis_make(lo, hi, false, false)};
    hpt_report_svg_open(out, "slice", 390, 270);
    hpt_report_plot_frame(&plot, param->name, "objective value");
    for (size_t i = 0; i < report->n_trials; i++) {
      const hpt_report_trial_t *trial = &report->trials[i];
      if (!hpt_report_trial_has_value(trial) ||
          !hpt_report_axis_contains(&plot.x, trial->params[p]))
        continue;
      char color[32], value[256];
      hpt_report_svg_ramp(last > first ? 0.2 + 0.8 * (trial->number - first) /
                                                   (last - first)
                                       : 1,
                          color, sizeof color);
      hpt_report_param_text(param, trial->params[p], value, sizeof value);
      fprintf(out,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" "
              "stroke=\"#08306b\" stroke-width=\"0.5\"><title>trial %d: ",
              hpt_report_plot_x(&plot, trial->params[p]),
              hpt_report_plot_y(&plot, trial->value), color, trial->number);
      hpt_report_page_escape(out, value);
      fprintf(out, " &#8594; %.6g</title></circle>\n", trial->value);
    }
    hpt_report_svg_close(out);
  }
  fputs("</div>\n<p class=\"note\">Darker points are later trials.</p>\n", out);
}
