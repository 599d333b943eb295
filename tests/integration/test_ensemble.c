/* test_ensemble.c — kept models, ensembles and predictions end to end: a
 * real n-gram study keeps its best models in PostgreSQL large objects, an
 * ensemble is built from them and predicts the test file; every bad input
 * gets a clear error and nothing half-written. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_db.h"
#include "test_util.h"

static char url[1024], dir[256];

static int hpt(char **output, char *const *args) {
  return hpt_test_hpt(url, output, args);
}

static void run_study(const char *name, int keep) {
  hpt_test_run_ngram_study(url, dir, name, 6, keep);
}

Test(ensemble, kept_models_vote_and_predict, .timeout = 300) {
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  run_study("kept", 3);
  cr_assert_eq(hpt_test_sql_long(url, "select count(distinct trial_id) from "
                                      "trial_artifacts"),
               3, "keep_top_k 3 keeps three trials' models");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from "
                                      "pg_largeobject_metadata"),
               6, "two artifacts each, pruned ones unlinked");
  char *output = NULL;
  char *build[] = {"ensemble",  "build",     "vote",        "--from", "kept:3",
                   "--weights", "optimized", "--threshold", "tuned",  NULL};
  cr_assert_eq(hpt(&output, build), 0, "%s", output);
  cr_assert(strstr(output, "accuracy 0.") != NULL, "%s", output);
  free(output);
  cr_assert(hpt_test_sql_long(url, "select (accuracy * 1000)::int from "
                                   "ensembles where name = 'vote'") >= 750,
            "the ensemble should be a decent classifier");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from "
                                      "ensemble_members"),
               3);
  char submission[600];
  snprintf(submission, sizeof submission, "%s/submission.csv", dir);
  char *predict[] = {"predict",
                     "--ensemble",
                     "vote",
                     "--input",
                     (char *)hpt_test_data("test.csv"),
                     "--output",
                     submission,
                     NULL};
  cr_assert_eq(hpt(&output, predict), 0, "%s", output);
  free(output);
  char *text = hpt_test_read_file(submission);
  cr_assert(text != NULL);
  cr_assert(strncmp(text, "ID,Extremism_Label\n", 19) == 0, "%.80s", text);
  int rows = 0, extremist = 0;
  for (char *line = strchr(text, '\n') + 1; *line;
       line = strchr(line, '\n') + 1) {
    rows++;
    cr_assert(strstr(line, ",EXTREMIST\n") == strchr(line, ',') ||
                  strstr(line, ",NON_EXTREMIST\n") == strchr(line, ','),
              "bad row %.40s", line);
    if (strncmp(strchr(line, ','), ",EXTREMIST", 10) == 0)
      extremist++;
  }
  cr_assert_eq(rows, 750, "one prediction per test row");
  cr_assert(extremist > 100 && extremist < 650, "%d of 750", extremist);
  cr_assert(strncmp(text + 19, "2251,", 5) == 0, "input order: %.40s",
            text + 19);
  free(text);
}

Test(ensemble, bad_inputs_are_refused_and_nothing_is_half_written,
     .timeout = 300) {
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  run_study("nokeep", 0);
  run_study("kept", 2);
  char *output = NULL;
  char *none[] = {"ensemble", "build", "a", "--from", "nokeep", NULL};
  cr_assert_eq(hpt(&output, none), 4, "%s", output);
  cr_assert(strstr(output, "kept no trained models") != NULL, "%s", output);
  free(output);
  /* A corrupted model: flip a byte of its large object. */
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from (select "
                                      "lo_put(object, 100, '\\xff'::bytea) "
                                      "from trial_artifacts where name = "
                                      "'model.ngram' limit 1) x"),
               1);
  char *corrupt[] = {"ensemble", "build", "b", "--from", "kept", NULL};
  cr_assert_eq(hpt(&output, corrupt), 1, "%s", output);
  cr_assert(strstr(output, "sha256 mismatch") != NULL, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from ensembles"), 0,
               "nothing half-written");
  char *predict[] = {"predict",
                     "--ensemble",
                     "missing",
                     "--input",
                     (char *)hpt_test_data("test.csv"),
                     "--output",
                     "/tmp/never.csv",
                     NULL};
  cr_assert_eq(hpt(&output, predict), 4, "%s", output);
  free(output);
  char bad_csv[600];
  snprintf(bad_csv, sizeof bad_csv, "%s/bad.csv", dir);
  hpt_test_write_file(bad_csv, "ID,Text\n1,hello\n");
  char *bad[] = {"predict",  "--ensemble",     "b", "--input", bad_csv,
                 "--output", "/tmp/never.csv", NULL};
  cr_assert_eq(hpt(&output, bad), 1, "%s", output);
  cr_assert(strstr(output, "Original_Message") != NULL, "%s", output);
  free(output);
  /* Deleting a study deletes its artifacts and their large objects. */
  char *delete[] = {"study", "delete", "kept", NULL};
  cr_assert_eq(hpt(&output, delete), 0, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from "
                                      "pg_largeobject_metadata"),
               0);
}
