/* bench_sampler.c — hpt's side of the sampler benchmark (run.sh drives it;
 * not part of the test suite).
 *
 *   bench_sampler regret SAMPLER FUNCTION SEED0 N_SEEDS N_TRIALS
 *       SAMPLER: tpe | tpe_mv | random. Prints CSV rows
 *       impl,sampler,function,seed,trial,best_regret at trials 50, 100,
 *       200 (and N_TRIALS), one study per seed.
 *   bench_sampler timing FUNCTION N_FINISHED REPS [tpe|tpe_mv]
 *       Fills a history with N_FINISHED COMPLETE random trials of FUNCTION,
 *       then times REPS suggestions for the next trial. Prints CSV rows
 *       impl,sampler,function,n_finished,rep,seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "functions.h"
#include "history.h"
#include "sampler.h"
#include "spec.h"

static const bench_function_t *find_function(const char *name) {
  for (size_t i = 0; i < N_BENCH_FUNCTIONS; i++)
    if (strcmp(bench_functions[i].name, name) == 0)
      return &bench_functions[i];
  fprintf(stderr, "unknown function %s\n", name);
  exit(2);
}

/* A spec for `function` whose sampler section is `sampler_yaml`. */
static hpt_spec_t *make_spec(const bench_function_t *function,
                             const char *sampler_yaml) {
  char yaml[4096];
  snprintf(yaml, sizeof yaml,
           "name: bench\ndirection: minimize\nsampler: %s\nparams:\n%s",
           sampler_yaml, function->space_yaml);
  hpt_spec_t *spec = NULL;
  hpt_error_t error;
  if (hpt_spec_parse_string(yaml, strlen(yaml), "bench", &spec, &error) !=
      HPT_OK) {
    fprintf(stderr, "spec: %s\n", error.message);
    exit(2);
  }
  return spec;
}

static const char *sampler_yaml(const char *name, long seed, char *buffer,
                                size_t size) {
  if (strcmp(name, "tpe") == 0)
    snprintf(buffer, size, "{type: tpe, seed: %ld}", seed);
  else if (strcmp(name, "tpe_mv") == 0)
    snprintf(buffer, size, "{type: tpe, seed: %ld, multivariate: true}", seed);
  else if (strcmp(name, "random") == 0)
    snprintf(buffer, size, "{type: random, seed: %ld}", seed);
  else {
    fprintf(stderr, "unknown sampler %s\n", name);
    exit(2);
  }
  return buffer;
}

static void add_complete(hpt_history_t *history, int number,
                         const double *params, double value) {
  hpt_trial_t *trial = NULL;
  hpt_error_t error;
  if (hpt_history_add(history, number, HPT_TRIAL_COMPLETE, params, &trial,
                      &error) != HPT_OK) {
    fprintf(stderr, "history: %s\n", error.message);
    exit(1);
  }
  trial->value = value;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int regret(int argc, char **argv) {
  if (argc != 7)
    return 2;
  const char *sampler_name = argv[2];
  const bench_function_t *function = find_function(argv[3]);
  long seed0 = atol(argv[4]), n_seeds = atol(argv[5]);
  int n_trials = atoi(argv[6]);
  for (long seed = seed0; seed < seed0 + n_seeds; seed++) {
    char text[128];
    hpt_spec_t *spec = make_spec(
        function, sampler_yaml(sampler_name, seed, text, sizeof text));
    hpt_sampler_t *sampler = NULL;
    hpt_error_t error;
    if (hpt_sampler_new(&spec->sampler, &spec->space, &sampler, &error) !=
        HPT_OK) {
      fprintf(stderr, "sampler: %s\n", error.message);
      return 1;
    }
    hpt_history_t history;
    hpt_history_init(&history, HPT_DIRECTION_MINIMIZE, spec->space.n_params);
    double params[16], best = INFINITY;
    for (int t = 0; t < n_trials; t++) {
      if (hpt_sampler_suggest(sampler, &history, t, params, &error) != HPT_OK) {
        fprintf(stderr, "suggest: %s\n", error.message);
        return 1;
      }
      double value = function->f(params);
      add_complete(&history, t, params, value);
      if (value < best)
        best = value;
      int done = t + 1;
      if (done == 50 || done == 100 || done == 200 || done == n_trials)
        printf("hpt,%s,%s,%ld,%d,%.10g\n", sampler_name, function->name, seed,
               done, best - function->optimum);
    }
    fflush(stdout);
    hpt_history_close(&history);
    hpt_sampler_destroy(&sampler);
    hpt_spec_destroy(&spec);
  }
  return 0;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int timing(int argc, char **argv) {
  if (argc < 5)
    return 2;
  const bench_function_t *function = find_function(argv[2]);
  int n_finished = atoi(argv[3]), reps = atoi(argv[4]);
  const char *name = argc > 5 ? argv[5] : "tpe";
  char text[128];
  hpt_spec_t *random_spec = make_spec(function, "{type: random, seed: 7}");
  hpt_spec_t *spec =
      make_spec(function, sampler_yaml(name, 1, text, sizeof text));
  hpt_sampler_t *random = NULL, *sampler = NULL;
  hpt_error_t error;
  if (hpt_sampler_new(&random_spec->sampler, &random_spec->space, &random,
                      &error) != HPT_OK ||
      hpt_sampler_new(&spec->sampler, &spec->space, &sampler, &error) !=
          HPT_OK) {
    fprintf(stderr, "sampler: %s\n", error.message);
    return 1;
  }
  hpt_history_t history;
  hpt_history_init(&history, HPT_DIRECTION_MINIMIZE, spec->space.n_params);
  double params[16];
  for (int t = 0; t < n_finished; t++) {
    hpt_sampler_suggest(random, &history, t, params, &error);
    add_complete(&history, t, params, function->f(params));
  }
  double *seconds = calloc((size_t)reps, sizeof *seconds);
  for (int r = 0; r < reps; r++) {
    double start = now();
    if (hpt_sampler_suggest(sampler, &history, n_finished + r, params,
                            &error) != HPT_OK) {
      fprintf(stderr, "suggest: %s\n", error.message);
      return 1;
    }
    seconds[r] = now() - start;
    printf("hpt,%s,%s,%d,%d,%.9f\n", name, function->name, n_finished, r,
           seconds[r]);
  }
  qsort(seconds, (size_t)reps, sizeof *seconds, compare_doubles);
  fprintf(stderr, "hpt %s %s n=%d: median %.3f ms\n", name, function->name,
          n_finished, seconds[reps / 2] * 1e3);
  free(seconds);
  hpt_history_close(&history);
  hpt_sampler_destroy(&random);
  hpt_sampler_destroy(&sampler);
  hpt_spec_destroy(&random_spec);
  hpt_spec_destroy(&spec);
  return 0;
}

int main(int argc, char **argv) {
  int rc = 2;
  if (argc > 1 && strcmp(argv[1], "regret") == 0)
    rc = regret(argc, argv);
  else if (argc > 1 && strcmp(argv[1], "timing") == 0)
    rc = timing(argc, argv);
  if (rc == 2)
    fprintf(stderr, "usage: see the comment at the top of bench_sampler.c\n");
  return rc;
}
