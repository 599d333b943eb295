/* classifier_save.c — writes a trained model as a Hugging Face model
 * folder (see classifier.h for what goes in it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classifier.h"
#include "json.h"
#include "safetensors_write.h"

/* The files a tokenizer may need; the ones the pretrained folder has are
 * copied. */
static const char *const TOKENIZER_FILES[] = {
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
};

static const char *architecture(hpt_model_type_t type) {
  switch (type) {
  case HPT_MODEL_BERT:
    return "BertForSequenceClassification";
  case HPT_MODEL_DISTILBERT:
    return "DistilBertForSequenceClassification";
  case HPT_MODEL_ELECTRA:
    return "ElectraForSequenceClassification";
  case HPT_MODEL_ROBERTA:
    return "RobertaForSequenceClassification";
  }
  return "?";
}

/* Renames tmp over path, or removes tmp. */
static int commit_file(const char *tmp, const char *path, hpt_error_t *error) {
  if (rename(tmp, path) == 0)
    return 0;
  unlink(tmp);
  return HPT_ERR(error, HPT_EIO, "%s: cannot rename to %s: %s", tmp, path,
                 strerror(errno));
}

static int write_config(const hpt_model_t *model, const char *pretrained_dir,
                        const char *const *labels, size_t max_length,
                        const char *dir, hpt_error_t *error) {
  const hpt_model_config_t *config = hpt_model_config(model);
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/config.json", pretrained_dir);
  json_t *root = NULL;
  int rc = hpt_json_load_file(path, 0, &root, error);
  if (rc != 0)
    return rc;
  json_t *id2label = json_object(), *label2id = json_object();
  for (int i = 0; id2label && label2id && i < config->num_labels; i++) {
    char key[16];
    snprintf(key, sizeof key, "%d", i);
    json_object_set_new(id2label, key, json_string(labels[i]));
    json_object_set_new(label2id, labels[i], json_integer(i));
  }
  if (id2label == NULL || label2id == NULL ||
      json_object_set_new(root, "architectures",
                          json_pack("[s]", architecture(config->model_type))) !=
          0 ||
      json_object_set_new(root, "num_labels",
                          json_integer(config->num_labels)) != 0 ||
      json_object_set_new(root, "id2label", id2label) != 0 ||
      json_object_set_new(root, "label2id", label2id) != 0 ||
      json_object_set_new(root, "problem_type",
                          json_string("single_label_classification")) != 0 ||
      json_object_set_new(root, "hpt_max_length",
                          json_integer((json_int_t)max_length)) != 0) {
    json_decref(root);
    return HPT_ERR(error, HPT_ENOMEM, "classifier: out of memory");
  }
  snprintf(path, sizeof path, "%s/config.json", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  rc = json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (rc != 0) {
    unlink(tmp);
    return HPT_ERR(error, HPT_EIO, "%s: cannot write", tmp);
  }
  return commit_file(tmp, path, error);
}

static int write_weights(const hpt_model_t *model, const char *dir,
                         hpt_error_t *error) {
  size_t n = hpt_model_param_count(model);
  hpt_safetensors_out_t *tensors = calloc(n ? n : 1, sizeof *tensors);
  if (tensors == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "classifier: out of memory");
  for (size_t i = 0; i < n; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    tensors[i] = (hpt_safetensors_out_t){
        .name = p->name, .rank = p->rank, .shape = p->shape, .data = p->value};
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  int rc = hpt_safetensors_write_f32(path, tensors, n, error);
  free(tensors);
  return rc;
}

/* Copies `from` to `to` (through to.tmp). */
static int copy_file(const char *from, const char *to, hpt_error_t *error) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", to);
  FILE *in = fopen(from, "rb");
  if (in == NULL)
    return HPT_ERR(error, HPT_EIO, "%s: cannot read", from);
  FILE *out = fopen(tmp, "wb");
  if (out == NULL) {
    fclose(in);
    return HPT_ERR(error, HPT_EIO, "%s: cannot create", tmp);
  }
  char buffer[65536];
  size_t got;
  bool ok = true;
  while (ok && (got = fread(buffer, 1, sizeof buffer, in)) > 0)
    ok = fwrite(buffer, 1, got, out) == got;
  ok = !ferror(in) && ok;
  fclose(in);
  ok = (fclose(out) == 0) && ok;
  if (!ok) {
    unlink(tmp);
    return HPT_ERR(error, HPT_EIO, "%s: copy to %s failed", from, tmp);
  }
  return commit_file(tmp, to, error);
}

int hpt_classifier_save(const hpt_model_t *model, const char *pretrained_dir,
                        const char *const *labels, size_t max_length,
                        const char *dir, hpt_error_t *error) {
  int rc;
  if ((rc = write_config(model, pretrained_dir, labels, max_length, dir,
                         error)) != 0 ||
      (rc = write_weights(model, dir, error)) != 0)
    return rc;
  for (size_t i = 0; i < sizeof TOKENIZER_FILES / sizeof TOKENIZER_FILES[0];
       i++) {
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/%s", pretrained_dir, TOKENIZER_FILES[i]);
    snprintf(to, sizeof to, "%s/%s", dir, TOKENIZER_FILES[i]);
    if (access(from, R_OK) == 0 && (rc = copy_file(from, to, error)) != 0)
      return rc;
  }
  return 0;
}
