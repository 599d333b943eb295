/* model_config.c — see model_config.h. Defaults follow transformers'
 * BertConfig, DistilBertConfig, ElectraConfig and RobertaConfig. */
#include "model_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_VOCAB (1 << 24)
#define MAX_WIDTH (1 << 16)
#define MAX_LAYERS 1024
#define MAX_POSITIONS (1 << 20)
#define MAX_LABELS (1 << 16)

/* The config.json member names of one model family. */
typedef struct {
  const char *hidden, *layers, *heads, *intermediate, *act;
  const char *hidden_dropout, *attention_dropout, *classifier_dropout;
} names_t;

static const names_t BERT_NAMES = {"hidden_size",
                                   "num_hidden_layers",
                                   "num_attention_heads",
                                   "intermediate_size",
                                   "hidden_act",
                                   "hidden_dropout_prob",
                                   "attention_probs_dropout_prob",
                                   "classifier_dropout"};
static const names_t DISTILBERT_NAMES = {
    "dim",        "n_layers", "n_heads",           "hidden_dim",
    "activation", "dropout",  "attention_dropout", "seq_classif_dropout"};

const char *hpt_model_type_name(hpt_model_type_t type) {
  switch (type) {
  case HPT_MODEL_BERT:
    return "bert";
  case HPT_MODEL_DISTILBERT:
    return "distilbert";
  case HPT_MODEL_ELECTRA:
    return "electra";
  case HPT_MODEL_ROBERTA:
    return "roberta";
  }
  return "?";
}

const char *hpt_model_act_name(hpt_model_act_t act) {
  switch (act) {
  case HPT_ACT_GELU:
    return "gelu";
  case HPT_ACT_GELU_TANH:
    return "gelu_tanh";
  case HPT_ACT_RELU:
    return "relu";
  }
  return "?";
}

/* An int member: `fallback` when absent and !required. */
static int get_int(const json_t *root, const char *what, const char *key,
                   bool required, int fallback, int64_t min, int64_t max,
                   int *out, hpt_error_t *error) {
  int64_t v = fallback;
  int rc = hpt_json_member_int(root, key, min, max, what, &v, error);
  if (rc == HPT_ENOTFOUND) {
    if (required)
      return HPT_ERR(error, HPT_EPARSE, "%s: missing '%s'", what, key);
    /* The default obeys the bounds too: RoBERTa's pad id 1 needs a vocab
     * of at least 2. */
    if (v < min || v > max)
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: missing '%s', whose default %lld is outside "
                     "[%lld, %lld]",
                     what, key, (long long)v, (long long)min, (long long)max);
    rc = 0;
  }
  *out = (int)v;
  return rc;
}

static int get_prob(const json_t *root, const char *what, const char *key,
                    double fallback, double *out, hpt_error_t *error) {
  double v = fallback;
  int rc = hpt_json_member_number(root, key, what, &v, error);
  if (rc == HPT_ENOTFOUND)
    rc = 0;
  if (rc != 0)
    return rc;
  if (!(v >= 0.0 && v < 1.0))
    return HPT_ERR(error, HPT_EPARSE, "%s: '%s' is %g, outside [0, 1)", what,
                   key, v);
  *out = v;
  return 0;
}

static int parse_act(const json_t *root, const char *what, const char *key,
                     hpt_model_act_t *out, hpt_error_t *error) {
  const char *act = "gelu";
  int rc = hpt_json_member_string(root, key, what, &act, error);
  if (rc != 0 && rc != HPT_ENOTFOUND)
    return rc;
  if (strcmp(act, "gelu") == 0)
    *out = HPT_ACT_GELU;
  else if (strcmp(act, "gelu_new") == 0 ||
           strcmp(act, "gelu_pytorch_tanh") == 0 ||
           strcmp(act, "gelu_fast") == 0)
    *out = HPT_ACT_GELU_TANH;
  else if (strcmp(act, "relu") == 0)
    *out = HPT_ACT_RELU;
  else
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: %s '%s' is not supported (gelu, gelu_new, "
                   "gelu_pytorch_tanh, gelu_fast, relu)",
                   what, key, act);
  return 0;
}

/* num_labels and id2label. */
static int parse_labels(const json_t *root, const char *what,
                        hpt_model_config_t *c, hpt_error_t *error) {
  int64_t num_labels = -1;
  int rc = hpt_json_member_int(root, "num_labels", 1, MAX_LABELS, what,
                               &num_labels, error);
  if (rc != 0 && rc != HPT_ENOTFOUND)
    return rc;
  json_t *id2label = json_object_get(root, "id2label");
  if (json_is_null(id2label))
    id2label = NULL;
  if (id2label != NULL) {
    if (!json_is_object(id2label) || json_object_size(id2label) == 0 ||
        json_object_size(id2label) > MAX_LABELS)
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: 'id2label' must be a non-empty object", what);
    if (num_labels >= 0 && (size_t)num_labels != json_object_size(id2label))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: num_labels is %lld but id2label has %zu entries",
                     what, (long long)num_labels, json_object_size(id2label));
    num_labels = (int64_t)json_object_size(id2label);
  } else if (num_labels < 0) {
    num_labels = 2;
  }
  c->num_labels = (int)num_labels;
  c->id2label = calloc((size_t)num_labels, sizeof *c->id2label);
  if (c->id2label == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  for (int i = 0; i < c->num_labels; i++) {
    char key[32];
    snprintf(key, sizeof key, "%d", i);
    const char *label = NULL;
    char fallback[32];
    if (id2label != NULL) {
      json_t *v = json_object_get(id2label, key);
      if (!json_is_string(v))
        return HPT_ERR(error, HPT_EPARSE,
                       "%s: id2label must map \"0\"..\"%d\" to strings; "
                       "\"%s\" is missing or not a string",
                       what, c->num_labels - 1, key);
      label = json_string_value(v);
    } else {
      snprintf(fallback, sizeof fallback, "LABEL_%d", i);
      label = fallback;
    }
    if ((c->id2label[i] = strdup(label)) == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  }
  return 0;
}

static int parse_root(const json_t *root, const char *what,
                      hpt_model_config_t *c, hpt_error_t *error) {
  const char *type = NULL;
  int rc = hpt_json_member_string(root, "model_type", what, &type, error);
  if (rc == HPT_ENOTFOUND)
    return HPT_ERR(error, HPT_EPARSE, "%s: missing 'model_type'", what);
  if (rc != 0)
    return rc;
  if (strcmp(type, "bert") == 0)
    c->model_type = HPT_MODEL_BERT;
  else if (strcmp(type, "distilbert") == 0)
    c->model_type = HPT_MODEL_DISTILBERT;
  else if (strcmp(type, "electra") == 0)
    c->model_type = HPT_MODEL_ELECTRA;
  else if (strcmp(type, "roberta") == 0)
    c->model_type = HPT_MODEL_ROBERTA;
  else
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: model_type '%s' is not supported (bert, distilbert, "
                   "electra, roberta)",
                   what, type);
  bool distil = c->model_type == HPT_MODEL_DISTILBERT;
  const names_t *n = distil ? &DISTILBERT_NAMES : &BERT_NAMES;

  if ((rc = get_int(root, what, "vocab_size", true, 0, 1, MAX_VOCAB,
                    &c->vocab_size, error)) != 0 ||
      (rc = get_int(root, what, n->hidden, true, 0, 1, MAX_WIDTH,
                    &c->hidden_size, error)) != 0 ||
      (rc = get_int(root, what, n->layers, true, 0, 1, MAX_LAYERS,
                    &c->num_layers, error)) != 0 ||
      (rc = get_int(root, what, n->heads, true, 0, 1, MAX_WIDTH, &c->num_heads,
                    error)) != 0 ||
      (rc = get_int(root, what, n->intermediate, true, 0, 1, 16 * MAX_WIDTH,
                    &c->intermediate_size, error)) != 0 ||
      (rc = get_int(root, what, "max_position_embeddings", true, 0, 1,
                    MAX_POSITIONS, &c->max_positions, error)) != 0)
    return rc;
  c->embedding_size = c->hidden_size;
  if (c->model_type == HPT_MODEL_ELECTRA &&
      (rc = get_int(root, what, "embedding_size", true, 0, 1, MAX_WIDTH,
                    &c->embedding_size, error)) != 0)
    return rc;
  if (c->hidden_size % c->num_heads != 0)
    return HPT_ERR(error, HPT_EPARSE, "%s: %s %d is not divisible by %s %d",
                   what, n->hidden, c->hidden_size, n->heads, c->num_heads);
  c->head_dim = c->hidden_size / c->num_heads;

  c->type_vocab_size = 0;
  if (!distil && (rc = get_int(root, what, "type_vocab_size", false, 2, 0, 1024,
                               &c->type_vocab_size, error)) != 0)
    return rc;
  int pad_default = c->model_type == HPT_MODEL_ROBERTA ? 1 : 0;
  if ((rc = get_int(root, what, "pad_token_id", false, pad_default, 0,
                    c->vocab_size - 1, &c->pad_token_id, error)) != 0)
    return rc;
  if (c->model_type == HPT_MODEL_ROBERTA &&
      c->max_positions <= c->pad_token_id + 1)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: max_position_embeddings %d leaves no position after "
                   "pad_token_id %d",
                   what, c->max_positions, c->pad_token_id);

  if ((rc = parse_act(root, what, n->act, &c->hidden_act, error)) != 0)
    return rc;
  c->layer_norm_eps = 1e-12;
  if (!distil) {
    rc = hpt_json_member_number(root, "layer_norm_eps", what,
                                &c->layer_norm_eps, error);
    if (rc != 0 && rc != HPT_ENOTFOUND)
      return rc;
    if (!(c->layer_norm_eps > 0 && c->layer_norm_eps < 1))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: 'layer_norm_eps' is %g, outside (0, 1)", what,
                     c->layer_norm_eps);
  }
  if ((rc = get_prob(root, what, n->hidden_dropout, 0.1, &c->hidden_dropout,
                     error)) != 0 ||
      (rc = get_prob(root, what, n->attention_dropout, 0.1,
                     &c->attention_dropout, error)) != 0 ||
      (rc = get_prob(root, what, n->classifier_dropout,
                     distil ? 0.2 : c->hidden_dropout, &c->classifier_dropout,
                     error)) != 0)
    return rc;

  /* Only learned absolute positions are implemented. */
  const char *position = "absolute";
  rc = hpt_json_member_string(root, "position_embedding_type", what, &position,
                              error);
  if (rc != 0 && rc != HPT_ENOTFOUND)
    return rc;
  if (strcmp(position, "absolute") != 0)
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: position_embedding_type '%s' is not supported "
                   "(absolute)",
                   what, position);
  bool sinusoidal = false;
  rc = hpt_json_member_bool(root, "sinusoidal_pos_embds", what, &sinusoidal,
                            error);
  if (rc != 0 && rc != HPT_ENOTFOUND)
    return rc;
  if (sinusoidal)
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: sinusoidal_pos_embds is not supported", what);
  return parse_labels(root, what, c, error);
}

int hpt_model_config_parse(const char *text, size_t size, const char *what,
                           hpt_model_config_t *config, hpt_error_t *error) {
  memset(config, 0, sizeof *config);
  if (what == NULL)
    what = "config.json";
  json_t *root = NULL;
  int rc = hpt_json_parse(text, size, what, &root, error);
  if (rc != 0)
    return rc;
  if (!json_is_object(root))
    rc = HPT_ERR(error, HPT_EPARSE, "%s: top-level value is not an object",
                 what);
  else
    rc = parse_root(root, what, config, error);
  json_decref(root);
  if (rc != 0)
    hpt_model_config_close(config);
  return rc;
}

int hpt_model_config_load(const char *path, hpt_model_config_t *config,
                          hpt_error_t *error) {
  memset(config, 0, sizeof *config);
  json_t *root = NULL;
  int rc = hpt_json_load_file(path, (size_t)1 << 20, &root, error);
  if (rc != 0)
    return rc;
  rc = parse_root(root, path, config, error);
  json_decref(root);
  if (rc != 0)
    hpt_model_config_close(config);
  return rc;
}

void hpt_model_config_close(hpt_model_config_t *config) {
  if (config == NULL)
    return;
  if (config->id2label != NULL)
    for (int i = 0; i < config->num_labels; i++)
      free(config->id2label[i]);
  free(config->id2label);
  memset(config, 0, sizeof *config);
}
