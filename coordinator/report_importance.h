/* report_importance.h — the study page's "Parameter importances" section:
 * how much of the objective's variance each parameter explains, as a bar
 * chart with the method stated on the page.
 *
 * Importances are not fANOVA: for each parameter, the share of the variance
 * of the objective over COMPLETE trials that binning the parameter explains
 * (numeric: up to 8 quantile bins; categorical: one bin per choice), as
 * epsilon squared (eta squared corrected for the number of bins, clipped at
 * 0), then scaled to sum to 1. Parameters are judged one at a time.
 */
#ifndef HPT_REPORT_IMPORTANCE_H
#define HPT_REPORT_IMPORTANCE_H

#include <stdio.h>

#include "error.h"
#include "report_study.h"

/* Writes the method note and the bar chart (or why there is none) to `out`.
 * Fails only when memory runs out (HPT_ENOMEM); `out` then holds part of
 * the section. */
int hpt_report_importance_write(const hpt_report_t *report, FILE *out,
                                hpt_error_t *error);

#endif
