/* test_transfer.c — `hpt study export` and `hpt study import` end to end:
 * a real noop study run in database A, exported as JSON, imported into
 * database B, and compared row by row through the trial_history view; the
 * refusals (name taken, corrupt or malformed files) write nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

static int hpt(const char *url, char **output, const char *a1, const char *a2,
               const char *a3, const char *a4, const char *a5, const char *a6) {
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  (char *)a1,
                  (char *)a2,
                  (char *)a3,
                  (char *)a4,
                  (char *)a5,
                  (char *)a6,
                  NULL};
  return hpt_test_run(argv, 240000, output);
}

/* Everything about a study that must survive the trip, as one text. */
static char *snapshot(const char *url, const char *name) {
  char sql[2048];
  snprintf(sql, sizeof sql,
           "select (select concat_ws('|', direction, n_trials, max_parallel,"
           " sampler, pruner, objective, spec_text, state) from studies"
           " where name = '%s') || '#' ||"
           " (select string_agg(concat_ws('|', p.position, p.name, p.type,"
           " p.low, p.high, p.step, p.log, p.choices, p.parent,"
           " p.when_choices), ';' order by p.position) from study_params p"
           " join studies s on s.id = p.study_id where s.name = '%s') || '#' ||"
           " (select string_agg(concat_ws('|', number, state, value, params,"
           " worker, started_at, finished_at, duration_s, fail_reason), ';'"
           " order by number) from trial_history where study = '%s') || '#' ||"
           " (select string_agg(concat_ws('|', t.number, v.step, v.value),"
           " ';' order by t.number, v.step) from trial_intermediate_values v"
           " join trials t on t.id = v.trial_id join studies s"
           " on s.id = t.study_id where s.name = '%s') || '#' ||"
           " (select string_agg(concat_ws('|', t.number, p.name, p.value),"
           " ';' order by t.number, p.name) from trial_params p join trials t"
           " on t.id = p.trial_id join studies s on s.id = t.study_id"
           " where s.name = '%s')",
           name, name, name, name, name);
  char *text = hpt_test_sql_text(url, sql);
  cr_assert(text != NULL, "no snapshot of %s", name);
  return text;
}

static void run_study(const char *url, const char *dir) {
  hpt_test_create_study(
      url, dir, "xfer",
      "name: xfer\n"
      "direction: minimize\n"
      "n_trials: 10\n"
      "max_parallel: 2\n"
      "sampler: {type: random, seed: 5}\n"
      "pruner: {type: median, n_startup_trials: 2, n_warmup_steps: 0}\n"
      "params:\n"
      "  lr: {type: float, low: 0.001, high: 1.0, log: true}\n"
      "  depth: {type: int, low: 1, high: 8, step: 1}\n"
      "  kind: {type: categorical, choices: [\"a,b\", \"q\\\"x\", "
      "\"<i>\"]}\n"
      "objective: {type: noop, steps: 3, sleep_ms: 150}\n");
  free(hpt_test_run_study(url, "xfer", 2));
}

Test(transfer, json_round_trip_between_databases, .timeout = 300) {
  char a[1024], b[1024], dir[256], file[600];
  snprintf(a, sizeof a, "%s", hpt_test_db_url());
  snprintf(b, sizeof b, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  snprintf(file, sizeof file, "%s/xfer.json", dir);
  run_study(a, dir);

  char *output = NULL;
  int status =
      hpt(a, &output, "study", "export", "xfer", "--output", file, NULL);
  cr_assert_eq(status, 0, "export (%d): %s", status, output);
  free(output);
  char *json = hpt_test_read_file(file);
  cr_assert(json != NULL && strstr(json, "\"format\": \"hpt-study\"") &&
                strstr(json, "\"intermediate_values\"") &&
                strstr(json, "\"params_internal\""),
            "%s", json);
  free(json);

  status = hpt(b, &output, "study", "import", file, NULL, NULL, NULL);
  cr_assert_eq(status, 0, "import (%d): %s", status, output);
  cr_assert(strstr(output, "imported study 'xfer'") != NULL, "%s", output);
  free(output);
  char *in_a = snapshot(a, "xfer"), *in_b = snapshot(b, "xfer");
  cr_assert_str_eq(in_a, in_b, "the study differs after the trip");
  cr_assert(strstr(in_a, "PRUNED") != NULL, "some trials should be pruned");
  free(in_b);

  /* Twice: refused, one line, nothing changed. */
  status = hpt(b, &output, "study", "import", file, NULL, NULL, NULL);
  cr_assert_eq(status, 1, "%s", output);
  cr_assert(strstr(output, "already exists") != NULL, "%s", output);
  cr_assert_eq(hpt_test_count_lines(output), 1, "%s", output);
  free(output);
  in_b = snapshot(b, "xfer");
  cr_assert_str_eq(in_a, in_b);
  free(in_b);
  cr_assert_eq(hpt_test_sql_long(b, "select count(*) from studies"), 1);

  /* Under another name, then the copy runs nothing more (it is COMPLETE)
   * and reads back like the original. */
  status =
      hpt(b, &output, "study", "import", file, "--name", "xfer-copy", NULL);
  cr_assert_eq(status, 0, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(b, "select count(*) from trial_history"
                                    " where study = 'xfer-copy'"),
               10);
  status = hpt(b, &output, "study", "best", "xfer-copy", NULL, NULL, NULL);
  cr_assert_eq(status, 0, "%s", output);
  char *best_copy = output;
  status = hpt(a, &output, "study", "best", "xfer", NULL, NULL, NULL);
  cr_assert_str_eq(best_copy, output);
  free(best_copy);
  free(output);
  free(in_a);
}

Test(transfer, csv_has_one_complete_row_per_trial, .timeout = 300) {
  char a[1024], dir[256];
  snprintf(a, sizeof a, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  run_study(a, dir);
  char *output = NULL;
  int status =
      hpt(a, &output, "study", "export", "xfer", "--format", "csv", NULL);
  cr_assert_eq(status, 0, "%s", output);
  const char header[] =
      "number,state,value,params,worker,started_at,finished_at,duration_s,"
      "fail_reason,created_at,params_lr,params_depth,params_kind,"
      "intermediate_values,metrics\r\n";
  cr_assert(strncmp(output, header, strlen(header)) == 0, "%s", output);
  cr_assert_eq(hpt_test_count_lines(output), 11, "%s", output);
  /* The choice "a,b" is quoted, q"x doubled, per RFC 4180. */
  cr_assert(strstr(output, ",\"a,b\",") != NULL ||
                strstr(output, ",\"q\"\"x\",") != NULL ||
                strstr(output, ",<i>,") != NULL,
            "%s", output);
  free(output);
  /* Unknown study: 4, nothing written. */
  char file[600];
  snprintf(file, sizeof file, "%s/none.csv", dir);
  status = hpt(a, &output, "study", "export", "nope", "--output", file, NULL);
  cr_assert_eq(status, 4, "%s", output);
  free(output);
  cr_assert_eq(access(file, F_OK), -1);
  status = hpt(a, &output, "study", "export", "xfer", "--format", "xml", NULL);
  cr_assert_eq(status, 2, "%s", output);
  free(output);
}

/* Imports `text` from a file into `url`; returns the exit status, with the
 * output checked to be one line. */
static int import_text(const char *url, const char *dir, const char *text,
                       char **output) {
  char file[600];
  snprintf(file, sizeof file, "%s/bad.json", dir);
  hpt_test_write_file(file, text);
  int status = hpt(url, output, "study", "import", file, NULL, NULL, NULL);
  cr_assert_eq(hpt_test_count_lines(*output), 1, "one line expected: %s",
               *output);
  return status;
}

Test(transfer, bad_documents_are_refused_with_one_line, .timeout = 120) {
  char b[1024], dir[256];
  snprintf(b, sizeof b, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  char *output = NULL;
  /* Corrupt: the line and column of the fault. */
  cr_assert_eq(import_text(b, dir,
                           "{\"format\": \"hpt-study\", \"version\": 1,\n"
                           " \"study\": {\"name\": \"x\",,\n",
                           &output),
               1);
  cr_assert(strstr(output, "bad.json:2:") != NULL, "%s", output);
  free(output);
  cr_assert_eq(import_text(b, dir, "[1, 2, 3]", &output), 1);
  cr_assert(strstr(output, "not an hpt study export") != NULL, "%s", output);
  free(output);
  cr_assert_eq(import_text(b, dir,
                           "{\"format\": \"hpt-study\", \"version\": 1,"
                           " \"study\": {\"name\": \"x\", \"direction\":"
                           " \"maximize\"}, \"trials\": [{\"number\": -1}]}",
                           &output),
               1);
  cr_assert(strstr(output, "trials[0]") != NULL, "%s", output);
  free(output);
  /* Well formed, but the schema refuses a trial state: nothing at all is
   * written, not even the study. */
  cr_assert_eq(
      import_text(b, dir,
                  "{\"format\": \"hpt-study\", \"version\": 1,"
                  " \"study\": {\"name\": \"x\", \"direction\": \"maximize\","
                  " \"n_trials\": 3, \"params\": []}, \"trials\":"
                  " [{\"number\": 0, \"state\": \"COMPLETE\", \"value\": 1},"
                  " {\"number\": 1, \"state\": \"BOGUS\"}]}",
                  &output),
      1);
  cr_assert(strstr(output, "trials") != NULL, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(b, "select count(*) from studies"), 0);
  cr_assert_eq(hpt_test_sql_long(b, "select count(*) from trials"), 0);
  /* The same document with a good state imports. */
  cr_assert_eq(
      import_text(b, dir,
                  "{\"format\": \"hpt-study\", \"version\": 1,"
                  " \"study\": {\"name\": \"x\", \"direction\": \"maximize\","
                  " \"n_trials\": 3, \"params\": []}, \"trials\":"
                  " [{\"number\": 0, \"state\": \"COMPLETE\", \"value\": 1},"
                  " {\"number\": 1, \"state\": \"FAIL\"}]}",
                  &output),
      0, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(b, "select count(*) from trials"), 2);
  cr_assert_eq(hpt(b, &output, "study", "import", "/no/such/file.json", NULL,
                   NULL, NULL),
               1);
  free(output);
  cr_assert_eq(hpt(b, &output, "study", "import", NULL, NULL, NULL, NULL), 2);
  free(output);
}
