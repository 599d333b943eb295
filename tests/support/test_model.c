/* test_model.c — see test_model.h. */
#include "test_model.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "safetensors_write.h"
#include "test_util.h"

/* [PAD] [UNK] [CLS] [SEP] [MASK], characters and ##characters; returns the
 * vocabulary size. */
static int write_vocab(const char *path) {
  static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-";
  FILE *out = fopen(path, "w");
  cr_assert_not_null(out);
  fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", out);
  int n = 5;
  for (const char *c = chars; *c; c++, n++)
    fprintf(out, "%c\n", *c);
  for (const char *c = chars; *c; c++, n++)
    fprintf(out, "##%c\n", *c);
  fclose(out);
  return n;
}

void hpt_test_make_tiny_bert(const char *folder, const char *labels) {
  char path[600], config[1024];
  cr_assert_eq(mkdir(folder, 0755), 0, "mkdir %s", folder);
  snprintf(path, sizeof path, "%s/vocab.txt", folder);
  int vocab = write_vocab(path);
  snprintf(config, sizeof config,
           "{\"model_type\": \"bert\", \"vocab_size\": %d, \"hidden_size\": "
           "32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
           "\"intermediate_size\": 64, \"max_position_embeddings\": 64, "
           "\"type_vocab_size\": 2, \"pad_token_id\": 0, \"id2label\": %s}",
           vocab, labels);
  snprintf(path, sizeof path, "%s/config.json", folder);
  hpt_test_write_file(path, config);
  hpt_model_config_t c;
  hpt_model_t *model = NULL;
  hpt_error_t error;
  cr_assert_eq(hpt_model_config_parse(config, strlen(config), NULL, &c, &error),
               0, "%s", error.message);
  cr_assert_eq(hpt_model_new(&c, 0.02f, 7, &model, &error), 0, "%s",
               error.message);
  /* The pretrained body only, as a checkpoint without a head would be. */
  size_t n = 0, count = hpt_model_param_count(model);
  hpt_safetensors_out_t *tensors = calloc(count, sizeof *tensors);
  cr_assert_not_null(tensors);
  for (size_t i = 0; i < count; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    if (!p->head)
      tensors[n++] =
          (hpt_safetensors_out_t){p->name, p->rank, p->shape, p->value};
  }
  snprintf(path, sizeof path, "%s/model.safetensors", folder);
  cr_assert_eq(hpt_safetensors_write_f32(path, tensors, n, &error), 0, "%s",
               error.message);
  free(tensors);
  hpt_model_destroy(&model);
}
