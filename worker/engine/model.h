/* model.h — a transformer encoder with a sequence-classification head, on
 * the CPU in fp32, matching Hugging Face transformers'
 * <Arch>ForSequenceClassification in eval mode to float rounding
 * (tests/unit/engine/test_model_forward.c, test_model_backward.c compare
 * logits, loss and every gradient with PyTorch dumps).
 *
 * Architectures (model_config.h reads config.json):
 *
 *   BERT (MiniLM too)  embeddings (word + position + token type) ->
 *                      LayerNorm -> dropout -> post-LN encoder layers;
 *                      head: pooler dense + tanh on [CLS] -> dropout ->
 *                      classifier
 *   RoBERTa            as BERT, but position ids count non-pad tokens
 *                      from padding_idx + 1 (pads get padding_idx);
 *                      head: dropout -> dense -> tanh -> dropout -> out_proj
 *   ELECTRA            as BERT with embeddings of size E, projected to C
 *                      by embeddings_project when E != C; head as RoBERTa
 *                      with exact GELU in place of tanh
 *   DistilBERT         word + position embeddings, no token types, no
 *                      dropout after the attention output projection;
 *                      head: pre_classifier -> ReLU -> dropout ->
 *                      classifier
 *
 * Encoder layer (all four): self-attention with the padding mask added as
 * (1 - mask) * finfo.min -> softmax -> dropout -> output dense -> dropout
 * -> + residual -> LayerNorm -> FFN (dense, activation, dense) -> dropout
 * -> + residual -> LayerNorm.
 *
 * Loss: mean cross-entropy with label smoothing, as
 * torch.nn.CrossEntropyLoss(label_smoothing=eps); classification only
 * (num_labels >= 2).
 *
 * The passes are in layers_cpu.c (the CPU reference), model.c builds and
 * loads, model_pass.c runs forward and backward. A model is not
 * thread-safe: one thread drives it at a time; OpenBLAS may use its own
 * threads inside a pass.
 */
#ifndef HPT_MODEL_H
#define HPT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "model_config.h"
#include "rng.h"

typedef struct hpt_model hpt_model_t;

/* What a parameter is, for weight decay: HF's usual recipe decays
 * WEIGHT and EMBEDDING, not BIAS nor NORM (LayerNorm weight and bias). */
typedef enum {
  HPT_MODEL_PARAM_WEIGHT,    /* a linear layer's (out, in) matrix */
  HPT_MODEL_PARAM_EMBEDDING, /* an embedding table (rows, E) */
  HPT_MODEL_PARAM_BIAS,      /* a linear layer's bias */
  HPT_MODEL_PARAM_NORM,      /* LayerNorm weight or bias */
} hpt_model_param_kind_t;

/* One parameter tensor. Read-only for callers except the float data behind
 * value and grad, which an optimizer (or a test) may write. Owned by the
 * model, valid until hpt_model_destroy. */
typedef struct hpt_model_param {
  const char *name; /* the HF checkpoint name with the architecture prefix,
                       e.g. "bert.encoder.layer.0.attention.self.query.weight",
                       "classifier.weight" */
  int rank;         /* 1 or 2 */
  int64_t shape[2]; /* shape[1] == 1 when rank is 1 */
  size_t numel;
  float *value; /* numel floats, row-major */
  float *grad;  /* numel floats, same layout; accumulated by backward */
  hpt_model_param_kind_t kind;
  int depth;   /* 0: embeddings; 1..L: encoder layer depth-1; L+1: head */
  bool head;   /* pooler / classifier head: the head learning-rate group */
  bool loaded; /* read from the checkpoint (false: freshly initialised) */
} hpt_model_param_t;

/* One batch of token ids; all arrays borrowed for the call only. */
typedef struct hpt_model_batch {
  int B;                         /* sequences */
  int T;                         /* tokens per sequence (padded) */
  const int32_t *input_ids;      /* (B,T) in [0, vocab_size) */
  const int32_t *attention_mask; /* (B,T) 1 real, 0 padding; NULL: all 1 */
  const int32_t *token_type_ids; /* (B,T) in [0, type_vocab); NULL: 0 */
  const int32_t *labels;         /* (B) in [0, num_labels); NULL: no loss */
} hpt_model_batch_t;

/* How a forward pass runs. NULL means eval: no dropout, no smoothing. */
typedef struct hpt_model_mode {
  bool train;            /* dropout on, with the config's probabilities */
  float label_smoothing; /* eps in [0, 1) */
  hpt_rng_t *rng; /* dropout masks' source when train (borrowed); the masks
                     are drawn in a fixed order, so a seed fixes them */
} hpt_model_mode_t;

/* Builds a model for `config` with every parameter initialised as
 * transformers' _init_weights does: linear and embedding weights
 * normal(0, initializer_range) (the embedding's padding row zero), biases
 * zero, LayerNorm weight 1 and bias 0. Tensor i draws from
 * hpt_rng_seed2(seed, i), so the values depend on the seed only.
 * Takes ownership of *config (which is zeroed, success or failure). On
 * success *out is a new model (free with hpt_model_destroy); on failure
 * *out is NULL and HPT_EUNSUPPORTED (num_labels < 2), HPT_EINVAL or
 * HPT_ENOMEM is returned. */
int hpt_model_new(hpt_model_config_t *config, float initializer_range,
                  uint64_t seed, hpt_model_t **out, hpt_error_t *error);

/* Loads `dir`/config.json and `dir`/model.safetensors (names with or
 * without the architecture prefix, "bert." etc.; F32, F16 or BF16; old
 * LayerNorm gamma/beta names accepted). Head tensors (pooler, classifier)
 * absent from the file are initialised as hpt_model_new does, with
 * initializer_range from config.json (default 0.02); any other absent
 * tensor is an error. Extra tensors are ignored. On failure *out is NULL
 * and the code is the config's or the file's (HPT_ENOTFOUND, HPT_EPARSE,
 * HPT_EUNSUPPORTED for an unsupported model_type, ...) or HPT_ENOTFOUND
 * naming a missing tensor, HPT_EPARSE naming a tensor of the wrong shape.
 */
int hpt_model_load(const char *dir, uint64_t seed, hpt_model_t **out,
                   hpt_error_t *error);

/* Frees everything; sets *model to NULL. Accepts NULL. Cannot fail. */
void hpt_model_destroy(hpt_model_t **model);

/* The model's config (borrowed, valid until destroy). Cannot fail. */
const hpt_model_config_t *hpt_model_config(const hpt_model_t *model);

/* Number of parameter tensors, the i-th (NULL when out of range), or the
 * one called `name` (NULL when none). Borrowed. Cannot fail. */
size_t hpt_model_param_count(const hpt_model_t *model);
const hpt_model_param_t *hpt_model_param_at(const hpt_model_t *model, size_t i);
const hpt_model_param_t *hpt_model_param_find(const hpt_model_t *model,
                                              const char *name);

/* Total number of parameter floats. Cannot fail. */
size_t hpt_model_num_floats(const hpt_model_t *model);

/* Checks `batch` against a model before a pass (both backends use it):
 * B and T >= 1, every input id in the vocabulary, every token type in
 * [0, type_vocab) (0 only for DistilBERT, which has none), every label in
 * [0, num_labels), label_smoothing in [0, 1), and every position id (as
 * hpt_model_position_id numbers them) inside max_position_embeddings.
 * HPT_EINVAL naming the first offender. */
int hpt_model_batch_check(const hpt_model_config_t *config, int type_vocab,
                          const hpt_model_batch_t *batch, float label_smoothing,
                          hpt_error_t *error);

/* Position id of the token at t with id `id`, as Hugging Face numbers
 * them: t; RoBERTa counts non-pad tokens from padding_idx + 1 and gives
 * pads padding_idx (create_position_ids_from_input_ids). *count is the
 * sequence's running count of non-pad tokens (start it at 0). */
static inline int32_t hpt_model_position_id(const hpt_model_config_t *config,
                                            int32_t id, int t, int *count) {
  if (config->model_type != HPT_MODEL_ROBERTA)
    return t;
  int pad = config->pad_token_id;
  return id != pad ? pad + ++*count : pad;
}

/* Runs the forward pass on `batch`; when batch->labels is set also the
 * loss. Afterwards hpt_model_logits gives (B, num_labels) and
 * hpt_model_loss the mean loss (NAN without labels). Returns HPT_EINVAL
 * (naming the offending value) for ids, types or labels out of range, a
 * sequence longer than the position table, train without rng, or eps
 * outside [0, 1); HPT_ENOMEM when activations cannot be allocated. On
 * failure the previous pass's results are gone. */
int hpt_model_forward(hpt_model_t *model, const hpt_model_batch_t *batch,
                      const hpt_model_mode_t *mode, hpt_error_t *error);

/* Logits (B, num_labels) of the last successful forward pass, borrowed
 * until the next pass; NULL before any. Cannot fail. */
const float *hpt_model_logits(const hpt_model_t *model);

/* Loss of the last forward pass; NAN when it had no labels. */
float hpt_model_loss(const hpt_model_t *model);

/* Sets every gradient to zero. Cannot fail. */
void hpt_model_zero_grad(hpt_model_t *model);

/* Backpropagates the last forward pass's loss, ADDING d loss / d param
 * into every param's grad (call hpt_model_zero_grad first for a fresh
 * step). HPT_ESTATE when the last forward pass had no labels or failed. */
int hpt_model_backward(hpt_model_t *model, hpt_error_t *error);

#endif
