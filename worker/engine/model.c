/* model.c — building, loading and freeing an hpt_model_t (see model.h).
 *
 * The parameter table is built once per model from the config: one entry
 * per HF tensor, named as transformers names it inside
 * <Arch>ForSequenceClassification, in module order. Every entry points at
 * a typed slot of hpt__weights_t (m->w) and the same slot of the gradient
 * view (m->g), so the passes never look names up.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "model_internal.h"
#include "safetensors.h"

/* ---- the parameter table ------------------------------------------------ */

typedef struct {
  hpt_model_param_t *params;
  float ***pslots, ***gslots; /* where each param's pointers go */
  size_t n, cap;
  int rc;
} table_t;

static void add(table_t *t, float **pslot, float **gslot,
                hpt_model_param_kind_t kind, int depth, bool head, int64_t d0,
                int64_t d1, const char *format, ...)
    __attribute__((format(printf, 9, 10)));

/* Appends one tensor of shape (d0) when d1 == 0, else (d0, d1). Records
 * HPT_ENOMEM in t->rc and does nothing more once that happens. */
static void add(table_t *t, float **pslot, float **gslot,
                hpt_model_param_kind_t kind, int depth, bool head, int64_t d0,
                int64_t d1, const char *format, ...) {
  if (t->rc != 0)
    return;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    hpt_model_param_t *p = realloc(t->params, cap * sizeof *p);
    if (p)
      t->params = p;
    float ***ps = realloc(t->pslots, cap * sizeof *ps);
    if (ps)
      t->pslots = ps;
    float ***gs = realloc(t->gslots, cap * sizeof *gs);
    if (gs)
      t->gslots = gs;
    if (!p || !ps || !gs) {
      t->rc = HPT_ENOMEM;
      return;
    }
    t->cap = cap;
  }
  char name[256];
  va_list ap;
  va_start(ap, format);
  vsnprintf(name, sizeof name, format, ap);
  va_end(ap);
  char *owned = strdup(name);
  if (!owned) {
    t->rc = HPT_ENOMEM;
    return;
  }
  hpt_model_param_t *p = &t->params[t->n];
  memset(p, 0, sizeof *p);
  p->name = owned;
  p->rank = d1 ? 2 : 1;
  p->shape[0] = d0;
  p->shape[1] = d1 ? d1 : 1;
  p->numel = (size_t)d0 * (size_t)(d1 ? d1 : 1);
  p->kind = kind;
  p->depth = depth;
  p->head = head;
  t->pslots[t->n] = pslot;
  t->gslots[t->n] = gslot;
  t->n++;
}

static const char *prefix_of(hpt_model_type_t type) {
  switch (type) {
  case HPT_MODEL_BERT:
    return "bert.";
  case HPT_MODEL_DISTILBERT:
    return "distilbert.";
  case HPT_MODEL_ELECTRA:
    return "electra.";
  case HPT_MODEL_ROBERTA:
    return "roberta.";
  }
  return "";
}

#define W HPT_MODEL_PARAM_WEIGHT
#define EMB HPT_MODEL_PARAM_EMBEDDING
#define BIAS HPT_MODEL_PARAM_BIAS
#define NORM HPT_MODEL_PARAM_NORM
/* A (weight, bias) pair of slot `f` (f_w, f_b) in struct view `s`. */
#define SLOTS(s, f) &m->w.s f, &m->g.s f

static void build_table(hpt_model_t *m, table_t *t) {
  const hpt_model_config_t *c = &m->config;
  const char *p = prefix_of(c->model_type);
  int64_t V = c->vocab_size, P = c->max_positions, E = c->embedding_size;
  int64_t C = c->hidden_size, I = c->intermediate_size, K = c->num_labels;
  int L = c->num_layers, TV = m->type_vocab;
  bool distil = c->model_type == HPT_MODEL_DISTILBERT;

  add(t, SLOTS(, wte), EMB, 0, false, V, E,
      "%sembeddings.word_embeddings.weight", p);
  add(t, SLOTS(, wpe), EMB, 0, false, P, E,
      "%sembeddings.position_embeddings.weight", p);
  if (TV > 0)
    add(t, SLOTS(, wtt), EMB, 0, false, TV, E,
        "%sembeddings.token_type_embeddings.weight", p);
  add(t, SLOTS(, emb_ln_w), NORM, 0, false, E, 0,
      "%sembeddings.LayerNorm.weight", p);
  add(t, SLOTS(, emb_ln_b), NORM, 0, false, E, 0, "%sembeddings.LayerNorm.bias",
      p);
  if (m->has_proj) {
    add(t, SLOTS(, emb_proj_w), W, 0, false, C, E,
        "%sembeddings_project.weight", p);
    add(t, SLOTS(, emb_proj_b), BIAS, 0, false, C, 0,
        "%sembeddings_project.bias", p);
  }

  for (int l = 0; l < L; l++) {
    int d = l + 1;
    /* The sub-module names of each weight, BERT-style and DistilBERT. */
    const char *q = distil ? "attention.q_lin" : "attention.self.query";
    const char *k = distil ? "attention.k_lin" : "attention.self.key";
    const char *v = distil ? "attention.v_lin" : "attention.self.value";
    const char *o = distil ? "attention.out_lin" : "attention.output.dense";
    const char *n1 = distil ? "sa_layer_norm" : "attention.output.LayerNorm";
    const char *fc = distil ? "ffn.lin1" : "intermediate.dense";
    const char *pr = distil ? "ffn.lin2" : "output.dense";
    const char *n2 = distil ? "output_layer_norm" : "output.LayerNorm";
    const char *stack = distil ? "transformer" : "encoder";
#define LAYER(f, kind, d0, d1, sub, leaf)                                      \
  add(t, SLOTS(layers[l]., f), kind, d, false, d0, d1, "%s%s.layer.%d.%s.%s",  \
      p, stack, l, sub, leaf)
    LAYER(q_w, W, C, C, q, "weight");
    LAYER(q_b, BIAS, C, 0, q, "bias");
    LAYER(k_w, W, C, C, k, "weight");
    LAYER(k_b, BIAS, C, 0, k, "bias");
    LAYER(v_w, W, C, C, v, "weight");
    LAYER(v_b, BIAS, C, 0, v, "bias");
    LAYER(o_w, W, C, C, o, "weight");
    LAYER(o_b, BIAS, C, 0, o, "bias");
    LAYER(ln1_w, NORM, C, 0, n1, "weight");
    LAYER(ln1_b, NORM, C, 0, n1, "bias");
    LAYER(fc_w, W, I, C, fc, "weight");
    LAYER(fc_b, BIAS, I, 0, fc, "bias");
    LAYER(proj_w, W, C, I, pr, "weight");
    LAYER(proj_b, BIAS, C, 0, pr, "bias");
    LAYER(ln2_w, NORM, C, 0, n2, "weight");
    LAYER(ln2_b, NORM, C, 0, n2, "bias");
#undef LAYER
  }

  int d = L + 1;
  switch (c->model_type) {
  case HPT_MODEL_BERT:
    add(t, SLOTS(, head_w), W, d, true, C, C, "%spooler.dense.weight", p);
    add(t, SLOTS(, head_b), BIAS, d, true, C, 0, "%spooler.dense.bias", p);
    add(t, SLOTS(, out_w), W, d, true, K, C, "classifier.weight");
    add(t, SLOTS(, out_b), BIAS, d, true, K, 0, "classifier.bias");
    break;
  case HPT_MODEL_ROBERTA:
  case HPT_MODEL_ELECTRA:
    add(t, SLOTS(, head_w), W, d, true, C, C, "classifier.dense.weight");
    add(t, SLOTS(, head_b), BIAS, d, true, C, 0, "classifier.dense.bias");
    add(t, SLOTS(, out_w), W, d, true, K, C, "classifier.out_proj.weight");
    add(t, SLOTS(, out_b), BIAS, d, true, K, 0, "classifier.out_proj.bias");
    break;
  case HPT_MODEL_DISTILBERT:
    add(t, SLOTS(, head_w), W, d, true, C, C, "pre_classifier.weight");
    add(t, SLOTS(, head_b), BIAS, d, true, C, 0, "pre_classifier.bias");
    add(t, SLOTS(, out_w), W, d, true, K, C, "classifier.weight");
    add(t, SLOTS(, out_b), BIAS, d, true, K, 0, "classifier.bias");
    break;
  }
}

#undef SLOTS
#undef W
#undef EMB
#undef BIAS
#undef NORM

/* ---- initialisation ----------------------------------------------------- */

/* transformers' _init_weights for one tensor: normal(0, range) for linear
 * and embedding weights (padding row zeroed), zero biases, LayerNorm 1/0.
 * Draws from its own stream (seed, index) so that which tensors a
 * checkpoint lacks does not change the others' values. */
static void init_param(const hpt_model_t *m, hpt_model_param_t *p, size_t index,
                       uint64_t seed) {
  hpt_rng_t rng;
  hpt_rng_seed2(&rng, seed, index);
  switch (p->kind) {
  case HPT_MODEL_PARAM_WEIGHT:
  case HPT_MODEL_PARAM_EMBEDDING:
    for (size_t i = 0; i < p->numel; i++)
      p->value[i] = (float)(hpt_rng_normal(&rng) * m->initializer_range);
    break;
  case HPT_MODEL_PARAM_BIAS:
    memset(p->value, 0, p->numel * sizeof(float));
    break;
  case HPT_MODEL_PARAM_NORM: {
    size_t len = strlen(p->name);
    float v =
        len > 7 && strcmp(p->name + len - 7, ".weight") == 0 ? 1.0f : 0.0f;
    for (size_t i = 0; i < p->numel; i++)
      p->value[i] = v;
    break;
  }
  }
  /* nn.Embedding(padding_idx=pad) zeroes that row at init. */
  int pad = -1;
  if (p->value == m->w.wte ||
      (p->value == m->w.wpe && m->config.model_type == HPT_MODEL_ROBERTA))
    pad = m->config.pad_token_id;
  if (pad >= 0 && pad < p->shape[0])
    memset(p->value + (size_t)pad * (size_t)p->shape[1], 0,
           (size_t)p->shape[1] * sizeof(float));
}

/* ---- lifecycle ---------------------------------------------------------- */

int hpt_model_new(hpt_model_config_t *config, float initializer_range,
                  uint64_t seed, hpt_model_t **out, hpt_error_t *error) {
  *out = NULL;
  int rc = 0;
  table_t t = {0};
  hpt_model_t *m = calloc(1, sizeof *m);
  if (!m) {
    hpt_model_config_close(config);
    return HPT_ERR(error, HPT_ENOMEM, "model: out of memory");
  }
  m->config = *config;
  memset(config, 0, sizeof *config);
  const hpt_model_config_t *c = &m->config;
  if (c->num_labels < 2) {
    rc = HPT_ERR(error, HPT_EUNSUPPORTED,
                 "model: num_labels %d: only classification (>= 2 labels) "
                 "is supported",
                 c->num_labels);
    goto out;
  }
  if (!(initializer_range > 0.0f) || !isfinite(initializer_range)) {
    rc = HPT_ERR(error, HPT_EINVAL, "model: initializer_range %g not > 0",
                 (double)initializer_range);
    goto out;
  }
  m->initializer_range = initializer_range;
  m->type_vocab =
      c->model_type == HPT_MODEL_DISTILBERT ? 0 : c->type_vocab_size;
  m->has_proj =
      c->model_type == HPT_MODEL_ELECTRA && c->embedding_size != c->hidden_size;
  m->head_pre_dropout =
      c->model_type == HPT_MODEL_ROBERTA || c->model_type == HPT_MODEL_ELECTRA;
  m->attn_out_dropout = c->model_type != HPT_MODEL_DISTILBERT;
  m->ffn_act = c->hidden_act == HPT_ACT_GELU        ? HPT__ACT_GELU
               : c->hidden_act == HPT_ACT_GELU_TANH ? HPT__ACT_GELU_TANH
                                                    : HPT__ACT_RELU;
  switch (c->model_type) {
  case HPT_MODEL_BERT:
  case HPT_MODEL_ROBERTA:
    m->head_act = HPT__ACT_TANH;
    break;
  case HPT_MODEL_ELECTRA:
    m->head_act = HPT__ACT_GELU;
    break;
  case HPT_MODEL_DISTILBERT:
    m->head_act = HPT__ACT_RELU;
    break;
  }
  m->w.layers = calloc((size_t)c->num_layers, sizeof *m->w.layers);
  m->g.layers = calloc((size_t)c->num_layers, sizeof *m->g.layers);
  if (!m->w.layers || !m->g.layers) {
    rc = HPT_ERR(error, HPT_ENOMEM, "model: out of memory");
    goto out;
  }
  build_table(m, &t);
  m->params = t.params;
  m->n_params = t.n;
  t.params = NULL;
  if (t.rc != 0) {
    rc = HPT_ERR(error, t.rc, "model: out of memory building the table");
    goto out;
  }
  for (size_t i = 0; i < m->n_params; i++)
    m->n_floats += m->params[i].numel;
  m->values = malloc(m->n_floats * sizeof(float));
  m->grads = calloc(m->n_floats, sizeof(float));
  if (!m->values || !m->grads) {
    rc = HPT_ERR(error, HPT_ENOMEM, "model: out of memory for %zu parameters",
                 m->n_floats);
    goto out;
  }
  size_t off = 0;
  for (size_t i = 0; i < m->n_params; i++) {
    hpt_model_param_t *p = &m->params[i];
    p->value = m->values + off;
    p->grad = m->grads + off;
    *t.pslots[i] = p->value;
    *t.gslots[i] = p->grad;
    off += p->numel;
  }
  for (size_t i = 0; i < m->n_params; i++)
    init_param(m, &m->params[i], i, seed);
  m->loss = NAN;
out:
  free(t.params);
  free(t.pslots);
  free(t.gslots);
  if (rc != 0)
    hpt_model_destroy(&m);
  *out = m;
  return rc;
}

void hpt_model_destroy(hpt_model_t **model) {
  if (!model || !*model)
    return;
  hpt_model_t *m = *model;
  for (size_t i = 0; i < m->n_params; i++)
    free((char *)m->params[i].name);
  free(m->params);
  free(m->values);
  free(m->grads);
  free(m->w.layers);
  free(m->g.layers);
  free(m->a.layers);
  free(m->act_f);
  free(m->act_u8);
  free(m->act_i);
  hpt_model_config_close(&m->config);
  free(m);
  *model = NULL;
}

/* ---- loading ------------------------------------------------------------ */

/* The checkpoint tensor for `p`: its full name, or without the
 * architecture prefix, each also with LayerNorm's old gamma/beta names. */
static const hpt_safetensors_tensor_t *
find_tensor(const hpt_safetensors_t *st, const char *name, const char *prefix) {
  size_t plen = strlen(prefix);
  const char *names[2] = {name, strncmp(name, prefix, plen) == 0 ? name + plen
                                                                 : NULL};
  for (int i = 0; i < 2; i++) {
    if (!names[i])
      continue;
    const hpt_safetensors_tensor_t *t = hpt_safetensors_find(st, names[i]);
    if (t)
      return t;
    size_t len = strlen(names[i]);
    bool ln_w =
        len > 17 && strcmp(names[i] + len - 17, "LayerNorm.weight") == 0;
    bool ln_b = len > 15 && strcmp(names[i] + len - 15, "LayerNorm.bias") == 0;
    if (!ln_w && !ln_b)
      continue;
    char old[300];
    snprintf(old, sizeof old, "%.*s%s", (int)(len - (ln_w ? 6 : 4)), names[i],
             ln_w ? "gamma" : "beta");
    t = hpt_safetensors_find(st, old);
    if (t)
      return t;
  }
  return NULL;
}

static int load_weights(hpt_model_t *m, const char *path, hpt_error_t *error) {
  hpt_safetensors_t *st = NULL;
  int rc = hpt_safetensors_open(path, &st, error);
  if (rc != 0)
    return rc;
  const char *prefix = prefix_of(m->config.model_type);
  for (size_t i = 0; i < m->n_params; i++) {
    hpt_model_param_t *p = &m->params[i];
    const hpt_safetensors_tensor_t *t = find_tensor(st, p->name, prefix);
    if (!t) {
      if (p->head)
        continue; /* a new head: keeps its initialisation */
      rc = HPT_ERR(error, HPT_ENOTFOUND,
                   "%s: tensor '%s' (or without the '%s' prefix) is missing",
                   path, p->name, prefix);
      goto out;
    }
    bool ok = t->rank == p->rank && t->shape[0] == p->shape[0] &&
              (p->rank == 1 || t->shape[1] == p->shape[1]);
    if (!ok) {
      rc = HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s' has shape [%lld, %lld] (rank %d), "
                   "expected [%lld, %lld] (rank %d)",
                   path, t->name, (long long)t->shape[0],
                   (long long)t->shape[1], t->rank, (long long)p->shape[0],
                   (long long)p->shape[1], p->rank);
      goto out;
    }
    rc = hpt_safetensors_to_f32(t, p->value, p->numel, error);
    if (rc != 0) {
      hpt_error_prefix(error, "%s: tensor '%s'", path, t->name);
      goto out;
    }
    p->loaded = true;
  }
out:
  hpt_safetensors_close(&st);
  return rc;
}

/* config.json's initializer_range (not in hpt_model_config_t), 0.02 when
 * absent. */
static int read_initializer_range(const char *path, float *out,
                                  hpt_error_t *error) {
  json_t *root = NULL;
  int rc = hpt_json_load_file(path, (size_t)1 << 20, &root, error);
  if (rc != 0)
    return rc;
  double v = 0.02;
  rc = hpt_json_member_number(root, "initializer_range", path, &v, error);
  json_decref(root);
  if (rc == HPT_ENOTFOUND)
    rc = 0;
  *out = (float)v;
  return rc;
}

int hpt_model_load(const char *dir, uint64_t seed, hpt_model_t **out,
                   hpt_error_t *error) {
  *out = NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/config.json", dir);
  hpt_model_config_t config;
  int rc = hpt_model_config_load(path, &config, error);
  if (rc != 0)
    return rc;
  float range = 0.02f;
  rc = read_initializer_range(path, &range, error);
  if (rc != 0) {
    hpt_model_config_close(&config);
    return rc;
  }
  hpt_model_t *m = NULL;
  rc = hpt_model_new(&config, range, seed, &m, error);
  if (rc != 0)
    return rc;
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  rc = load_weights(m, path, error);
  if (rc != 0) {
    hpt_model_destroy(&m);
    return rc;
  }
  *out = m;
  return 0;
}

/* ---- accessors ---------------------------------------------------------- */

const hpt_model_config_t *hpt_model_config(const hpt_model_t *model) {
  return &model->config;
}

size_t hpt_model_param_count(const hpt_model_t *model) {
  return model->n_params;
}

const hpt_model_param_t *hpt_model_param_at(const hpt_model_t *model,
                                            size_t i) {
  return i < model->n_params ? &model->params[i] : NULL;
}

const hpt_model_param_t *hpt_model_param_find(const hpt_model_t *model,
                                              const char *name) {
  for (size_t i = 0; i < model->n_params; i++)
    if (strcmp(model->params[i].name, name) == 0)
      return &model->params[i];
  return NULL;
}

size_t hpt_model_num_floats(const hpt_model_t *model) {
  return model->n_floats;
}

void hpt_model_zero_grad(hpt_model_t *model) {
  memset(model->grads, 0, model->n_floats * sizeof(float));
}

const float *hpt_model_logits(const hpt_model_t *model) {
  return model->have_logits ? model->a.logits : NULL;
}

float hpt_model_loss(const hpt_model_t *model) { return model->loss; }

int hpt_model_batch_check(const hpt_model_config_t *c, int type_vocab,
                          const hpt_model_batch_t *batch, float label_smoothing,
                          hpt_error_t *error) {
  if (batch->B <= 0 || batch->T <= 0)
    return HPT_ERR(error, HPT_EINVAL, "model: batch shape B=%d T=%d", batch->B,
                   batch->T);
  if (!(label_smoothing >= 0.0f && label_smoothing < 1.0f))
    return HPT_ERR(error, HPT_EINVAL,
                   "model: label_smoothing %g outside [0, 1)",
                   (double)label_smoothing);
  for (int b = 0; b < batch->B; b++) {
    int count = 0;
    for (int t = 0; t < batch->T; t++) {
      size_t bt = (size_t)b * batch->T + t;
      int32_t id = batch->input_ids[bt];
      if (id < 0 || id >= c->vocab_size)
        return HPT_ERR(error, HPT_EINVAL,
                       "model: input_ids[%d][%d] = %d outside [0, %d)", b, t,
                       id, c->vocab_size);
      int32_t type = batch->token_type_ids ? batch->token_type_ids[bt] : 0;
      if (type != 0 && (type < 0 || type >= type_vocab))
        return HPT_ERR(error, HPT_EINVAL,
                       "model: token_type_ids[%d][%d] = %d outside [0, %d)", b,
                       t, type, type_vocab);
      int32_t position = hpt_model_position_id(c, id, t, &count);
      if (position >= c->max_positions)
        return HPT_ERR(error, HPT_EINVAL,
                       "model: sequence %d needs position %d, past "
                       "max_position_embeddings %d",
                       b, position, c->max_positions);
    }
    if (batch->labels &&
        (batch->labels[b] < 0 || batch->labels[b] >= c->num_labels))
      return HPT_ERR(error, HPT_EINVAL,
                     "model: labels[%d] = %d outside [0, %d)", b,
                     batch->labels[b], c->num_labels);
  }
  return 0;
}
