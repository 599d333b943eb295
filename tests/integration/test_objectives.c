/* test_objectives.c — the `command` and `noop` objectives end to end: a
 * real coordinator, a real worker, a user's shell script as the objective,
 * pruning that kills the script. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

/* The user's program: reads the JSON params on stdin (saved for the test),
 * takes --x=... from its arguments, reports x, 2x, 3x... as steps (slowly
 * when x is small, so it is still running when the pruner decides), and
 * prints the value x. It records its pid so the test can check that pruned
 * runs were killed. */
static const char script[] =
    "#!/bin/sh\n"
    "dir=$(dirname \"$0\")\n"
    "cat > \"$dir/stdin.$$\"\n"
    "echo $$ >> \"$dir/pids\"\n"
    "for arg in \"$@\"; do case $arg in --x=*) x=${arg#--x=};; esac; done\n"
    "for i in 1 2 3 4 5 6 7 8; do\n"
    "  echo \"step $(awk \"BEGIN{print $x * $i}\")\"\n"
    "  awk \"BEGIN{exit !($x < 0.5)}\" && sleep 0.3\n"
    "done\n"
    "echo \"ignored chatter\"\n"
    "echo \"value $x\"\n";

static void run_study(const char *url, const char *dir, const char *spec_text,
                      const char *name) {
  hpt_test_create_study(url, dir, name, spec_text);
  free(hpt_test_run_study(url, name, 1));
}

Test(objectives, command_objective_with_pruning, .timeout = 300) {
  char url[1024];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  const char *dir = hpt_test_tmpdir();
  char program[600], spec[2048];
  snprintf(program, sizeof program, "%s/objective.sh", dir);
  hpt_test_write_file(program, script);
  chmod(program, 0755);
  snprintf(spec, sizeof spec,
           "name: cmd\nn_trials: 8\nmax_parallel: 1\n"
           "sampler: {type: random, seed: 11}\n"
           "pruner: {type: median, n_startup_trials: 2}\n"
           "params:\n  x: {type: float, low: 0.0, high: 1.0}\n"
           "  tag: {type: categorical, choices: [red, blue]}\n"
           "objective: {type: command, argv: [%s], timeout_s: 60}\n",
           program);
  run_study(url, dir, spec, "cmd");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_history "
                                      "where state in ('COMPLETE','PRUNED')"),
               8);
  /* COMPLETE trials return exactly their x. */
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_history "
                                      "where state = 'COMPLETE' and "
                                      "abs(value - (params->>'x')::float8) > "
                                      "1e-6"),
               0);
  long pruned = hpt_test_sql_long(
      url, "select count(*) from trial_history where state = 'PRUNED'");
  cr_assert(pruned >= 1, "some low-x trial should have been pruned");
  /* Steps came through: step i reports i * x. */
  cr_assert_eq(hpt_test_sql_long(
                   url, "select count(*) from trial_intermediate_values v "
                        "join trial_history h on h.trial_id = v.trial_id "
                        "where abs(v.value - v.step * (h.params->>'x')::float8)"
                        " > 1e-4"),
               0);
  /* The program got the params as JSON on stdin. */
  char command[1200];
  snprintf(command, sizeof command, "grep -l '\"tag\": \"' %s/stdin.* | wc -l",
           dir);
  FILE *pipe = popen(command, "r");
  int with_json = 0;
  cr_assert(fscanf(pipe, "%d", &with_json) == 1);
  pclose(pipe);
  cr_assert_eq(with_json, 8, "every run should get its JSON params");
  /* No run of the program survived its trial. */
  char pids_path[700];
  snprintf(pids_path, sizeof pids_path, "%s/pids", dir);
  char *pids = hpt_test_read_file(pids_path);
  cr_assert(pids != NULL);
  for (char *line = strtok(pids, "\n"); line; line = strtok(NULL, "\n")) {
    /* The kill is asynchronous (the program dies with its trial process):
     * give it a few seconds to be gone and reaped. */
    int waited = 0;
    while (kill(atoi(line), 0) == 0 && waited < 5000) {
      usleep(50 * 1000);
      waited += 50;
    }
    cr_assert(kill(atoi(line), 0) != 0, "program %s is still running", line);
  }
  free(pids);
}

Test(objectives, noop_objective_is_deterministic, .timeout = 300) {
  char url[1024];
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  const char *dir = hpt_test_tmpdir();
  run_study(url, dir,
            "name: nop\nn_trials: 12\nmax_parallel: 2\n"
            "sampler: {type: random, seed: 5}\n"
            "params:\n  a: {type: float, low: 0, high: 1}\n"
            "  b: {type: int, low: 1, high: 3}\n"
            "objective: {type: noop, steps: 2}\n",
            "nop");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from trial_history "
                                      "where state = 'COMPLETE' and "
                                      "abs(value - (params->>'a')::float8 - "
                                      "(params->>'b')::float8) < 1e-9"),
               12, "noop returns the sum of its numeric params");
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from "
                                      "trial_intermediate_values"),
               24);
}
