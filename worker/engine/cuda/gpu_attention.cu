/* gpu_attention.cu — multi-head self-attention on the GPU, the twin of
 * hpt__attention_forward / hpt__attention_backward (layers_cpu.c), for
 * short sequences (T up to a few hundred):
 *
 *   q, k, v (N,C) = x Wq^T + bq, ...      three GEMMs, bias in the epilogue
 *   qh, kh, vh (B,H,T,D)                  split_heads (a permute)
 *   S (B,H,T,T) fp32 = qh kh^T / sqrt(D)  one strided-batched GEMM
 *   att = softmax(S + (1-mask) finfo.min) one warp per row, fp32 math,
 *                                          stored in the compute type
 *   pdrop = dropout(att)                  hash-based keep-mask (no storage)
 *   ctxh = pdrop vh; ctx = merge_heads    one batched GEMM, a permute
 *
 * Backward recomputes pdrop from att and the hash, then dV = pdrop^T dctx,
 * dP = dctx V^T (fp32), dS = att * (dropout(dP) - rowsum(...)), dQ = dS K
 * / sqrt(D), dK = dS^T Q / sqrt(D), all batched over (B,H).
 * The scores never leave fp32 before the softmax; P is kept for backward
 * (B*H*T*T values per layer, e.g. 12.6 MB in bf16 at B=32, T=128, H=12).
 */
#include <float.h>
#include <math.h>

#include "gpu_internal.cuh"

#define WARPS 8

/* ---- permutes ----------------------------------------------------------- */

template <typename T>
__global__ void split_heads_kernel(T *dst, const T *src, int B, int T_, int H,
                                   int D) {
  size_t n = (size_t)B * T_ * H * D;
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  /* dst index i = ((b*H + h)*T + t)*D + d */
  int d = (int)(i % D);
  size_t r = i / D;
  int t = (int)(r % T_);
  r /= T_;
  int h = (int)(r % H);
  size_t b = r / H;
  dst[i] = src[(b * T_ + t) * (size_t)(H * D) + (size_t)h * D + d];
}

template <typename T>
__global__ void merge_heads_kernel(T *dst, const T *src, int B, int T_, int H,
                                   int D) {
  size_t n = (size_t)B * T_ * H * D;
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n)
    return;
  /* dst index i = (b*T + t)*C + h*D + d */
  int C = H * D;
  int c = (int)(i % C);
  size_t bt = i / C;
  int h = c / D, d = c % D;
  size_t b = bt / T_, t = bt % T_;
  dst[i] = src[((b * H + h) * T_ + t) * (size_t)D + d];
}

int hpt__gpu_split_heads(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                         const void *src, int B, int T_, int H, int D,
                         hpt_error_t *error) {
  size_t n = (size_t)B * T_ * H * D;
  unsigned blocks = (unsigned)((n + 255) / 256);
  HPT_GPU_DISPATCH(amp,
                   (HPT_GPU_LAUNCH(split_heads_kernel<T>, blocks, 256, 0,
                                   s)((T *)dst, (const T *)src, B, T_, H, D)));
  HPT_LAUNCH_CHECK(error, "split_heads");
  return 0;
}

int hpt__gpu_merge_heads(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                         const void *src, int B, int T_, int H, int D,
                         hpt_error_t *error) {
  size_t n = (size_t)B * T_ * H * D;
  unsigned blocks = (unsigned)((n + 255) / 256);
  HPT_GPU_DISPATCH(amp,
                   (HPT_GPU_LAUNCH(merge_heads_kernel<T>, blocks, 256, 0,
                                   s)((T *)dst, (const T *)src, B, T_, H, D)));
  HPT_LAUNCH_CHECK(error, "merge_heads");
  return 0;
}

/* ---- masked softmax, dropout -------------------------------------------- */

static __device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

static __device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/* One warp per row r of the B*H*T rows; scores (rows, T) fp32. */
template <typename T>
__global__ void softmax_forward_kernel(T *att, T *pdrop, const float *scores,
                                       const int32_t *mask, int rows, int H,
                                       int T_, const hpt__gpu_rng_t *rng,
                                       uint32_t site, float p) {
  int r = blockIdx.x * WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (r >= rows)
    return;
  const int32_t *mb = mask + (size_t)(r / (H * T_)) * T_;
  const float *row = scores + (size_t)r * T_;
  /* HF's extended mask: (1 - mask) * finfo.min, added (a fully padded
   * row comes out uniform, as in PyTorch and the CPU engine) */
  float mx = -INFINITY;
  for (int s = lane; s < T_; s += 32)
    mx = fmaxf(mx, mb[s] ? row[s] : row[s] + -FLT_MAX);
  mx = warp_max(mx);
  float sum = 0.0f;
  for (int s = lane; s < T_; s += 32)
    sum += expf((mb[s] ? row[s] : row[s] + -FLT_MAX) - mx);
  float inv = 1.0f / warp_sum(sum);
  float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
  size_t base = (size_t)r * T_;
  for (int s = lane; s < T_; s += 32) {
    float pr = expf((mb[s] ? row[s] : row[s] + -FLT_MAX) - mx) * inv;
    st(att + base + s, pr);
    if (pdrop)
      st(pdrop + base + s,
         hpt__keep(rng, site, base + s, p) ? pr * scale : 0.0f);
  }
}

/* dS = P * (dPd - sum(dPd * P)), dPd = dropout(dP); dP fp32 (rows, T). */
template <typename T>
__global__ void
softmax_backward_kernel(T *ds, const float *dp, const T *att, int rows, int T_,
                        const hpt__gpu_rng_t *rng, uint32_t site, float p) {
  int r = blockIdx.x * WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (r >= rows)
    return;
  size_t base = (size_t)r * T_;
  bool drop = rng && p > 0.0f;
  float scale = drop ? 1.0f / (1.0f - p) : 1.0f;
  float dot = 0.0f;
  for (int s = lane; s < T_; s += 32) {
    float d = dp[base + s];
    if (drop)
      d = hpt__keep(rng, site, base + s, p) ? d * scale : 0.0f;
    dot += d * ld(att + base + s);
  }
  dot = warp_sum(dot);
  for (int s = lane; s < T_; s += 32) {
    float d = dp[base + s];
    if (drop)
      d = hpt__keep(rng, site, base + s, p) ? d * scale : 0.0f;
    st(ds + base + s, ld(att + base + s) * (d - dot));
  }
}

/* ---- the layer's attention ---------------------------------------------- */

int hpt__gpu_attention_forward(hpt_gpu_model_t *g, int l, const void *x,
                               bool train, hpt_error_t *error) {
  hpt__gpu_acts_t *a = &g->a;
  hpt__gpu_layer_acts_t *la = &a->layers[l];
  const hpt__gpu_layer_off_t *o = &g->off.layers[l];
  int B = a->B, T_ = a->T, N = B * T_, C = g->cfg.hidden_size;
  int H = g->cfg.num_heads, D = C / H, rows = B * H * T_;
  hpt_gpu_amp_t amp = g->opts.amp;
  cudaDataType_t ty = hpt__gpu_act_type(g);
  cudaStream_t s = g->stream;
  int rc;
  const void *W[3] = {hpt__gpu_weight(g, o->q_w), hpt__gpu_weight(g, o->k_w),
                      hpt__gpu_weight(g, o->v_w)};
  const void *Bs[3] = {hpt__gpu_weight(g, o->q_b), hpt__gpu_weight(g, o->k_b),
                       hpt__gpu_weight(g, o->v_b)};
  void *heads[3] = {la->qh, la->kh, la->vh};
  for (int i = 0; i < 3; i++)
    if ((rc = hpt__gpu_linear_forward(g, a->tmp, x, W[i], Bs[i], N, C, C, ty,
                                      error)) != 0 ||
        (rc = hpt__gpu_split_heads(amp, s, heads[i], a->tmp, B, T_, H, D,
                                   error)) != 0)
      return rc;
  float alpha = 1.0f / sqrtf((float)D);
  if ((rc = hpt__gpu_matmul_rows(g, a->scores, la->qh, false, la->kh, true, T_,
                                 T_, D, B * H, alpha, NULL, 0.0f, NULL, ty,
                                 CUDA_R_32F, error)) != 0)
    return rc;
  float p = (float)g->p_att;
  bool drop = train && p > 0.0f;
  uint32_t site = HPT__SITE_LAYER0 + 4 * (uint32_t)l;
  unsigned blocks = (unsigned)((rows + WARPS - 1) / WARPS);
  HPT_GPU_DISPATCH(
      amp, (HPT_GPU_LAUNCH(softmax_forward_kernel<T>, blocks, WARPS * 32, 0, s)(
               (T *)la->att, drop ? (T *)a->pdrop : (T *)NULL, a->scores,
               g->mask, rows, H, T_, drop ? &g->sc->rng : NULL, site, p)));
  HPT_LAUNCH_CHECK(error, "softmax_forward");
  if ((rc = hpt__gpu_matmul_rows(g, a->ctxh, drop ? a->pdrop : la->att, false,
                                 la->vh, false, T_, D, T_, B * H, 1.0f, NULL,
                                 0.0f, NULL, ty, ty, error)) != 0)
    return rc;
  return hpt__gpu_merge_heads(amp, s, la->ctx, a->ctxh, B, T_, H, D, error);
}

int hpt__gpu_attention_backward(hpt_gpu_model_t *g, int l, bool train,
                                hpt_error_t *error) {
  hpt__gpu_acts_t *a = &g->a;
  hpt__gpu_layer_acts_t *la = &a->layers[l];
  int B = a->B, T_ = a->T, C = g->cfg.hidden_size;
  int H = g->cfg.num_heads, D = C / H, rows = B * H * T_;
  hpt_gpu_amp_t amp = g->opts.amp;
  cudaDataType_t ty = hpt__gpu_act_type(g);
  cudaStream_t s = g->stream;
  float p = (float)g->p_att;
  bool drop = train && p > 0.0f;
  uint32_t site = HPT__SITE_LAYER0 + 4 * (uint32_t)l;
  const hpt__gpu_rng_t *rng = drop ? &g->sc->rng : NULL;
  size_t n_att = (size_t)rows * T_;
  int rc;

  /* dctxh (B,H,T,D) from dctx (N,C); ctxh is free scratch now */
  if ((rc = hpt__gpu_split_heads(amp, s, a->ctxh, a->dctx, B, T_, H, D,
                                 error)) != 0)
    return rc;
  if (drop && (rc = hpt__gpu_dropout(amp, s, a->pdrop, la->att, n_att, rng,
                                     site, p, error)) != 0)
    return rc;
  /* dV = Pd^T dctx; dP = dctx V^T (fp32) */
  if ((rc = hpt__gpu_matmul_rows(g, a->dvh, drop ? a->pdrop : la->att, true,
                                 a->ctxh, false, T_, D, T_, B * H, 1.0f, NULL,
                                 0.0f, NULL, ty, ty, error)) != 0 ||
      (rc = hpt__gpu_matmul_rows(g, a->scores, a->ctxh, false, la->vh, true, T_,
                                 T_, D, B * H, 1.0f, NULL, 0.0f, NULL, ty,
                                 CUDA_R_32F, error)) != 0)
    return rc;
  unsigned blocks = (unsigned)((rows + WARPS - 1) / WARPS);
  HPT_GPU_DISPATCH(
      amp, (HPT_GPU_LAUNCH(softmax_backward_kernel<T>, blocks, WARPS * 32, 0,
                           s)((T *)a->pdrop, a->scores, (const T *)la->att,
                              rows, T_, rng, site, p)));
  HPT_LAUNCH_CHECK(error, "softmax_backward");
  /* dQ = alpha dS K; dK = alpha dS^T Q */
  float alpha = 1.0f / sqrtf((float)D);
  if ((rc = hpt__gpu_matmul_rows(g, a->dqh, a->pdrop, false, la->kh, false, T_,
                                 D, T_, B * H, alpha, NULL, 0.0f, NULL, ty, ty,
                                 error)) != 0)
    return rc;
  return hpt__gpu_matmul_rows(g, a->dkh, a->pdrop, true, la->qh, false, T_, D,
                              T_, B * H, alpha, NULL, 0.0f, NULL, ty, ty,
                              error);
}
