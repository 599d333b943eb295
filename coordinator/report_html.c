/* report_html.c — see report_html.h: the study report as one HTML page with
 * inline SVG charts. Every chart is a plot area with two axes (axis_t:
 * linear, log10 or categorical) drawn by plot_frame; the chart functions
 * only place marks in it. Coordinates are SVG user units in a fixed
 * viewBox; the page scales the SVGs to the window width.
 */
#include "report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COLOR_COMPLETE "#1f77b4"
#define COLOR_PRUNED "#d62728"
#define COLOR_FAIL "#7f7f7f"
#define COLOR_RUNNING "#2ca02c"
#define COLOR_BEST "#e6550d"
#define CHART_WIDTH 1200
#define IMPORTANCE_BINS 8
#define TOP_TRIALS 10

void hpt_report_free(hpt_report_t *report) {
  if (report == NULL)
    return;
  for (size_t i = 0; i < report->n_params; i++) {
    for (size_t c = 0; c < report->params[i].n_choices; c++)
      free(report->params[i].choices[c]);
    free(report->params[i].choices);
    free(report->params[i].name);
  }
  for (size_t i = 0; i < report->n_trials; i++) {
    free(report->trials[i].params);
    free(report->trials[i].params_json);
    free(report->trials[i].steps);
    free(report->trials[i].step_values);
  }
  free(report->params);
  free(report->trials);
  free(report->study_name);
  memset(report, 0, sizeof *report);
}

void hpt_report_html_escape(FILE *out, const char *text) {
  for (const char *p = text ? text : ""; *p; p++) {
    switch (*p) {
    case '&':
      fputs("&amp;", out);
      break;
    case '<':
      fputs("&lt;", out);
      break;
    case '>':
      fputs("&gt;", out);
      break;
    case '"':
      fputs("&quot;", out);
      break;
    case '\'':
      fputs("&#39;", out);
      break;
    default:
      fputc(*p, out);
    }
  }
}

/* ---- small helpers ------------------------------------------------------- */

static bool finite_value(const hpt_report_trial_t *trial) {
  return trial->state == HPT_TRIAL_COMPLETE && isfinite(trial->value);
}

static const char *state_color(hpt_trial_state_t state) {
  switch (state) {
  case HPT_TRIAL_COMPLETE:
    return COLOR_COMPLETE;
  case HPT_TRIAL_PRUNED:
    return COLOR_PRUNED;
  case HPT_TRIAL_RUNNING:
    return COLOR_RUNNING;
  default:
    return COLOR_FAIL;
  }
}

/* Whether `a` is strictly better than `b` in the report's direction. */
static bool better(const hpt_report_t *report, double a, double b) {
  return report->direction == HPT_DIRECTION_MINIMIZE ? a < b : a > b;
}

/* A param value as people read it: 0.0123, 7, or the choice's text. */
static void param_text(const hpt_report_param_t *param, double value,
                       char *buffer, size_t size) {
  if (isnan(value))
    snprintf(buffer, size, "-");
  else if (param->type == HPT_PARAM_CATEGORICAL)
    snprintf(buffer, size, "%s",
             value >= 0 && (size_t)value < param->n_choices
                 ? param->choices[(size_t)value]
                 : "?");
  else if (param->type == HPT_PARAM_INT)
    snprintf(buffer, size, "%.0f", value);
  else
    snprintf(buffer, size, "%.6g", value);
}

/* Light blue (t = 0) to dark blue (t = 1). */
static void ramp_color(double t, char *buffer, size_t size) {
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  snprintf(buffer, size, "rgb(%d,%d,%d)", (int)(198 + t * (8 - 198)),
           (int)(219 + t * (48 - 219)), (int)(239 + t * (107 - 239)));
}

/* ---- axes and plot frames ------------------------------------------------ */

typedef struct axis {
  double lo, hi;                   /* data range shown; lo < hi */
  bool log;                        /* log10 scale; lo > 0 */
  const hpt_report_param_t *param; /* categorical: ticks are its choices */
  bool integer;                    /* ticks on whole numbers only */
} axis_t;

typedef struct plot {
  FILE *out;
  double left, top, width, height; /* the plot area, SVG units */
  axis_t x, y;
} plot_t;

/* Axis over [lo, hi] (NaN: no data), widened when empty or flat and padded
 * by 5% unless `exact`. */
static axis_t axis_make(double lo, double hi, bool log, bool exact) {
  axis_t axis = {lo, hi, log && lo > 0 && hi > 0, NULL, false};
  if (!isfinite(lo) || !isfinite(hi))
    axis.lo = 0, axis.hi = 1, axis.log = false;
  if (axis.log) {
    if (axis.hi <= axis.lo)
      axis.lo /= 2, axis.hi *= 2;
    return axis;
  }
  if (axis.hi <= axis.lo) {
    double pad = fabs(axis.lo) > 0 ? fabs(axis.lo) * 0.05 : 0.5;
    axis.lo -= pad, axis.hi += pad;
  } else if (!exact) {
    double pad = (axis.hi - axis.lo) * 0.05;
    axis.lo -= pad, axis.hi += pad;
  }
  return axis;
}

/* Axis for a search-space param: its spec bounds, its choices, or log. */
static axis_t axis_for_param(const hpt_report_param_t *param) {
  if (param->type == HPT_PARAM_CATEGORICAL) {
    axis_t axis = {-0.5, (double)param->n_choices - 0.5, false, param, false};
    return axis;
  }
  axis_t axis = axis_make(param->low, param->high, param->log, false);
  axis.integer = param->type == HPT_PARAM_INT;
  if (axis.log) { /* a little room around the bounds, in log space */
    double factor = pow(axis.hi / axis.lo, 0.04);
    axis.lo /= factor;
    axis.hi *= factor;
  }
  return axis;
}

/* 0 at lo, 1 at hi. */
static double axis_fraction(const axis_t *axis, double value) {
  if (axis->log)
    return (log10(value) - log10(axis->lo)) /
           (log10(axis->hi) - log10(axis->lo));
  return (value - axis->lo) / (axis->hi - axis->lo);
}

static double px(const plot_t *plot, double value) {
  return plot->left + axis_fraction(&plot->x, value) * plot->width;
}

static double py(const plot_t *plot, double value) {
  return plot->top + (1 - axis_fraction(&plot->y, value)) * plot->height;
}

static bool in_axis(const axis_t *axis, double value) {
  return isfinite(value) && (!axis->log || value > 0);
}

/* Tick values for an axis, at most `max`; returns how many. */
static int axis_ticks(const axis_t *axis, double *ticks, int max) {
  int n = 0;
  if (axis->param != NULL) {
    for (size_t c = 0; c < axis->param->n_choices && n < max; c++)
      ticks[n++] = (double)c;
    return n;
  }
  if (axis->log) {
    for (double k = ceil(log10(axis->lo));
         k <= floor(log10(axis->hi)) && n < max; k++)
      ticks[n++] = pow(10, k);
    if (n >= 2)
      return n;
    n = 0;
  }
  double range = axis->hi - axis->lo, raw = range / 5;
  double magnitude = pow(10, floor(log10(raw))), f = raw / magnitude;
  double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
  if (axis->integer && step < 1)
    step = 1;
  for (double t = ceil(axis->lo / step) * step; t <= axis->hi && n < max;
       t += step) {
    double tick = fabs(t) < step * 1e-9 ? 0 : t;
    if (!axis->log || tick > 0)
      ticks[n++] = tick;
  }
  return n;
}

static void tick_label(const axis_t *axis, double tick, FILE *out) {
  char text[32];
  if (axis->param != NULL) {
    hpt_report_html_escape(out, axis->param->choices[(size_t)tick]);
    return;
  }
  snprintf(text, sizeof text, "%.4g", tick);
  fputs(text, out);
}

/* Border, grid lines, tick labels and axis titles (escaped). */
static void plot_frame(const plot_t *plot, const char *x_title,
                       const char *y_title) {
  FILE *out = plot->out;
  double ticks[32];
  fprintf(out,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
          "class=\"frame\"/>\n",
          plot->left, plot->top, plot->width, plot->height);
  int n = axis_ticks(&plot->x, ticks, 32);
  for (int i = 0; i < n; i++) {
    double x = px(plot, ticks[i]);
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"middle\">",
            x, plot->top, x, plot->top + plot->height, x,
            plot->top + plot->height + 16);
    tick_label(&plot->x, ticks[i], out);
    fputs("</text>\n", out);
  }
  n = axis_ticks(&plot->y, ticks, 32);
  for (int i = 0; i < n; i++) {
    double y = py(plot, ticks[i]);
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"end\">",
            plot->left, y, plot->left + plot->width, y, plot->left - 6, y + 4);
    tick_label(&plot->y, ticks[i], out);
    fputs("</text>\n", out);
  }
  fprintf(out,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
          "class=\"title\">",
          plot->left + plot->width / 2, plot->top + plot->height + 36);
  hpt_report_html_escape(out, x_title);
  fprintf(out,
          "</text>\n<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
          "text-anchor=\"middle\" class=\"title\">",
          plot->left - 52, plot->top + plot->height / 2);
  hpt_report_html_escape(out, y_title);
  fputs("</text>\n", out);
}

static void svg_open(FILE *out, const char *id, int width, int height) {
  fprintf(out,
          "<svg class=\"chart\" "
          "data-chart=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" "
          "height=\"%d\">\n",
          id, width, height, width, height);
}

/* Range of the COMPLETE trials' values. */
static void value_range(const hpt_report_t *report, double *lo, double *hi) {
  *lo = NAN, *hi = NAN;
  for (size_t i = 0; i < report->n_trials; i++) {
    double v = report->trials[i].value;
    if (!finite_value(&report->trials[i]))
      continue;
    if (isnan(*lo) || v < *lo)
      *lo = v;
    if (isnan(*hi) || v > *hi)
      *hi = v;
  }
}

static void legend(FILE *out, double x, double y, const char *color,
                   const char *label) {
  fprintf(out,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
          "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
          x, y - 10, color, x + 16, y, label);
}

/* ---- the charts ---------------------------------------------------------- */

static void chart_history(const hpt_report_t *report, FILE *out) {
  double lo, hi;
  value_range(report, &lo, &hi);
  if (isnan(lo)) {
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
    return;
  }
  double first = report->trials[0].number;
  double last = report->trials[report->n_trials - 1].number;
  plot_t plot = {out,
                 80,
                 20,
                 CHART_WIDTH - 110,
                 300,
                 axis_make(first, last, false, false),
                 axis_make(lo, hi, false, false)};
  plot.x.integer = true;
  svg_open(out, "history", CHART_WIDTH, 390);
  plot_frame(&plot, "trial number", "objective value");
  double best = NAN;
  fputs("<polyline class=\"best\" fill=\"none\" stroke=\"" COLOR_BEST
        "\" stroke-width=\"2\" points=\"",
        out);
  for (size_t i = 0; i < report->n_trials; i++) {
    const hpt_report_trial_t *trial = &report->trials[i];
    if (!finite_value(trial))
      continue;
    if (!isnan(best))
      fprintf(out, "%.1f,%.1f ", px(&plot, trial->number), py(&plot, best));
    if (isnan(best) || better(report, trial->value, best))
      best = trial->value;
    fprintf(out, "%.1f,%.1f ", px(&plot, trial->number), py(&plot, best));
  }
  fprintf(out, "%.1f,%.1f\"/>\n", px(&plot, last), py(&plot, best));
  for (size_t i = 0; i < report->n_trials; i++) {
    const hpt_report_trial_t *trial = &report->trials[i];
    if (finite_value(trial))
      fprintf(out,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"" COLOR_COMPLETE
              "\"><title>trial %d: %.6g</title></circle>\n",
              px(&plot, trial->number), py(&plot, trial->value), trial->number,
              trial->value);
  }
  legend(out, plot.left + 10, 380, COLOR_COMPLETE, "objective value");
  legend(out, plot.left + 170, 380, COLOR_BEST, "best so far");
  fputs("</svg>\n", out);
}

static void chart_intermediate(const hpt_report_t *report, FILE *out) {
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
  plot_t plot = {out,
                 80,
                 20,
                 CHART_WIDTH - 110,
                 300,
                 axis_make(step_lo, step_hi, false, false),
                 axis_make(lo, hi, false, false)};
  plot.x.integer = true;
  svg_open(out, "intermediate", CHART_WIDTH, 390);
  plot_frame(&plot, "step", "intermediate value");
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
        last_x = px(&plot, trial->steps[s]);
        last_y = py(&plot, trial->step_values[s]);
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
  legend(out, plot.left + 10, 380, COLOR_COMPLETE, "COMPLETE");
  legend(out, plot.left + 130, 380, COLOR_PRUNED, "PRUNED (x: where pruned)");
  legend(out, plot.left + 350, 380, COLOR_FAIL, "FAIL");
  legend(out, plot.left + 430, 380, COLOR_RUNNING, "RUNNING");
  fputs("</svg>\n", out);
}

/* ---- importances --------------------------------------------------------- */

typedef struct pair {
  double param, value;
} pair_t;

static int compare_pairs(const void *a, const void *b) {
  double x = ((const pair_t *)a)->param, y = ((const pair_t *)b)->param;
  return x < y ? -1 : x > y;
}

/* Epsilon squared of `value` grouped by bins of `param` over `n` pairs
 * (sorted by param here); NaN when it cannot be estimated. */
static double epsilon_squared(pair_t *pairs, size_t n, bool categorical) {
  if (n < 3)
    return NAN;
  qsort(pairs, n, sizeof *pairs, compare_pairs);
  size_t distinct = 1;
  for (size_t i = 1; i < n; i++)
    distinct += pairs[i].param != pairs[i - 1].param;
  /* About 2 or more trials per bin on average, so the bins cannot simply
   * memorise the values. */
  size_t bins = distinct;
  if (!categorical) {
    bins = bins < IMPORTANCE_BINS ? bins : IMPORTANCE_BINS;
    bins = bins < n / 2 ? bins : n / 2;
  } else if (bins >= n) {
    return NAN;
  }
  double mean = 0, total = 0, between = 0;
  for (size_t i = 0; i < n; i++)
    mean += pairs[i].value / (double)n;
  for (size_t i = 0; i < n; i++)
    total += (pairs[i].value - mean) * (pairs[i].value - mean);
  if (!(total > 0) || bins < 2)
    return NAN;
  /* Bins of consecutive pairs: a new one at each new value when there are
   * few values, else at each quantile boundary (ties stay together). */
  size_t k = 0, start = 0;
  for (size_t i = 1; i <= n; i++) {
    bool boundary = i == n;
    if (!boundary && pairs[i].param != pairs[i - 1].param)
      boundary = bins == distinct || i * bins / n != start * bins / n;
    if (!boundary)
      continue;
    double bin_mean = 0;
    for (size_t j = start; j < i; j++)
      bin_mean += pairs[j].value / (double)(i - start);
    between += (double)(i - start) * (bin_mean - mean) * (bin_mean - mean);
    k++, start = i;
  }
  double within = total - between;
  double epsilon =
      n > k ? (between - (double)(k - 1) * within / (double)(n - k)) / total
            : between / total;
  return epsilon < 0 ? 0 : epsilon > 1 ? 1 : epsilon;
}

static int chart_importance(const hpt_report_t *report, FILE *out,
                            hpt_error_t *error) {
  size_t n_params = report->n_params;
  pair_t *pairs = malloc((report->n_trials + 1) * sizeof *pairs);
  double *scores = calloc(n_params + 1, sizeof *scores);
  size_t *order = calloc(n_params + 1, sizeof *order);
  if (pairs == NULL || scores == NULL || order == NULL) {
    free(pairs), free(scores), free(order);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  double sum = 0;
  for (size_t p = 0; p < n_params; p++) {
    size_t n = 0;
    for (size_t i = 0; i < report->n_trials; i++) {
      const hpt_report_trial_t *trial = &report->trials[i];
      if (finite_value(trial) && !isnan(trial->params[p]))
        pairs[n++] = (pair_t){trial->params[p], trial->value};
    }
    scores[p] = epsilon_squared(
        pairs, n, report->params[p].type == HPT_PARAM_CATEGORICAL);
    sum += isnan(scores[p]) ? 0 : scores[p];
    /* insertion sort, best first, NaN last */
    size_t at = p;
    while (at > 0 &&
           (isnan(scores[order[at - 1]]) ||
            (!isnan(scores[p]) && scores[order[at - 1]] < scores[p]))) {
      order[at] = order[at - 1];
      at--;
    }
    order[at] = p;
  }
  fputs("<p class=\"note\">Method: not fANOVA. For each parameter, the share "
        "of the variance of the objective over COMPLETE trials that is "
        "explained by binning the parameter (numeric: up to 8 quantile bins; "
        "categorical: one bin per choice), as epsilon squared (eta squared "
        "corrected for the number of bins, clipped at 0), then scaled so the "
        "bars sum to 100%. Parameters are judged one at a time, so "
        "interactions are not seen; with few trials the estimates are "
        "rough.</p>\n",
        out);
  if (!(sum > 0)) {
    fputs("<p class=\"empty\">Not enough COMPLETE trials (or no variance in "
          "their values) to estimate importances.</p>\n",
          out);
  } else {
    int height = 30 + 30 * (int)n_params;
    svg_open(out, "importance", CHART_WIDTH, height);
    for (size_t i = 0; i < n_params; i++) {
      size_t p = order[i];
      double y = 15 + 30 * (double)i,
             share = isnan(scores[p]) ? 0 : scores[p] / sum;
      fputs("<text x=\"240\" y=\"", out);
      fprintf(out, "%.1f\" text-anchor=\"end\">", y + 15);
      hpt_report_html_escape(out, report->params[p].name);
      fprintf(out,
              "</text><rect x=\"250\" y=\"%.1f\" width=\"%.1f\" height=\"20\" "
              "fill=\"" COLOR_COMPLETE "\"/>"
              "<text x=\"%.1f\" y=\"%.1f\">",
              y, share * 800, 256 + share * 800, y + 15);
      if (isnan(scores[p]))
        fputs("n/a</text>\n", out);
      else
        fprintf(out, "%.0f%% (&#949;&#178; %.3f)</text>\n", share * 100,
                scores[p]);
    }
    fputs("</svg>\n", out);
  }
  free(pairs), free(scores), free(order);
  return HPT_OK;
}

/* ---- parallel coordinates ------------------------------------------------ */

/* qsort_r order of trial indices: worst first (so that the best lines lie
 * on top), ties by number. */
static int compare_worst_first(const void *a, const void *b, void *context) {
  const hpt_report_t *report = context;
  const hpt_report_trial_t *x = &report->trials[*(const size_t *)a];
  const hpt_report_trial_t *y = &report->trials[*(const size_t *)b];
  if (better(report, x->value, y->value))
    return 1;
  if (better(report, y->value, x->value))
    return -1;
  return x->number < y->number ? 1 : x->number > y->number ? -1 : 0;
}

static int chart_parallel(const hpt_report_t *report, FILE *out,
                          hpt_error_t *error) {
  double lo, hi;
  value_range(report, &lo, &hi);
  if (isnan(lo)) {
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
    return HPT_OK;
  }
  size_t n_axes = report->n_params + 1, n = 0;
  size_t *order = malloc((report->n_trials + 1) * sizeof *order);
  axis_t *axes = malloc(n_axes * sizeof *axes);
  if (order == NULL || axes == NULL) {
    free(order), free(axes);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < report->n_trials; i++)
    if (finite_value(&report->trials[i]))
      order[n++] = i;
  qsort_r(order, n, sizeof *order, compare_worst_first, (void *)report);
  for (size_t a = 0; a < report->n_params; a++)
    axes[a] = axis_for_param(&report->params[a]);
  axes[n_axes - 1] = axis_make(lo, hi, false, true);
  double top = 40, height = 320, left = 90;
  double gap = n_axes > 1 ? (CHART_WIDTH - 2 * left) / (double)(n_axes - 1) : 0;
  svg_open(out, "parallel", CHART_WIDTH, 420);
  for (size_t k = 0; k < n; k++) {
    const hpt_report_trial_t *trial = &report->trials[order[k]];
    char color[32];
    double goodness = hi > lo ? (trial->value - lo) / (hi - lo) : 1;
    if (report->direction == HPT_DIRECTION_MINIMIZE)
      goodness = 1 - goodness;
    ramp_color(0.15 + 0.85 * goodness, color, sizeof color);
    fprintf(out,
            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
            "points=\"",
            color, k + 1 == n ? "3" : "1.5");
    for (size_t a = 0; a < n_axes; a++) {
      double v = a + 1 == n_axes ? trial->value : trial->params[a];
      if (!in_axis(&axes[a], v))
        continue;
      fprintf(out, "%.1f,%.1f ", left + gap * (double)a,
              top + (1 - axis_fraction(&axes[a], v)) * height);
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
    hpt_report_html_escape(out, a + 1 == n_axes ? "objective value"
                                                : report->params[a].name);
    fputs("</text>\n", out);
    int n_ticks = axis_ticks(&axes[a], ticks, 32);
    for (int t = 0; t < n_ticks; t++) {
      fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">", x + 5,
              top + (1 - axis_fraction(&axes[a], ticks[t])) * height + 4);
      tick_label(&axes[a], ticks[t], out);
      fputs("</text>\n", out);
    }
  }
  fputs("</svg>\n", out);
  free(order), free(axes);
  return HPT_OK;
}

/* ---- slices -------------------------------------------------------------- */

static void chart_slices(const hpt_report_t *report, FILE *out) {
  double lo, hi;
  value_range(report, &lo, &hi);
  if (isnan(lo) || report->n_params == 0) {
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
    return;
  }
  double first = report->trials[0].number;
  double last = report->trials[report->n_trials - 1].number;
  fputs("<div class=\"slices\">\n", out);
  for (size_t p = 0; p < report->n_params; p++) {
    const hpt_report_param_t *param = &report->params[p];
    plot_t plot = {out,
                   70,
                   15,
                   300,
                   200,
                   axis_for_param(param),
                   axis_make(lo, hi, false, false)};
    svg_open(out, "slice", 390, 270);
    plot_frame(&plot, param->name, "objective value");
    for (size_t i = 0; i < report->n_trials; i++) {
      const hpt_report_trial_t *trial = &report->trials[i];
      if (!finite_value(trial) || !in_axis(&plot.x, trial->params[p]))
        continue;
      char color[32], value[256];
      ramp_color(last > first
                     ? 0.2 + 0.8 * (trial->number - first) / (last - first)
                     : 1,
                 color, sizeof color);
      param_text(param, trial->params[p], value, sizeof value);
      fprintf(out,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" "
              "stroke=\"#08306b\" stroke-width=\"0.5\"><title>trial %d: ",
              px(&plot, trial->params[p]), py(&plot, trial->value), color,
              trial->number);
      hpt_report_html_escape(out, value);
      fprintf(out, " &#8594; %.6g</title></circle>\n", trial->value);
    }
    fputs("</svg>\n", out);
  }
  fputs("</div>\n<p class=\"note\">Darker points are later trials.</p>\n", out);
}

/* ---- header and table ---------------------------------------------------- */

static const hpt_report_trial_t *best_trial(const hpt_report_t *report) {
  const hpt_report_trial_t *best = NULL;
  for (size_t i = 0; i < report->n_trials; i++)
    if (finite_value(&report->trials[i]) &&
        (best == NULL || better(report, report->trials[i].value, best->value)))
      best = &report->trials[i];
  return best;
}

static void header(const hpt_report_t *report, FILE *out) {
  size_t counts[5] = {0};
  for (size_t i = 0; i < report->n_trials; i++)
    counts[report->trials[i].state <= HPT_TRIAL_FAIL ? report->trials[i].state
                                                     : HPT_TRIAL_FAIL]++;
  fputs("<section id=\"summary\">\n<h1>Study ", out);
  hpt_report_html_escape(out, report->study_name);
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
    hpt_report_html_escape(out, best->params_json);
    fputs("</code></td></tr>\n", out);
  }
  fputs("</table>\n</section>\n", out);
}

static int top_table(const hpt_report_t *report, FILE *out,
                     hpt_error_t *error) {
  size_t *order = malloc((report->n_trials + 1) * sizeof *order), n = 0;
  if (order == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  for (size_t i = 0; i < report->n_trials; i++)
    if (finite_value(&report->trials[i]))
      order[n++] = i;
  qsort_r(order, n, sizeof *order, compare_worst_first, (void *)report);
  fputs("<section id=\"top-trials\">\n<h2>Top trials</h2>\n", out);
  if (n == 0)
    fputs("<p class=\"empty\">No COMPLETE trial yet.</p>\n", out);
  else {
    fputs("<table class=\"trials\">\n<tr><th>rank</th><th>trial</th>"
          "<th>value</th>",
          out);
    for (size_t p = 0; p < report->n_params; p++) {
      fputs("<th>", out);
      hpt_report_html_escape(out, report->params[p].name);
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
      param_text(&report->params[p], trial->params[p], text, sizeof text);
      fputs("<td>", out);
      hpt_report_html_escape(out, text);
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

/* ---- the page ------------------------------------------------------------ */

static const char style[] =
    "body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1240px}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px "
    "solid #ddd}"
    "table{border-collapse:collapse}td,th{padding:3px 10px;text-align:left;"
    "border-bottom:1px solid #eee}table.facts th{color:#555}"
    "code{font-size:13px;word-break:break-all}"
    "svg.chart{max-width:100%;height:auto;font:12px sans-serif}"
    "svg .frame{fill:none;stroke:#999}svg .grid{stroke:#eee}"
    "svg .axis{stroke:#555;stroke-width:1.5}svg .title{font-weight:bold}"
    "svg .tick{fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    ".slices{display:flex;flex-wrap:wrap;gap:8px}.slices svg{width:390px}"
    ".note,.empty{color:#555}";

static void section_open(FILE *out, const char *id, const char *title,
                         const char *note) {
  fprintf(out, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
  if (note != NULL)
    fprintf(out, "<p class=\"note\">%s</p>\n", note);
}

int hpt_report_html_write(const hpt_report_t *report, FILE *out,
                          hpt_error_t *error) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
        "\n<title>hpt report: ",
        out);
  hpt_report_html_escape(out, report->study_name);
  fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
  header(report, out);
  int rc = top_table(report, out, error);
  if (rc != HPT_OK)
    return rc;
  section_open(out, "history", "Optimization history",
               report->direction == HPT_DIRECTION_MINIMIZE
                   ? "Value of each COMPLETE trial; the line is the lowest "
                     "value so far (minimize)."
                   : "Value of each COMPLETE trial; the line is the highest "
                     "value so far (maximize).");
  if (report->n_trials > 0)
    chart_history(report, out);
  else
    fputs("<p class=\"empty\">No trial yet.</p>\n", out);
  fputs("</section>\n", out);
  section_open(out, "intermediate", "Intermediate values",
               "One line per trial over its reported steps.");
  chart_intermediate(report, out);
  fputs("</section>\n", out);
  section_open(out, "importance", "Parameter importances", NULL);
  if ((rc = chart_importance(report, out, error)) != HPT_OK)
    return rc;
  fputs("</section>\n", out);
  section_open(out, "parallel", "Parallel coordinates",
               "One line per COMPLETE trial over its params and value, each "
               "axis over the param's range (log axes for log params); darker "
               "is better, the best trial is the thick line.");
  if ((rc = chart_parallel(report, out, error)) != HPT_OK)
    return rc;
  fputs("</section>\n", out);
  section_open(out, "slice", "Slice plots",
               "Objective value of each COMPLETE trial against one param.");
  chart_slices(report, out);
  fputs("</section>\n<p class=\"note\">Written by hpt.</p>\n</body>\n"
        "</html>\n",
        out);
  if (fflush(out) != 0 || ferror(out))
    return HPT_ERR(error, HPT_EIO, "cannot write the report");
  return HPT_OK;
}
