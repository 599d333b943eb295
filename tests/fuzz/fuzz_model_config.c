/* fuzz_model_config.c — a Hugging Face config.json reader
 * (worker/engine/model_config.c) on arbitrary bytes, through
 * hpt_model_config_parse. What parses must satisfy the checks the header
 * promises (sizes positive, heads divide hidden, labels named 0..n-1);
 * what fails must leave nothing to free. */
#include "fuzz_util.h"
#include "model_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hpt_model_config_t config;
  memset(&config, 0xab, sizeof config); /* "any prior content ignored" */
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = hpt_model_config_parse((const char *)data, size, "fuzz.json",
                                  &config, &error);
  if (rc < 0) {
    FUZZ_CHECK(error.code == rc);
    FUZZ_CHECK(config.id2label == NULL && config.num_labels == 0);
    hpt_model_config_close(&config);
    return 0;
  }
  FUZZ_CHECK(config.vocab_size > 0 && config.hidden_size > 0);
  FUZZ_CHECK(config.num_layers > 0 && config.num_heads > 0);
  FUZZ_CHECK(config.head_dim * config.num_heads == config.hidden_size);
  FUZZ_CHECK(config.intermediate_size > 0 && config.max_positions > 0);
  FUZZ_CHECK(config.embedding_size > 0);
  FUZZ_CHECK(config.pad_token_id >= 0 &&
             config.pad_token_id < config.vocab_size);
  FUZZ_CHECK(config.layer_norm_eps > 0);
  FUZZ_CHECK(config.hidden_dropout >= 0 && config.hidden_dropout < 1);
  FUZZ_CHECK(config.attention_dropout >= 0 && config.attention_dropout < 1);
  FUZZ_CHECK(config.classifier_dropout >= 0 && config.classifier_dropout < 1);
  FUZZ_CHECK(config.num_labels > 0 && config.id2label != NULL);
  for (int i = 0; i < config.num_labels; i++)
    FUZZ_CHECK(config.id2label[i] != NULL);
  FUZZ_CHECK(hpt_model_type_name(config.model_type)[0] != '?');
  FUZZ_CHECK(hpt_model_act_name(config.hidden_act)[0] != '?');
  hpt_model_config_close(&config);
  hpt_model_config_close(&config); /* safe to call twice */
  return 0;
}
