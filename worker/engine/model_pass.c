/* model_pass.c — the model's forward and backward passes (see model.h),
 * written as llm.c's gpt2_forward / gpt2_backward: one readable sequence
 * of the layer passes in layers_cpu.c, with every activation kept for the
 * backward pass. Shape key as in layers_cpu.h.
 *
 * Memory: activations take, per layer, 8 (B,T,C) + 2 (B,T,I) + (B,H,T,T)
 * floats (about 300 MB per layer for MiniLM at B=32, T=256); nothing is
 * recomputed. Dropout keep-masks (1 byte per dropped element) are only
 * allocated for training.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* ---- activation layout -------------------------------------------------- */

/* A bump allocator that only counts when base is NULL. */
typedef struct {
  char *base;
  size_t used; /* bytes */
} cursor_t;

static void *take(cursor_t *c, size_t n, size_t elem) {
  void *p = c->base ? c->base + c->used : NULL;
  c->used += n * elem;
  return p;
}
#define TAKE_F(c, n) ((float *)take((c), (n), sizeof(float)))
#define TAKE_U8(c, n) ((uint8_t *)take((c), (n), 1))
#define TAKE_I(c, n) ((int32_t *)take((c), (n), sizeof(int32_t)))

/* Points m->a's buffers into the three arenas (or only counts, when the
 * arenas' bases are NULL). Keep-masks are laid out only when `keep`. */
static void layout(hpt_model_t *m, int B, int T, bool keep, cursor_t *f,
                   cursor_t *u, cursor_t *i) {
  const hpt_model_config_t *c = &m->config;
  size_t BT = (size_t)B * T, C = (size_t)c->hidden_size;
  size_t E = (size_t)c->embedding_size, I = (size_t)c->intermediate_size;
  size_t H = (size_t)c->num_heads, K = (size_t)c->num_labels;
  size_t att = (size_t)B * H * T * T;
  hpt__acts_t *a = &m->a;
  bool k_hidden = keep && c->hidden_dropout > 0.0;
  bool k_att = keep && c->attention_dropout > 0.0;
  bool k_cls = keep && c->classifier_dropout > 0.0;

  a->B = B;
  a->T = T;
  a->ids = TAKE_I(i, BT);
  a->pos = TAKE_I(i, BT);
  a->types = TAKE_I(i, BT);
  a->mask = TAKE_I(i, BT);
  a->labels = TAKE_I(i, (size_t)B);

  a->emb_sum = TAKE_F(f, BT * E);
  a->emb_mean = TAKE_F(f, BT);
  a->emb_rstd = TAKE_F(f, BT);
  a->emb_ln = TAKE_F(f, BT * E);
  a->emb_keep = k_hidden ? TAKE_U8(u, BT * E) : NULL;
  a->x0 = m->has_proj ? TAKE_F(f, BT * C) : a->emb_ln;
  for (int l = 0; l < c->num_layers; l++) {
    hpt__layer_acts_t *la = &a->layers[l];
    la->q = TAKE_F(f, BT * C);
    la->k = TAKE_F(f, BT * C);
    la->v = TAKE_F(f, BT * C);
    la->att = TAKE_F(f, att);
    la->att_keep = k_att ? TAKE_U8(u, att) : NULL;
    la->ctx = TAKE_F(f, BT * C);
    la->res1 = TAKE_F(f, BT * C);
    la->res1_keep = k_hidden && m->attn_out_dropout ? TAKE_U8(u, BT * C) : NULL;
    la->ln1_mean = TAKE_F(f, BT);
    la->ln1_rstd = TAKE_F(f, BT);
    la->ln1 = TAKE_F(f, BT * C);
    la->fch = TAKE_F(f, BT * I);
    la->fca = TAKE_F(f, BT * I);
    la->res2 = TAKE_F(f, BT * C);
    la->res2_keep = k_hidden ? TAKE_U8(u, BT * C) : NULL;
    la->ln2_mean = TAKE_F(f, BT);
    la->ln2_rstd = TAKE_F(f, BT);
    la->ln2 = TAKE_F(f, BT * C);
  }
  a->h0 = TAKE_F(f, (size_t)B * C);
  a->h0_keep = k_cls && m->head_pre_dropout ? TAKE_U8(u, (size_t)B * C) : NULL;
  a->hd = TAKE_F(f, (size_t)B * C);
  a->ha = TAKE_F(f, (size_t)B * C);
  a->hdrop = TAKE_F(f, (size_t)B * C);
  a->ha_keep = k_cls ? TAKE_U8(u, (size_t)B * C) : NULL;
  a->logits = TAKE_F(f, (size_t)B * K);
  a->probs = TAKE_F(f, (size_t)B * K);
  a->scratch = TAKE_F(f, 2 * (size_t)T * T);

  a->dx = TAKE_F(f, BT * C);
  a->dres = TAKE_F(f, BT * C);
  a->dln1 = TAKE_F(f, BT * C);
  a->dctx = TAKE_F(f, BT * C);
  a->dq = TAKE_F(f, BT * C);
  a->dk = TAKE_F(f, BT * C);
  a->dv = TAKE_F(f, BT * C);
  a->dfa = TAKE_F(f, BT * I);
  a->dfh = TAKE_F(f, BT * I);
  a->demb = TAKE_F(f, BT * E);
  a->demb2 = TAKE_F(f, BT * E);
  a->dh0 = TAKE_F(f, (size_t)B * C);
  a->dhd = TAKE_F(f, (size_t)B * C);
  a->dha = TAKE_F(f, (size_t)B * C);
  a->dlogits = TAKE_F(f, (size_t)B * K);
}

/* Grows an arena to `bytes` when it is smaller. 0 or HPT_ENOMEM. */
static int grow(void **arena, size_t *cap, size_t bytes) {
  if (bytes <= *cap)
    return 0;
  free(*arena);
  *arena = malloc(bytes);
  *cap = *arena ? bytes : 0;
  return *arena ? 0 : HPT_ENOMEM;
}

static int ensure_acts(hpt_model_t *m, int B, int T, bool keep,
                       hpt_error_t *error) {
  if (!m->a.layers) {
    m->a.layers = calloc((size_t)m->config.num_layers, sizeof *m->a.layers);
    if (!m->a.layers)
      return HPT_ERR(error, HPT_ENOMEM, "model: out of memory");
  }
  cursor_t f = {0}, u = {0}, i = {0};
  layout(m, B, T, keep, &f, &u, &i);
  if (grow((void **)&m->act_f, &m->act_f_cap, f.used) != 0 ||
      grow((void **)&m->act_u8, &m->act_u8_cap, u.used) != 0 ||
      grow((void **)&m->act_i, &m->act_i_cap, i.used) != 0)
    return HPT_ERR(error, HPT_ENOMEM,
                   "model: out of memory for activations (B=%d, T=%d: %zu "
                   "bytes)",
                   B, T, f.used + u.used + i.used);
  cursor_t f2 = {(char *)m->act_f, 0}, u2 = {(char *)m->act_u8, 0};
  cursor_t i2 = {(char *)m->act_i, 0};
  layout(m, B, T, keep, &f2, &u2, &i2);
  return 0;
}

/* ---- forward ------------------------------------------------------------ */

/* Copies a checked batch's ids, mask, types and labels into m->a,
 * computing position ids. */
static void take_batch(hpt_model_t *m, const hpt_model_batch_t *batch) {
  const hpt_model_config_t *c = &m->config;
  hpt__acts_t *a = &m->a;
  int B = batch->B, T = batch->T;
  for (int b = 0; b < B; b++) {
    int count = 0; /* RoBERTa: non-pad tokens so far */
    for (int t = 0; t < T; t++) {
      size_t bt = (size_t)b * T + t;
      a->ids[bt] = batch->input_ids[bt];
      a->types[bt] = batch->token_type_ids ? batch->token_type_ids[bt] : 0;
      a->mask[bt] = batch->attention_mask ? batch->attention_mask[bt] != 0 : 1;
      a->pos[bt] = hpt_model_position_id(c, a->ids[bt], t, &count);
    }
    if (batch->labels)
      a->labels[b] = batch->labels[b];
  }
}

/* One post-LN encoder layer: x (B,T,C) -> la->ln2 (B,T,C). */
static void layer_forward(hpt_model_t *m, int l, const float *x, bool train,
                          hpt_rng_t *rng) {
  const hpt_model_config_t *c = &m->config;
  const hpt__layer_weights_t *w = &m->w.layers[l];
  hpt__layer_acts_t *la = &m->a.layers[l];
  int B = m->a.B, T = m->a.T, N = B * T;
  int C = c->hidden_size, I = c->intermediate_size, H = c->num_heads;
  float p_hidden = (float)c->hidden_dropout;
  float p_att = (float)c->attention_dropout;
  size_t NC = (size_t)N * C;

  /* self-attention (BertSelfAttention) */
  hpt__matmul_forward(la->q, x, w->q_w, w->q_b, N, C, C);
  hpt__matmul_forward(la->k, x, w->k_w, w->k_b, N, C, C);
  hpt__matmul_forward(la->v, x, w->v_w, w->v_b, N, C, C);
  if (la->att_keep)
    hpt__dropout_mask(la->att_keep, (size_t)B * H * T * T, p_att, rng);
  hpt__attention_forward(la->ctx, la->att, la->q, la->k, la->v, m->a.mask,
                         train ? la->att_keep : NULL, p_att, m->a.scratch, B, T,
                         C, H);
  /* output dense -> dropout -> + x -> LayerNorm (BertSelfOutput) */
  hpt__matmul_forward(la->res1, la->ctx, w->o_w, w->o_b, N, C, C);
  if (la->res1_keep) {
    hpt__dropout_mask(la->res1_keep, NC, p_hidden, rng);
    hpt__dropout_apply(la->res1, la->res1_keep, NC, p_hidden);
  }
  for (size_t i = 0; i < NC; i++)
    la->res1[i] += x[i];
  hpt__layernorm_forward(la->ln1, la->ln1_mean, la->ln1_rstd, la->res1,
                         w->ln1_w, w->ln1_b, N, C, (float)c->layer_norm_eps);
  /* FFN: dense -> act (BertIntermediate) -> dense -> dropout -> + ln1 ->
   * LayerNorm (BertOutput) */
  hpt__matmul_forward(la->fch, la->ln1, w->fc_w, w->fc_b, N, C, I);
  hpt__act_forward(la->fca, la->fch, (size_t)N * I, m->ffn_act);
  hpt__matmul_forward(la->res2, la->fca, w->proj_w, w->proj_b, N, I, C);
  if (la->res2_keep) {
    hpt__dropout_mask(la->res2_keep, NC, p_hidden, rng);
    hpt__dropout_apply(la->res2, la->res2_keep, NC, p_hidden);
  }
  for (size_t i = 0; i < NC; i++)
    la->res2[i] += la->ln1[i];
  hpt__layernorm_forward(la->ln2, la->ln2_mean, la->ln2_rstd, la->res2,
                         w->ln2_w, w->ln2_b, N, C, (float)c->layer_norm_eps);
}

int hpt_model_forward(hpt_model_t *m, const hpt_model_batch_t *batch,
                      const hpt_model_mode_t *mode, hpt_error_t *error) {
  assert(m && batch && batch->input_ids);
  const hpt_model_config_t *c = &m->config;
  m->have_logits = false;
  m->can_backward = false;
  m->loss = NAN;
  bool train = mode && mode->train;
  float eps = mode ? mode->label_smoothing : 0.0f;
  int rc = hpt_model_batch_check(c, m->type_vocab, batch, eps, error);
  if (rc != 0)
    return rc;
  if (train && !mode->rng)
    return HPT_ERR(error, HPT_EINVAL, "model: training needs an rng");
  int B = batch->B, T = batch->T, N = B * T;
  int C = c->hidden_size, E = c->embedding_size, K = c->num_labels;
  hpt_rng_t *rng = train ? mode->rng : NULL;
  if ((rc = ensure_acts(m, B, T, train, error)) != 0)
    return rc;
  take_batch(m, batch);
  hpt__acts_t *a = &m->a;
  float p_hidden = (float)c->hidden_dropout;
  float p_cls = (float)c->classifier_dropout;

  /* embeddings -> LayerNorm -> dropout (-> ELECTRA's projection) */
  hpt__embeddings_forward(a->emb_sum, a->ids, a->pos, a->types, m->w.wte,
                          m->w.wpe, m->w.wtt, B, T, E);
  hpt__layernorm_forward(a->emb_ln, a->emb_mean, a->emb_rstd, a->emb_sum,
                         m->w.emb_ln_w, m->w.emb_ln_b, N, E,
                         (float)c->layer_norm_eps);
  if (a->emb_keep) {
    hpt__dropout_mask(a->emb_keep, (size_t)N * E, p_hidden, rng);
    hpt__dropout_apply(a->emb_ln, a->emb_keep, (size_t)N * E, p_hidden);
  }
  if (m->has_proj)
    hpt__matmul_forward(a->x0, a->emb_ln, m->w.emb_proj_w, m->w.emb_proj_b, N,
                        E, C);

  /* encoder */
  const float *x = a->x0;
  for (int l = 0; l < c->num_layers; l++) {
    layer_forward(m, l, x, train, rng);
    x = a->layers[l].ln2;
  }

  /* head on the first token: [dropout ->] dense -> act -> dropout -> out */
  for (int b = 0; b < B; b++)
    memcpy(a->h0 + (size_t)b * C, x + (size_t)b * T * C, sizeof(float) * C);
  if (a->h0_keep) {
    hpt__dropout_mask(a->h0_keep, (size_t)B * C, p_cls, rng);
    hpt__dropout_apply(a->h0, a->h0_keep, (size_t)B * C, p_cls);
  }
  hpt__matmul_forward(a->hd, a->h0, m->w.head_w, m->w.head_b, B, C, C);
  hpt__act_forward(a->ha, a->hd, (size_t)B * C, m->head_act);
  memcpy(a->hdrop, a->ha, sizeof(float) * (size_t)B * C);
  if (a->ha_keep) {
    hpt__dropout_mask(a->ha_keep, (size_t)B * C, p_cls, rng);
    hpt__dropout_apply(a->hdrop, a->ha_keep, (size_t)B * C, p_cls);
  }
  hpt__matmul_forward(a->logits, a->hdrop, m->w.out_w, m->w.out_b, B, C, K);
  m->have_logits = true;

  if (batch->labels) {
    m->loss =
        hpt__crossentropy_forward(a->probs, a->logits, a->labels, B, K, eps);
    m->eps = eps;
    m->can_backward = true;
  }
  m->train = train;
  return 0;
}

/* ---- backward ----------------------------------------------------------- */

/* One layer backward: a->dx holds d(layer output) (B,T,C) on entry and
 * d(layer input x) on return. */
static void layer_backward(hpt_model_t *m, int l, const float *x) {
  const hpt_model_config_t *c = &m->config;
  const hpt__layer_weights_t *w = &m->w.layers[l];
  hpt__layer_weights_t *g = &m->g.layers[l];
  const hpt__layer_acts_t *la = &m->a.layers[l];
  hpt__acts_t *a = &m->a;
  int B = a->B, T = a->T, N = B * T;
  int C = c->hidden_size, I = c->intermediate_size, H = c->num_heads;
  size_t NC = (size_t)N * C, NI = (size_t)N * I;
  float p_hidden = (float)c->hidden_dropout;

  /* LN2; res2 = dropout(fca Wp) + ln1 */
  memset(a->dres, 0, NC * sizeof(float));
  hpt__layernorm_backward(a->dres, g->ln2_w, g->ln2_b, a->dx, la->res2,
                          w->ln2_w, la->ln2_mean, la->ln2_rstd, N, C);
  memcpy(a->dln1, a->dres, NC * sizeof(float)); /* residual */
  if (la->res2_keep)
    hpt__dropout_apply(a->dres, la->res2_keep, NC, p_hidden);
  /* FFN */
  memset(a->dfa, 0, NI * sizeof(float));
  hpt__matmul_backward(a->dfa, g->proj_w, g->proj_b, a->dres, la->fca,
                       w->proj_w, N, I, C);
  memset(a->dfh, 0, NI * sizeof(float));
  hpt__act_backward(a->dfh, a->dfa, la->fch, la->fca, NI, m->ffn_act);
  hpt__matmul_backward(a->dln1, g->fc_w, g->fc_b, a->dfh, la->ln1, w->fc_w, N,
                       C, I);
  /* LN1; res1 = dropout(ctx Wo) + x */
  memset(a->dres, 0, NC * sizeof(float));
  hpt__layernorm_backward(a->dres, g->ln1_w, g->ln1_b, a->dln1, la->res1,
                          w->ln1_w, la->ln1_mean, la->ln1_rstd, N, C);
  memcpy(a->dx, a->dres, NC * sizeof(float)); /* residual */
  if (la->res1_keep)
    hpt__dropout_apply(a->dres, la->res1_keep, NC, p_hidden);
  memset(a->dctx, 0, NC * sizeof(float));
  hpt__matmul_backward(a->dctx, g->o_w, g->o_b, a->dres, la->ctx, w->o_w, N, C,
                       C);
  /* attention, then the q, k, v projections into dx */
  hpt__attention_backward(a->dq, a->dk, a->dv, a->dctx, la->q, la->k, la->v,
                          la->att, la->att_keep, (float)c->attention_dropout,
                          a->scratch, B, T, C, H);
  hpt__matmul_backward(a->dx, g->q_w, g->q_b, a->dq, x, w->q_w, N, C, C);
  hpt__matmul_backward(a->dx, g->k_w, g->k_b, a->dk, x, w->k_w, N, C, C);
  hpt__matmul_backward(a->dx, g->v_w, g->v_b, a->dv, x, w->v_w, N, C, C);
}

int hpt_model_backward(hpt_model_t *m, hpt_error_t *error) {
  if (!m->can_backward)
    return HPT_ERR(error, HPT_ESTATE,
                   "model: backward needs a successful forward pass with "
                   "labels");
  const hpt_model_config_t *c = &m->config;
  hpt__acts_t *a = &m->a;
  int B = a->B, T = a->T, N = B * T;
  int C = c->hidden_size, E = c->embedding_size, K = c->num_labels;
  float p_hidden = (float)c->hidden_dropout;
  float p_cls = (float)c->classifier_dropout;
  size_t BC = (size_t)B * C;

  /* loss -> head */
  hpt__crossentropy_backward(a->dlogits, a->probs, a->labels, B, K, m->eps);
  memset(a->dha, 0, BC * sizeof(float));
  hpt__matmul_backward(a->dha, m->g.out_w, m->g.out_b, a->dlogits, a->hdrop,
                       m->w.out_w, B, C, K);
  if (a->ha_keep)
    hpt__dropout_apply(a->dha, a->ha_keep, BC, p_cls);
  memset(a->dhd, 0, BC * sizeof(float));
  hpt__act_backward(a->dhd, a->dha, a->hd, a->ha, BC, m->head_act);
  memset(a->dh0, 0, BC * sizeof(float));
  hpt__matmul_backward(a->dh0, m->g.head_w, m->g.head_b, a->dhd, a->h0,
                       m->w.head_w, B, C, C);
  if (a->h0_keep)
    hpt__dropout_apply(a->dh0, a->h0_keep, BC, p_cls);
  memset(a->dx, 0, (size_t)N * C * sizeof(float));
  for (int b = 0; b < B; b++)
    memcpy(a->dx + (size_t)b * T * C, a->dh0 + (size_t)b * C,
           sizeof(float) * C);

  /* encoder, last layer first */
  for (int l = c->num_layers - 1; l >= 0; l--)
    layer_backward(m, l, l > 0 ? a->layers[l - 1].ln2 : a->x0);

  /* (projection ->) dropout -> LayerNorm -> embedding tables */
  size_t NE = (size_t)N * E;
  float *demb = a->dx;
  if (m->has_proj) {
    memset(a->demb, 0, NE * sizeof(float));
    hpt__matmul_backward(a->demb, m->g.emb_proj_w, m->g.emb_proj_b, a->dx,
                         a->emb_ln, m->w.emb_proj_w, N, E, C);
    demb = a->demb;
  }
  if (a->emb_keep)
    hpt__dropout_apply(demb, a->emb_keep, NE, p_hidden);
  memset(a->demb2, 0, NE * sizeof(float));
  hpt__layernorm_backward(a->demb2, m->g.emb_ln_w, m->g.emb_ln_b, demb,
                          a->emb_sum, m->w.emb_ln_w, a->emb_mean, a->emb_rstd,
                          N, E);
  int pos_pad = c->model_type == HPT_MODEL_ROBERTA ? c->pad_token_id : -1;
  hpt__embeddings_backward(m->g.wte, m->g.wpe, m->g.wtt, a->demb2, a->ids,
                           a->pos, a->types, B, T, E, c->pad_token_id, pos_pad);
  return 0;
}
