/* report_page.h — the HTML skeleton every `hpt report` page shares: the
 * head with its one inline style sheet, sections, the footer, and escaping
 * of user text. No scripts, no links, no fonts to fetch: a page written
 * through here opens offline.
 *
 * Every function writes to a caller's stream and cannot fail on its own:
 * write errors stay on the stream (ferror), and hpt_report_page_close
 * reports them once for the whole page.
 */
#ifndef HPT_REPORT_PAGE_H
#define HPT_REPORT_PAGE_H

#include <stdio.h>

#include "error.h"

/* Writes `text` (NULL: nothing) to `out` with & < > " ' escaped. */
void hpt_report_page_escape(FILE *out, const char *text);

/* Writes the doctype, the head (title "hpt report: NAME", NAME escaped,
 * and the style sheet) and opens the body. */
void hpt_report_page_open(FILE *out, const char *name);

/* Opens <section id=ID> with an <h2> TITLE and, when `note` is not NULL, a
 * note paragraph. ID, TITLE and NOTE are trusted markup (constants of the
 * caller), not escaped. */
void hpt_report_page_section_open(FILE *out, const char *id, const char *title,
                                  const char *note);

/* Closes the section opened last. */
void hpt_report_page_section_close(FILE *out);

/* Writes the footer, closes body and html, flushes. HPT_EIO ("cannot write
 * the report") when anything written to `out` so far failed. */
int hpt_report_page_close(FILE *out, hpt_error_t *error);

#endif
