/* test_cli_errors.c — bad input to the `hpt` CLI: each case must give one
 * clear line naming the file, line or field, exit non-zero, never crash and
 * never leave a half-created study behind. Real PostgreSQL. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_db.h"
#include "test_util.h"

static const char *good_objective(void) {
  static char text[1024];
  snprintf(text, sizeof text, "objective: {type: ngram, train: %s}\n",
           hpt_test_data("train.csv"));
  return text;
}

/* Writes spec text and runs `hpt --db URL study create` on it. Returns the
 * exit status; *output gets stdout+stderr. */
static int create(const char *url, const char *dir, const char *text,
                  char **output) {
  char path[600];
  snprintf(path, sizeof path, "%s/spec.yaml", dir);
  hpt_test_write_file(path, text);
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "create",
                  path,
                  NULL};
  return hpt_test_run(argv, 60000, output);
}

static void expect_rejected(const char *text, const char *needle) {
  const char *url = hpt_test_db_url();
  char url_copy[1024];
  snprintf(url_copy, sizeof url_copy, "%s", url);
  const char *dir = hpt_test_tmpdir();
  char *output = NULL;
  int status = create(url_copy, dir, text, &output);
  cr_assert_neq(status, 0, "accepted a bad spec: %s", output);
  cr_assert(status < 128, "crashed with status %d: %s", status, output);
  cr_assert(strstr(output, needle) != NULL, "expected '%s' in: %s", needle,
            output);
  /* One line, starting with "hpt: ". */
  cr_assert(strncmp(output, "hpt: ", 5) == 0, "output: %s", output);
  cr_assert(strchr(output, '\n') == output + strlen(output) - 1,
            "more than one line: %s", output);
  /* Bad specs are rejected before the database is touched, so the schema
   * may not even exist; if it does, it holds no study. */
  if (hpt_test_sql_long(url_copy, "select count(*) from pg_class where "
                                  "relname = 'studies'") > 0)
    cr_assert_eq(hpt_test_sql_long(url_copy, "select count(*) from studies"), 0,
                 "nothing may be stored");
  free(output);
}

Test(cli_errors, missing_data_file) {
  expect_rejected("name: a\nparams: {x: {type: float, low: 0, high: 1}}\n"
                  "objective: {type: ngram, train: /nonexistent/train.csv}\n",
                  "/nonexistent/train.csv");
}

Test(cli_errors, csv_without_expected_columns) {
  const char *dir = hpt_test_tmpdir();
  char csv[600], text[1200];
  snprintf(csv, sizeof csv, "%s/bad.csv", dir);
  hpt_test_write_file(csv, "ID,Text\n1,hello there\n");
  snprintf(text, sizeof text,
           "name: a\nparams: {x: {type: float, low: 0, high: 1}}\n"
           "objective: {type: ngram, train: %s}\n",
           csv);
  expect_rejected(text, "Original_Message");
}

Test(cli_errors, unknown_key) {
  char text[2048];
  snprintf(text, sizeof text, "name: a\nn_trails: 5\n%s", good_objective());
  expect_rejected(text, "n_trails");
}

Test(cli_errors, wrong_type) {
  char text[2048];
  snprintf(text, sizeof text, "name: a\nn_trials: many\n%s", good_objective());
  expect_rejected(text, "n_trials");
}

Test(cli_errors, low_above_high) {
  char text[2048];
  snprintf(text, sizeof text,
           "name: a\nparams:\n  lr: {type: float, low: 2, high: 1}\n%s",
           good_objective());
  expect_rejected(text, "spec.yaml:3");
}

Test(cli_errors, unknown_sampler) {
  char text[2048];
  snprintf(text, sizeof text, "name: a\nsampler: {type: grid}\n%s",
           good_objective());
  expect_rejected(text, "grid");
}

Test(cli_errors, unknown_objective_setting) {
  char text[2048];
  snprintf(text, sizeof text,
           "name: a\nobjective: {type: ngram, train: %s, colour: red}\n",
           hpt_test_data("train.csv"));
  expect_rejected(text, "colour");
}

Test(cli_errors, existing_study_name) {
  const char *url = hpt_test_db_url();
  char url_copy[1024];
  snprintf(url_copy, sizeof url_copy, "%s", url);
  const char *dir = hpt_test_tmpdir();
  char text[2048];
  snprintf(text, sizeof text,
           "name: twice\nparams: {x: {type: float, low: 0, high: 1}}\n%s",
           good_objective());
  char *output = NULL;
  cr_assert_eq(create(url_copy, dir, text, &output), 0, "%s", output);
  free(output);
  int status = create(url_copy, dir, text, &output);
  cr_assert_eq(status, 1, "second create: %d %s", status, output);
  cr_assert(strstr(output, "already exists") != NULL, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(url_copy, "select count(*) from studies"), 1);
  cr_assert_eq(hpt_test_sql_long(url_copy, "select count(*) from study_params"),
               1, "the first study keeps its one parameter, no more");
}

Test(cli_errors, unreachable_database) {
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
                  "study",
                  "status",
                  "x",
                  NULL};
  int status = hpt_test_run(argv, 30000, &output);
  cr_assert_eq(status, 3, "exit %d: %s", status, output);
  cr_assert(strncmp(output, "hpt: ", 5) == 0, "%s", output);
  cr_assert(strchr(output, '\n') == output + strlen(output) - 1,
            "more than one line: %s", output);
  free(output);
}

Test(cli_errors, unknown_study) {
  const char *url = hpt_test_db_url();
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "study",
                  "status",
                  "nope",
                  NULL};
  int status = hpt_test_run(argv, 30000, &output);
  cr_assert_eq(status, 4, "exit %d: %s", status, output);
  cr_assert(strstr(output, "nope") != NULL, "%s", output);
  free(output);
}

Test(cli_errors, usage_errors_exit_2) {
  char *output = NULL;
  char *argv[] = {(char *)hpt_test_bin("hpt"), "frobnicate", NULL};
  cr_assert_eq(hpt_test_run(argv, 10000, &output), 2);
  free(output);
  char *help[] = {(char *)hpt_test_bin("hpt"), "study", "run", "--help", NULL};
  cr_assert_eq(hpt_test_run(help, 10000, &output), 0);
  cr_assert(strstr(output, "--local-workers") != NULL);
  free(output);
  char *worker_help[] = {(char *)hpt_test_bin("hpt-worker"), "--help", NULL};
  cr_assert_eq(hpt_test_run(worker_help, 10000, &output), 0);
  cr_assert(strstr(output, "--connect") != NULL);
  free(output);
}
