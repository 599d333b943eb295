/* test_asktell.c — `hpt ask` / `hpt tell` / `hpt report` against a real
 * PostgreSQL, including several processes asking at once. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

static char url[1024];

static void create_study(const char *dir, int n_trials) {
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  char text[1024];
  snprintf(text, sizeof text,
           "name: at\ndirection: minimize\nn_trials: %d\n"
           "sampler: {type: random, seed: 3}\n"
           "pruner: {type: median, n_startup_trials: 1}\n"
           "params:\n  x: {type: float, low: -5, high: 5}\n"
           "  kind: {type: categorical, choices: [a, b]}\n",
           n_trials);
  hpt_test_create_study(url, dir, "at", text);
}

static int hpt(char **output, const char *a, const char *b, const char *c,
               const char *d, const char *e) {
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  url,
                  (char *)a,
                  (char *)b,
                  (char *)c,
                  (char *)d,
                  (char *)e,
                  NULL};
  return hpt_test_run(argv, 60000, output);
}

Test(asktell, ask_report_tell_round_trip, .timeout = 120) {
  create_study(hpt_test_tmpdir(), 10);
  char *out = NULL;
  cr_assert_eq(hpt(&out, "ask", "at", NULL, NULL, NULL), 0, "%s", out);
  cr_assert(strncmp(out, "{\"trial\": 0, \"params\": {\"x\": ", 29) == 0,
            "ask printed: %s", out);
  cr_assert(strstr(out, "\"kind\": \"") != NULL, "%s", out);
  free(out);
  cr_assert_eq(hpt(&out, "report", "at", "0", "1", "0.5"), 0, "%s", out);
  cr_assert_str_eq(out, "continue\n");
  free(out);
  cr_assert_eq(hpt(&out, "tell", "at", "0", "0.25", NULL), 0, "%s", out);
  free(out);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_history "
                                      "where number = 0 and state = "
                                      "'COMPLETE' and value = 0.25"),
               1);
  /* A second trial reporting worse than the median at step 1 is pruned. */
  cr_assert_eq(hpt(&out, "ask", "at", NULL, NULL, NULL), 0, "%s", out);
  free(out);
  cr_assert_eq(hpt(&out, "report", "at", "1", "1", "3.0"), 0, "%s", out);
  cr_assert_str_eq(out, "prune\n");
  free(out);
  cr_assert_eq(hpt(&out, "tell", "at", "1", "--pruned", NULL), 0, "%s", out);
  free(out);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_history "
                                      "where number = 1 and state = 'PRUNED' "
                                      "and value = 3"),
               1, "a pruned trial keeps its last value");
}

Test(asktell, telling_unknown_or_finished_trials_changes_nothing,
     .timeout = 120) {
  create_study(hpt_test_tmpdir(), 10);
  char *out = NULL;
  cr_assert_eq(hpt(&out, "ask", "at", NULL, NULL, NULL), 0, "%s", out);
  free(out);
  cr_assert_eq(hpt(&out, "tell", "at", "0", "1.5", NULL), 0, "%s", out);
  free(out);
  int status = hpt(&out, "tell", "at", "0", "2.5", NULL);
  cr_assert_eq(status, 1, "%s", out);
  cr_assert(strstr(out, "not RUNNING") != NULL, "%s", out);
  free(out);
  status = hpt(&out, "tell", "at", "7", "2.5", NULL);
  cr_assert_eq(status, 4, "%s", out);
  cr_assert(strstr(out, "no trial 7") != NULL, "%s", out);
  free(out);
  status = hpt(&out, "tell", "nostudy", "0", "2.5", NULL);
  cr_assert_eq(status, 4, "%s", out);
  free(out);
  status = hpt(&out, "tell", "at", "0", "fast", NULL);
  cr_assert_eq(status, 2, "%s", out);
  free(out);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_history "
                                      "where value = 1.5 and state = "
                                      "'COMPLETE'"),
               1);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials"), 1);
}

/* Two processes asking at once, 12 times each, get 24 distinct trials with
 * numbers 0..23 — the advisory lock serialises them. */
Test(asktell, two_processes_asking_at_once, .timeout = 300) {
  create_study(hpt_test_tmpdir(), 100);
  pid_t children[2];
  for (int c = 0; c < 2; c++) {
    children[c] = fork();
    cr_assert(children[c] >= 0);
    if (children[c] == 0) {
      for (int i = 0; i < 12; i++) {
        char *argv[] = {
            (char *)hpt_test_bin("hpt"), "--db", url, "ask", "at", NULL};
        pid_t pid = fork();
        if (pid == 0) {
          int null_fd = open("/dev/null", 1);
          dup2(null_fd, 1);
          execv(argv[0], argv);
          _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
          _exit(1);
      }
      _exit(0);
    }
  }
  for (int c = 0; c < 2; c++) {
    int status = 0;
    waitpid(children[c], &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "an asker failed");
  }
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials"), 24);
  cr_assert_eq(hpt_test_sql_long(url, "select count(distinct number) from "
                                      "trials"),
               24);
  cr_assert_eq(hpt_test_sql_long(url, "select max(number) from trials"), 23);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trials where "
                                      "state = 'RUNNING'"),
               24, "asked trials stay RUNNING until told");
}
