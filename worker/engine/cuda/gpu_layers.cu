/* gpu_layers.cu — the CUDA kernels of the encoder's elementwise and
 * row-wise passes, each the device twin of a layers_cpu.c function (named
 * above each kernel), computing in fp32 whatever the storage type:
 * embeddings + LayerNorm (+ dropout), dropout + residual + LayerNorm,
 * LayerNorm backward, embedding backward, activations, bias gradients,
 * the classification head's gather/scatter, the weights' compute copy,
 * cross-entropy with label smoothing. Launchers are declared, with their
 * contracts, in gpu_internal.cuh.
 *
 * Row kernels use one warp per row of C (or E) values and read the row
 * again per pass instead of holding it in registers: rows are short
 * (C <= 4096) and stay in L1/L2, and the code stays obviously right.
 */
#include <float.h>

#include "gpu_internal.cuh"

#define WARPS 8 /* warps per block in row kernels */

static __device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

/* ---- embeddings + LayerNorm (hpt__embeddings_forward, layernorm) -------- */

template <typename T>
__global__ void
embed_ln_kernel(T *out, T *sum_out, float *mean, float *rstd,
                const int32_t *ids, const int32_t *pos, const int32_t *types,
                const float *wte, const float *wpe, const float *wtt,
                const float *lnw, const float *lnb, int N, int E, float eps,
                const hpt__gpu_rng_t *rng, float p) {
  int row = blockIdx.x * WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= N)
    return;
  const float *we = wte + (size_t)ids[row] * E;
  const float *pe = wpe + (size_t)pos[row] * E;
  const float *te = wtt ? wtt + (size_t)types[row] * E : NULL;
  float s = 0.0f;
  for (int i = lane; i < E; i += 32)
    s += we[i] + pe[i] + (te ? te[i] : 0.0f);
  float m = warp_sum(s) / E;
  float v = 0.0f;
  for (int i = lane; i < E; i += 32) {
    float d = we[i] + pe[i] + (te ? te[i] : 0.0f) - m;
    v += d * d;
  }
  float r = rsqrtf(warp_sum(v) / E + eps);
  float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
  size_t base = (size_t)row * E;
  for (int i = lane; i < E; i += 32) {
    float x = we[i] + pe[i] + (te ? te[i] : 0.0f);
    st(sum_out + base + i, x);
    float y = (x - m) * r * lnw[i] + lnb[i];
    if (rng && p > 0.0f)
      y = hpt__keep(rng, HPT__SITE_EMB, base + i, p) ? y * scale : 0.0f;
    st(out + base + i, y);
  }
  if (lane == 0) {
    mean[row] = m;
    rstd[row] = r;
  }
}

int hpt__gpu_embed_ln_forward(hpt_gpu_amp_t amp, cudaStream_t s, void *out,
                              void *emb_sum, float *mean, float *rstd,
                              const int32_t *ids, const int32_t *pos,
                              const int32_t *types, const float *wte,
                              const float *wpe, const float *wtt,
                              const float *lnw, const float *lnb, int N, int E,
                              float eps, const hpt__gpu_rng_t *rng, float p,
                              hpt_error_t *error) {
  unsigned blocks = (unsigned)((N + WARPS - 1) / WARPS);
  HPT_GPU_DISPATCH(
      amp, (HPT_GPU_LAUNCH(embed_ln_kernel<T>, blocks, WARPS * 32, 0, s)(
               (T *)out, (T *)emb_sum, mean, rstd, ids, pos, types, wte, wpe,
               wtt, lnw, lnb, N, E, eps, rng, p)));
  HPT_LAUNCH_CHECK(error, "embed_ln");
  return 0;
}

/* ---- dropout + residual + LayerNorm (model_pass.c's layer_forward) ------ */

template <typename T>
__global__ void residual_ln_kernel(T *out, T *res, float *mean, float *rstd,
                                   const T *y, const T *resid, const float *w,
                                   const float *b, int N, int C, float eps,
                                   const hpt__gpu_rng_t *rng, uint32_t site,
                                   float p) {
  int row = blockIdx.x * WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= N)
    return;
  size_t base = (size_t)row * C;
  bool drop = rng && p > 0.0f;
  float scale = drop ? 1.0f / (1.0f - p) : 1.0f;
  /* pass 1: r = dropout(y) + resid, stored, summed */
  float s = 0.0f;
  for (int i = lane; i < C; i += 32) {
    float yi = ld(y + base + i);
    if (drop)
      yi = hpt__keep(rng, site, base + i, p) ? yi * scale : 0.0f;
    float r = yi + ld(resid + base + i);
    st(res + base + i, r);
    s += r;
  }
  __syncwarp();
  float m = warp_sum(s) / C;
  /* statistics from the stored values, which backward reads too */
  float v = 0.0f;
  for (int i = lane; i < C; i += 32) {
    float d = ld(res + base + i) - m;
    v += d * d;
  }
  float r = rsqrtf(warp_sum(v) / C + eps);
  for (int i = lane; i < C; i += 32)
    st(out + base + i, (ld(res + base + i) - m) * r * w[i] + b[i]);
  if (lane == 0) {
    mean[row] = m;
    rstd[row] = r;
  }
}

int hpt__gpu_residual_ln_forward(hpt_gpu_amp_t amp, cudaStream_t s, void *out,
                                 void *res, float *mean, float *rstd,
                                 const void *y, const void *resid,
                                 const float *w, const float *b, int N, int C,
                                 float eps, const hpt__gpu_rng_t *rng,
                                 uint32_t site, float p, hpt_error_t *error) {
  unsigned blocks = (unsigned)((N + WARPS - 1) / WARPS);
  HPT_GPU_DISPATCH(
      amp, (HPT_GPU_LAUNCH(residual_ln_kernel<T>, blocks, WARPS * 32, 0, s)(
               (T *)out, (T *)res, mean, rstd, (const T *)y, (const T *)resid,
               w, b, N, C, eps, rng, site, p)));
  HPT_LAUNCH_CHECK(error, "residual_ln");
  return 0;
}

/* ---- LayerNorm backward (hpt__layernorm_backward) ------------------------ */

#define LN_ROWS 32 /* rows per block: dw/db partials reduced in shared */

template <typename T>
__global__ void ln_backward_kernel(T *dinp, T *dinp_drop, float *dw, float *db,
                                   const T *dout, const T *inp, const float *w,
                                   const float *mean, const float *rstd, int N,
                                   int C, const hpt__gpu_rng_t *rng,
                                   uint32_t site, float p) {
  HPT_GPU_DYNAMIC_SHARED(float, shared);
  float *sdw = shared, *sdb = shared + C;
  for (int i = threadIdx.x; i < C; i += blockDim.x)
    sdw[i] = sdb[i] = 0.0f;
  __syncthreads();
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  int first = blockIdx.x * LN_ROWS;
  int last = min(N, first + LN_ROWS);
  bool drop = dinp_drop && rng && p > 0.0f;
  float scale = drop ? 1.0f / (1.0f - p) : 1.0f;
  for (int row = first + warp; row < last; row += WARPS) {
    size_t base = (size_t)row * C;
    float m = mean[row], s = rstd[row];
    /* dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) */
    float a = 0.0f, bsum = 0.0f;
    for (int i = lane; i < C; i += 32) {
      float norm = (ld(inp + base + i) - m) * s;
      float dnorm = w[i] * ld(dout + base + i);
      a += dnorm;
      bsum += dnorm * norm;
    }
    float dnorm_mean = warp_sum(a) / C, dnorm_norm_mean = warp_sum(bsum) / C;
    for (int i = lane; i < C; i += 32) {
      float norm = (ld(inp + base + i) - m) * s;
      float dy = ld(dout + base + i);
      float dx = s * (w[i] * dy - dnorm_mean - norm * dnorm_norm_mean);
      st(dinp + base + i, dx);
      if (dinp_drop) {
        float dd = dx;
        if (drop)
          dd = hpt__keep(rng, site, base + i, p) ? dx * scale : 0.0f;
        st(dinp_drop + base + i, dd);
      }
      atomicAdd(&sdb[i], dy);
      atomicAdd(&sdw[i], norm * dy);
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < C; i += blockDim.x) {
    atomicAdd(&dw[i], sdw[i]);
    atomicAdd(&db[i], sdb[i]);
  }
}

int hpt__gpu_ln_backward(hpt_gpu_amp_t amp, cudaStream_t s, void *dinp,
                         void *dinp_drop, float *dw, float *db,
                         const void *dout, const void *inp, const float *w,
                         const float *mean, const float *rstd, int N, int C,
                         const hpt__gpu_rng_t *rng, uint32_t site, float p,
                         hpt_error_t *error) {
  unsigned blocks = (unsigned)((N + LN_ROWS - 1) / LN_ROWS);
  size_t shared = 2 * (size_t)C * sizeof(float); /* <= 32 KB for C <= 4096 */
  HPT_GPU_DISPATCH(
      amp,
      (HPT_GPU_LAUNCH(ln_backward_kernel<T>, blocks, WARPS * 32, shared,
                      s)((T *)dinp, (T *)dinp_drop, dw, db, (const T *)dout,
                         (const T *)inp, w, mean, rstd, N, C, rng, site, p)));
  HPT_LAUNCH_CHECK(error, "ln_backward");
  return 0;
}

/* ---- embedding backward (hpt__embeddings_backward) ---------------------- */

template <typename T>
__global__ void embed_backward_kernel(float *dwte, float *dwpe, float *dwtt,
                                      const T *demb, const int32_t *ids,
                                      const int32_t *pos, const int32_t *types,
                                      int N, int E, int word_pad, int pos_pad) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (size_t)N * E)
    return;
  int row = (int)(i / E), e = (int)(i % E);
  float d = ld(demb + i);
  if (ids[row] != word_pad)
    atomicAdd(&dwte[(size_t)ids[row] * E + e], d);
  if (pos[row] != pos_pad)
    atomicAdd(&dwpe[(size_t)pos[row] * E + e], d);
  if (dwtt)
    atomicAdd(&dwtt[(size_t)types[row] * E + e], d);
}

int hpt__gpu_embed_backward(hpt_gpu_amp_t amp, cudaStream_t s, float *dwte,
                            float *dwpe, float *dwtt, const void *demb,
                            const int32_t *ids, const int32_t *pos,
                            const int32_t *types, int N, int E, int word_pad,
                            int pos_pad, hpt_error_t *error) {
  size_t n = (size_t)N * E;
  unsigned blocks = (unsigned)((n + 255) / 256);
  HPT_GPU_DISPATCH(amp,
                   (HPT_GPU_LAUNCH(embed_backward_kernel<T>, blocks, 256, 0,
                                   s)(dwte, dwpe, dwtt, (const T *)demb, ids,
                                      pos, types, N, E, word_pad, pos_pad)));
  HPT_LAUNCH_CHECK(error, "embed_backward");
  return 0;
}

/* ---- activations (hpt__act_forward / hpt__act_backward) ----------------- */

#define GELU_TANH_SCALE 0.7978845608028654f /* sqrt(2 / pi) */
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

static __device__ __forceinline__ float act_f(float x, hpt__act_t act) {
  switch (act) {
  case HPT__ACT_GELU:
    return 0.5f * x * (1.0f + erff(x * INV_SQRT2));
  case HPT__ACT_GELU_TANH: {
    float u = GELU_TANH_SCALE * (x + 0.044715f * x * x * x);
    return 0.5f * x * (1.0f + tanhf(u));
  }
  case HPT__ACT_RELU:
    return x > 0.0f ? x : 0.0f;
  case HPT__ACT_TANH:
    return tanhf(x);
  }
  return x;
}

/* act'(.) given the pre-activation x and the output y */
static __device__ __forceinline__ float act_d(float x, float y,
                                              hpt__act_t act) {
  switch (act) {
  case HPT__ACT_GELU: {
    float cdf = 0.5f * (1.0f + erff(x * INV_SQRT2));
    float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
    return cdf + x * pdf;
  }
  case HPT__ACT_GELU_TANH: {
    float u = GELU_TANH_SCALE * (x + 0.044715f * x * x * x);
    float th = tanhf(u);
    float du = GELU_TANH_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
    return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
  }
  case HPT__ACT_RELU:
    return x > 0.0f ? 1.0f : 0.0f;
  case HPT__ACT_TANH:
    return 1.0f - y * y;
  }
  return 1.0f;
}

template <typename T>
__global__ void act_forward_kernel(T *out, const T *inp, size_t n,
                                   hpt__act_t act) {
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    st(out + i, act_f(ld(inp + i), act));
}

template <typename T>
__global__ void act_backward_kernel(T *dinp, const T *dout, const T *inp,
                                    const T *out, size_t n, hpt__act_t act) {
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    float y = act == HPT__ACT_TANH ? ld(out + i) : 0.0f;
    st(dinp + i, ld(dout + i) * act_d(ld(inp + i), y, act));
  }
}

int hpt__gpu_act_forward(hpt_gpu_amp_t amp, cudaStream_t s, void *out,
                         const void *inp, size_t n, hpt__act_t act,
                         hpt_error_t *error) {
  unsigned blocks = hpt__gpu_blocks(n, 256);
  HPT_GPU_DISPATCH(amp, (HPT_GPU_LAUNCH(act_forward_kernel<T>, blocks, 256, 0,
                                        s)((T *)out, (const T *)inp, n, act)));
  HPT_LAUNCH_CHECK(error, "act_forward");
  return 0;
}

int hpt__gpu_act_backward(hpt_gpu_amp_t amp, cudaStream_t s, void *dinp,
                          const void *dout, const void *inp, const void *out,
                          size_t n, hpt__act_t act, hpt_error_t *error) {
  unsigned blocks = hpt__gpu_blocks(n, 256);
  HPT_GPU_DISPATCH(
      amp,
      (HPT_GPU_LAUNCH(act_backward_kernel<T>, blocks, 256, 0, s)(
          (T *)dinp, (const T *)dout, (const T *)inp, (const T *)out, n, act)));
  HPT_LAUNCH_CHECK(error, "act_backward");
  return 0;
}

/* ---- bias gradient: column sums (hpt__matmul_backward's db) ------------- */

template <typename T>
__global__ void bias_backward_kernel(float *db, const T *dout, int N, int OC) {
  __shared__ float part[8][33];
  int col = blockIdx.x * 32 + threadIdx.x;
  float s = 0.0f;
  if (col < OC)
    for (int r = blockIdx.y * 8 + threadIdx.y; r < N; r += gridDim.y * 8)
      s += ld(dout + (size_t)r * OC + col);
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < OC) {
    for (int y = 1; y < 8; y++)
      s += part[y][threadIdx.x];
    atomicAdd(&db[col], s);
  }
}

int hpt__gpu_bias_backward(hpt_gpu_amp_t amp, cudaStream_t s, float *db,
                           const void *dout, int N, int OC,
                           hpt_error_t *error) {
  int ysplit = (N + 63) / 64;
  dim3 grid((unsigned)((OC + 31) / 32), (unsigned)(ysplit > 64 ? 64 : ysplit));
  dim3 block(32, 8);
  HPT_GPU_DISPATCH(amp, (HPT_GPU_LAUNCH(bias_backward_kernel<T>, grid, block, 0,
                                        s)(db, (const T *)dout, N, OC)));
  HPT_LAUNCH_CHECK(error, "bias_backward");
  return 0;
}

/* ---- head helpers, dropout in fp32, compute copy ------------------------ */

__global__ void dropout_f32_kernel(float *x, size_t n,
                                   const hpt__gpu_rng_t *rng, uint32_t site,
                                   float p) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    x[i] = hpt__keep(rng, site, i, p) ? x[i] / (1.0f - p) : 0.0f;
}

int hpt__gpu_dropout_f32(cudaStream_t s, float *x, size_t n,
                         const hpt__gpu_rng_t *rng, uint32_t site, float p,
                         hpt_error_t *error) {
  HPT_GPU_LAUNCH(dropout_f32_kernel, (unsigned)((n + 255) / 256), 256, 0, s)
  (x, n, rng, site, p);
  HPT_LAUNCH_CHECK(error, "dropout_f32");
  return 0;
}

template <typename T>
__global__ void dropout_kernel(T *dst, const T *src, size_t n,
                               const hpt__gpu_rng_t *rng, uint32_t site,
                               float p) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    st(dst + i, hpt__keep(rng, site, i, p) ? ld(src + i) / (1.0f - p) : 0.0f);
}

int hpt__gpu_dropout(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                     const void *src, size_t n, const hpt__gpu_rng_t *rng,
                     uint32_t site, float p, hpt_error_t *error) {
  unsigned blocks = (unsigned)((n + 255) / 256);
  HPT_GPU_DISPATCH(amp, (HPT_GPU_LAUNCH(dropout_kernel<T>, blocks, 256, 0, s)(
                            (T *)dst, (const T *)src, n, rng, site, p)));
  HPT_LAUNCH_CHECK(error, "dropout");
  return 0;
}

__global__ void set_f32_kernel(float *dst, float value) { *dst = value; }

int hpt__gpu_set_f32(cudaStream_t s, float *dst, float value,
                     hpt_error_t *error) {
  HPT_GPU_LAUNCH(set_f32_kernel, 1, 1, 0, s)(dst, value);
  HPT_LAUNCH_CHECK(error, "set_f32");
  return 0;
}

template <typename T>
__global__ void gather_first_kernel(float *h0, const T *x, int B, int T_,
                                    int C) {
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < (size_t)B * C)
    h0[i] = ld(x + (i / C) * (size_t)T_ * C + i % C);
}

int hpt__gpu_gather_first(hpt_gpu_amp_t amp, cudaStream_t s, float *h0,
                          const void *x, int B, int T_, int C,
                          hpt_error_t *error) {
  unsigned blocks = (unsigned)(((size_t)B * C + 255) / 256);
  HPT_GPU_DISPATCH(amp, (HPT_GPU_LAUNCH(gather_first_kernel<T>, blocks, 256, 0,
                                        s)(h0, (const T *)x, B, T_, C)));
  HPT_LAUNCH_CHECK(error, "gather_first");
  return 0;
}

template <typename T>
__global__ void scatter_first_kernel(T *dx, const float *dh0, int B, int T_,
                                     int C) {
  size_t n = (size_t)B * T_ * C;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    size_t b = i / ((size_t)T_ * C), rem = i % ((size_t)T_ * C);
    st(dx + i, rem < (size_t)C ? dh0[b * C + rem] : 0.0f);
  }
}

int hpt__gpu_scatter_first(hpt_gpu_amp_t amp, cudaStream_t s, void *dx,
                           const float *dh0, int B, int T_, int C,
                           hpt_error_t *error) {
  unsigned blocks = hpt__gpu_blocks((size_t)B * T_ * C, 256);
  HPT_GPU_DISPATCH(amp, (HPT_GPU_LAUNCH(scatter_first_kernel<T>, blocks, 256, 0,
                                        s)((T *)dx, dh0, B, T_, C)));
  HPT_LAUNCH_CHECK(error, "scatter_first");
  return 0;
}

template <typename T>
__global__ void cast_kernel(T *dst, const float *src, size_t n) {
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    st(dst + i, src[i]);
}

int hpt__gpu_cast(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                  const float *src, size_t n, hpt_error_t *error) {
  unsigned blocks = hpt__gpu_blocks(n, 256);
  HPT_GPU_DISPATCH(amp, (HPT_GPU_LAUNCH(cast_kernel<T>, blocks, 256, 0,
                                        s)((T *)dst, src, n)));
  HPT_LAUNCH_CHECK(error, "cast");
  return 0;
}

/* ---- cross-entropy with label smoothing (hpt__crossentropy_*) ----------- */

__global__ void xent_forward_kernel(float *probs, const float *logits,
                                    const int32_t *labels, int B, int K,
                                    hpt__gpu_scalars_t *sc) {
  __shared__ double part[256];
  float eps = sc->eps;
  double total = 0.0;
  for (int b = threadIdx.x; b < B; b += blockDim.x) {
    const float *z = logits + (size_t)b * K;
    float mx = z[0];
    for (int i = 1; i < K; i++)
      mx = fmaxf(mx, z[i]);
    double sum = 0.0;
    for (int i = 0; i < K; i++)
      sum += exp((double)z[i] - mx);
    double lse = mx + log(sum), smooth = 0.0;
    for (int i = 0; i < K; i++) {
      probs[(size_t)b * K + i] = (float)exp((double)z[i] - lse);
      smooth += lse - z[i];
    }
    total += (1.0 - eps) * (lse - z[labels[b]]) + eps / K * smooth;
  }
  part[threadIdx.x] = total;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w)
      part[threadIdx.x] += part[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    sc->loss = (float)(part[0] / B);
    sc->loss_sum += part[0];
  }
}

int hpt__gpu_xent_forward(cudaStream_t s, float *probs, const float *logits,
                          const int32_t *labels, int B, int K,
                          hpt__gpu_scalars_t *sc, hpt_error_t *error) {
  HPT_GPU_LAUNCH(xent_forward_kernel, 1, 256, 0, s)
  (probs, logits, labels, B, K, sc);
  HPT_LAUNCH_CHECK(error, "xent_forward");
  return 0;
}

__global__ void xent_backward_kernel(float *dlogits, const float *probs,
                                     const int32_t *labels, int B, int K,
                                     const hpt__gpu_scalars_t *sc) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= B * K)
    return;
  int b = i / K, k = i % K;
  float eps = sc->eps;
  float target = eps / K + (k == labels[b] ? 1.0f - eps : 0.0f);
  dlogits[i] = (probs[i] - target) / B * sc->weight * sc->loss_scale;
}

int hpt__gpu_xent_backward(cudaStream_t s, float *dlogits, const float *probs,
                           const int32_t *labels, int B, int K,
                           const hpt__gpu_scalars_t *sc, hpt_error_t *error) {
  HPT_GPU_LAUNCH(xent_backward_kernel, (unsigned)((B * K + 255) / 256), 256, 0,
                 s)
  (dlogits, probs, labels, B, K, sc);
  HPT_LAUNCH_CHECK(error, "xent_backward");
  return 0;
}

__global__ void rng_advance_kernel(hpt__gpu_scalars_t *sc) {
  sc->rng.counter++;
}

int hpt__gpu_rng_advance(cudaStream_t s, hpt__gpu_scalars_t *sc,
                         hpt_error_t *error) {
  HPT_GPU_LAUNCH(rng_advance_kernel, 1, 1, 0, s)(sc);
  HPT_LAUNCH_CHECK(error, "rng_advance");
  return 0;
}

__global__ void set_seed_kernel(hpt__gpu_scalars_t *sc, uint64_t seed) {
  sc->rng.seed = seed;
}

int hpt__gpu_set_seed(cudaStream_t s, hpt__gpu_scalars_t *sc, uint64_t seed,
                      hpt_error_t *error) {
  HPT_GPU_LAUNCH(set_seed_kernel, 1, 1, 0, s)(sc, seed);
  HPT_LAUNCH_CHECK(error, "set_seed");
  return 0;
}

__global__ void reset_loss_sum_kernel(hpt__gpu_scalars_t *sc) {
  sc->loss_sum = 0.0;
}

int hpt__gpu_reset_loss_sum(cudaStream_t s, hpt__gpu_scalars_t *sc,
                            hpt_error_t *error) {
  HPT_GPU_LAUNCH(reset_loss_sum_kernel, 1, 1, 0, s)(sc);
  HPT_LAUNCH_CHECK(error, "reset_loss_sum");
  return 0;
}
