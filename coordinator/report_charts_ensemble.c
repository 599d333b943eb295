/* report_charts_ensemble.c — see report_charts_ensemble.h. */
#include "report_charts_ensemble.h"

#include <math.h>
#include <stdlib.h>

#include "dataset.h"
#include "report_page.h"
#include "report_roc.h"
#include "report_svg.h"

/* Members' curves, in member order, cycling (category10 without the
 * orange that marks the vote). */
static const char *const member_colors[] = {"#1f77b4", "#2ca02c", "#9467bd",
                                            "#8c564b", "#e377c2", "#17becf",
                                            "#bcbd22", "#7f7f7f", "#d62728"};
#define N_MEMBER_COLORS (sizeof member_colors / sizeof member_colors[0])
#define COLOR_VOTE HPT_REPORT_COLOR_BEST
#define LEGEND_MEMBERS_MAX 16

const char *hpt_report_member_color(size_t m) {
  return member_colors[m % N_MEMBER_COLORS];
}

/* ---- confusion matrix ---------------------------------------------------- */

void hpt_report_chart_confusion(const hpt_report_ensemble_t *ensemble,
                                FILE *out) {
  const hpt_ensemble_metrics_t *m = &ensemble->metrics;
  if (m->tp < 0 || m->fp < 0 || m->tn < 0 || m->fn < 0) {
    fputs("<p class=\"empty\">No confusion matrix was stored for this "
          "ensemble.</p>\n",
          out);
    return;
  }
  /* [actual][predicted], positive (1) first. */
  const int counts[2][2] = {{m->tp, m->fn}, {m->fp, m->tn}};
  const char *const names[2][2] = {{"TP", "FN"}, {"FP", "TN"}};
  const int labels[2] = {1, 0};
  double max = 1;
  for (int a = 0; a < 2; a++)
    for (int p = 0; p < 2; p++)
      max = counts[a][p] > max ? counts[a][p] : max;
  const double left = 230, top = 60, cell = 150;
  hpt_report_svg_open(out, "confusion", 640, 440);
  fprintf(out,
          "<text x=\"%.1f\" y=\"20\" text-anchor=\"middle\" "
          "class=\"title\">predicted label</text>\n",
          left + cell);
  fprintf(out,
          "<text transform=\"translate(20,%.1f) rotate(-90)\" "
          "text-anchor=\"middle\" class=\"title\">actual label</text>\n",
          top + cell);
  for (int i = 0; i < 2; i++) {
    const char *name = hpt_dataset_label_name(labels[i]);
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s (%d)"
            "</text>\n",
            left + cell * (i + 0.5), top - 10, name, labels[i]);
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s (%d)"
            "</text>\n",
            left - 10, top + cell * (i + 0.5) + 4, name, labels[i]);
  }
  for (int a = 0; a < 2; a++) {
    int row_total = counts[a][0] + counts[a][1];
    for (int p = 0; p < 2; p++) {
      double t = counts[a][p] / max, x = left + cell * p, y = top + cell * a;
      double share = row_total > 0 ? 100.0 * counts[a][p] / row_total : 0;
      char color[32];
      hpt_report_svg_ramp(0.05 + 0.95 * t, color, sizeof color);
      const char *ink = t > 0.5 ? "#fff" : "#222";
      fprintf(out,
              "<g class=\"cell\" data-cell=\"%s\"><title>%s: actual %s, "
              "predicted %s: %d</title>"
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
              "fill=\"%s\" stroke=\"#fff\" stroke-width=\"2\"/>"
              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
              "font-size=\"26\" fill=\"%s\">%d</text>"
              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
              "fill=\"%s\">%s &#183; %.1f%% of actual</text></g>\n",
              names[a][p], names[a][p], hpt_dataset_label_name(labels[a]),
              hpt_dataset_label_name(labels[p]), counts[a][p], x, y, cell, cell,
              color, x + cell / 2, y + cell / 2 + 4, ink, counts[a][p],
              x + cell / 2, y + cell / 2 + 28, ink, names[a][p], share);
    }
  }
  fprintf(out,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
          "class=\"tick\">%d validation rows, threshold %.2f</text>\n",
          left + cell, top + 2 * cell + 30, m->tp + m->fp + m->tn + m->fn,
          ensemble->threshold);
  hpt_report_svg_close(out);
}

/* ---- ROC ----------------------------------------------------------------- */

/* The polyline of a curve, leaving out points closer than half a unit to
 * the last one written (a curve has up to one point per row). */
static void curve_points(const hpt_report_plot_t *plot,
                         const hpt_report_roc_point_t *points, size_t n) {
  double last_x = NAN, last_y = NAN;
  for (size_t i = 0; i < n; i++) {
    double x = hpt_report_plot_x(plot, points[i].fpr);
    double y = hpt_report_plot_y(plot, points[i].tpr);
    if (i + 1 < n && fabs(x - last_x) + fabs(y - last_y) < 0.5)
      continue;
    fprintf(plot->out, "%.1f,%.1f ", x, y);
    last_x = x, last_y = y;
  }
}

double hpt_report_member_auc(const hpt_report_ensemble_t *ensemble, size_t m) {
  const hpt_ensemble_members_t *v = &ensemble->validation;
  if (v->n_rows == 0 || m >= v->n_members)
    return NAN;
  hpt_report_roc_point_t *points = NULL;
  size_t n = 0;
  double auc = NAN;
  hpt_report_roc_compute(v->n_rows, v->probabilities + m * v->n_rows, v->labels,
                         &points, &n, &auc, NULL);
  free(points);
  return auc;
}

/* "STUDY #N, weight W, AUC A" for the legend and tooltips. */
static void member_label(const hpt_report_member_t *member, double auc,
                         char *buffer, size_t size) {
  snprintf(buffer, size, "%s #%d, weight %.2f, AUC %.4f", member->study,
           member->number, member->weight, auc);
}

int hpt_report_chart_roc(const hpt_report_ensemble_t *ensemble, FILE *out,
                         hpt_error_t *error) {
  const hpt_ensemble_members_t *v = &ensemble->validation;
  if (v->n_rows == 0 || v->n_members != ensemble->n_members) {
    fputs("<p class=\"empty\">No ROC curves: ", out);
    hpt_report_page_escape(out, ensemble->missing
                                    ? ensemble->missing
                                    : "no validation predictions.");
    fputs("</p>\n", out);
    return HPT_OK;
  }
  size_t rows = v->n_rows, n_members = v->n_members;
  double *scores = malloc(rows * sizeof *scores);
  double *weights = malloc(n_members * sizeof *weights);
  if (scores == NULL || weights == NULL) {
    free(scores), free(weights);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  for (size_t m = 0; m < n_members; m++)
    weights[m] = ensemble->members[m].weight;
  for (size_t r = 0; r < rows; r++)
    scores[r] =
        hpt_ensemble_vote(n_members, rows, v->probabilities, weights, r);
  hpt_report_roc_point_t *vote = NULL;
  size_t n_vote = 0;
  double vote_auc = NAN;
  hpt_error_t why;
  int rc = hpt_report_roc_compute(rows, scores, v->labels, &vote, &n_vote,
                                  &vote_auc, &why);
  free(scores), free(weights);
  if (rc == HPT_EINVAL) { /* one class only: no curve exists */
    fputs("<p class=\"empty\">No ROC curves: ", out);
    hpt_report_page_escape(out, why.message);
    fputs("</p>\n", out);
    return HPT_OK;
  }
  if (rc != HPT_OK)
    return HPT_ERR(error, rc, "%s", why.message);

  hpt_report_plot_t plot = {out,
                            90,
                            20,
                            540,
                            540,
                            hpt_report_axis_make(0, 1, false, true),
                            hpt_report_axis_make(0, 1, false, true)};
  hpt_report_svg_open(out, "roc", HPT_REPORT_CHART_WIDTH, 620);
  hpt_report_plot_frame(&plot, "false positive rate (1 - specificity)",
                        "true positive rate (recall)");
  fprintf(out,
          "<line class=\"chance\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
          "y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"6 4\"/>\n",
          hpt_report_plot_x(&plot, 0), hpt_report_plot_y(&plot, 0),
          hpt_report_plot_x(&plot, 1), hpt_report_plot_y(&plot, 1));
  double legend_x = plot.left + plot.width + 50, legend_y = plot.top + 20;
  char label[512];
  for (size_t m = 0; m < n_members && rc == HPT_OK; m++) {
    hpt_report_roc_point_t *points = NULL;
    size_t n = 0;
    double auc = NAN;
    rc = hpt_report_roc_compute(rows, v->probabilities + m * rows, v->labels,
                                &points, &n, &auc, error);
    if (rc != HPT_OK)
      break;
    const char *color = hpt_report_member_color(m);
    member_label(&ensemble->members[m], auc, label, sizeof label);
    fprintf(out,
            "<polyline class=\"roc member\" fill=\"none\" stroke=\"%s\" "
            "stroke-width=\"1.5\" stroke-opacity=\"0.8\" points=\"",
            color);
    curve_points(&plot, points, n);
    fputs("\"><title>", out);
    hpt_report_page_escape(out, label);
    fputs("</title></polyline>\n", out);
    if (m < LEGEND_MEMBERS_MAX)
      hpt_report_svg_legend(out, legend_x, legend_y + 24 * (double)(m + 1),
                            color, label);
    free(points);
  }
  if (n_members > LEGEND_MEMBERS_MAX) {
    snprintf(label, sizeof label, "... and %zu more members",
             n_members - LEGEND_MEMBERS_MAX);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", legend_x + 16,
            legend_y + 24 * (LEGEND_MEMBERS_MAX + 1.0));
    hpt_report_page_escape(out, label);
    fputs("</text>\n", out);
  }
  /* The vote last, on top of its members. */
  snprintf(label, sizeof label, "ensemble %s (soft vote), AUC %.4f",
           ensemble->name, vote_auc);
  fprintf(out,
          "<polyline class=\"roc ensemble\" fill=\"none\" stroke=\"" COLOR_VOTE
          "\" stroke-width=\"3\" points=\"");
  curve_points(&plot, vote, n_vote);
  fputs("\"><title>", out);
  hpt_report_page_escape(out, label);
  fputs("</title></polyline>\n", out);
  hpt_report_svg_legend(out, legend_x, legend_y, COLOR_VOTE, label);
  free(vote);
  const hpt_ensemble_metrics_t *s = &ensemble->metrics;
  size_t shown =
      n_members < LEGEND_MEMBERS_MAX ? n_members : LEGEND_MEMBERS_MAX + 1;
  double below = legend_y + 24 * (double)(shown + 1);
  if (s->tp + s->fn > 0 && s->fp + s->tn > 0 && s->tp >= 0 && s->fp >= 0) {
    double fpr = (double)s->fp / (s->fp + s->tn);
    double tpr = (double)s->tp / (s->tp + s->fn);
    fprintf(out,
            "<circle class=\"operating-point\" cx=\"%.1f\" cy=\"%.1f\" "
            "r=\"6\" fill=\"#fff\" stroke=\"" COLOR_VOTE
            "\" stroke-width=\"3\"><title>threshold %.2f: false positive "
            "rate %.3f, true positive rate %.3f</title></circle>\n",
            hpt_report_plot_x(&plot, fpr), hpt_report_plot_y(&plot, tpr),
            ensemble->threshold, fpr, tpr);
    fprintf(out,
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#fff\" "
            "stroke=\"" COLOR_VOTE "\" stroke-width=\"3\"/><text x=\"%.1f\" "
            "y=\"%.1f\">the vote at threshold %.2f</text>\n",
            legend_x + 6, below - 4, legend_x + 16, below, ensemble->threshold);
    below += 24;
  }
  fprintf(out,
          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
          "stroke=\"#999\" stroke-dasharray=\"6 4\"/><text x=\"%.1f\" "
          "y=\"%.1f\">chance (AUC 0.5)</text>\n",
          legend_x, below - 4, legend_x + 12, below - 4, legend_x + 16, below);
  hpt_report_svg_close(out);
  return rc;
}
