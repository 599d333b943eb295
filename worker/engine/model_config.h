/* model_config.h — a Hugging Face transformer encoder's config.json, read
 * into one struct with the names normalised across model families.
 *
 * Supported model_type values and where each field comes from:
 *
 *   field              bert / electra / roberta          distilbert
 *   hidden_size        hidden_size                       dim
 *   num_layers         num_hidden_layers                 n_layers
 *   num_heads          num_attention_heads               n_heads
 *   intermediate_size  intermediate_size                 hidden_dim
 *   hidden_act         hidden_act                        activation
 *   hidden_dropout     hidden_dropout_prob               dropout
 *   attention_dropout  attention_probs_dropout_prob      attention_dropout
 *   classifier_dropout classifier_dropout (null: hidden) seq_classif_dropout
 *   layer_norm_eps     layer_norm_eps                    1e-12 (fixed)
 *   type_vocab_size    type_vocab_size                   0 (no segments)
 *   embedding_size     electra: embedding_size, else hidden_size
 *
 * Shared: vocab_size, max_position_embeddings, pad_token_id, num_labels /
 * id2label. The structural fields (vocab, hidden, layers, heads,
 * intermediate, max positions; ELECTRA's embedding_size) are required;
 * the others default as the transformers config classes do (dropouts 0.1,
 * DistilBERT's seq_classif_dropout 0.2, eps 1e-12, act gelu, type vocab 2,
 * pad 0 (RoBERTa 1), num_labels 2). Only absolute position embeddings
 * are supported (position_embedding_type, DistilBERT's
 * sinusoidal_pos_embds are checked).
 *
 * Checked: positive sizes within sane bounds, hidden_size divisible by
 * num_heads, dropouts in [0, 1), eps > 0, pad_token_id < vocab_size,
 * (RoBERTa) max_position_embeddings > pad_token_id + 1 since its positions
 * start after the pad id, num_labels consistent with id2label whose keys
 * must be exactly "0".."n-1".
 */
#ifndef HPT_MODEL_CONFIG_H
#define HPT_MODEL_CONFIG_H

#include <stddef.h>

#include "error.h"

typedef enum {
  HPT_MODEL_BERT,
  HPT_MODEL_DISTILBERT,
  HPT_MODEL_ELECTRA,
  HPT_MODEL_ROBERTA,
} hpt_model_type_t;

typedef enum {
  HPT_ACT_GELU,      /* "gelu": exact, 0.5 x (1 + erf(x / sqrt 2)) */
  HPT_ACT_GELU_TANH, /* "gelu_new", "gelu_pytorch_tanh": tanh approx. */
  HPT_ACT_RELU,      /* "relu" */
} hpt_model_act_t;

/* Filled by hpt_model_config_load/parse; caller storage. All fields are
 * read-only for callers; id2label is owned by the struct. */
typedef struct hpt_model_config {
  hpt_model_type_t model_type;
  int vocab_size;
  int hidden_size;
  int embedding_size; /* == hidden_size except ELECTRA */
  int num_layers;
  int num_heads;
  int head_dim; /* hidden_size / num_heads */
  int intermediate_size;
  int max_positions;
  int type_vocab_size; /* 0 for DistilBERT */
  int pad_token_id;
  hpt_model_act_t hidden_act;
  double layer_norm_eps;
  double hidden_dropout;
  double attention_dropout;
  double classifier_dropout;
  int num_labels;
  char **id2label; /* num_labels strings ("LABEL_<i>" when not given) */
} hpt_model_config_t;

/* Reads the config.json at `path` into *config (caller storage, any prior
 * content ignored). On success the caller must hpt_model_config_close it.
 * On failure *config holds nothing to free (zeroed) and the return value is
 * HPT_ENOTFOUND (no file), HPT_EIO, HPT_EPARSE (bad JSON, missing or
 * impossible field: the message names it), HPT_EUNSUPPORTED (model_type,
 * hidden_act or position embedding type not supported) or HPT_ENOMEM.
 * Thread-safe. */
int hpt_model_config_load(const char *path, hpt_model_config_t *config,
                          hpt_error_t *error);

/* As hpt_model_config_load, on `size` bytes of JSON text; `what` names the
 * source in messages (NULL: "config.json"). */
int hpt_model_config_parse(const char *text, size_t size, const char *what,
                           hpt_model_config_t *config, hpt_error_t *error);

/* Frees what *config owns and zeroes it. Accepts NULL and a zeroed
 * struct; safe to call twice. Cannot fail. */
void hpt_model_config_close(hpt_model_config_t *config);

/* "bert", "distilbert", "electra", "roberta"; "?" otherwise. */
const char *hpt_model_type_name(hpt_model_type_t type);

/* "gelu", "gelu_tanh", "relu"; "?" otherwise. */
const char *hpt_model_act_name(hpt_model_act_t act);

#endif
