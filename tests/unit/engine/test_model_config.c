/* test_model_config.c — Hugging Face config.json reading
 * (worker/engine/model_config.c) for the four supported families. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_config.h"

static int parse(const char *text, hpt_model_config_t *c, hpt_error_t *e) {
  return hpt_model_config_parse(text, strlen(text), "config.json", c, e);
}

Test(model_config, minilm_checkpoint) {
  const char *src = getenv("HPT_SOURCE_DIR");
  cr_assert_not_null(src, "HPT_SOURCE_DIR not set");
  char path[4096];
  snprintf(path, sizeof path, "%s/models/all-MiniLM-L6-v2/config.json", src);
  if (access(path, R_OK) != 0)
    cr_skip_test("models/all-MiniLM-L6-v2 absent: run ./ops/fetch-models");
  hpt_model_config_t c;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_model_config_load(path, &c, &error), 0, "%s", error.message);
  cr_expect_eq(c.model_type, HPT_MODEL_BERT);
  cr_expect_eq(c.hidden_size, 384);
  cr_expect_eq(c.embedding_size, 384);
  cr_expect_eq(c.num_layers, 6);
  cr_expect_eq(c.num_heads, 12);
  cr_expect_eq(c.head_dim, 32);
  cr_expect_eq(c.intermediate_size, 1536);
  cr_expect_eq(c.max_positions, 512);
  cr_expect_eq(c.vocab_size, 30522);
  cr_expect_eq(c.type_vocab_size, 2);
  cr_expect_eq(c.layer_norm_eps, 1e-12);
  cr_expect_eq(c.hidden_act, HPT_ACT_GELU);
  cr_expect_eq(c.hidden_dropout, 0.1);
  cr_expect_eq(c.attention_dropout, 0.1);
  cr_expect_eq(c.classifier_dropout, 0.1);
  cr_expect_eq(c.pad_token_id, 0);
  cr_expect_eq(c.num_labels, 2);
  cr_expect_str_eq(c.id2label[1], "LABEL_1");
  hpt_model_config_close(&c);
  hpt_model_config_close(&c);
}

Test(model_config, distilbert_names) {
  hpt_model_config_t c;
  hpt_error_t error = {0};
  cr_assert_eq(parse("{\"model_type\": \"distilbert\", \"vocab_size\": 30522,"
                     " \"dim\": 768, \"n_layers\": 6, \"n_heads\": 12,"
                     " \"hidden_dim\": 3072, \"activation\": \"gelu\","
                     " \"dropout\": 0.1, \"attention_dropout\": 0.05,"
                     " \"seq_classif_dropout\": 0.2,"
                     " \"max_position_embeddings\": 512, \"pad_token_id\": 0,"
                     " \"sinusoidal_pos_embds\": false}",
                     &c, &error),
               0, "%s", error.message);
  cr_expect_eq(c.model_type, HPT_MODEL_DISTILBERT);
  cr_expect_str_eq(hpt_model_type_name(c.model_type), "distilbert");
  cr_expect_eq(c.hidden_size, 768);
  cr_expect_eq(c.num_layers, 6);
  cr_expect_eq(c.intermediate_size, 3072);
  cr_expect_eq(c.type_vocab_size, 0);
  cr_expect_eq(c.attention_dropout, 0.05);
  cr_expect_eq(c.classifier_dropout, 0.2);
  cr_expect_eq(c.layer_norm_eps, 1e-12);
  hpt_model_config_close(&c);
}

Test(model_config, electra_and_roberta) {
  hpt_model_config_t c;
  hpt_error_t error = {0};
  cr_assert_eq(parse("{\"model_type\": \"electra\", \"vocab_size\": 30522,"
                     " \"embedding_size\": 128, \"hidden_size\": 256,"
                     " \"num_hidden_layers\": 12, \"num_attention_heads\": 4,"
                     " \"intermediate_size\": 1024, \"hidden_act\": \"gelu\","
                     " \"max_position_embeddings\": 512,"
                     " \"classifier_dropout\": null}",
                     &c, &error),
               0, "%s", error.message);
  cr_expect_eq(c.embedding_size, 128);
  cr_expect_eq(c.hidden_size, 256);
  cr_expect_eq(c.head_dim, 64);
  cr_expect_eq(c.classifier_dropout, 0.1); /* null: hidden_dropout */
  hpt_model_config_close(&c);

  cr_assert_eq(parse("{\"model_type\": \"roberta\", \"vocab_size\": 50265,"
                     " \"hidden_size\": 768, \"num_hidden_layers\": 12,"
                     " \"num_attention_heads\": 12, \"intermediate_size\": "
                     "3072, \"hidden_act\": \"gelu_new\","
                     " \"max_position_embeddings\": 514, \"type_vocab_size\":"
                     " 1, \"pad_token_id\": 1, \"layer_norm_eps\": 1e-05,"
                     " \"id2label\": {\"0\": \"NEG\", \"1\": \"POS\","
                     " \"2\": \"MIXED\"}, \"num_labels\": 3}",
                     &c, &error),
               0, "%s", error.message);
  cr_expect_eq(c.model_type, HPT_MODEL_ROBERTA);
  cr_expect_eq(c.hidden_act, HPT_ACT_GELU_TANH);
  cr_expect_eq(c.pad_token_id, 1);
  cr_expect_eq(c.type_vocab_size, 1);
  cr_expect_eq(c.layer_norm_eps, 1e-5);
  cr_expect_eq(c.num_labels, 3);
  cr_expect_str_eq(c.id2label[2], "MIXED");
  hpt_model_config_close(&c);
}

#define BASE                                                                   \
  "\"vocab_size\": 100, \"hidden_size\": 64, \"num_hidden_layers\": 2, "       \
  "\"num_attention_heads\": 4, \"intermediate_size\": 128, "                   \
  "\"max_position_embeddings\": 64"

static void expect_bad(const char *text, int code, const char *needle) {
  hpt_model_config_t c;
  hpt_error_t error = {0};
  int rc = parse(text, &c, &error);
  cr_expect_eq(rc, code, "%s: rc %d (%s)", text, rc, error.message);
  cr_expect(strstr(error.message, needle) != NULL, "%s: '%s' lacks '%s'", text,
            error.message, needle);
  cr_expect_null(c.id2label);
}

Test(model_config, clear_errors) {
  expect_bad("{\"model_type\": \"gpt2\", " BASE "}", HPT_EUNSUPPORTED,
             "model_type 'gpt2' is not supported");
  expect_bad("{" BASE "}", HPT_EPARSE, "missing 'model_type'");
  expect_bad("{\"model_type\": \"bert\", \"vocab_size\": 100}", HPT_EPARSE,
             "missing 'hidden_size'");
  expect_bad("{\"model_type\": \"distilbert\", " BASE "}", HPT_EPARSE,
             "missing 'dim'");
  expect_bad("{\"model_type\": \"electra\", " BASE "}", HPT_EPARSE,
             "missing 'embedding_size'");
  expect_bad("{\"model_type\": \"bert\", " BASE ", \"hidden_size\": 65}",
             HPT_EPARSE, "duplicate");
  expect_bad("{\"model_type\": \"bert\", \"vocab_size\": 100, \"hidden_size\":"
             " 66, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
             "\"intermediate_size\": 128, \"max_position_embeddings\": 64}",
             HPT_EPARSE,
             "hidden_size 66 is not divisible by "
             "num_attention_heads 4");
  expect_bad("{\"model_type\": \"bert\", \"vocab_size\": 100, \"hidden_size\":"
             " 64, \"num_hidden_layers\": 0, \"num_attention_heads\": 4, "
             "\"intermediate_size\": 128, \"max_position_embeddings\": 64}",
             HPT_EPARSE, "'num_hidden_layers' is 0, outside");
  expect_bad("{\"model_type\": \"bert\", \"vocab_size\": \"100\", "
             "\"hidden_size\": 64}",
             HPT_EPARSE, "'vocab_size' must be an integer");
  expect_bad("{\"model_type\": \"bert\", " BASE
             ", \"hidden_dropout_prob\": 1.5}",
             HPT_EPARSE, "'hidden_dropout_prob' is 1.5, outside [0, 1)");
  expect_bad("{\"model_type\": \"bert\", " BASE ", \"hidden_act\": \"swish\"}",
             HPT_EUNSUPPORTED, "hidden_act 'swish' is not supported");
  expect_bad("{\"model_type\": \"bert\", " BASE ", \"pad_token_id\": 100}",
             HPT_EPARSE, "'pad_token_id' is 100, outside [0, 99]");
  expect_bad("{\"model_type\": \"roberta\", \"vocab_size\": 100, "
             "\"hidden_size\": 64, \"num_hidden_layers\": 2, "
             "\"num_attention_heads\": 4, \"intermediate_size\": 128, "
             "\"max_position_embeddings\": 2, \"pad_token_id\": 1}",
             HPT_EPARSE, "leaves no position after pad_token_id 1");
  expect_bad("{\"model_type\": \"bert\", " BASE ", \"layer_norm_eps\": 0}",
             HPT_EPARSE, "'layer_norm_eps' is 0");
  expect_bad("{\"model_type\": \"bert\", " BASE
             ", \"position_embedding_type\": \"relative_key\"}",
             HPT_EUNSUPPORTED, "relative_key");
  expect_bad("{\"model_type\": \"bert\", " BASE
             ", \"num_labels\": 3, \"id2label\": {\"0\": \"a\", \"1\": "
             "\"b\"}}",
             HPT_EPARSE, "num_labels is 3 but id2label has 2 entries");
  expect_bad("{\"model_type\": \"bert\", " BASE
             ", \"id2label\": {\"0\": \"a\", \"2\": \"b\"}}",
             HPT_EPARSE, "\"1\" is missing");
  expect_bad("{\"model_type\": \"bert\", " BASE ",}", HPT_EPARSE,
             "config.json:1:");
  expect_bad("[]", HPT_EPARSE, "not an object");
  hpt_model_config_t c;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_model_config_load("/nonexistent/config.json", &c, &error),
               HPT_ENOTFOUND);
}

Test(model_config, defaults_follow_transformers) {
  hpt_model_config_t c;
  hpt_error_t error = {0};
  cr_assert_eq(parse("{\"model_type\": \"roberta\", " BASE "}", &c, &error), 0,
               "%s", error.message);
  cr_expect_eq(c.pad_token_id, 1);
  cr_expect_eq(c.type_vocab_size, 2);
  cr_expect_eq(c.hidden_act, HPT_ACT_GELU);
  cr_expect_eq(c.num_labels, 2);
  cr_expect_str_eq(c.id2label[0], "LABEL_0");
  cr_expect_str_eq(hpt_model_act_name(c.hidden_act), "gelu");
  hpt_model_config_close(&c);
}
