/* test_objective_transformer.c — the `transformer` objective
 * (worker/objective_transformer.c) end to end on tests/fixtures/tiny-bert
 * (with a vocab.txt written here: the fixture has no tokenizer) and a
 * small CSV written here; and, when models/ has it, on MiniLM. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objective.h"
#include "rng.h"

static char dir[256];       /* temporary folder */
static char model_dir[512]; /* dir/tiny: tiny-bert + vocab.txt */
static char csv_path[512];  /* dir/data.csv */
static hpt_options_t settings;

/* 95 words after the 5 specials: 0..44 "extremist", 45..89 not, 90..94
 * shared. */
static void word(int i, char *out, size_t size) {
  static const char *const stems[] = {"ka", "be", "ti", "lo", "mu",
                                      "ne", "pi", "ro", "su"};
  snprintf(out, size, "%s%s%d", stems[i % 9], i < 45 ? "x" : "y", i);
}

static void write_fixture(void) {
  const char *src = getenv("HPT_SOURCE_DIR");
  cr_assert_not_null(src);
  snprintf(dir, sizeof dir, "/tmp/hpt-test-transformer-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(model_dir, sizeof model_dir, "%s/tiny", dir);
  cr_assert_eq(mkdir(model_dir, 0755), 0);
  char from[1024], to[1024];
  const char *files[] = {"config.json", "model.safetensors"};
  for (int i = 0; i < 2; i++) {
    snprintf(from, sizeof from, "%s/tests/fixtures/tiny-bert/%s", src,
             files[i]);
    snprintf(to, sizeof to, "%s/%s", model_dir, files[i]);
    cr_assert_eq(symlink(from, to), 0);
  }
  snprintf(to, sizeof to, "%s/vocab.txt", model_dir);
  FILE *f = fopen(to, "w");
  cr_assert_not_null(f);
  fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", f);
  for (int i = 0; i < 95; i++) {
    char w[32];
    word(i, w, sizeof w);
    fprintf(f, "%s\n", w);
  }
  fclose(f);

  snprintf(csv_path, sizeof csv_path, "%s/data.csv", dir);
  f = fopen(csv_path, "w");
  cr_assert_not_null(f);
  fputs("ID,Original_Message,Extremism_Label\n", f);
  hpt_rng_t rng;
  hpt_rng_seed(&rng, 5);
  for (int row = 0; row < 200; row++) {
    int label = row % 2;
    fprintf(f, "%d,", row + 1);
    int len = 5 + (int)hpt_rng_below(&rng, 8);
    for (int t = 0; t < len; t++) {
      char w[32];
      int id = hpt_rng_below(&rng, 4) == 0
                   ? 90 + (int)hpt_rng_below(&rng, 5)
                   : 45 * (1 - label) + (int)hpt_rng_below(&rng, 45);
      word(id, w, sizeof w);
      fprintf(f, "%s%s", t ? " " : "", w);
    }
    fprintf(f, ",%s\n", label ? "NON_EXTREMIST" : "EXTREMIST");
  }
  fclose(f);
}

static void setup(void) {
  write_fixture();
  memset(&settings, 0, sizeof settings);
  settings.section = strdup("objective");
  hpt_error_t e = {0};
  cr_assert_eq(hpt_options_add(&settings, "type", "transformer", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&settings, "model", model_dir, 0, &e), 0);
  cr_assert_eq(hpt_options_add(&settings, "train", csv_path, 0, &e), 0);
  cr_assert_eq(hpt_options_add(&settings, "max_length", "32", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&settings, "val_fraction", "0.2", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&settings, "threads", "1", 0, &e), 0);
}

static void teardown(void) {
  hpt_options_free(&settings);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_expect_eq(system(cmd), 0);
}

TestSuite(objective_transformer, .init = setup, .fini = teardown);

typedef struct steps {
  int n;
  int step[64];
  double value[64];
} steps_t;

static void on_report(void *user, int step, double value) {
  steps_t *s = user;
  s->step[s->n] = step;
  s->value[s->n++] = value;
}

static const hpt_objective_param_t fast[] = {
    {"lr_backbone", "0.003"}, {"lr_classifier", "0.003"}, {"epochs", "5"},
    {"batch_size", "16"},     {"warmup_ratio", "0.1"},    {"dropout", "0.1"},
};

static int run(const hpt_options_t *s, const hpt_objective_param_t *params,
               size_t n, steps_t *steps, hpt_objective_result_t *result,
               hpt_error_t *error) {
  hpt_objective_call_t call = {.settings = s,
                               .params = params,
                               .n_params = n,
                               .params_json = "{}",
                               .report = on_report,
                               .user = steps};
  return hpt_objective_transformer_run(&call, result, error);
}

static double metric(const hpt_objective_result_t *r, const char *name) {
  for (size_t i = 0; i < r->n_metrics; i++)
    if (strcmp(r->metric_names[i], name) == 0)
      return r->metric_values[i];
  cr_assert_fail("no metric %s", name);
  return NAN;
}

Test(objective_transformer, learns_the_small_csv_and_reports_epochs) {
  steps_t steps = {0};
  hpt_objective_result_t r;
  hpt_error_t e = {0};
  cr_assert_eq(run(&settings, fast, 6, &steps, &r, &e), 0, "%s", e.message);
  cr_expect_eq(steps.n, 5);
  for (int i = 0; i < steps.n; i++)
    cr_expect_eq(steps.step[i], i + 1);
  cr_expect_gt(r.value, 0.9, "accuracy %.3f", r.value);
  cr_expect_eq(metric(&r, "epochs_run"), 5);
  cr_expect_eq(metric(&r, "n_val"), 40);
  cr_expect_eq(metric(&r, "n_train"), 160);
  cr_expect_gt(metric(&r, "samples_per_second"), 0);
  cr_expect(isfinite(metric(&r, "train_loss")));
  cr_expect(isfinite(metric(&r, "val_loss")));
  cr_expect_geq(metric(&r, "seconds"), 0);
}

Test(objective_transformer, folds_report_one_step_per_fold_and_the_mean) {
  hpt_error_t e = {0};
  cr_assert_eq(hpt_options_add(&settings, "folds", "3", 0, &e), 0);
  const hpt_objective_param_t params[] = {
      {"lr_backbone", "0.003"}, {"lr_classifier", "0.003"}, {"epochs", "2"}};
  steps_t steps = {0};
  hpt_objective_result_t r;
  cr_assert_eq(run(&settings, params, 3, &steps, &r, &e), 0, "%s", e.message);
  cr_assert_eq(steps.n, 3);
  double sum = 0;
  for (int i = 0; i < 3; i++) {
    cr_expect_eq(steps.step[i], i + 1);
    sum += steps.value[i];
  }
  cr_expect_float_eq(r.value, sum / 3, 1e-12);
  /* 200 rows in 3 stratified folds: 66 or 67 held out each. */
  cr_expect_float_eq(metric(&r, "n_val"), 200.0 / 3, 1e-9);
}

Test(objective_transformer, augmentation_runs_and_stays_deterministic) {
  hpt_error_t e = {0};
  if (access("/usr/share/wordnet/data.noun", R_OK) != 0)
    cr_skip_test("no WordNet data in /usr/share/wordnet");
  cr_assert_eq(hpt_options_add(&settings, "augment", "true", 0, &e), 0);
  const hpt_objective_param_t params[] = {{"lr_backbone", "0.003"},
                                          {"lr_classifier", "0.003"},
                                          {"epochs", "2"},
                                          {"aug_p", "0.3"}};
  steps_t s1 = {0}, s2 = {0};
  hpt_objective_result_t a, b;
  cr_assert_eq(run(&settings, params, 4, &s1, &a, &e), 0, "%s", e.message);
  cr_assert_eq(run(&settings, params, 4, &s2, &b, &e), 0, "%s", e.message);
  cr_expect_eq(a.value, b.value);
  cr_expect_eq(metric(&a, "train_loss"), metric(&b, "train_loss"));
}

Test(objective_transformer, unknown_param_is_a_clear_error) {
  const hpt_objective_param_t params[] = {{"learning_rate", "0.1"}};
  steps_t steps = {0};
  hpt_objective_result_t r;
  hpt_error_t e = {0};
  cr_expect_eq(run(&settings, params, 1, &steps, &r, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "unknown parameter 'learning_rate'") != NULL,
            "%s", e.message);
  cr_expect(strstr(e.message, "lr_backbone") != NULL, "%s", e.message);
  const hpt_objective_param_t bad[] = {{"batch_size", "1.5"}};
  cr_expect_eq(run(&settings, bad, 1, &steps, &r, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "batch_size") != NULL, "%s", e.message);
  cr_expect_eq(steps.n, 0);
}

Test(objective_transformer, bad_model_path_is_a_clear_error) {
  hpt_options_t s = {0};
  hpt_error_t e = {0};
  s.section = strdup("objective");
  cr_assert_eq(hpt_options_add(&s, "type", "transformer", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&s, "model", "/nonexistent/model", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&s, "train", csv_path, 0, &e), 0);
  steps_t steps = {0};
  hpt_objective_result_t r;
  cr_expect_eq(run(&s, NULL, 0, &steps, &r, &e), HPT_ENOTFOUND);
  cr_expect(strstr(e.message, "/nonexistent/model") != NULL, "%s", e.message);
  hpt_options_free(&s);

  /* A setting the objective does not take. */
  cr_assert_eq(hpt_options_add(&settings, "ngram", "1-2", 0, &e), 0);
  cr_expect_eq(run(&settings, NULL, 0, &steps, &r, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "ngram") != NULL, "%s", e.message);
}

Test(objective_transformer, minilm_trains_a_step_when_present) {
  char path[1024];
  snprintf(path, sizeof path, "%s/models/all-MiniLM-L6-v2/model.safetensors",
           getenv("HPT_SOURCE_DIR"));
  if (access(path, R_OK) != 0)
    cr_skip_test("models/all-MiniLM-L6-v2 absent: run ./ops/fetch-models");
  *strrchr(path, '/') = '\0';
  hpt_options_t s = {0};
  hpt_error_t e = {0};
  s.section = strdup("objective");
  cr_assert_eq(hpt_options_add(&s, "type", "transformer", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&s, "model", path, 0, &e), 0);
  cr_assert_eq(hpt_options_add(&s, "train", csv_path, 0, &e), 0);
  cr_assert_eq(hpt_options_add(&s, "max_length", "16", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&s, "val_fraction", "0.1", 0, &e), 0);
  const hpt_objective_param_t params[] = {{"epochs", "1"},
                                          {"batch_size", "32"}};
  steps_t steps = {0};
  hpt_objective_result_t r;
  cr_assert_eq(run(&s, params, 2, &steps, &r, &e), 0, "%s", e.message);
  cr_expect_eq(steps.n, 1);
  cr_expect(r.value >= 0 && r.value <= 1);
  hpt_options_free(&s);
}
