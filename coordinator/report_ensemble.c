/* report_ensemble.c — see report_ensemble.h: the ensemble page's parts in
 * order, the summary and the two tables written here, the charts by
 * report_charts_ensemble.c. */
#include "report_ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_charts_ensemble.h"
#include "report_page.h"

void hpt_report_ensemble_free(hpt_report_ensemble_t *ensemble) {
  if (ensemble == NULL)
    return;
  for (size_t m = 0; m < ensemble->n_members; m++)
    free(ensemble->members[m].study);
  free(ensemble->members);
  free(ensemble->name);
  free(ensemble->weights_mode);
  free(ensemble->threshold_mode);
  free(ensemble->created_at);
  free(ensemble->missing);
  hpt_ensemble_members_free(&ensemble->validation);
  memset(ensemble, 0, sizeof *ensemble);
}

/* A number for a table cell: "0.8312", or "-" when NaN. */
static void cell(FILE *out, double value) {
  if (isnan(value))
    fputs("<td class=\"number\">-</td>", out);
  else
    fprintf(out, "<td class=\"number\">%.4f</td>", value);
}

static void header(const hpt_report_ensemble_t *ensemble, FILE *out) {
  fputs("<section id=\"summary\">\n<h1>Ensemble ", out);
  hpt_report_page_escape(out, ensemble->name);
  fprintf(out,
          "</h1>\n<table class=\"facts\">\n"
          "<tr><th>members</th><td>%zu, soft vote (weighted mean of their "
          "probabilities)</td></tr>\n<tr><th>weights</th><td>",
          ensemble->n_members);
  hpt_report_page_escape(out, ensemble->weights_mode);
  fprintf(out, "</td></tr>\n<tr><th>threshold</th><td>%.2f (",
          ensemble->threshold);
  hpt_report_page_escape(out, ensemble->threshold_mode);
  fprintf(out,
          ")</td></tr>\n<tr><th>validation rows</th><td>%d</td></tr>\n"
          "<tr><th>built</th><td>",
          ensemble->n_val);
  hpt_report_page_escape(out, ensemble->created_at);
  fputs("</td></tr>\n</table>\n<p class=\"note\">Weights and threshold were "
        "fitted on the members' validation predictions (their held-out "
        "split), and the metrics below are measured on those same rows, so "
        "they are a little optimistic for unseen data.</p>\n</section>\n",
        out);
}

static void members_table(const hpt_report_ensemble_t *ensemble, FILE *out) {
  hpt_report_page_section_open(
      out, "members", "Members",
      "Each member is a kept trial; its validation accuracy is the trial's "
      "own value, its ROC-AUC is computed from its stored validation "
      "probabilities (colours as in the ROC curves).");
  if (ensemble->n_members == 0) {
    fputs("<p class=\"empty\">No members: their trials were deleted.</p>\n",
          out);
    hpt_report_page_section_close(out);
    return;
  }
  fputs("<table class=\"members\">\n<tr><th>#</th><th>study</th>"
        "<th>trial</th><th>weight</th><th>validation accuracy</th>"
        "<th>ROC-AUC</th></tr>\n",
        out);
  for (size_t m = 0; m < ensemble->n_members; m++) {
    const hpt_report_member_t *member = &ensemble->members[m];
    fprintf(out,
            "<tr><td><span class=\"swatch\" style=\"background:%s\">"
            "</span>%zu</td><td>",
            hpt_report_member_color(m), m + 1);
    hpt_report_page_escape(out, member->study);
    fprintf(out, "</td><td class=\"number\">%d</td>", member->number);
    cell(out, member->weight);
    cell(out, member->value);
    cell(out, hpt_report_member_auc(ensemble, m));
    fputs("</tr>\n", out);
  }
  fputs("</table>\n", out);
  hpt_report_page_section_close(out);
}

static void metrics_table(const hpt_report_ensemble_t *ensemble, FILE *out) {
  const hpt_ensemble_metrics_t *m = &ensemble->metrics;
  char note[160];
  snprintf(note, sizeof note,
           "The vote on the %d validation rows at threshold %.2f, as stored "
           "when the ensemble was built.",
           ensemble->n_val, ensemble->threshold);
  hpt_report_page_section_open(out, "metrics", "Metrics", note);
  fputs("<table class=\"metrics\">\n<tr><th>metric</th><th>ensemble</th>"
        "</tr>\n<tr><td>accuracy</td>",
        out);
  cell(out, m->accuracy);
  fputs("</tr>\n<tr><td>F1</td>", out);
  cell(out, m->f1);
  fputs("</tr>\n<tr><td>precision</td>", out);
  cell(out, m->precision);
  fputs("</tr>\n<tr><td>recall</td>", out);
  cell(out, m->recall);
  fputs("</tr>\n<tr><td>ROC-AUC</td>", out);
  cell(out, m->roc_auc);
  fputs("</tr>\n</table>\n", out);
  hpt_report_page_section_close(out);
}

int hpt_report_ensemble_html_write(const hpt_report_ensemble_t *ensemble,
                                   FILE *out, hpt_error_t *error) {
  hpt_report_page_open(out, ensemble->name);
  header(ensemble, out);
  members_table(ensemble, out);
  metrics_table(ensemble, out);
  hpt_report_page_section_open(
      out, "confusion", "Confusion matrix",
      "Validation rows by actual label (rows) and the vote's prediction at "
      "the threshold (columns); darker cells hold more rows.");
  hpt_report_chart_confusion(ensemble, out);
  hpt_report_page_section_close(out);
  hpt_report_page_section_open(
      out, "roc", "ROC curves",
      "True positive rate against false positive rate as the threshold "
      "sweeps from 1 down to 0, for the weighted vote (thick) and each "
      "member, over the validation rows; the circle is the vote at its "
      "threshold. AUC is the area under a curve (0.5: chance, 1: perfect).");
  int rc = hpt_report_chart_roc(ensemble, out, error);
  if (rc != HPT_OK)
    return rc;
  hpt_report_page_section_close(out);
  return hpt_report_page_close(out, error);
}
