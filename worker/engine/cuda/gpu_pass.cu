/* gpu_pass.cu — the model's forward and backward passes on the GPU, the
 * twin of model_pass.c (same order of layer passes, same names), and the
 * CUDA-graph replay of a pass.
 *
 * A pass only enqueues work on g->stream; it reads the batch, the loss
 * weight and the dropout counter from device memory (written before the
 * pass by gpu_model.cu), so a captured graph of it stays valid for every
 * later batch of the same (B, T) and kind.
 *
 * Types: encoder activations in the compute type (T below), weights of
 * the GEMMs from the compute copy g->wc, LayerNorm and embedding tables
 * from the fp32 master g->values, the classification head entirely in
 * fp32 (it is tiny: B x C x C), parameter gradients fp32 (g->grads).
 */
#include <string.h>

#include "gpu_internal.cuh"

static float *val(const hpt_gpu_model_t *g, size_t off) {
  return g->values + off;
}
static float *grad(const hpt_gpu_model_t *g, size_t off) {
  return g->grads + off;
}

/* ---- forward ------------------------------------------------------------ */

/* One post-LN encoder layer: x (N,C) -> la->ln2 (model_pass.c's
 * layer_forward). */
static int layer_forward(hpt_gpu_model_t *g, int l, const void *x, bool train,
                         hpt_error_t *error) {
  hpt__gpu_acts_t *a = &g->a;
  hpt__gpu_layer_acts_t *la = &a->layers[l];
  const hpt__gpu_layer_off_t *o = &g->off.layers[l];
  int N = a->B * a->T, C = g->cfg.hidden_size, I = g->cfg.intermediate_size;
  float eps = (float)g->cfg.layer_norm_eps, p = (float)g->p_hidden;
  hpt_gpu_amp_t amp = g->opts.amp;
  cudaDataType_t ty = hpt__gpu_act_type(g);
  const hpt__gpu_rng_t *rng = train && p > 0.0f ? &g->sc->rng : NULL;
  uint32_t site = HPT__SITE_LAYER0 + 4 * (uint32_t)l;
  int rc;
  if ((rc = hpt__gpu_attention_forward(g, l, x, train, error)) != 0 ||
      (rc = hpt__gpu_linear_forward(
           g, a->tmp, la->ctx, hpt__gpu_weight(g, o->o_w),
           hpt__gpu_weight(g, o->o_b), N, C, C, ty, error)) != 0 ||
      (rc = hpt__gpu_residual_ln_forward(
           amp, g->stream, la->ln1, la->res1, la->ln1_mean, la->ln1_rstd,
           a->tmp, x, val(g, o->ln1_w), val(g, o->ln1_b), N, C, eps,
           g->attn_out_dropout ? rng : NULL, site + 1, p, error)) != 0 ||
      (rc = hpt__gpu_linear_forward(
           g, la->fch, la->ln1, hpt__gpu_weight(g, o->fc_w),
           hpt__gpu_weight(g, o->fc_b), N, C, I, ty, error)) != 0 ||
      (rc = hpt__gpu_act_forward(amp, g->stream, la->fca, la->fch,
                                 (size_t)N * I, g->ffn_act, error)) != 0 ||
      (rc = hpt__gpu_linear_forward(
           g, a->tmp, la->fca, hpt__gpu_weight(g, o->proj_w),
           hpt__gpu_weight(g, o->proj_b), N, I, C, ty, error)) != 0)
    return rc;
  return hpt__gpu_residual_ln_forward(
      amp, g->stream, la->ln2, la->res2, la->ln2_mean, la->ln2_rstd, a->tmp,
      la->ln1, val(g, o->ln2_w), val(g, o->ln2_b), N, C, eps, rng, site + 2, p,
      error);
}

static int forward(hpt_gpu_model_t *g, bool train, bool labels,
                   hpt_error_t *error) {
  hpt__gpu_acts_t *a = &g->a;
  const hpt__gpu_off_t *o = &g->off;
  cudaStream_t s = g->stream;
  int B = a->B, T_ = a->T, N = B * T_;
  int C = g->cfg.hidden_size, E = g->cfg.embedding_size;
  int K = g->cfg.num_labels;
  float p_hidden = (float)g->p_hidden, p_cls = (float)g->p_cls;
  const hpt__gpu_rng_t *rng = &g->sc->rng;
  int rc;
  if (train && (rc = hpt__gpu_rng_advance(s, g->sc, error)) != 0)
    return rc;

  /* embeddings -> LayerNorm -> dropout (-> ELECTRA's projection) */
  if ((rc = hpt__gpu_embed_ln_forward(
           g->opts.amp, s, a->emb_ln, a->emb_sum, a->emb_mean, a->emb_rstd,
           g->ids, g->pos, g->types, val(g, o->wte), val(g, o->wpe),
           g->type_vocab > 0 ? val(g, o->wtt) : NULL, val(g, o->emb_ln_w),
           val(g, o->emb_ln_b), N, E, (float)g->cfg.layer_norm_eps,
           train && p_hidden > 0.0f ? rng : NULL, p_hidden, error)) != 0)
    return rc;
  if (g->has_proj &&
      (rc = hpt__gpu_linear_forward(g, a->x0, a->emb_ln,
                                    hpt__gpu_weight(g, o->emb_proj_w),
                                    hpt__gpu_weight(g, o->emb_proj_b), N, E, C,
                                    hpt__gpu_act_type(g), error)) != 0)
    return rc;

  /* encoder */
  const void *x = a->x0;
  for (int l = 0; l < g->cfg.num_layers; l++) {
    if ((rc = layer_forward(g, l, x, train, error)) != 0)
      return rc;
    x = a->layers[l].ln2;
  }

  /* head on the first token, fp32: [dropout ->] dense -> act -> dropout ->
   * out */
  bool drop = train && p_cls > 0.0f;
  size_t BC = (size_t)B * C;
  if ((rc = hpt__gpu_gather_first(g->opts.amp, s, a->h0, x, B, T_, C, error)) !=
      0)
    return rc;
  if (drop && g->head_pre_dropout &&
      (rc = hpt__gpu_dropout_f32(s, a->h0, BC, rng, HPT__SITE_HEAD_PRE, p_cls,
                                 error)) != 0)
    return rc;
  if ((rc = hpt__gpu_linear_forward(g, a->hd, a->h0, val(g, o->head_w),
                                    val(g, o->head_b), B, C, C, CUDA_R_32F,
                                    error)) != 0 ||
      (rc = hpt__gpu_act_forward(HPT_GPU_AMP_OFF, s, a->ha, a->hd, BC,
                                 g->head_act, error)) != 0)
    return rc;
  HPT_CUDA_CHECK(error, cudaMemcpyAsync(a->hdrop, a->ha, BC * sizeof(float),
                                        cudaMemcpyDeviceToDevice, s));
  if (drop && (rc = hpt__gpu_dropout_f32(s, a->hdrop, BC, rng, HPT__SITE_HEAD,
                                         p_cls, error)) != 0)
    return rc;
  if ((rc = hpt__gpu_linear_forward(g, a->logits, a->hdrop, val(g, o->out_w),
                                    val(g, o->out_b), B, C, K, CUDA_R_32F,
                                    error)) != 0)
    return rc;
  if (labels)
    return hpt__gpu_xent_forward(s, a->probs, a->logits, g->labels, B, K, g->sc,
                                 error);
  return 0;
}

/* ---- backward ----------------------------------------------------------- */

/* a->dx holds d(layer output) on entry, d(layer input x) on return
 * (model_pass.c's layer_backward). */
static int layer_backward(hpt_gpu_model_t *g, int l, const void *x, bool train,
                          hpt_error_t *error) {
  hpt__gpu_acts_t *a = &g->a;
  const hpt__gpu_layer_acts_t *la = &a->layers[l];
  const hpt__gpu_layer_off_t *o = &g->off.layers[l];
  int B = a->B, T_ = a->T, N = B * T_;
  int C = g->cfg.hidden_size, I = g->cfg.intermediate_size;
  int H = g->cfg.num_heads, D = C / H;
  hpt_gpu_amp_t amp = g->opts.amp;
  cudaDataType_t ty = hpt__gpu_act_type(g);
  cudaStream_t s = g->stream;
  float p = (float)g->p_hidden;
  bool drop = train && p > 0.0f;
  const hpt__gpu_rng_t *rng = drop ? &g->sc->rng : NULL;
  uint32_t site = HPT__SITE_LAYER0 + 4 * (uint32_t)l;
  int rc;

  /* LN2; res2 = dropout(fca Wp) + ln1: dres to ln1, dropout(dres) to FFN */
  void *branch = drop ? a->dresd : a->dres;
  if ((rc = hpt__gpu_ln_backward(
           amp, s, a->dres, drop ? a->dresd : NULL, grad(g, o->ln2_w),
           grad(g, o->ln2_b), a->dx, la->res2, val(g, o->ln2_w), la->ln2_mean,
           la->ln2_rstd, N, C, rng, site + 2, p, error)) != 0)
    return rc;
  /* FFN; dln1 = dres + dfh Wfc */
  if ((rc = hpt__gpu_linear_backward(
           g, a->dfa, NULL, grad(g, o->proj_w), branch, la->fca,
           hpt__gpu_weight(g, o->proj_w), N, I, C, ty, error)) != 0 ||
      (rc = hpt__gpu_bias_backward(amp, s, grad(g, o->proj_b), branch, N, C,
                                   error)) != 0 ||
      (rc = hpt__gpu_act_backward(amp, s, a->dfa, a->dfa, la->fch, la->fca,
                                  (size_t)N * I, g->ffn_act, error)) != 0 ||
      (rc = hpt__gpu_linear_backward(
           g, a->dln1, a->dres, grad(g, o->fc_w), a->dfa, la->ln1,
           hpt__gpu_weight(g, o->fc_w), N, C, I, ty, error)) != 0 ||
      (rc = hpt__gpu_bias_backward(amp, s, grad(g, o->fc_b), a->dfa, N, I,
                                   error)) != 0)
    return rc;
  /* LN1; res1 = dropout(ctx Wo) + x */
  bool drop1 = drop && g->attn_out_dropout;
  branch = drop1 ? a->dresd : a->dres;
  if ((rc = hpt__gpu_ln_backward(
           amp, s, a->dres, drop1 ? a->dresd : NULL, grad(g, o->ln1_w),
           grad(g, o->ln1_b), a->dln1, la->res1, val(g, o->ln1_w), la->ln1_mean,
           la->ln1_rstd, N, C, drop1 ? rng : NULL, site + 1, p, error)) != 0 ||
      (rc = hpt__gpu_linear_backward(g, a->dctx, NULL, grad(g, o->o_w), branch,
                                     la->ctx, hpt__gpu_weight(g, o->o_w), N, C,
                                     C, ty, error)) != 0 ||
      (rc = hpt__gpu_bias_backward(amp, s, grad(g, o->o_b), branch, N, C,
                                   error)) != 0)
    return rc;
  /* attention, then the q, k, v projections: dx = dres + sum dX WX */
  if ((rc = hpt__gpu_attention_backward(g, l, train, error)) != 0)
    return rc;
  void *dh[3] = {a->dqh, a->dkh, a->dvh};
  size_t w_off[3] = {o->q_w, o->k_w, o->v_w};
  size_t b_off[3] = {o->q_b, o->k_b, o->v_b};
  for (int i = 0; i < 3; i++)
    if ((rc = hpt__gpu_merge_heads(amp, s, a->tmp, dh[i], B, T_, H, D,
                                   error)) != 0 ||
        (rc = hpt__gpu_linear_backward(
             g, a->dx, i == 0 ? a->dres : a->dx, grad(g, w_off[i]), a->tmp, x,
             hpt__gpu_weight(g, w_off[i]), N, C, C, ty, error)) != 0 ||
        (rc = hpt__gpu_bias_backward(amp, s, grad(g, b_off[i]), a->tmp, N, C,
                                     error)) != 0)
      return rc;
  return 0;
}

static int backward(hpt_gpu_model_t *g, bool train, hpt_error_t *error) {
  hpt__gpu_acts_t *a = &g->a;
  const hpt__gpu_off_t *o = &g->off;
  cudaStream_t s = g->stream;
  int B = a->B, T_ = a->T, N = B * T_;
  int C = g->cfg.hidden_size, E = g->cfg.embedding_size;
  int K = g->cfg.num_labels, L = g->cfg.num_layers;
  float p_cls = (float)g->p_cls, p_hidden = (float)g->p_hidden;
  bool drop = train && p_cls > 0.0f;
  const hpt__gpu_rng_t *rng = &g->sc->rng;
  size_t BC = (size_t)B * C;
  int rc;

  /* loss -> head (fp32) */
  if ((rc = hpt__gpu_xent_backward(s, a->dlogits, a->probs, g->labels, B, K,
                                   g->sc, error)) != 0 ||
      (rc = hpt__gpu_linear_backward(g, a->dha, NULL, grad(g, o->out_w),
                                     a->dlogits, a->hdrop, val(g, o->out_w), B,
                                     C, K, CUDA_R_32F, error)) != 0 ||
      (rc = hpt__gpu_bias_backward(HPT_GPU_AMP_OFF, s, grad(g, o->out_b),
                                   a->dlogits, B, K, error)) != 0)
    return rc;
  if (drop && (rc = hpt__gpu_dropout_f32(s, a->dha, BC, rng, HPT__SITE_HEAD,
                                         p_cls, error)) != 0)
    return rc;
  if ((rc = hpt__gpu_act_backward(HPT_GPU_AMP_OFF, s, a->dhd, a->dha, a->hd,
                                  a->ha, BC, g->head_act, error)) != 0 ||
      (rc = hpt__gpu_linear_backward(g, a->dh0, NULL, grad(g, o->head_w),
                                     a->dhd, a->h0, val(g, o->head_w), B, C, C,
                                     CUDA_R_32F, error)) != 0 ||
      (rc = hpt__gpu_bias_backward(HPT_GPU_AMP_OFF, s, grad(g, o->head_b),
                                   a->dhd, B, C, error)) != 0)
    return rc;
  if (drop && g->head_pre_dropout &&
      (rc = hpt__gpu_dropout_f32(s, a->dh0, BC, rng, HPT__SITE_HEAD_PRE, p_cls,
                                 error)) != 0)
    return rc;
  if ((rc = hpt__gpu_scatter_first(g->opts.amp, s, a->dx, a->dh0, B, T_, C,
                                   error)) != 0)
    return rc;

  /* encoder, last layer first */
  for (int l = L - 1; l >= 0; l--)
    if ((rc = layer_backward(g, l, l > 0 ? a->layers[l - 1].ln2 : a->x0, train,
                             error)) != 0)
      return rc;

  /* (projection ->) dropout -> LayerNorm -> embedding tables */
  void *demb = a->dx;
  if (g->has_proj) {
    if ((rc = hpt__gpu_linear_backward(g, a->demb, NULL, grad(g, o->emb_proj_w),
                                       a->dx, a->emb_ln,
                                       hpt__gpu_weight(g, o->emb_proj_w), N, E,
                                       C, hpt__gpu_act_type(g), error)) != 0 ||
        (rc = hpt__gpu_bias_backward(g->opts.amp, s, grad(g, o->emb_proj_b),
                                     a->dx, N, C, error)) != 0)
      return rc;
    demb = a->demb;
  }
  if (train && p_hidden > 0.0f &&
      (rc = hpt__gpu_dropout(g->opts.amp, s, demb, demb, (size_t)N * E, rng,
                             HPT__SITE_EMB, p_hidden, error)) != 0)
    return rc;
  if ((rc = hpt__gpu_ln_backward(
           g->opts.amp, s, a->demb2, NULL, grad(g, o->emb_ln_w),
           grad(g, o->emb_ln_b), demb, a->emb_sum, val(g, o->emb_ln_w),
           a->emb_mean, a->emb_rstd, N, E, NULL, 0, 0.0f, error)) != 0)
    return rc;
  int pos_pad =
      g->cfg.model_type == HPT_MODEL_ROBERTA ? g->cfg.pad_token_id : -1;
  return hpt__gpu_embed_backward(
      g->opts.amp, s, grad(g, o->wte), grad(g, o->wpe),
      g->type_vocab > 0 ? grad(g, o->wtt) : NULL, a->demb2, g->ids, g->pos,
      g->types, N, E, g->cfg.pad_token_id, pos_pad, error);
}

/* ---- eager or replayed -------------------------------------------------- */

static int enqueue(hpt_gpu_model_t *g, int kind, hpt_error_t *error) {
  switch (kind) {
  case HPT__PASS_EVAL:
    return forward(g, false, false, error);
  case HPT__PASS_EVAL_LOSS:
    return forward(g, false, true, error);
  case HPT__PASS_TRAIN:
    return forward(g, true, true, error);
  case HPT__PASS_BACKWARD:
    return backward(g, true, error);
  default:
    return backward(g, false, error);
  }
}

/* The graph slot for (B, T, kind), created on first use; NULL when the
 * table is full (that shape then runs eagerly). */
static hpt__gpu_graph_t *slot(hpt_gpu_model_t *g, int kind) {
  int B = g->a.B, T_ = g->a.T;
  for (int i = 0; i < g->n_graphs; i++) {
    hpt__gpu_graph_t *e = &g->graphs[i];
    if (e->B == B && e->T == T_ && e->kind == kind)
      return e;
  }
  if (g->n_graphs == HPT__GPU_MAX_GRAPHS)
    return NULL;
  hpt__gpu_graph_t *e = &g->graphs[g->n_graphs++];
  memset(e, 0, sizeof *e);
  e->B = B;
  e->T = T_;
  e->kind = kind;
  return e;
}

/* Captures kind's pass into e->exec. Any failure here is a capture
 * problem (the same pass already ran eagerly): graphs are switched off
 * for this model and 1 is returned so the caller runs eagerly. */
static int capture(hpt_gpu_model_t *g, hpt__gpu_graph_t *e, int kind) {
  hpt_error_t ignored;
  cudaGraph_t graph = NULL;
  if (cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeThreadLocal) !=
      cudaSuccess) {
    (void)cudaGetLastError();
    g->graphs_broken = true;
    return 1;
  }
  int rc = enqueue(g, kind, &ignored);
  cudaError_t end = cudaStreamEndCapture(g->stream, &graph);
  cudaError_t inst = cudaErrorUnknown;
  if (rc == 0 && end == cudaSuccess && graph)
    inst = cudaGraphInstantiate(&e->exec, graph, 0);
  if (graph)
    cudaGraphDestroy(graph);
  if (inst != cudaSuccess) {
    (void)cudaGetLastError();
    e->exec = NULL;
    g->graphs_broken = true;
    return 1;
  }
  g->graphs_captured++;
  return 0;
}

int hpt__gpu_run_pass(hpt_gpu_model_t *g, int kind, hpt_error_t *error) {
  hpt__gpu_graph_t *e =
      g->opts.graphs && !g->graphs_broken && !g->profile ? slot(g, kind) : NULL;
  if (e && !e->exec && e->seen >= 1)
    (void)capture(g, e, kind);
  if (e && e->exec) {
    HPT_CUDA_CHECK(error, cudaGraphLaunch(e->exec, g->stream));
    g->graphs_replayed++;
    return 0;
  }
  if (e)
    e->seen++;
  return enqueue(g, kind, error);
}

void hpt__gpu_graphs_drop(hpt_gpu_model_t *g) {
  for (int i = 0; i < g->n_graphs; i++)
    if (g->graphs[i].exec)
      cudaGraphExecDestroy(g->graphs[i].exec);
  g->n_graphs = 0;
}
