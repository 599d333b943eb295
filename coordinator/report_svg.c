/* report_svg.c — see report_svg.h. */
#include "report_svg.h"

#include <math.h>

#include "report_page.h"

hpt_report_axis_t hpt_report_axis_make(double lo, double hi, bool log,
                                       bool exact) {
  hpt_report_axis_t axis = {.lo = lo, .hi = hi, .log = log && lo > 0 && hi > 0};
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

hpt_report_axis_t hpt_report_axis_categorical(const char *const *labels,
                                              size_t n_labels) {
  hpt_report_axis_t axis = {.lo = -0.5,
                            .hi = (double)n_labels - 0.5,
                            .labels = labels,
                            .n_labels = n_labels};
  return axis;
}

double hpt_report_axis_fraction(const hpt_report_axis_t *axis, double value) {
  if (axis->log)
    return (log10(value) - log10(axis->lo)) /
           (log10(axis->hi) - log10(axis->lo));
  return (value - axis->lo) / (axis->hi - axis->lo);
}

bool hpt_report_axis_contains(const hpt_report_axis_t *axis, double value) {
  return isfinite(value) && (!axis->log || value > 0);
}

int hpt_report_axis_ticks(const hpt_report_axis_t *axis, double *ticks,
                          int max) {
  int n = 0;
  if (axis->labels != NULL) {
    for (size_t c = 0; c < axis->n_labels && n < max; c++)
      ticks[n++] = (double)c;
    return n;
  }
  if (axis->log) {
    for (double k = ceil(log10(axis->lo));
         k <= floor(log10(axis->hi)) && n < max; k++)
      ticks[n++] = pow(10, k);
    if (n >= 2)
      return n;
    n = 0; /* less than a decade: round linear ticks instead */
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

void hpt_report_axis_tick_label(const hpt_report_axis_t *axis, double tick,
                                FILE *out) {
  if (axis->labels != NULL) {
    hpt_report_page_escape(out, axis->labels[(size_t)tick]);
    return;
  }
  fprintf(out, "%.4g", tick);
}

double hpt_report_plot_x(const hpt_report_plot_t *plot, double value) {
  return plot->left + hpt_report_axis_fraction(&plot->x, value) * plot->width;
}

double hpt_report_plot_y(const hpt_report_plot_t *plot, double value) {
  return plot->top +
         (1 - hpt_report_axis_fraction(&plot->y, value)) * plot->height;
}

void hpt_report_plot_frame(const hpt_report_plot_t *plot, const char *x_title,
                           const char *y_title) {
  FILE *out = plot->out;
  double ticks[32];
  fprintf(out,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
          "class=\"frame\"/>\n",
          plot->left, plot->top, plot->width, plot->height);
  int n = hpt_report_axis_ticks(&plot->x, ticks, 32);
  for (int i = 0; i < n; i++) {
    double x = hpt_report_plot_x(plot, ticks[i]);
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"middle\">",
            x, plot->top, x, plot->top + plot->height, x,
            plot->top + plot->height + 16);
    hpt_report_axis_tick_label(&plot->x, ticks[i], out);
    fputs("</text>\n", out);
  }
  n = hpt_report_axis_ticks(&plot->y, ticks, 32);
  for (int i = 0; i < n; i++) {
    double y = hpt_report_plot_y(plot, ticks[i]);
    fprintf(out,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"end\">",
            plot->left, y, plot->left + plot->width, y, plot->left - 6, y + 4);
    hpt_report_axis_tick_label(&plot->y, ticks[i], out);
    fputs("</text>\n", out);
  }
  fprintf(out,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
          "class=\"title\">",
          plot->left + plot->width / 2, plot->top + plot->height + 36);
  hpt_report_page_escape(out, x_title);
  fprintf(out,
          "</text>\n<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
          "text-anchor=\"middle\" class=\"title\">",
          plot->left - 52, plot->top + plot->height / 2);
  hpt_report_page_escape(out, y_title);
  fputs("</text>\n", out);
}

void hpt_report_svg_open(FILE *out, const char *id, int width, int height) {
  fprintf(out,
          "<svg class=\"chart\" "
          "data-chart=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" "
          "height=\"%d\">\n",
          id, width, height, width, height);
}

void hpt_report_svg_close(FILE *out) { fputs("</svg>\n", out); }

void hpt_report_svg_legend(FILE *out, double x, double y, const char *color,
                           const char *label) {
  fprintf(out,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
          "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
          x, y - 10, color, x + 16, y);
  hpt_report_page_escape(out, label);
  fputs("</text>\n", out);
}

void hpt_report_svg_ramp(double t, char *buffer, size_t size) {
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  snprintf(buffer, size, "rgb(%d,%d,%d)", (int)(198 + t * (8 - 198)),
           (int)(219 + t * (48 - 219)), (int)(239 + t * (107 - 239)));
}
