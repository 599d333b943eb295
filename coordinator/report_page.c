/* report_page.c — see report_page.h. The style sheet is the only styling of
 * every report; charts (report_svg.h) use its classes. */
#include "report_page.h"

void hpt_report_page_escape(FILE *out, const char *text) {
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

static const char style[] =
    "body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1240px}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px "
    "solid #ddd}"
    "table{border-collapse:collapse}td,th{padding:3px 10px;text-align:left;"
    "border-bottom:1px solid #eee}table.facts th{color:#555}"
    "td.number{text-align:right;font-variant-numeric:tabular-nums}"
    "code{font-size:13px;word-break:break-all}"
    "svg.chart{max-width:100%;height:auto;font:12px sans-serif}"
    "svg .frame{fill:none;stroke:#999}svg .grid{stroke:#eee}"
    "svg .axis{stroke:#555;stroke-width:1.5}svg .title{font-weight:bold}"
    "svg .tick{fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    ".slices{display:flex;flex-wrap:wrap;gap:8px}.slices svg{width:390px}"
    ".charts{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}"
    ".swatch{display:inline-block;width:12px;height:12px;margin-right:6px;"
    "vertical-align:-1px}"
    ".note,.empty{color:#555}";

void hpt_report_page_open(FILE *out, const char *name) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
        "\n<title>hpt report: ",
        out);
  hpt_report_page_escape(out, name);
  fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
}

void hpt_report_page_section_open(FILE *out, const char *id, const char *title,
                                  const char *note) {
  fprintf(out, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
  if (note != NULL)
    fprintf(out, "<p class=\"note\">%s</p>\n", note);
}

void hpt_report_page_section_close(FILE *out) { fputs("</section>\n", out); }

int hpt_report_page_close(FILE *out, hpt_error_t *error) {
  fputs("<p class=\"note\">Written by hpt.</p>\n</body>\n</html>\n", out);
  if (fflush(out) != 0 || ferror(out))
    return HPT_ERR(error, HPT_EIO, "cannot write the report");
  return HPT_OK;
}
