/* test_ngram.c — hashed n-gram features, logistic regression and the
 * `ngram` objective (worker/engine/ngram_*.c, worker/objective_ngram.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngram_features.h"
#include "ngram_model.h"
#include "objective.h"

static bool same_terms(const hpt_ngram_terms_t *a, const hpt_ngram_terms_t *b) {
  return a->count == b->count &&
         memcmp(a->index, b->index, a->count * sizeof *a->index) == 0 &&
         memcmp(a->value, b->value, a->count * sizeof *a->value) == 0;
}

Test(ngram, hashing_is_deterministic_sorted_and_bounded) {
  hpt_ngram_config_t config;
  hpt_ngram_config_default(&config);
  config.hash_bits = 16;
  hpt_ngram_terms_t a, b;
  hpt_ngram_terms_init(&a);
  hpt_ngram_terms_init(&b);
  const char *text = "Ill kill you all so you do not exist anymore!!!!";
  cr_assert_eq(hpt_ngram_hash_text(&config, text, &a, NULL), 0);
  cr_assert_eq(hpt_ngram_hash_text(&config, text, &b, NULL), 0);
  cr_expect(same_terms(&a, &b));
  cr_expect_gt(a.count, 50);
  for (size_t i = 0; i < a.count; i++) {
    cr_expect_lt(a.index[i], 1u << 16);
    cr_expect_gt(a.value[i], 0);
    if (i > 0)
      cr_expect_lt(a.index[i - 1], a.index[i]);
  }
  /* Lowercasing and run collapsing happen before hashing. */
  cr_assert_eq(hpt_ngram_hash_text(&config,
                                   "ILL KILL YOU ALL SO YOU DO NOT EXIST "
                                   "ANYMORE!!",
                                   &b, NULL),
               0);
  cr_expect(same_terms(&a, &b));
  /* "you" appears twice: some bucket counts 2 or more. */
  float max = 0;
  for (size_t i = 0; i < a.count; i++)
    max = fmaxf(max, a.value[i]);
  cr_expect_geq(max, 2.0f);
  hpt_ngram_terms_close(&a);
  hpt_ngram_terms_close(&b);
}

Test(ngram, ngram_ranges_change_the_terms) {
  hpt_ngram_config_t words = {.word_min = 1, .word_max = 1, .hash_bits = 20};
  hpt_ngram_config_t bigrams = words;
  bigrams.word_max = 2;
  hpt_ngram_config_t chars = {.char_min = 3, .char_max = 3, .hash_bits = 20};
  hpt_ngram_terms_t t;
  hpt_ngram_terms_init(&t);
  const char *text = "alpha beta gamma delta";
  cr_assert_eq(hpt_ngram_hash_text(&words, text, &t, NULL), 0);
  cr_expect_eq(t.count, 4);
  cr_assert_eq(hpt_ngram_hash_text(&bigrams, text, &t, NULL), 0);
  cr_expect_eq(t.count, 7);
  /* " alpha " has 5 trigrams, " beta " 4, " gamma " 5, " delta " 5, and
   * "ta " is shared by beta and delta: 18 distinct, one counted twice. */
  cr_assert_eq(hpt_ngram_hash_text(&chars, text, &t, NULL), 0);
  cr_expect_eq(t.count, 18);
  int twos = 0;
  for (size_t i = 0; i < t.count; i++)
    twos += t.value[i] == 2.0f;
  cr_expect_eq(twos, 1);
  hpt_ngram_terms_close(&t);

  hpt_error_t error = {0};
  hpt_ngram_config_t bad = words;
  bad.hash_bits = 30;
  cr_expect_eq(hpt_ngram_config_check(&bad, &error), HPT_EINVAL);
  bad = words;
  bad.word_min = bad.word_max = 0;
  cr_expect_eq(hpt_ngram_config_check(&bad, &error), HPT_EINVAL);
}

Test(ngram, vectors_are_l2_normalised) {
  hpt_ngram_config_t config;
  hpt_ngram_config_default(&config);
  const char *texts[] = {"the cat sat on the mat", "the dog ate my homework"};
  hpt_ngram_vocab_t *vocab = NULL;
  hpt_ngram_matrix_t m;
  cr_assert_eq(hpt_ngram_vocab_fit(&config, texts, 2, &vocab, NULL), 0);
  cr_assert_eq(hpt_ngram_vocab_transform(vocab, texts, 2, &m, NULL), 0);
  cr_expect_eq(m.n_rows, 2);
  cr_expect_eq(m.n_cols, hpt_ngram_vocab_size(vocab));
  for (size_t r = 0; r < m.n_rows; r++) {
    double norm = 0;
    for (size_t k = m.row_start[r]; k < m.row_start[r + 1]; k++)
      norm += (double)m.value[k] * m.value[k];
    cr_expect_float_eq(norm, 1.0, 1e-5);
  }
  /* A text of unseen n-grams only has no features. */
  hpt_ngram_terms_t t;
  hpt_ngram_terms_init(&t);
  cr_assert_eq(hpt_ngram_vocab_vectorize(vocab, "zzqq vvjj", &t, NULL), 0);
  cr_expect_eq(t.count, 0);
  hpt_ngram_terms_close(&t);
  hpt_ngram_matrix_close(&m);
  hpt_ngram_vocab_destroy(&vocab);
  cr_expect_null(vocab);
}

/* Class 1 talks about storms, class 0 about gardens; disjoint words.
 * texts[i] points into buffer[i]. */
static void synthetic(char (*buffer)[64], const char **texts, int *labels,
                      size_t n, int offset) {
  static const char *storm[] = {"thunder", "lightning", "hail", "gale"};
  static const char *garden[] = {"tulips", "roses", "lawn", "hedges"};
  for (size_t i = 0; i < n; i++) {
    int label = (int)(i % 2);
    const char **words = label ? storm : garden;
    snprintf(buffer[i], sizeof buffer[i], "today %s and %s again %d",
             words[(i + (size_t)offset) % 4], words[(i / 2 + 1) % 4],
             (int)i + offset);
    texts[i] = buffer[i];
    labels[i] = label;
  }
}

static int epochs_seen;

static void count_epoch(void *user, const hpt_ngram_epoch_stats_t *stats) {
  (void)user;
  epochs_seen++;
  cr_expect_eq(stats->epoch, epochs_seen);
}

Test(ngram, separable_data_reaches_full_accuracy) {
  static char train_buffer[40][64], val_buffer[20][64];
  const char *train_texts[40], *val_texts[20];
  int train_labels[40], val_labels[20];
  synthetic(train_buffer, train_texts, train_labels, 40, 0);
  synthetic(val_buffer, val_texts, val_labels, 20, 3);

  hpt_ngram_config_t config;
  hpt_ngram_config_default(&config);
  hpt_ngram_vocab_t *vocab = NULL;
  hpt_ngram_matrix_t train, val;
  cr_assert_eq(hpt_ngram_vocab_fit(&config, train_texts, 40, &vocab, NULL), 0);
  cr_assert_eq(hpt_ngram_vocab_transform(vocab, train_texts, 40, &train, NULL),
               0);
  cr_assert_eq(hpt_ngram_vocab_transform(vocab, val_texts, 20, &val, NULL), 0);

  for (int opt = 0; opt < 2; opt++) {
    hpt_ngram_train_config_t tc;
    hpt_ngram_train_config_default(&tc);
    tc.optimizer = opt ? HPT_NGRAM_SGD : HPT_NGRAM_ADAMW;
    tc.lr = opt ? 2.0 : 0.05;
    tc.epochs = 20;
    tc.batch_size = 8;
    hpt_ngram_model_t *model = NULL;
    hpt_error_t error = {0};
    epochs_seen = 0;
    cr_assert_eq(hpt_ngram_model_train(&train, train_labels, &val, val_labels,
                                       &tc, count_epoch, NULL, &model, &error),
                 0, "%s", error.message);
    cr_expect_eq(epochs_seen, 20);
    double loss, accuracy;
    hpt_ngram_model_evaluate(model, &train, train_labels, &loss, &accuracy);
    cr_expect_float_eq(accuracy, 1.0, 1e-12, "optimizer %d train", opt);
    hpt_ngram_model_evaluate(model, &val, val_labels, &loss, &accuracy);
    cr_expect_float_eq(accuracy, 1.0, 1e-12, "optimizer %d val", opt);
    double p_storm, p_garden;
    cr_assert_eq(hpt_ngram_model_predict_text(
                     model, vocab, "THUNDER and hail tonight", &p_storm, NULL),
                 0);
    cr_assert_eq(hpt_ngram_model_predict_text(model, vocab, "roses on the lawn",
                                              &p_garden, NULL),
                 0);
    cr_expect_gt(p_storm, 0.5);
    cr_expect_lt(p_garden, 0.5);
    hpt_ngram_model_destroy(&model);
  }
  hpt_ngram_matrix_close(&train);
  hpt_ngram_matrix_close(&val);
  hpt_ngram_vocab_destroy(&vocab);
}

Test(ngram, train_rejects_bad_config) {
  hpt_ngram_matrix_t empty = {0};
  hpt_ngram_train_config_t tc;
  hpt_ngram_train_config_default(&tc);
  hpt_ngram_model_t *model = NULL;
  hpt_error_t error = {0};
  tc.lr = -1;
  cr_expect_eq(hpt_ngram_model_train(&empty, NULL, NULL, NULL, &tc, NULL, NULL,
                                     &model, &error),
               HPT_EINVAL);
  hpt_ngram_train_config_default(&tc);
  cr_expect_eq(hpt_ngram_model_train(&empty, NULL, NULL, NULL, &tc, NULL, NULL,
                                     &model, &error),
               HPT_EINVAL, "no rows");
  cr_expect_null(model);
}

/* ---- the objective on the real data ----------------------------------- */

static hpt_options_t settings;
static int reports;
static int last_step;
static double last_report;

static void on_report(void *user, int step, double value) {
  (void)user;
  reports++;
  cr_expect_eq(step, last_step + 1, "steps count epochs from 1");
  last_step = step;
  last_report = value;
}

static void objective_setup(void) {
  memset(&settings, 0, sizeof settings);
  settings.section = strdup("objective");
  const char *dir = getenv("HPT_DATA_DIR");
  cr_assert_not_null(dir, "HPT_DATA_DIR is not set (run through ctest)");
  char path[512];
  snprintf(path, sizeof path, "%s/train.csv", dir);
  cr_assert_eq(hpt_options_add(&settings, "type", "ngram", 1, NULL), 0);
  cr_assert_eq(hpt_options_add(&settings, "train", path, 2, NULL), 0);
  reports = last_step = 0;
  last_report = NAN;
}

static void objective_teardown(void) { hpt_options_free(&settings); }

TestSuite(objective_ngram, .init = objective_setup, .fini = objective_teardown);

static int run(const hpt_objective_param_t *params, size_t n,
               hpt_objective_result_t *result, hpt_error_t *error) {
  hpt_objective_call_t call = {.settings = &settings,
                               .params = params,
                               .n_params = n,
                               .report = on_report};
  return hpt_objective_ngram_run(&call, result, error);
}

static double metric(const hpt_objective_result_t *result, const char *name) {
  for (size_t i = 0; i < result->n_metrics; i++)
    if (strcmp(result->metric_names[i], name) == 0)
      return result->metric_values[i];
  cr_assert_fail("metric %s missing", name);
  return NAN;
}

Test(objective_ngram, defaults_reach_80_percent_on_train_csv) {
  hpt_objective_result_t result;
  hpt_error_t error = {0};
  cr_assert_eq(run(NULL, 0, &result, &error), 0, "%s", error.message);
  cr_expect_geq(result.value, 0.80, "validation accuracy %.4f", result.value);
  cr_expect_eq(reports, 30, "one report per epoch");
  cr_expect_float_eq(last_report, result.value, 1e-12);
  cr_expect_float_eq(metric(&result, "n_train"), 2025, 1e-9);
  cr_expect_float_eq(metric(&result, "n_val"), 225, 1e-9);
  cr_expect_gt(metric(&result, "train_accuracy"), 0.9);
  cr_expect_lt(metric(&result, "seconds"), 10.0);
  cr_expect(isfinite(metric(&result, "train_loss")));
  cr_expect(isfinite(metric(&result, "val_loss")));
}

Test(objective_ngram, tuned_params_reach_80_percent) {
  const hpt_objective_param_t params[] = {
      {"optimizer", "adamw"}, {"lr", "0.01"},       {"weight_decay", "0.1"},
      {"epochs", "20"},       {"batch_size", "32"}, {"ngram", "1-2"},
      {"char_ngram", "none"}, {"hash_bits", "20"},  {"schedule", "constant"}};
  hpt_objective_result_t result;
  hpt_error_t error = {0};
  cr_assert_eq(run(params, sizeof params / sizeof params[0], &result, &error),
               0, "%s", error.message);
  cr_expect_geq(result.value, 0.80, "validation accuracy %.4f", result.value);
  cr_expect_eq(reports, 20);
}

Test(objective_ngram, is_deterministic) {
  const hpt_objective_param_t params[] = {{"epochs", "3"},
                                          {"char_ngram", "2-4"}};
  hpt_objective_result_t a, b;
  cr_assert_eq(run(params, 2, &a, NULL), 0);
  last_step = 0;
  cr_assert_eq(run(params, 2, &b, NULL), 0);
  cr_expect_eq(a.value, b.value);
  cr_expect_eq(metric(&a, "train_loss"), metric(&b, "train_loss"));
}

Test(objective_ngram, unknown_parameter) {
  const hpt_objective_param_t params[] = {{"lr", "0.1"}, {"dropout", "0.5"}};
  hpt_objective_result_t result;
  hpt_error_t error = {0};
  cr_expect_eq(run(params, 2, &result, &error), HPT_EINVAL);
  cr_expect(strstr(error.message,
                   "unknown parameter 'dropout' for objective ngram "
                   "(expected: lr, "),
            "%s", error.message);
  cr_expect_eq(reports, 0);
}

Test(objective_ngram, malformed_values_name_the_parameter) {
  static const hpt_objective_param_t bad[][1] = {
      {{"lr", "fast"}},      {{"lr", "-1"}},           {{"l2", "-0.1"}},
      {{"epochs", "2.5"}},   {{"epochs", "0"}},        {{"batch_size", "x"}},
      {{"ngram", "2-1"}},    {{"ngram", "1-"}},        {{"char_ngram", "9"}},
      {{"hash_bits", "12"}}, {{"optimizer", "lbfgs"}}, {{"idf", "maybe"}},
      {{"schedule", "step"}}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    hpt_objective_result_t result;
    hpt_error_t error = {0};
    cr_expect_eq(run(bad[i], 1, &result, &error), HPT_EINVAL, "%s=%s",
                 bad[i][0].name, bad[i][0].value);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", bad[i][0].name);
    cr_expect(strstr(error.message, quoted), "%s", error.message);
  }
  /* Both n-gram kinds disabled is not a model. */
  const hpt_objective_param_t none[] = {{"ngram", "none"}, {"char_ngram", "0"}};
  hpt_objective_result_t result;
  cr_expect_eq(run(none, 2, &result, NULL), HPT_EINVAL);
}

Test(objective_ngram, settings_errors) {
  hpt_objective_result_t result;
  hpt_error_t error = {0};
  hpt_options_free(&settings);
  memset(&settings, 0, sizeof settings);
  settings.section = strdup("objective");
  cr_expect_eq(run(NULL, 0, &result, &error), HPT_EINVAL, "train missing");
  cr_expect(strstr(error.message, "train"), "%s", error.message);
  cr_assert_eq(hpt_options_add(&settings, "train", "/nonexistent.csv", 1, NULL),
               0);
  cr_expect_eq(run(NULL, 0, &result, &error), HPT_ENOTFOUND);
  cr_assert_eq(hpt_options_add(&settings, "val_fraction", "1.5", 2, NULL), 0);
  cr_expect_eq(run(NULL, 0, &result, &error), HPT_EINVAL);
  cr_expect(strstr(error.message, "val_fraction"), "%s", error.message);
}
