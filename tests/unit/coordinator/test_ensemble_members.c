/* test_ensemble_members.c — parsing a member's val_predictions.csv
 * (coordinator/ensemble_members.c); reading it from the store is covered by
 * tests/integration/test_report.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "ensemble_members.h"

static int parse(const char *text, hpt_ensemble_predictions_t *out,
                 hpt_error_t *error) {
  return hpt_ensemble_predictions_parse((const uint8_t *)text, strlen(text),
                                        out, error);
}

Test(ensemble_members, parses_rows_in_order) {
  hpt_ensemble_predictions_t p;
  cr_assert_eq(parse("ID,label,probability\r\n17,1,0.75\r\n\n3,0,0\n"
                     "x-9,1,1",
                     &p, NULL),
               HPT_OK);
  cr_assert_eq(p.n_rows, 3);
  cr_expect_str_eq(p.ids[0], "17");
  cr_expect_str_eq(p.ids[2], "x-9");
  cr_expect_eq(p.labels[0], 1);
  cr_expect_eq(p.labels[1], 0);
  cr_expect_eq(p.probabilities[0], 0.75);
  cr_expect_eq(p.probabilities[2], 1.0);
  hpt_ensemble_predictions_free(&p);
  cr_expect_eq(p.n_rows, 0);
  cr_expect_null(p.ids);
  hpt_ensemble_predictions_free(NULL);
}

Test(ensemble_members, header_only_is_no_rows) {
  hpt_ensemble_predictions_t p;
  cr_assert_eq(parse("ID,label,probability\n", &p, NULL), HPT_OK);
  cr_expect_eq(p.n_rows, 0);
  hpt_ensemble_predictions_free(&p);
}

Test(ensemble_members, bad_files_are_refused_and_leave_nothing) {
  const char *bad[] = {"",
                       "id,label,probability\n1,1,0.5\n",
                       "ID,label,probability\n1,2,0.5\n",
                       "ID,label,probability\n1,1,1.5\n",
                       "ID,label,probability\n1,1,nan\n",
                       "ID,label,probability\n1,1\n",
                       "ID,label,probability\n1,1,0.5,extra\n",
                       "ID,label,probability\n1,1,0.5x\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    hpt_ensemble_predictions_t p;
    hpt_error_t error;
    cr_expect_eq(parse(bad[i], &p, &error), HPT_EPARSE, "case %zu", i);
    cr_expect(strncmp(error.message, "val_predictions.csv: bad ", 25) == 0,
              "case %zu: %s", i, error.message);
    cr_expect_eq(p.n_rows, 0);
    cr_expect_null(p.ids);
  }
}
