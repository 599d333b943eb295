/* report_svg.h — the chart primitives of the HTML reports: axes (linear,
 * log10 or categorical), a plot area with its frame, grid, tick labels and
 * axis titles, legends and colours, all written as inline SVG.
 *
 * Coordinates are SVG user units in a fixed viewBox; the page's style sheet
 * (report_page.c) scales every chart to the window width. Chart modules
 * (report_charts_*.c) place their marks in a plot with hpt_report_plot_x /
 * _y and never compute pixel positions themselves.
 *
 * Axes and plots are plain values the caller keeps on its stack; every field
 * is public. Nothing here allocates or fails: write errors stay on the
 * stream for hpt_report_page_close to report.
 */
#ifndef HPT_REPORT_SVG_H
#define HPT_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Colours shared by the charts (category10). */
#define HPT_REPORT_COLOR_COMPLETE "#1f77b4"
#define HPT_REPORT_COLOR_PRUNED "#d62728"
#define HPT_REPORT_COLOR_FAIL "#7f7f7f"
#define HPT_REPORT_COLOR_RUNNING "#2ca02c"
#define HPT_REPORT_COLOR_BEST "#e6550d"

/* Width of a full-width chart, SVG units. */
#define HPT_REPORT_CHART_WIDTH 1200

typedef struct hpt_report_axis {
  double lo, hi; /* data range shown; lo < hi */
  bool log;      /* log10 scale; lo > 0 */
  bool integer;  /* ticks on whole numbers only */
  /* Categorical axis when not NULL: ticks at 0 .. n_labels-1, labelled with
   * these (escaped when written). Borrowed: must outlive the axis. */
  const char *const *labels;
  size_t n_labels;
} hpt_report_axis_t;

typedef struct hpt_report_plot {
  FILE *out;                       /* borrowed */
  double left, top, width, height; /* the plot area, SVG units */
  hpt_report_axis_t x, y;
} hpt_report_plot_t;

/* Numeric axis over [lo, hi] (NaN: no data, shown as 0..1), widened when
 * flat and padded by 5% on each side unless `exact`. `log` is honoured only
 * when both ends are > 0. */
hpt_report_axis_t hpt_report_axis_make(double lo, double hi, bool log,
                                       bool exact);

/* Categorical axis: one slot per label, centred on 0 .. n-1. */
hpt_report_axis_t hpt_report_axis_categorical(const char *const *labels,
                                              size_t n_labels);

/* Where `value` lies on the axis: 0 at lo, 1 at hi (outside for values
 * outside the range). */
double hpt_report_axis_fraction(const hpt_report_axis_t *axis, double value);

/* Whether `value` can be placed on the axis (finite; > 0 on a log axis). */
bool hpt_report_axis_contains(const hpt_report_axis_t *axis, double value);

/* Tick values for the axis (round numbers, decades on log axes, every
 * label on categorical ones), at most `max`; returns how many. */
int hpt_report_axis_ticks(const hpt_report_axis_t *axis, double *ticks,
                          int max);

/* Writes a tick's label ("0.05", or the category's escaped text). */
void hpt_report_axis_tick_label(const hpt_report_axis_t *axis, double tick,
                                FILE *out);

/* SVG x / y of a data value in the plot area. */
double hpt_report_plot_x(const hpt_report_plot_t *plot, double value);
double hpt_report_plot_y(const hpt_report_plot_t *plot, double value);

/* Border, grid lines, tick labels and the axis titles (escaped). */
void hpt_report_plot_frame(const hpt_report_plot_t *plot, const char *x_title,
                           const char *y_title);

/* Opens <svg class="chart" data-chart=ID> of width x height units; `id`
 * is a trusted constant. Close it with hpt_report_svg_close. */
void hpt_report_svg_open(FILE *out, const char *id, int width, int height);
void hpt_report_svg_close(FILE *out);

/* A legend entry at (x, y): a colour square, then `label` (escaped). */
void hpt_report_svg_legend(FILE *out, double x, double y, const char *color,
                           const char *label);

/* Light blue (t = 0) to dark blue (t = 1) as "rgb(r,g,b)" in `buffer`. */
void hpt_report_svg_ramp(double t, char *buffer, size_t size);

#endif
