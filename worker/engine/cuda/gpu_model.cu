/* gpu_model.cu — hpt_gpu_model_t's life (see gpu_model.h): the device
 * copy of an hpt_model_t, activation memory, batches, the calls around
 * the passes of gpu_pass.cu, and the AdamW step of gpu_optimizer.cu.
 *
 * Parameters: one fp32 array for values, one for gradients, one pair for
 * Adam's moments, all in the model's tensor order but with every tensor
 * starting at a multiple of 64 floats (256 bytes), so cuBLASLt gets
 * aligned operands; the gaps stay zero. The compute copy g->wc (bf16 or
 * fp16) has the same layout and is refreshed after every step.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.cuh"

#define PAD_FLOATS 64
#define CHUNK_FLOATS 16384 /* per block of the AdamW launch */

/* ---- parameter layout ---------------------------------------------------- */

/* The device offset of the tensor whose host values start at `ptr`. */
static size_t off_of(const hpt_gpu_model_t *g, const hpt_model_t *m,
                     const float *ptr) {
  if (!ptr)
    return SIZE_MAX;
  for (size_t i = 0; i < m->n_params; i++)
    if (m->params[i].value == ptr)
      return g->dev_off[i];
  return SIZE_MAX;
}

static int build_layout(hpt_gpu_model_t *g, const hpt_model_t *m,
                        hpt_error_t *error) {
  g->n_params = m->n_params;
  g->dev_off = (size_t *)calloc(m->n_params, sizeof(size_t));
  g->host_off = (size_t *)calloc(m->n_params, sizeof(size_t));
  g->numel = (size_t *)calloc(m->n_params, sizeof(size_t));
  g->off.layers = (hpt__gpu_layer_off_t *)calloc((size_t)m->config.num_layers,
                                                 sizeof(hpt__gpu_layer_off_t));
  if (!g->dev_off || !g->host_off || !g->numel || !g->off.layers)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  size_t at = 0;
  for (size_t i = 0; i < m->n_params; i++) {
    g->dev_off[i] = at;
    g->host_off[i] = (size_t)(m->params[i].value - m->values);
    g->numel[i] = m->params[i].numel;
    at += (m->params[i].numel + PAD_FLOATS - 1) / PAD_FLOATS * PAD_FLOATS;
  }
  g->n_dev = at;
  g->pinfo = (hpt__gpu_pinfo_t *)calloc(m->n_params, sizeof *g->pinfo);
  if (!g->pinfo)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  for (size_t i = 0; i < m->n_params; i++) {
    const hpt_model_param_t *p = &m->params[i];
    g->pinfo[i].depth = p->depth;
    g->pinfo[i].head = p->head;
    g->pinfo[i].decays = p->kind == HPT_MODEL_PARAM_WEIGHT ||
                         p->kind == HPT_MODEL_PARAM_EMBEDDING;
  }
  const hpt__weights_t *w = &m->w;
  hpt__gpu_off_t *o = &g->off;
  o->wte = off_of(g, m, w->wte);
  o->wpe = off_of(g, m, w->wpe);
  o->wtt = off_of(g, m, w->wtt);
  o->emb_ln_w = off_of(g, m, w->emb_ln_w);
  o->emb_ln_b = off_of(g, m, w->emb_ln_b);
  o->emb_proj_w = off_of(g, m, w->emb_proj_w);
  o->emb_proj_b = off_of(g, m, w->emb_proj_b);
  for (int l = 0; l < m->config.num_layers; l++) {
    const hpt__layer_weights_t *lw = &w->layers[l];
    hpt__gpu_layer_off_t *lo = &o->layers[l];
    lo->q_w = off_of(g, m, lw->q_w);
    lo->q_b = off_of(g, m, lw->q_b);
    lo->k_w = off_of(g, m, lw->k_w);
    lo->k_b = off_of(g, m, lw->k_b);
    lo->v_w = off_of(g, m, lw->v_w);
    lo->v_b = off_of(g, m, lw->v_b);
    lo->o_w = off_of(g, m, lw->o_w);
    lo->o_b = off_of(g, m, lw->o_b);
    lo->ln1_w = off_of(g, m, lw->ln1_w);
    lo->ln1_b = off_of(g, m, lw->ln1_b);
    lo->fc_w = off_of(g, m, lw->fc_w);
    lo->fc_b = off_of(g, m, lw->fc_b);
    lo->proj_w = off_of(g, m, lw->proj_w);
    lo->proj_b = off_of(g, m, lw->proj_b);
    lo->ln2_w = off_of(g, m, lw->ln2_w);
    lo->ln2_b = off_of(g, m, lw->ln2_b);
  }
  o->head_w = off_of(g, m, w->head_w);
  o->head_b = off_of(g, m, w->head_b);
  o->out_w = off_of(g, m, w->out_w);
  o->out_b = off_of(g, m, w->out_b);
  return 0;
}

/* ---- activation layout (model_pass.c's layout, on the device) ----------- */

typedef struct {
  char *base; /* NULL: only count */
  size_t used;
} cursor_t;

static void *take(cursor_t *c, size_t n, size_t elem) {
  c->used = (c->used + 255) / 256 * 256; /* every buffer 256-byte aligned */
  void *p = c->base ? c->base + c->used : NULL;
  c->used += n * elem;
  return p;
}

/* Points g->a's buffers into the arena for (B, T) (or only counts). */
static void layout(hpt_gpu_model_t *g, int B, int T_, cursor_t *c) {
  const hpt_model_config_t *cf = &g->cfg;
  size_t es = hpt__gpu_elem_size(g->opts.amp), f = sizeof(float);
  size_t N = (size_t)B * T_, C = (size_t)cf->hidden_size;
  size_t E = (size_t)cf->embedding_size, I = (size_t)cf->intermediate_size;
  size_t K = (size_t)cf->num_labels, H = (size_t)cf->num_heads;
  size_t att = (size_t)B * H * T_ * T_, BC = (size_t)B * C;
  hpt__gpu_acts_t *a = &g->a;
  a->B = B;
  a->T = T_;
  a->emb_sum = take(c, N * E, es);
  a->emb_ln = take(c, N * E, es);
  a->emb_mean = (float *)take(c, N, f);
  a->emb_rstd = (float *)take(c, N, f);
  a->x0 = g->has_proj ? take(c, N * C, es) : a->emb_ln;
  for (int l = 0; l < cf->num_layers; l++) {
    hpt__gpu_layer_acts_t *la = &a->layers[l];
    la->qh = take(c, N * C, es);
    la->kh = take(c, N * C, es);
    la->vh = take(c, N * C, es);
    la->att = take(c, att, es);
    la->ctx = take(c, N * C, es);
    la->res1 = take(c, N * C, es);
    la->ln1 = take(c, N * C, es);
    la->ln1_mean = (float *)take(c, N, f);
    la->ln1_rstd = (float *)take(c, N, f);
    la->fch = take(c, N * I, es);
    la->fca = take(c, N * I, es);
    la->res2 = take(c, N * C, es);
    la->ln2 = take(c, N * C, es);
    la->ln2_mean = (float *)take(c, N, f);
    la->ln2_rstd = (float *)take(c, N, f);
  }
  a->h0 = (float *)take(c, BC, f);
  a->hd = (float *)take(c, BC, f);
  a->ha = (float *)take(c, BC, f);
  a->hdrop = (float *)take(c, BC, f);
  a->logits = (float *)take(c, (size_t)B * K, f);
  a->probs = (float *)take(c, (size_t)B * K, f);
  a->dlogits = (float *)take(c, (size_t)B * K, f);
  a->dh0 = (float *)take(c, BC, f);
  a->dhd = (float *)take(c, BC, f);
  a->dha = (float *)take(c, BC, f);
  a->tmp = take(c, N * C, es);
  a->scores = (float *)take(c, att, f);
  a->pdrop = take(c, att, es);
  a->ctxh = take(c, N * C, es);
  a->dx = take(c, N * C, es);
  a->dres = take(c, N * C, es);
  a->dresd = take(c, N * C, es);
  a->dln1 = take(c, N * C, es);
  a->dctx = take(c, N * C, es);
  a->dqh = take(c, N * C, es);
  a->dkh = take(c, N * C, es);
  a->dvh = take(c, N * C, es);
  a->dfa = take(c, N * I, es);
  a->demb = take(c, N * E, es);
  a->demb2 = take(c, N * E, es);
}

/* ---- lifecycle ----------------------------------------------------------- */

extern "C" void hpt_gpu_model_destroy(hpt_gpu_model_t **gp) {
  if (!gp || !*gp)
    return;
  hpt_gpu_model_t *g = *gp;
  if (g->stream)
    cudaStreamSynchronize(g->stream);
  hpt__gpu_graphs_drop(g);
  hpt__gpu_gemm_close(g);
  size_t P = g->n_dev * sizeof(float);
  hpt__gpu_free(g, (void **)&g->values, P);
  hpt__gpu_free(g, (void **)&g->grads, P);
  if (g->opts.amp != HPT_GPU_AMP_OFF)
    hpt__gpu_free(g, &g->wc, g->n_dev * 2);
  hpt__gpu_free(g, (void **)&g->m, P);
  hpt__gpu_free(g, (void **)&g->v, P);
  hpt__gpu_free(g, (void **)&g->chunks,
                (size_t)g->n_chunks * sizeof(hpt__gpu_chunk_t));
  hpt__gpu_free(g, (void **)&g->arena, g->arena_bytes);
  hpt__gpu_free(g, (void **)&g->sc, sizeof(hpt__gpu_scalars_t));
  size_t nb = (size_t)g->cap_B * g->cap_T * sizeof(int32_t);
  hpt__gpu_free(g, (void **)&g->ids, nb);
  hpt__gpu_free(g, (void **)&g->pos, nb);
  hpt__gpu_free(g, (void **)&g->types, nb);
  hpt__gpu_free(g, (void **)&g->mask, nb);
  hpt__gpu_free(g, (void **)&g->labels, (size_t)g->cap_B * sizeof(int32_t));
  hpt__gpu_profile_close(g);
  if (g->stream)
    cudaStreamDestroy(g->stream);
  free(g->h_batch);
  free(g->a.layers);
  free(g->off.layers);
  free(g->dev_off);
  free(g->host_off);
  free(g->numel);
  free(g->pinfo);
  free(g);
  *gp = NULL;
}

extern "C" int hpt_gpu_model_new(const hpt_model_t *m,
                                 const hpt_gpu_options_t *opts,
                                 hpt_gpu_model_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_gpu_device_info_t info;
  int rc = hpt_gpu_device_info(opts->device, &info, error);
  if (rc != 0)
    return rc;
  if (info.major < 8 && opts->amp == HPT_GPU_AMP_BF16)
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "gpu: %s (sm_%d%d) has no bf16 tensor cores; use amp "
                   "fp16 or off",
                   info.name, info.major, info.minor);
  hpt_gpu_model_t *g = (hpt_gpu_model_t *)calloc(1, sizeof *g);
  if (!g)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  g->opts = *opts;
  g->cfg = m->config;
  g->cfg.id2label = NULL; /* not ours */
  g->type_vocab = m->type_vocab;
  g->has_proj = m->has_proj;
  g->head_pre_dropout = m->head_pre_dropout;
  g->attn_out_dropout = m->attn_out_dropout;
  g->ffn_act = m->ffn_act;
  g->head_act = m->head_act;
  g->p_hidden = m->config.hidden_dropout;
  g->p_att = m->config.attention_dropout;
  g->p_cls = m->config.classifier_dropout;
  g->a.layers = (hpt__gpu_layer_acts_t *)calloc((size_t)m->config.num_layers,
                                                sizeof(hpt__gpu_layer_acts_t));
  if (!g->a.layers) {
    free(g);
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  }
  size_t P = 0;
  hpt__gpu_scalars_t sc;
  cudaError_t st;
  if ((rc = build_layout(g, m, error)) != 0)
    goto fail;
  st = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking);
  if (st != cudaSuccess) {
    g->stream = NULL;
    rc = hpt__gpu_cuda_error(error, st, "cudaStreamCreateWithFlags", __FILE__,
                             __LINE__);
    goto fail;
  }
  P = g->n_dev * sizeof(float);
  if (opts->profile && (rc = hpt__gpu_profile_open(g, error)) != 0)
    goto fail;
  if ((rc = hpt__gpu_gemm_init(g, error)) != 0 ||
      (rc = hpt__gpu_alloc(g, (void **)&g->values, P, "parameters", error)) !=
          0 ||
      (rc = hpt__gpu_alloc(g, (void **)&g->grads, P, "gradients", error)) !=
          0 ||
      (rc = hpt__gpu_alloc(g, (void **)&g->sc, sizeof(hpt__gpu_scalars_t),
                           "scalars", error)) != 0)
    goto fail;
  if (opts->amp != HPT_GPU_AMP_OFF) {
    if ((rc = hpt__gpu_alloc(g, &g->wc, g->n_dev * 2, "compute weights",
                             error)) != 0)
      goto fail;
  } else {
    g->wc = g->values;
  }
  for (size_t i = 0; i < g->n_params; i++) {
    st = cudaMemcpy(g->values + g->dev_off[i], m->values + g->host_off[i],
                    g->numel[i] * sizeof(float), cudaMemcpyHostToDevice);
    if (st != cudaSuccess) {
      rc = hpt__gpu_cuda_error(error, st, "cudaMemcpy(parameters)", __FILE__,
                               __LINE__);
      goto fail;
    }
  }
  memset(&sc, 0, sizeof sc);
  sc.loss = NAN;
  sc.weight = 1.0f;
  sc.loss_scale = opts->amp != HPT_GPU_AMP_FP16 ? 1.0f
                  : opts->loss_scale > 0.0f     ? opts->loss_scale
                                                : 65536.0f;
  st = cudaMemcpy(g->sc, &sc, sizeof sc, cudaMemcpyHostToDevice);
  if (st != cudaSuccess) {
    rc = hpt__gpu_cuda_error(error, st, "cudaMemcpy(scalars)", __FILE__,
                             __LINE__);
    goto fail;
  }
  if (opts->amp != HPT_GPU_AMP_OFF &&
      (rc = hpt__gpu_cast(opts->amp, g->stream, g->wc, g->values, g->n_dev,
                          error)) != 0)
    goto fail;
  *out = g;
  return 0;
fail:
  hpt_gpu_model_destroy(&g);
  return rc;
}

extern "C" void hpt_gpu_model_set_dropout(hpt_gpu_model_t *g, double p) {
  if (p < 0.0)
    return;
  g->p_hidden = g->p_att = g->p_cls = p;
  hpt__gpu_graphs_drop(g); /* probabilities are baked into graphs */
}

extern "C" int hpt_gpu_model_reserve(hpt_gpu_model_t *g, int max_B, int max_T,
                                     hpt_error_t *error) {
  max_T = (max_T + 7) / 8 * 8;
  if (max_B <= g->cap_B && max_T <= g->cap_T)
    return 0;
  if (max_B < g->cap_B)
    max_B = g->cap_B;
  if (max_T < g->cap_T)
    max_T = g->cap_T;
  HPT_CUDA_CHECK(error, cudaStreamSynchronize(g->stream));
  hpt__gpu_graphs_drop(g);
  size_t nb_old = (size_t)g->cap_B * g->cap_T * sizeof(int32_t);
  hpt__gpu_free(g, (void **)&g->arena, g->arena_bytes);
  hpt__gpu_free(g, (void **)&g->ids, nb_old);
  hpt__gpu_free(g, (void **)&g->pos, nb_old);
  hpt__gpu_free(g, (void **)&g->types, nb_old);
  hpt__gpu_free(g, (void **)&g->mask, nb_old);
  hpt__gpu_free(g, (void **)&g->labels, (size_t)g->cap_B * sizeof(int32_t));
  free(g->h_batch);
  g->h_batch = NULL;
  g->arena_bytes = 0;
  g->cap_B = g->cap_T = 0;
  g->have_forward = g->can_backward = false;

  cursor_t count = {NULL, 0};
  layout(g, max_B, max_T, &count);
  size_t need = count.used;
  size_t free_b = 0, total_b = 0;
  HPT_CUDA_CHECK(error, cudaMemGetInfo(&free_b, &total_b));
  if (need > free_b) {
    /* activations grow linearly in B at a fixed T */
    cursor_t one = {NULL, 0};
    layout(g, 1, max_T, &one);
    long fit = (long)((double)free_b * 0.9 / (double)one.used);
    char need_t[HPT__GPU_SIZE_TEXT], free_t[HPT__GPU_SIZE_TEXT],
        total_t[HPT__GPU_SIZE_TEXT];
    return HPT_ERR(error, HPT_ENOMEM,
                   "gpu: batch %d x %d tokens needs %s of activations but "
                   "only %s of %s are free; at %d tokens about %ld sequences "
                   "would fit (lower batch_size or max_length)",
                   max_B, max_T, hpt__gpu_size_text(need, need_t),
                   hpt__gpu_size_text(free_b, free_t),
                   hpt__gpu_size_text(total_b, total_t), max_T, fit);
  }
  int rc;
  size_t nb = (size_t)max_B * max_T * sizeof(int32_t);
  if ((rc = hpt__gpu_alloc(g, (void **)&g->arena, need, "activations",
                           error)) != 0)
    return rc;
  g->arena_bytes = need;
  if ((rc = hpt__gpu_alloc(g, (void **)&g->ids, nb, "batch", error)) != 0 ||
      (rc = hpt__gpu_alloc(g, (void **)&g->pos, nb, "batch", error)) != 0 ||
      (rc = hpt__gpu_alloc(g, (void **)&g->types, nb, "batch", error)) != 0 ||
      (rc = hpt__gpu_alloc(g, (void **)&g->mask, nb, "batch", error)) != 0 ||
      (rc = hpt__gpu_alloc(g, (void **)&g->labels,
                           (size_t)max_B * sizeof(int32_t), "batch", error)) !=
          0)
    return rc;
  g->h_batch = (int32_t *)malloc(4 * nb + (size_t)max_B * sizeof(int32_t));
  if (!g->h_batch)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  g->cap_B = max_B;
  g->cap_T = max_T;
  return 0;
}

/* ---- batches and passes -------------------------------------------------- */

/* Writes a checked batch's ids, pos, types, mask (B, Tp) and labels (B)
 * into the host staging area, padding rows from T to Tp tokens with masked
 * pad tokens (whose positions fit: see hpt_gpu_model_forward). */
static void stage_batch(hpt_gpu_model_t *g, const hpt_model_batch_t *batch,
                        int Tp) {
  const hpt_model_config_t *c = &g->cfg;
  int B = batch->B, T_ = batch->T, pad = c->pad_token_id;
  size_t n = (size_t)B * Tp;
  int32_t *ids = g->h_batch, *pos = ids + n, *types = pos + n;
  int32_t *mask = types + n, *labels = mask + n;
  for (int b = 0; b < B; b++) {
    int count = 0;
    for (int t = 0; t < Tp; t++) {
      size_t src = (size_t)b * T_ + t, dst = (size_t)b * Tp + t;
      bool real = t < T_;
      ids[dst] = real ? batch->input_ids[src] : pad;
      types[dst] =
          real && batch->token_type_ids ? batch->token_type_ids[src] : 0;
      mask[dst] =
          real ? (batch->attention_mask ? batch->attention_mask[src] != 0 : 1)
               : 0;
      pos[dst] = hpt_model_position_id(c, ids[dst], t, &count);
    }
    if (batch->labels)
      labels[b] = batch->labels[b];
  }
}

extern "C" int hpt_gpu_model_forward(hpt_gpu_model_t *g,
                                     const hpt_model_batch_t *batch,
                                     const hpt_gpu_mode_t *mode,
                                     hpt_error_t *error) {
  g->have_forward = g->can_backward = false;
  bool train = mode && mode->train;
  float eps = mode ? mode->label_smoothing : 0.0f;
  int rc = hpt_model_batch_check(&g->cfg, g->type_vocab, batch, eps, error);
  if (rc != 0)
    return rc;
  /* Pad T to a multiple of 8 (tensor-core friendly, fewer graph shapes)
   * unless BERT-style positions would run past the table. */
  int Tp = (batch->T + 7) / 8 * 8;
  if (g->cfg.model_type != HPT_MODEL_ROBERTA && Tp > g->cfg.max_positions)
    Tp = batch->T;
  if ((rc = hpt_gpu_model_reserve(g, batch->B, Tp, error)) != 0)
    return rc;
  stage_batch(g, batch, Tp);
  int B = batch->B;
  size_t n = (size_t)B * Tp;
  /* The staging area is pageable, so these copies have consumed it when
   * they return; the device buffers are fixed, so graphs see new data. */
  int32_t *h = g->h_batch;
  int32_t *dst[4] = {g->ids, g->pos, g->types, g->mask};
  for (int i = 0; i < 4; i++)
    HPT_CUDA_CHECK(error,
                   cudaMemcpyAsync(dst[i], h + i * n, n * sizeof(int32_t),
                                   cudaMemcpyHostToDevice, g->stream));
  if (batch->labels)
    HPT_CUDA_CHECK(error, cudaMemcpyAsync(g->labels, h + 4 * n,
                                          (size_t)B * sizeof(int32_t),
                                          cudaMemcpyHostToDevice, g->stream));
  if (hpt__gpu_profiling())
    hpt__gpu_profile_mark("batch upload (host to device)");
  if ((rc = hpt__gpu_set_f32(g->stream, &g->sc->eps, eps, error)) != 0)
    return rc;
  cursor_t c = {g->arena, 0};
  layout(g, B, Tp, &c);
  if (train && !batch->labels)
    return HPT_ERR(error, HPT_EINVAL, "gpu: training needs labels");
  int kind = train           ? HPT__PASS_TRAIN
             : batch->labels ? HPT__PASS_EVAL_LOSS
                             : HPT__PASS_EVAL;
  if (train &&
      (rc = hpt__gpu_set_seed(g->stream, g->sc, mode->seed, error)) != 0)
    return rc;
  if ((rc = hpt__gpu_run_pass(g, kind, error)) != 0)
    return rc;
  g->have_forward = true;
  g->can_backward = batch->labels != NULL;
  g->last_train = train;
  g->last_B = B;
  g->last_T = Tp;
  return 0;
}

extern "C" int hpt_gpu_model_backward(hpt_gpu_model_t *g, float weight,
                                      hpt_error_t *error) {
  if (!g->can_backward)
    return HPT_ERR(error, HPT_ESTATE,
                   "model: backward needs a successful forward pass with "
                   "labels");
  int rc = hpt__gpu_set_f32(g->stream, &g->sc->weight, weight, error);
  if (rc != 0)
    return rc;
  return hpt__gpu_run_pass(
      g, g->last_train ? HPT__PASS_BACKWARD : HPT__PASS_BACKWARD_EVAL, error);
}

extern "C" int hpt_gpu_model_zero_grad(hpt_gpu_model_t *g, hpt_error_t *error) {
  HPT_CUDA_CHECK(
      error, cudaMemsetAsync(g->grads, 0, g->n_dev * sizeof(float), g->stream));
  if (hpt__gpu_profiling())
    hpt__gpu_profile_mark("zero_grad (memset)");
  return 0;
}

extern "C" int hpt_gpu_model_sync(hpt_gpu_model_t *g, hpt_error_t *error) {
  HPT_CUDA_CHECK(error, cudaStreamSynchronize(g->stream));
  return 0;
}

/* Waits, then copies the device scalars to *sc. */
static int read_scalars(hpt_gpu_model_t *g, hpt__gpu_scalars_t *sc,
                        hpt_error_t *error) {
  HPT_CUDA_CHECK(error, cudaMemcpyAsync(sc, g->sc, sizeof *sc,
                                        cudaMemcpyDeviceToHost, g->stream));
  HPT_CUDA_CHECK(error, cudaStreamSynchronize(g->stream));
  return 0;
}

extern "C" int hpt_gpu_model_read_outputs(hpt_gpu_model_t *g, float *logits,
                                          float *loss, hpt_error_t *error) {
  if (!g->have_forward)
    return HPT_ERR(error, HPT_ESTATE, "gpu: no forward pass to read");
  if (logits)
    HPT_CUDA_CHECK(error, cudaMemcpyAsync(logits, g->a.logits,
                                          (size_t)g->last_B *
                                              g->cfg.num_labels * sizeof(float),
                                          cudaMemcpyDeviceToHost, g->stream));
  hpt__gpu_scalars_t sc;
  int rc = read_scalars(g, &sc, error);
  if (rc == 0 && loss)
    *loss = g->can_backward ? sc.loss : NAN;
  return rc;
}

extern "C" int hpt_gpu_model_take_loss_sum(hpt_gpu_model_t *g, double *sum,
                                           hpt_error_t *error) {
  hpt__gpu_scalars_t sc;
  int rc = read_scalars(g, &sc, error);
  if (rc != 0)
    return rc;
  *sum = sc.loss_sum;
  return hpt__gpu_reset_loss_sum(g->stream, g->sc, error);
}

/* For copies between g and its host twin `model`: checks that model has
 * g's tensors, waits for the device and reads its scalars (the loss scale
 * that gradients carry). */
static int host_twin_scalars(hpt_gpu_model_t *g, const hpt_model_t *model,
                             hpt__gpu_scalars_t *sc, hpt_error_t *error) {
  if (model->n_params != g->n_params)
    return HPT_ERR(error, HPT_EINVAL, "gpu: model has %zu tensors, not %zu",
                   model->n_params, g->n_params);
  return read_scalars(g, sc, error);
}

extern "C" int hpt_gpu_model_read_params(hpt_gpu_model_t *g, hpt_model_t *model,
                                         bool values, hpt_error_t *error) {
  hpt__gpu_scalars_t sc;
  int rc = host_twin_scalars(g, model, &sc, error);
  if (rc != 0)
    return rc;
  float *host = values ? model->values : model->grads;
  const float *dev = values ? g->values : g->grads;
  for (size_t i = 0; i < g->n_params; i++)
    HPT_CUDA_CHECK(error, cudaMemcpy(host + g->host_off[i], dev + g->dev_off[i],
                                     g->numel[i] * sizeof(float),
                                     cudaMemcpyDeviceToHost));
  if (!values && sc.loss_scale != 1.0f)
    for (size_t i = 0; i < model->n_floats; i++)
      host[i] /= sc.loss_scale;
  return 0;
}

/* ---- AdamW ----------------------------------------------------------------
 */

extern "C" int hpt_gpu_model_optimizer_init(hpt_gpu_model_t *g,
                                            const hpt_optimizer_options_t *o,
                                            hpt_error_t *error) {
  if (!(o->lr_backbone > 0.0) || !(o->lr_head > 0.0) ||
      !(o->layer_decay > 0.0 && o->layer_decay <= 1.0) ||
      !(o->weight_decay >= 0.0) || !(o->eps > 0.0) ||
      o->total_steps <= o->warmup_steps || o->warmup_steps < 0)
    return HPT_ERR(error, HPT_EINVAL, "gpu: optimizer options out of range");
  g->opt = *o;
  g->steps = 0;
  size_t P = g->n_dev * sizeof(float);
  int rc;
  if (!g->m &&
      ((rc = hpt__gpu_alloc(g, (void **)&g->m, P, "Adam moments", error)) !=
           0 ||
       (rc = hpt__gpu_alloc(g, (void **)&g->v, P, "Adam moments", error)) != 0))
    return rc;
  HPT_CUDA_CHECK(error, cudaMemsetAsync(g->m, 0, P, g->stream));
  HPT_CUDA_CHECK(error, cudaMemsetAsync(g->v, 0, P, g->stream));

  /* The multi-tensor table: each tensor cut into CHUNK_FLOATS pieces, each
   * with its group's base lr and decay, as optimizer.c: head lr, or
   * backbone lr x layer_decay^(L - depth); decay on WEIGHT/EMBEDDING. */
  int n = 0;
  for (size_t i = 0; i < g->n_params; i++)
    n += (int)((g->numel[i] + CHUNK_FLOATS - 1) / CHUNK_FLOATS);
  hpt__gpu_chunk_t *table =
      (hpt__gpu_chunk_t *)malloc((size_t)n * sizeof *table);
  if (!table)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  int L = g->cfg.num_layers, k = 0;
  for (size_t i = 0; i < g->n_params; i++) {
    const hpt__gpu_pinfo_t *pi = &g->pinfo[i];
    double lr = pi->head ? o->lr_head
                         : o->lr_backbone * pow(o->layer_decay, L - pi->depth);
    for (size_t at = 0; at < g->numel[i]; at += CHUNK_FLOATS) {
      size_t left = g->numel[i] - at;
      table[k].start = g->dev_off[i] + at;
      table[k].count = left < CHUNK_FLOATS ? left : CHUNK_FLOATS;
      table[k].base_lr = (float)lr;
      table[k].decay = pi->decays ? (float)o->weight_decay : 0.0f;
      k++;
    }
  }
  hpt__gpu_free(g, (void **)&g->chunks,
                (size_t)g->n_chunks * sizeof(hpt__gpu_chunk_t));
  g->n_chunks = 0;
  rc = hpt__gpu_alloc(g, (void **)&g->chunks, (size_t)n * sizeof *table,
                      "optimizer table", error);
  if (rc == 0) {
    g->n_chunks = n;
    cudaError_t st = cudaMemcpy(g->chunks, table, (size_t)n * sizeof *table,
                                cudaMemcpyHostToDevice);
    if (st != cudaSuccess)
      rc = hpt__gpu_cuda_error(error, st, "cudaMemcpy(optimizer table)",
                               __FILE__, __LINE__);
  }
  free(table);
  g->opt_ready = rc == 0;
  return rc;
}

/* The schedule of optimizer.h (hpt_optimizer_schedule), for update s. */
static double schedule(const hpt_optimizer_options_t *o, long s) {
  if (s < o->warmup_steps)
    return (double)s / (double)o->warmup_steps;
  double progress = (double)(s - o->warmup_steps) /
                    (double)(o->total_steps - o->warmup_steps);
  if (progress > 1.0)
    progress = 1.0;
  double f = 0.5 * (1.0 + cos(M_PI * progress));
  return f > 0.0 ? f : 0.0;
}

extern "C" int hpt_gpu_model_step(hpt_gpu_model_t *g, hpt_error_t *error) {
  if (!g->opt_ready)
    return HPT_ERR(error, HPT_ESTATE, "gpu: optimizer not initialised");
  const hpt_optimizer_options_t *o = &g->opt;
  int rc;
  if ((rc = hpt__gpu_grad_norm(g->stream, g->grads, g->n_dev, g->sc, error)) !=
          0 ||
      (rc = hpt__gpu_adamw(g->opts.amp, g->stream, g->values, g->wc, g->grads,
                           g->m, g->v, g->chunks, g->n_chunks,
                           (float)schedule(o, g->steps), (float)o->beta1,
                           (float)o->beta2, (float)o->eps,
                           (float)o->max_grad_norm, g->sc,
                           g->opts.amp == HPT_GPU_AMP_FP16, error)) != 0)
    return rc;
  g->steps++;
  return 0;
}

extern "C" int hpt_gpu_model_step_info(hpt_gpu_model_t *g,
                                       hpt_gpu_step_info_t *info,
                                       hpt_error_t *error) {
  hpt__gpu_scalars_t sc;
  int rc = read_scalars(g, &sc, error);
  if (rc != 0)
    return rc;
  info->grad_norm = sc.grad_norm;
  info->skipped = sc.skipped != 0;
  info->loss_scale = sc.loss_scale;
  info->steps = g->steps;
  info->applied = (long)sc.applied;
  info->nonfinite_steps = (long)sc.nonfinite;
  return 0;
}

extern "C" size_t hpt_gpu_model_peak_bytes(const hpt_gpu_model_t *g) {
  return g->bytes_peak;
}

extern "C" int hpt_gpu_model_debug_set_grad(hpt_gpu_model_t *g, size_t param,
                                            size_t elem, float value,
                                            hpt_error_t *error) {
  if (param >= g->n_params || elem >= g->numel[param])
    return HPT_ERR(error, HPT_EINVAL, "gpu: no gradient element %zu/%zu", param,
                   elem);
  HPT_CUDA_CHECK(error, cudaStreamSynchronize(g->stream));
  HPT_CUDA_CHECK(error, cudaMemcpy(g->grads + g->dev_off[param] + elem, &value,
                                   sizeof value, cudaMemcpyHostToDevice));
  return 0;
}

extern "C" int hpt_gpu_model_debug_write_grads(hpt_gpu_model_t *g,
                                               const hpt_model_t *model,
                                               hpt_error_t *error) {
  hpt__gpu_scalars_t sc;
  int rc = host_twin_scalars(g, model, &sc, error);
  if (rc != 0)
    return rc;
  float *scaled = (float *)malloc(model->n_floats * sizeof(float));
  if (!scaled)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  for (size_t i = 0; i < model->n_floats; i++)
    scaled[i] = model->grads[i] * sc.loss_scale;
  for (size_t i = 0; i < g->n_params && rc == 0; i++) {
    cudaError_t s =
        cudaMemcpy(g->grads + g->dev_off[i], scaled + g->host_off[i],
                   g->numel[i] * sizeof(float), cudaMemcpyHostToDevice);
    if (s != cudaSuccess)
      rc = hpt__gpu_cuda_error(error, s, "cudaMemcpy", __FILE__, __LINE__);
  }
  free(scaled);
  return rc;
}

extern "C" void hpt_gpu_model_graph_stats(const hpt_gpu_model_t *g,
                                          long *captured, long *replayed) {
  *captured = g->graphs_captured;
  *replayed = g->graphs_replayed;
}
