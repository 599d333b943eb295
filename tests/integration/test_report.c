/* test_report.c — `hpt report NAME --output FILE` end to end: a real noop
 * study run by real workers, the HTML page written from PostgreSQL, checked
 * as text (self-contained, every section, every param, escaping) and then
 * rendered by headless Chromium (skipped when `chromium` is not on PATH),
 * whose screenshot is kept in $HPT_BIN_DIR/test-artifacts/report.png; and
 * the same for an ensemble built from a real n-gram study's kept models
 * (confusion matrix, ROC curves; test-artifacts/report-ensemble.png), with
 * a member's predictions gone or corrupted. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

/* Creates and runs a 16-trial noop study called `name` in `url`; some
 * trials are pruned (median pruner, 3 steps), one categorical choice needs
 * HTML escaping. */
static void run_study(const char *url, const char *dir, const char *name) {
  char text[2048];
  snprintf(text, sizeof text,
           "name: %s\n"
           "direction: maximize\n"
           "n_trials: 16\n"
           "max_parallel: 2\n"
           "sampler: {type: random, seed: 11}\n"
           "pruner: {type: median, n_startup_trials: 3, n_warmup_steps: 0}\n"
           "params:\n"
           "  learning_rate: {type: float, low: 0.001, high: 1.0, log: true}\n"
           "  n_layers: {type: int, low: 1, high: 4}\n"
           "  kind: {type: categorical, choices: [\"<b>&\", plain, \"x'y\"]}\n"
           "objective: {type: noop, steps: 3, sleep_ms: 300}\n",
           name);
  hpt_test_create_study(url, dir, name, text);
  free(hpt_test_run_study(url, name, 2));
}

/* `hpt --db URL report NAME --output PATH`; returns the exit status. */
static int report(const char *url, const char *name, const char *path,
                  char **output) {
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)url,
                  "report",
                  (char *)name,
                  "--output",
                  (char *)path,
                  NULL};
  return hpt_test_run(argv, 60000, output);
}

static size_t count_of(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* Runs a study and writes its report to dir/report.html; returns the page
 * (caller frees). */
static char *make_report(const char *url, const char *dir, char *path,
                         size_t size) {
  run_study(url, dir, "rep");
  cr_assert(hpt_test_sql_long(url, "select count(*) from trial_history"
                                   " where state = 'PRUNED'") >= 1,
            "the median pruner should prune some noop trials");
  snprintf(path, size, "%s/report.html", dir);
  char *output = NULL;
  int status = report(url, "rep", path, &output);
  cr_assert_eq(status, 0, "report (%d): %s", status, output);
  cr_assert(strstr(output, "wrote") != NULL, "%s", output);
  free(output);
  char *html = hpt_test_read_file(path);
  cr_assert(html != NULL, "no file at %s", path);
  return html;
}

Test(report, html_page_is_complete_self_contained_and_escaped, .timeout = 300) {
  char url[1024], dir[256], path[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  char *html = make_report(url, dir, path, sizeof path);

  cr_assert(strncmp(html, "<!DOCTYPE html>", 15) == 0);
  cr_assert(strstr(html, "</html>") != NULL, "the page should be whole");
  /* Self-contained: nothing to fetch. */
  cr_assert(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL,
            "the page should reference no URL");
  cr_assert(strstr(html, " src=") == NULL && strstr(html, " href=") == NULL);
  const char *sections[] = {"id=\"summary\"",
                            "id=\"top-trials\"",
                            "id=\"history\"",
                            "id=\"intermediate\"",
                            "id=\"importance\"",
                            "id=\"parallel\"",
                            "id=\"slice\"",
                            "data-chart=\"history\"",
                            "data-chart=\"intermediate\"",
                            "data-chart=\"importance\"",
                            "data-chart=\"parallel\"",
                            "data-chart=\"slice\"",
                            "not fANOVA",
                            "Study rep",
                            "maximize",
                            "class=\"trial PRUNED\""};
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
    cr_expect(strstr(html, sections[i]) != NULL, "missing %s", sections[i]);
  const char *names[] = {"learning_rate", "n_layers", "kind"};
  for (size_t i = 0; i < 3; i++)
    cr_expect(count_of(html, names[i]) >= 3, "param %s should be shown",
              names[i]);
  /* One slice plot per param; the table has at most 10 rows + header. */
  cr_expect_eq(count_of(html, "data-chart=\"slice\""), 3);
  cr_expect_leq(count_of(html, "<tr><td>"), 10);
  /* The categorical choice <b>& is text, never markup. */
  cr_expect(strstr(html, "&lt;b&gt;&amp;") != NULL, "escaped choice missing");
  cr_expect(strstr(html, "<b>") == NULL, "raw <b> in the page");
  cr_expect(strstr(html, "x&#39;y") != NULL, "escaped quote missing");
  free(html);
}

Test(report, usage_unknown_study_and_unwritable_output, .timeout = 120) {
  char url[1024], dir[256], path[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  snprintf(path, sizeof path, "%s/none.html", dir);
  char *output = NULL;
  /* Missing FILE, extra argument: usage. */
  char *no_file[] = {(char *)hpt_test_bin("hpt"),
                     "--db",
                     (char *)url,
                     "report",
                     "x",
                     "--output",
                     NULL};
  cr_assert_eq(hpt_test_run(no_file, 30000, &output), 2, "%s", output);
  free(output);
  char *extra[] = {(char *)hpt_test_bin("hpt"),
                   "--db",
                   (char *)url,
                   "report",
                   "x",
                   "y",
                   "--output",
                   path,
                   NULL};
  cr_assert_eq(hpt_test_run(extra, 30000, &output), 2, "%s", output);
  free(output);
  /* The ask/tell `hpt report` still parses its own arguments. */
  char *asktell[] = {
      (char *)hpt_test_bin("hpt"), "--db", (char *)url, "report", "x", NULL};
  cr_assert_eq(hpt_test_run(asktell, 30000, &output), 2, "%s", output);
  free(output);
  /* No such study: 4, one line, no file. */
  cr_assert_eq(report(url, "nope", path, &output), 4, "%s", output);
  cr_assert(strstr(output, "no study or ensemble named 'nope'") != NULL, "%s",
            output);
  cr_assert_eq(hpt_test_count_lines(output), 1, "%s", output);
  free(output);
  cr_assert_eq(access(path, F_OK), -1, "nothing should be written");

  /* Unwritable output: 1, one line, nothing left behind. */
  hpt_test_create_study(url, dir, "tiny",
                        "name: tiny\nn_trials: 2\nparams:\n"
                        "  x: {type: float, low: 0, high: 1}\n");
  char missing_dir[600];
  snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/r.html", dir);
  cr_assert_eq(report(url, "tiny", missing_dir, &output), 1, "%s", output);
  cr_assert(strstr(output, "cannot write") != NULL, "%s", output);
  cr_assert_eq(hpt_test_count_lines(output), 1, "%s", output);
  free(output);
  /* A study with no trials still gets a whole page. */
  cr_assert_eq(report(url, "tiny", path, &output), 0, "%s", output);
  free(output);
  char *html = hpt_test_read_file(path);
  cr_assert(html != NULL && strstr(html, "</html>") != NULL);
  cr_assert(strstr(html, "No COMPLETE trial yet") != NULL);
  free(html);
  /* Overwriting keeps no temporary files around. */
  cr_assert_eq(report(url, "tiny", path, &output), 0, "%s", output);
  free(output);
  char ls_command[700];
  snprintf(ls_command, sizeof ls_command, "ls %s | grep -c tmp-", dir);
  FILE *ls = popen(ls_command, "r");
  int leftovers = -1;
  cr_assert(ls != NULL && fscanf(ls, "%d", &leftovers) == 1);
  pclose(ls);
  cr_assert_eq(leftovers, 0, "temporary files left in %s", dir);
}

/* Whether `program` is an executable on PATH. */
static bool on_path(const char *program) {
  const char *path = getenv("PATH");
  char copy[4096], candidate[4200];
  snprintf(copy, sizeof copy, "%s", path ? path : "/usr/bin:/bin");
  for (char *dir = strtok(copy, ":"); dir; dir = strtok(NULL, ":")) {
    snprintf(candidate, sizeof candidate, "%s/%s", dir, program);
    if (access(candidate, X_OK) == 0)
      return true;
  }
  return false;
}

/* Renders file `path` in headless Chromium (a profile under `dir`): keeps
 * the page and its screenshot as $HPT_BIN_DIR/test-artifacts/NAME.html and
 * NAME.png, asserts that nothing went to the console, and returns the DOM
 * Chromium built (caller frees). */
static char *render(const char *dir, const char *path, const char *name) {
  char artifacts[600], png[700], html_copy[700], file_url[700];
  snprintf(artifacts, sizeof artifacts, "%s/test-artifacts",
           getenv("HPT_BIN_DIR"));
  mkdir(artifacts, 0755);
  snprintf(png, sizeof png, "%s/%s.png", artifacts, name);
  snprintf(html_copy, sizeof html_copy, "%s/%s.html", artifacts, name);
  unlink(png);
  char *page = hpt_test_read_file(path);
  hpt_test_write_file(html_copy, page);
  free(page);
  snprintf(file_url, sizeof file_url, "file://%s", path);
  char screenshot[800];
  snprintf(screenshot, sizeof screenshot, "--screenshot=%s", png);
  /* A profile of its own: nothing shared with other runs. */
  char profile[700];
  snprintf(profile, sizeof profile, "--user-data-dir=%s/chromium", dir);
  char *shot[] = {"/usr/bin/env",
                  "chromium",
                  "--headless",
                  "--no-sandbox",
                  "--disable-gpu",
                  profile,
                  "--hide-scrollbars",
                  "--enable-logging=stderr",
                  "--v=0",
                  screenshot,
                  "--window-size=1400,3000",
                  file_url,
                  NULL};
  char *output = NULL;
  int status = hpt_test_run(shot, 120000, &output);
  cr_assert_eq(status, 0, "chromium (%d): %s", status, output);
  cr_assert(strstr(output, "Uncaught") == NULL &&
                strstr(output, "ERROR:CONSOLE") == NULL &&
                strstr(output, ":CONSOLE(") == NULL,
            "console errors: %s", output);
  free(output);
  struct stat info;
  cr_assert(stat(png, &info) == 0 && info.st_size > 20000,
            "no screenshot at %s", png);
  char *image = hpt_test_read_file(png);
  cr_assert(memcmp(image, "\x89PNG", 4) == 0, "not a PNG: %s", png);
  free(image);

  char *dom_argv[] = {"/usr/bin/env", "chromium",      "--headless",
                      "--no-sandbox", "--disable-gpu", profile,
                      "--dump-dom",   file_url,        NULL};
  status = hpt_test_run(dom_argv, 120000, &output);
  cr_assert_eq(status, 0, "chromium --dump-dom (%d)", status);
  return output;
}

Test(report, chromium_renders_the_page_without_errors, .timeout = 400) {
  if (!on_path("chromium"))
    cr_skip_test("chromium is not on PATH (apt-get install chromium, or "
                 "./ops/install-deps): the page is not rendered");
  char url[1024], dir[256], path[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  free(make_report(url, dir, path, sizeof path));
  /* The DOM Chromium built holds every chart, drawn. */
  char *dom = render(dir, path, "report");
  cr_expect_geq(count_of(dom, "<svg"), 7, "charts in the DOM");
  cr_expect_geq(count_of(dom, "<polyline"), 16, "lines in the DOM");
  cr_expect_geq(count_of(dom, "<circle"), 16, "points in the DOM");
  free(dom);
}

/* ---- ensembles ------------------------------------------------------------
 */

/* `hpt --db URL ARGS...` (at most 12 args); returns the exit status. */
static int hpt(const char *url, char **output, char *const *args) {
  char *argv[16] = {(char *)hpt_test_bin("hpt"), "--db", (char *)url};
  int n = 3;
  for (; args[n - 3] != NULL && n < 15; n++)
    argv[n] = args[n - 3];
  argv[n] = NULL;
  return hpt_test_run(argv, 240000, output);
}

static void build_ensemble(const char *url, const char *name, char *from,
                           char *weights, char *threshold) {
  char *output = NULL;
  char *build[] = {"ensemble",  "build", (char *)name,  "--from",  from,
                   "--weights", weights, "--threshold", threshold, NULL};
  cr_assert_eq(hpt(url, &output, build), 0, "%s", output);
  free(output);
}

/* `hpt report [--ensemble] NAME --output PATH`; returns the exit status. */
static int report_ensemble(const char *url, const char *name, bool only,
                           const char *path, char **output) {
  char *with[] = {"report",   "--ensemble", (char *)name,
                  "--output", (char *)path, NULL};
  char *without[] = {"report", (char *)name, "--output", (char *)path, NULL};
  return hpt(url, output, only ? with : without);
}

/* The page written for ensemble `name` at `path` (caller frees). */
static char *ensemble_page(const char *url, const char *name,
                           const char *path) {
  char *output = NULL;
  int status = report_ensemble(url, name, false, path, &output);
  cr_assert_eq(status, 0, "report (%d): %s", status, output);
  char wrote[256];
  snprintf(wrote, sizeof wrote, "ensemble '%s' of 3 members", name);
  cr_assert(strstr(output, wrote) != NULL, "%s", output);
  free(output);
  char *html = hpt_test_read_file(path);
  cr_assert(html != NULL, "no file at %s", path);
  return html;
}

Test(report, ensemble_page_with_confusion_matrix_and_roc_curves,
     .timeout = 400) {
  char url[1024], dir[256], path[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  hpt_test_run_ngram_study(url, dir, "kept", 6, 3);
  build_ensemble(url, "vote", "kept:3", "optimized", "tuned");
  snprintf(path, sizeof path, "%s/ensemble.html", dir);
  char *html = ensemble_page(url, "vote", path);

  cr_assert(strncmp(html, "<!DOCTYPE html>", 15) == 0);
  cr_assert(strstr(html, "</html>") != NULL, "the page should be whole");
  cr_assert(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL,
            "the page should reference no URL");
  cr_assert(strstr(html, " src=") == NULL && strstr(html, " href=") == NULL);
  const char *parts[] = {"Ensemble vote",
                         "id=\"summary\"",
                         "id=\"members\"",
                         "id=\"metrics\"",
                         "id=\"confusion\"",
                         "id=\"roc\"",
                         "data-chart=\"confusion\"",
                         "data-chart=\"roc\"",
                         "optimized",
                         "(tuned)",
                         "<td>accuracy</td>",
                         "<td>F1</td>",
                         "<td>precision</td>",
                         "<td>recall</td>",
                         "<td>ROC-AUC</td>",
                         "predicted label",
                         "actual label",
                         "false positive rate",
                         "true positive rate",
                         "chance (AUC 0.5)",
                         "class=\"operating-point\""};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    cr_expect(strstr(html, parts[i]) != NULL, "missing %s", parts[i]);
  cr_expect_eq(count_of(html, "<span class=\"swatch\""), 3, "member rows");
  cr_expect_eq(count_of(html, "<g class=\"cell\""), 4, "confusion cells");
  cr_expect_eq(count_of(html, "class=\"roc member\""), 3, "member curves");
  cr_expect_eq(count_of(html, "class=\"roc ensemble\""), 1, "vote's curve");
  /* The stored counts are in the cells, and the curve drawn from the
   * members' stored probabilities and weights has the stored AUC. */
  const char *cells[] = {"tp", "fp", "tn", "fn"};
  for (size_t i = 0; i < 4; i++) {
    char query[128], needle[64];
    snprintf(query, sizeof query,
             "select %s from ensembles where name = 'vote'", cells[i]);
    long count = hpt_test_sql_long(url, query);
    snprintf(needle, sizeof needle, ">%ld</text><text", count);
    cr_expect(strstr(html, needle) != NULL, "%s = %ld not shown", cells[i],
              count);
  }
  char *auc = hpt_test_sql_text(url, "select to_char(roc_auc, 'FM0.0000') "
                                     "from ensembles where name = 'vote'");
  char legend[128];
  snprintf(legend, sizeof legend, "ensemble vote (soft vote), AUC %s", auc);
  cr_expect(strstr(html, legend) != NULL, "legend '%s' missing", legend);
  free(auc);
  free(html);

  if (on_path("chromium")) {
    char *dom = render(dir, path, "report-ensemble");
    cr_expect_eq(count_of(dom, "data-chart=\"confusion\""), 1);
    cr_expect_eq(count_of(dom, "data-chart=\"roc\""), 1);
    cr_expect_eq(count_of(dom, "<g class=\"cell\""), 4, "cells drawn");
    cr_expect_eq(count_of(dom, "class=\"roc member\""), 3, "curves drawn");
    cr_expect_eq(count_of(dom, "class=\"roc ensemble\""), 1);
    cr_expect_eq(count_of(dom, "class=\"operating-point\""), 1);
    free(dom);
  }

  /* A study and an ensemble of the same name: the study wins, --ensemble
   * picks the ensemble. */
  build_ensemble(url, "kept", "kept:2", "equal", "fixed");
  char *output = NULL;
  cr_assert_eq(report_ensemble(url, "kept", false, path, &output), 0, "%s",
               output);
  cr_expect(strstr(output, "trials of study 'kept'") != NULL, "%s", output);
  free(output);
  cr_assert_eq(report_ensemble(url, "kept", true, path, &output), 0, "%s",
               output);
  cr_expect(strstr(output, "ensemble 'kept' of 2 members") != NULL, "%s",
            output);
  free(output);
  html = hpt_test_read_file(path);
  cr_expect(strstr(html, "<h1>Ensemble kept</h1>") != NULL);
  free(html);
  cr_assert_eq(report_ensemble(url, "rep", true, path, &output), 4, "%s",
               output);
  cr_expect(strstr(output, "no ensemble named 'rep'") != NULL, "%s", output);
  cr_expect_eq(hpt_test_count_lines(output), 1, "%s", output);
  free(output);
}

Test(report, ensemble_without_or_with_corrupted_predictions, .timeout = 400) {
  char url[1024], dir[256], path[600];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  hpt_test_run_ngram_study(url, dir, "kept", 6, 3);
  build_ensemble(url, "vote", "kept:3", "equal", "fixed");
  /* The second member's predictions are gone (as when keep_top_k drops
   * them later): the page still comes, without curves, saying why. */
  cr_assert_eq(hpt_test_sql_long(
                   url, "with gone as (delete from trial_artifacts a using "
                        "ensemble_members m where a.trial_id = m.trial_id and "
                        "m.position = 1 and a.name = 'val_predictions.csv' "
                        "returning 1) select count(*) from gone"),
               1);
  snprintf(path, sizeof path, "%s/gone.html", dir);
  char *output = NULL;
  cr_assert_eq(report_ensemble(url, "vote", false, path, &output), 0, "%s",
               output);
  cr_expect(strstr(output, "no ROC curves") != NULL, "%s", output);
  free(output);
  char *html = hpt_test_read_file(path);
  cr_assert(html != NULL);
  cr_expect(strstr(html, "No ROC curves: member 2 of 3: ") != NULL);
  cr_expect(strstr(html, "data-chart=\"confusion\"") != NULL);
  cr_expect(strstr(html, "data-chart=\"roc\"") == NULL);
  cr_expect(strstr(html, "</html>") != NULL);
  free(html);
  /* A corrupted one (the first member, read before the missing one) fails
   * the report (sha256), one line, no file. */
  cr_assert_eq(hpt_test_sql_long(
                   url, "select count(*) from (select lo_put(a.object, 10, "
                        "'\\x00'::bytea) from trial_artifacts a join "
                        "ensemble_members m on a.trial_id = m.trial_id where "
                        "m.position = 0 and a.name = 'val_predictions.csv') x"),
               1);
  snprintf(path, sizeof path, "%s/corrupt.html", dir);
  cr_assert_eq(report_ensemble(url, "vote", false, path, &output), 1, "%s",
               output);
  cr_expect(strstr(output, "sha256 mismatch") != NULL, "%s", output);
  cr_expect_eq(hpt_test_count_lines(output), 1, "%s", output);
  free(output);
  cr_expect_eq(access(path, F_OK), -1, "nothing should be written");
}
