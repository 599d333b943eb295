/* test_ensemble_transformer.c — transformer trials keep their model end to
 * end: a real study (coordinator, worker, PostgreSQL) fine-tunes a tiny
 * BERT for one epoch with keep_top_k, the worker streams the Hugging Face
 * folder to the coordinator, `hpt ensemble build` mixes it with n-gram
 * members validated on the same rows, and `hpt predict` runs it on the
 * coordinator's CPU. A model trained on other labels is refused. Then
 * transformers itself loads a folder hpt wrote and must compute the
 * engine's logits (tests/fixtures/hf_load_check.py; skipped without
 * python3 + transformers + torch).
 *
 * The tiny model is made by tests/support/test_model.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classifier.h"
#include "model.h"
#include "test_db.h"
#include "test_model.h"
#include "test_util.h"

static char url[1024], dir[256];

static int hpt(char **output, char *const *args) {
  return hpt_test_hpt(url, output, args);
}

static void run_transformer_study(const char *name, const char *model) {
  char text[2048];
  snprintf(text, sizeof text,
           "name: %s\nn_trials: 2\nmax_parallel: 1\nkeep_top_k: 1\n"
           "sampler: {type: random, seed: 5}\npruner: {type: none}\n"
           "params:\n"
           "  lr_backbone: {type: float, low: 1.0e-3, high: 3.0e-3}\n"
           "  epochs: {type: int, low: 1, high: 1}\n"
           "  batch_size: {type: categorical, choices: [\"32\"]}\n"
           "objective: {type: transformer, model: %s, train: %s,\n"
           "  val_fraction: 0.1, seed: 42, max_length: 24, threads: 1}\n",
           name, model, hpt_test_data("train.csv"));
  hpt_test_create_study(url, dir, name, text);
  free(hpt_test_run_study(url, name, 1));
}

Test(ensemble_transformer, kept_transformers_vote_and_predict, .timeout = 500) {
  snprintf(url, sizeof url, "%s", hpt_test_db_url());
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  char model[300], other[300];
  snprintf(model, sizeof model, "%s/tiny", dir);
  snprintf(other, sizeof other, "%s/tiny3", dir);
  hpt_test_make_tiny_bert(model, "{\"0\": \"A\", \"1\": \"B\"}");
  run_transformer_study("tf", model);
  hpt_test_run_ngram_study(url, dir, "ng", 2, 2);

  /* The best transformer trial kept its folder; the other was pruned. */
  char *names = hpt_test_sql_text(
      url, "select string_agg(a.name, ' ' order by a.name) from "
           "trial_artifacts a join trials t on t.id = a.trial_id join "
           "studies s on s.id = t.study_id where s.name = 'tf'");
  cr_assert_str_eq(names, "config.json model.safetensors val_predictions.csv "
                          "vocab.txt");
  free(names);
  cr_assert_eq(hpt_test_sql_long(url, "select count(distinct a.trial_id) "
                                      "from trial_artifacts a join trials t "
                                      "on t.id = a.trial_id join studies s "
                                      "on s.id = t.study_id where s.name = "
                                      "'tf'"),
               1);

  char *output = NULL;
  char *mixed[] = {"ensemble", "build",  "mix",  "--from",
                   "ng:2",     "--from", "tf:1", NULL};
  cr_assert_eq(hpt(&output, mixed), 0, "%s", output);
  cr_assert(strstr(output, "3 members") != NULL, "%s", output);
  free(output);
  char *alone[] = {"ensemble", "build", "tfonly", "--from", "tf", NULL};
  cr_assert_eq(hpt(&output, alone), 0, "%s", output);
  free(output);

  char submission[600];
  snprintf(submission, sizeof submission, "%s/submission.csv", dir);
  char *predict[] = {"predict",
                     "--ensemble",
                     "mix",
                     "--input",
                     (char *)hpt_test_data("test.csv"),
                     "--output",
                     submission,
                     "--probabilities",
                     NULL};
  cr_assert_eq(hpt(&output, predict), 0, "%s", output);
  cr_assert(strstr(output, "3 members") != NULL, "%s", output);
  free(output);
  char *text = hpt_test_read_file(submission);
  cr_assert_not_null(text);
  cr_assert(strncmp(text, "ID,Extremism_Label,probability\n", 31) == 0);
  char *input = hpt_test_read_file(hpt_test_data("test.csv"));
  size_t rows = hpt_test_count_lines(text) - 1;
  cr_assert_gt(rows, 100);
  free(text);
  free(input);

  /* A model whose head was trained for three labels cannot vote. */
  hpt_test_make_tiny_bert(other, "{\"0\": \"A\", \"1\": \"B\", \"2\": \"C\"}");
  run_transformer_study("tf3", other);
  char *three[] = {"ensemble", "build",  "bad",   "--from",
                   "ng:1",     "--from", "tf3:1", NULL};
  cr_assert_eq(hpt(&output, three), 1, "%s", output);
  cr_assert(strstr(output, "NON_EXTREMIST, EXTREMIST, C") != NULL &&
                strstr(output, "not EXTREMIST and NON_EXTREMIST") != NULL,
            "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(url, "select count(*) from ensembles where "
                                      "name = 'bad'"),
               0, "nothing stored");
}

/* ---- Hugging Face loads the folder --------------------------------------- */

/* A python3 that imports transformers and torch: $HPT_PYTHON, the
 * benchmarks' venv, or python3 on PATH; NULL when none does. */
static const char *find_python(void) {
  static char candidates[3][600];
  const char *env = getenv("HPT_PYTHON"), *src = getenv("HPT_SOURCE_DIR");
  snprintf(candidates[0], sizeof candidates[0], "%s", env ? env : "");
  snprintf(candidates[1], sizeof candidates[1], "%s/bench/.venv/bin/python",
           src ? src : ".");
  snprintf(candidates[2], sizeof candidates[2], "python3");
  for (int i = 0; i < 3; i++) {
    if (candidates[i][0] == '\0')
      continue;
    char *argv[] = {candidates[i], "-c", "import transformers, torch", NULL};
    if (hpt_test_run(argv, 120000, NULL) == 0)
      return candidates[i];
  }
  return NULL;
}

Test(ensemble_transformer, transformers_loads_the_folder_hpt_wrote,
     .timeout = 300) {
  const char *python = find_python();
  if (python == NULL)
    cr_skip_test("no python3 with transformers and torch ($HPT_PYTHON, "
                 "bench/.venv or PATH): Hugging Face load check skipped");
  snprintf(dir, sizeof dir, "%s", hpt_test_tmpdir());
  char model[300], kept[300], setting[700], artifact[300];
  snprintf(model, sizeof model, "%s/tiny", dir);
  snprintf(kept, sizeof kept, "%s/kept", dir);
  hpt_test_make_tiny_bert(model, "{\"0\": \"A\", \"1\": \"B\"}");
  cr_assert_eq(mkdir(kept, 0755), 0);
  /* One trial as the worker runs it, keeping its folder. */
  char train[700], model_setting[400];
  snprintf(train, sizeof train, "train=%s", hpt_test_data("train.csv"));
  snprintf(model_setting, sizeof model_setting, "model=%s", model);
  snprintf(artifact, sizeof artifact, "%s", kept);
  (void)setting;
  char *run[] = {(char *)hpt_test_bin("hpt-worker"),
                 "run-trial",
                 "--setting",
                 "type=transformer",
                 "--setting",
                 model_setting,
                 "--setting",
                 train,
                 "--setting",
                 "max_length=24",
                 "--setting",
                 "threads=1",
                 "--param",
                 "epochs=1",
                 "--param",
                 "lr_backbone=0.002",
                 "--artifact-dir",
                 artifact,
                 NULL};
  char *output = NULL;
  cr_assert_eq(hpt_test_run(run, 240000, &output), 0, "%s", output);
  free(output);

  /* The engine's token ids and logits, one text at a time. */
  static const char *texts[] = {
      "they must all be driven out of our country",
      "lovely weather for a walk in the park today",
      "join the fight, brothers, the time has come!",
      "empty post",
  };
  hpt_model_t *m = NULL;
  hpt_model_config_t config;
  hpt_classifier_tokenizer_t tok;
  hpt_error_t error;
  char path[700];
  snprintf(path, sizeof path, "%s/config.json", kept);
  cr_assert_eq(hpt_model_config_load(path, &config, &error), 0, "%s",
               error.message);
  cr_assert_eq(hpt_classifier_tokenizer_load(kept, &config, &tok, &error), 0,
               "%s", error.message);
  cr_assert_eq(hpt_model_load(kept, 0, &m, &error), 0, "%s", error.message);
  snprintf(path, sizeof path, "%s/expected.json", dir);
  FILE *out = fopen(path, "w");
  fputs("{\"texts\": [", out);
  for (size_t i = 0; i < 4; i++)
    fprintf(out, "%s\"%s\"", i ? ", " : "", texts[i]);
  fputs("], \"ids\": [", out);
  char logits_text[4][128];
  for (size_t i = 0; i < 4; i++) {
    hpt_token_ids_t ids = {0};
    cr_assert_eq(
        tok.encoder.encode(tok.encoder.tokenizer, texts[i], 24, &ids, &error),
        0);
    fputs(i ? ", [" : "[", out);
    for (size_t t = 0; t < ids.count; t++)
      fprintf(out, "%s%d", t ? ", " : "", ids.ids[t]);
    fputs("]", out);
    hpt_model_batch_t batch = {
        .B = 1, .T = (int)ids.count, .input_ids = ids.ids};
    cr_assert_eq(hpt_model_forward(m, &batch, NULL, &error), 0, "%s",
                 error.message);
    const float *logits = hpt_model_logits(m);
    snprintf(logits_text[i], sizeof logits_text[i], "[%.9g, %.9g]",
             (double)logits[0], (double)logits[1]);
    hpt_token_ids_close(&ids);
  }
  fputs("], \"logits\": [", out);
  for (size_t i = 0; i < 4; i++)
    fprintf(out, "%s%s", i ? ", " : "", logits_text[i]);
  fputs("]}\n", out);
  fclose(out);
  hpt_model_destroy(&m);
  hpt_classifier_tokenizer_close(&tok);
  hpt_model_config_close(&config);

  char script[700];
  snprintf(script, sizeof script, "%s/tests/fixtures/hf_load_check.py",
           getenv("HPT_SOURCE_DIR"));
  char *check[] = {(char *)python, script, kept, path, "1e-4", NULL};
  int status = hpt_test_run(check, 240000, &output);
  cr_log_info("%s", output);
  cr_assert_eq(status, 0, "transformers disagrees with the engine:\n%s",
               output);
  free(output);
}
