/* gpu_internal.cuh — what the CUDA backend's files share (private to
 * worker/engine/cuda/): the error-checking macros, the element types and
 * their load/store helpers, the dropout hash, the hpt_gpu_model struct and
 * the launchers of the kernels in gpu_layers.cu, gpu_attention.cu and
 * gpu_optimizer.cu.
 *
 * Conventions (as layers_cpu.h, whose shape key B T C E H D I K N holds
 * here): activations row-major; linear weights (out, in). Launchers take
 * the compute type as hpt_gpu_amp_t and device pointers as void * for
 * compute-type tensors ("act" below: float, bf16 or fp16) and float * for
 * fp32 ones. Launchers enqueue on `stream`, check the launch
 * (cudaGetLastError) and return 0 or a negative HPT_E* with the kernel's
 * name in the message; they never synchronise, so they may be captured in
 * a CUDA graph.
 */
#ifndef HPT_GPU_INTERNAL_CUH
#define HPT_GPU_INTERNAL_CUH

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "gpu_model.h"
#include "model_internal.h"
}

/* ---- errors ------------------------------------------------------------- */

/* Sets *error from a CUDA status: HPT_ENOMEM for out of memory, else
 * HPT_ESYSTEM; the message is "cuda: <what>: <cudaGetErrorString>".
 * Returns the code. Clears the sticky-free last error. */
int hpt__gpu_cuda_error(hpt_error_t *error, cudaError_t status,
                        const char *what, const char *file, int line);
int hpt__gpu_cublas_error(hpt_error_t *error, cublasStatus_t status,
                          const char *what, const char *file, int line);

/* Evaluates a CUDA runtime call; on failure returns the mapped error from
 * the enclosing function (style rule 8: return, never exit). */
#define HPT_CUDA_CHECK(error, call)                                            \
  do {                                                                         \
    cudaError_t hpt__s = (call);                                               \
    if (hpt__s != cudaSuccess)                                                 \
      return hpt__gpu_cuda_error((error), hpt__s, #call, __FILE__, __LINE__);  \
  } while (0)

#define HPT_CUBLAS_CHECK(error, call)                                          \
  do {                                                                         \
    cublasStatus_t hpt__s = (call);                                            \
    if (hpt__s != CUBLAS_STATUS_SUCCESS)                                       \
      return hpt__gpu_cublas_error((error), hpt__s, #call, __FILE__,           \
                                   __LINE__);                                  \
  } while (0)

/* ---- launches ------------------------------------------------------------ */

/* HPT_GPU_LAUNCH(kernel, grid, block, shared_bytes, stream)(args...) is
 * kernel<<<grid, block, shared_bytes, stream>>>(args...), and
 * HPT_GPU_DYNAMIC_SHARED(type, name) declares the block's dynamic shared
 * memory. They are macros so that the CPU emulation
 * (emulation/cuda_emulation.h, force-included first) can run the same
 * kernels without nvcc. */
#ifndef HPT_GPU_LAUNCH
#define HPT_GPU_LAUNCH(kernel, grid, block, shared_bytes, stream)              \
  kernel<<<grid, block, shared_bytes, stream>>>
#define HPT_GPU_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

/* ---- profile (gpu_profile.cu) ------------------------------------------- */

typedef struct hpt__gpu_profile hpt__gpu_profile_t;
/* Starts g's profile (opts.profile) and makes it the active one. */
int hpt__gpu_profile_open(hpt_gpu_model_t *g, hpt_error_t *error);
void hpt__gpu_profile_close(hpt_gpu_model_t *g);
/* Charges the device time since the previous mark to `name`. */
void hpt__gpu_profile_mark(const char *name);
bool hpt__gpu_profiling(void);

/* After a kernel launch: the launch's own error (bad configuration), and
 * a profile mark when profiling. */
#define HPT_LAUNCH_CHECK(error, name)                                          \
  do {                                                                         \
    HPT_CUDA_CHECK(error, cudaGetLastError());                                 \
    if (hpt__gpu_profiling())                                                  \
      hpt__gpu_profile_mark(name);                                             \
  } while (0)

/* ---- element types ------------------------------------------------------ */

typedef __nv_bfloat16 bf16_t;
typedef __half fp16_t;

static __device__ __forceinline__ float ld(const float *p) { return *p; }
static __device__ __forceinline__ float ld(const bf16_t *p) {
  return __bfloat162float(*p);
}
static __device__ __forceinline__ float ld(const fp16_t *p) {
  return __half2float(*p);
}
static __device__ __forceinline__ void st(float *p, float v) { *p = v; }
static __device__ __forceinline__ void st(bf16_t *p, float v) {
  *p = __float2bfloat16_rn(v);
}
static __device__ __forceinline__ void st(fp16_t *p, float v) {
  *p = __float2half_rn(v);
}

/* Runs `body` with `T` naming the compute type of `amp`. */
#define HPT_GPU_DISPATCH(amp, body)                                            \
  do {                                                                         \
    switch (amp) {                                                             \
    case HPT_GPU_AMP_OFF: {                                                    \
      typedef float T;                                                         \
      body;                                                                    \
    } break;                                                                   \
    case HPT_GPU_AMP_BF16: {                                                   \
      typedef bf16_t T;                                                        \
      body;                                                                    \
    } break;                                                                   \
    case HPT_GPU_AMP_FP16: {                                                   \
      typedef fp16_t T;                                                        \
      body;                                                                    \
    } break;                                                                   \
    }                                                                          \
  } while (0)

static inline size_t hpt__gpu_elem_size(hpt_gpu_amp_t amp) {
  return amp == HPT_GPU_AMP_OFF ? 4 : 2;
}

static inline unsigned hpt__gpu_blocks(size_t n, unsigned threads) {
  size_t b = (n + threads - 1) / threads;
  return (unsigned)(b < 1 ? 1 : (b > 65535u * 16 ? 65535u * 16 : b));
}

/* ---- dropout: a counter-based hash -------------------------------------- */

/* Device-side random state, read by the kernels through a pointer so that
 * a captured CUDA graph draws fresh masks on every replay. */
typedef struct hpt__gpu_rng {
  uint64_t seed;
  uint64_t counter; /* forward passes in train mode so far */
} hpt__gpu_rng_t;

/* Dropout sites: each draws from its own stream of the hash. */
enum {
  HPT__SITE_EMB = 0,
  HPT__SITE_HEAD_PRE = 1,
  HPT__SITE_HEAD = 2,
  HPT__SITE_LAYER0 = 8, /* + 4 * layer + {0 attention, 1 res1, 2 res2} */
};

/* Philox 4x32-10 (Salmon et al., SC'11), the generator behind
 * torch.cuda's and cuRAND's default: returns the first 32-bit output for
 * counter (idx_lo, idx_hi, site, pass) and key (seed). */
static __device__ __forceinline__ uint32_t hpt__philox(uint64_t seed,
                                                       uint64_t pass,
                                                       uint32_t site,
                                                       uint64_t idx) {
  uint32_t c0 = (uint32_t)idx, c1 = (uint32_t)(idx >> 32);
  uint32_t c2 = site, c3 = (uint32_t)pass ^ (uint32_t)(pass >> 32);
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c0;
}

/* Whether element idx of a site survives dropout with probability p.
 * Uniform in [0, 1) from the top 24 bits, kept when >= p (as hpt_rng's
 * masks: keep with probability 1 - p). */
static __device__ __forceinline__ bool
hpt__keep(const hpt__gpu_rng_t *rng, uint32_t site, uint64_t idx, float p) {
  uint32_t x = hpt__philox(rng->seed, rng->counter, site, idx);
  return (float)(x >> 8) * (1.0f / 16777216.0f) >= p;
}

/* ---- the model ---------------------------------------------------------- */

/* Device-side scalars of the step; one struct so it is one allocation. */
typedef struct hpt__gpu_scalars {
  hpt__gpu_rng_t rng;
  float loss;          /* last forward's mean loss */
  float eps;           /* label smoothing of the next forward */
  float weight;        /* loss weight of the next backward */
  float loss_scale;    /* fp16 GradScaler scale; 1 otherwise */
  double loss_sum;     /* sum of loss * B since the last take */
  double norm_sq;      /* squared gradient norm (scaled), last step */
  double grad_norm;    /* its unscaled norm */
  int growth;          /* clean steps since the scale last changed */
  int skipped;         /* last step skipped */
  long long applied;   /* Adam's t */
  long long nonfinite; /* skipped steps */
} hpt__gpu_scalars_t;

/* Device offsets (in floats, into the padded parameter arrays) of every
 * tensor, mirroring hpt__weights_t. SIZE_MAX: absent. */
typedef struct hpt__gpu_layer_off {
  size_t q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, ln1_w, ln1_b;
  size_t fc_w, fc_b, proj_w, proj_b, ln2_w, ln2_b;
} hpt__gpu_layer_off_t;

typedef struct hpt__gpu_off {
  size_t wte, wpe, wtt, emb_ln_w, emb_ln_b, emb_proj_w, emb_proj_b;
  hpt__gpu_layer_off_t *layers;
  size_t head_w, head_b, out_w, out_b;
} hpt__gpu_off_t;

/* Activation pointers for one (B, T); see gpu_model.cu's layout(). */
typedef struct hpt__gpu_layer_acts {
  void *qh, *kh, *vh;         /* (B,H,T,D) act */
  void *att;                  /* (B,H,T,T) act: softmax probabilities */
  void *ctx;                  /* (N,C) act: heads concatenated */
  void *res1, *ln1;           /* (N,C) act */
  float *ln1_mean, *ln1_rstd; /* (N) */
  void *fch, *fca;            /* (N,I) act */
  void *res2, *ln2;           /* (N,C) act */
  float *ln2_mean, *ln2_rstd; /* (N) */
} hpt__gpu_layer_acts_t;

typedef struct hpt__gpu_acts {
  int B, T;
  void *emb_sum, *emb_ln; /* (N,E) act */
  float *emb_mean, *emb_rstd;
  void *x0; /* (N,C) act; == emb_ln unless projected */
  hpt__gpu_layer_acts_t *layers;
  float *h0, *hd, *ha, *hdrop, *logits, *probs, *dlogits; /* head, fp32 */
  float *dh0, *dhd, *dha;
  /* scratch shared by layers */
  void *tmp;     /* (N,C) act */
  float *scores; /* (B,H,T,T) fp32: S, then dP in backward */
  void *pdrop;   /* (B,H,T,T) act: dropped P; dS in backward */
  void *ctxh;    /* (B,H,T,D) act */
  void *dx, *dres, *dresd, *dln1, *dctx; /* (N,C) act */
  void *dqh, *dkh, *dvh;                 /* (B,H,T,D) act */
  void *dfa;                             /* (N,I) act */
  void *demb, *demb2;                    /* (N,E) act */
} hpt__gpu_acts_t;

/* One captured pass. */
typedef struct hpt__gpu_graph {
  int B, T, kind; /* kind: 0 eval forward, 1 train forward, 2 backward */
  int seen;       /* eager runs so far */
  cudaGraphExec_t exec;
} hpt__gpu_graph_t;

#define HPT__GPU_MAX_GRAPHS 128

struct hpt_gpu_model {
  hpt_gpu_options_t opts;
  hpt_model_config_t cfg; /* scalar fields only (id2label NULL) */
  int type_vocab;
  bool has_proj, head_pre_dropout, attn_out_dropout;
  hpt__act_t ffn_act, head_act;
  double p_hidden, p_att, p_cls;

  size_t n_params;
  size_t *dev_off;              /* per tensor: offset in the padded arrays */
  size_t *host_off;             /* per tensor: offset in hpt_model's values */
  size_t *numel;                /* per tensor */
  struct hpt__gpu_pinfo *pinfo; /* per tensor: lr group, decay */
  size_t n_dev;                 /* padded floats */
  float *values, *grads;        /* device fp32 master weights and gradients */
  void *wc;     /* device compute-type copy (== values for fp32) */
  float *m, *v; /* AdamW moments; NULL until optimizer_init */
  hpt__gpu_off_t off;

  /* optimizer (host) */
  bool opt_ready;
  hpt_optimizer_options_t opt;
  long steps;                    /* requested */
  struct hpt__gpu_chunk *chunks; /* device: the multi-tensor table */
  int n_chunks;

  cudaStream_t stream;
  cublasLtHandle_t lt;
  void *workspace;
  size_t workspace_bytes;
  struct hpt__gpu_gemm_cache *gemm_cache;
  hpt__gpu_profile_t *profile; /* opts.profile only */

  char *arena; /* activations */
  size_t arena_bytes;
  int cap_B, cap_T;
  hpt__gpu_acts_t a;
  int32_t *ids, *pos, *types, *mask, *labels; /* device batch, cap size */
  int32_t *h_batch;                           /* host staging */
  hpt__gpu_scalars_t *sc;                     /* device */

  bool have_forward, can_backward, last_train;
  int last_B, last_T; /* of the last forward, T padded */

  hpt__gpu_graph_t graphs[HPT__GPU_MAX_GRAPHS];
  int n_graphs;
  bool graphs_broken;
  long graphs_captured, graphs_replayed;

  size_t bytes_now, bytes_peak;
};

/* The activations' (and compute weights') element type for the model's
 * precision. */
static inline cudaDataType_t hpt__gpu_act_type(const hpt_gpu_model_t *g) {
  return g->opts.amp == HPT_GPU_AMP_OFF    ? CUDA_R_32F
         : g->opts.amp == HPT_GPU_AMP_BF16 ? CUDA_R_16BF
                                           : CUDA_R_16F;
}

/* The compute copy of the parameter at offset `off`. */
static inline const void *hpt__gpu_weight(const hpt_gpu_model_t *g,
                                          size_t off) {
  return (const char *)g->wc + off * hpt__gpu_elem_size(g->opts.amp);
}

typedef struct hpt__gpu_pinfo {
  int depth;   /* hpt_model_param_t's */
  bool head;   /* head lr group */
  bool decays; /* WEIGHT or EMBEDDING */
} hpt__gpu_pinfo_t;

/* One chunk of the multi-tensor AdamW launch: a block's range. */
typedef struct hpt__gpu_chunk {
  size_t start, count; /* floats of the padded arrays */
  float base_lr, decay;
} hpt__gpu_chunk_t;

/* Tracked device allocation (zeroed) / free. */
int hpt__gpu_alloc(hpt_gpu_model_t *g, void **ptr, size_t bytes,
                   const char *what, hpt_error_t *error);
void hpt__gpu_free(hpt_gpu_model_t *g, void **ptr, size_t bytes);

/* A device memory size for messages, in `text` (HPT__GPU_SIZE_TEXT bytes):
 * "1.25 GiB", or "12.3 MiB" below 1 GiB, where GiB with two decimals
 * would read "0.00" for a small model or an almost full device. Returns
 * text. Cannot fail. */
#define HPT__GPU_SIZE_TEXT 32
const char *hpt__gpu_size_text(size_t bytes, char *text);

/* ---- GEMM (gpu_gemm.cu) --------------------------------------------------
 * Column-major cuBLASLt underneath; these wrappers speak row-major as
 * layers_cpu.h does. Types: a_type for A and B, c_type for C and D,
 * fp32 accumulation (no TF32). */

typedef struct hpt__gpu_gemm {
  bool trans_a, trans_b; /* column-major ops */
  int m, n, k;           /* column-major sizes */
  const void *A;
  int lda;
  long long stride_a;
  const void *B;
  int ldb;
  long long stride_b;
  const void *C; /* may equal D; NULL: beta must be 0 */
  void *D;
  int ldc;
  long long stride_c;
  int batch; /* >= 1 */
  float alpha, beta;
  cudaDataType_t a_type, c_type;
  const void *bias; /* c_type, length m, or NULL */
} hpt__gpu_gemm_t;

int hpt__gpu_gemm_init(hpt_gpu_model_t *g, hpt_error_t *error);
void hpt__gpu_gemm_close(hpt_gpu_model_t *g);
int hpt__gpu_gemm_run(hpt_gpu_model_t *g, const hpt__gpu_gemm_t *p,
                      hpt_error_t *error);

/* Row-major products, in `batch` contiguous batches: out (M,N) =
 * alpha op(a) @ op(b) + beta c + bias. op(a) is (M,K): a stored (M,K), or
 * (K,M) with trans_a; op(b) is (K,N): b stored (K,N), or (N,K) with
 * trans_b. c (NULL with beta 0) is laid out as out and may be out; bias
 * (N, out_type) or NULL. a and b are in_type, out and c out_type; fp32
 * accumulation. */
int hpt__gpu_matmul_rows(hpt_gpu_model_t *g, void *out, const void *a,
                         bool trans_a, const void *b, bool trans_b, int M,
                         int N, int K, int batch, float alpha, const void *c,
                         float beta, const void *bias, cudaDataType_t in_type,
                         cudaDataType_t out_type, hpt_error_t *error);

/* out (N,OC) = inp (N,IC) @ w^T + bias (OC) (bias may be NULL); all of
 * type `type` (out may be fp32 with out_type). */
int hpt__gpu_linear_forward(hpt_gpu_model_t *g, void *out, const void *inp,
                            const void *w, const void *bias, int N, int IC,
                            int OC, cudaDataType_t type, hpt_error_t *error);
/* dinp (N,IC) = dout @ w + beta_in * resid (resid (N,IC) or NULL; dinp may
 * be NULL); dw (OC,IC) += dout^T @ inp in fp32. */
int hpt__gpu_linear_backward(hpt_gpu_model_t *g, void *dinp, const void *resid,
                             float *dw, const void *dout, const void *inp,
                             const void *w, int N, int IC, int OC,
                             cudaDataType_t type, hpt_error_t *error);

/* ---- layer kernels (gpu_layers.cu) -------------------------------------- */

/* emb_sum (N,E) = wte[ids] + wpe[pos] + wtt[types] (wtt may be NULL);
 * out (N,E) = dropout(LayerNorm(emb_sum)); mean, rstd (N). */
int hpt__gpu_embed_ln_forward(hpt_gpu_amp_t amp, cudaStream_t s, void *out,
                              void *emb_sum, float *mean, float *rstd,
                              const int32_t *ids, const int32_t *pos,
                              const int32_t *types, const float *wte,
                              const float *wpe, const float *wtt,
                              const float *lnw, const float *lnb, int N, int E,
                              float eps, const hpt__gpu_rng_t *rng, float p,
                              hpt_error_t *error);

/* res (N,C) = dropout(y) + resid; out = LayerNorm(res) (w, b fp32). */
int hpt__gpu_residual_ln_forward(hpt_gpu_amp_t amp, cudaStream_t s, void *out,
                                 void *res, float *mean, float *rstd,
                                 const void *y, const void *resid,
                                 const float *w, const float *b, int N, int C,
                                 float eps, const hpt__gpu_rng_t *rng,
                                 uint32_t site, float p, hpt_error_t *error);

/* dinp (N,C) = LayerNorm backward of dout (OVERWRITTEN); dinp_drop (may
 * be NULL) = dropout(dinp) for the branch behind the residual; dw, db
 * (fp32) +=. */
int hpt__gpu_ln_backward(hpt_gpu_amp_t amp, cudaStream_t s, void *dinp,
                         void *dinp_drop, float *dw, float *db,
                         const void *dout, const void *inp, const float *w,
                         const float *mean, const float *rstd, int N, int C,
                         const hpt__gpu_rng_t *rng, uint32_t site, float p,
                         hpt_error_t *error);

/* Embedding tables' gradients (fp32, atomics) from demb (N,E); pad rows
 * skipped as hpt__embeddings_backward does. */
int hpt__gpu_embed_backward(hpt_gpu_amp_t amp, cudaStream_t s, float *dwte,
                            float *dwpe, float *dwtt, const void *demb,
                            const int32_t *ids, const int32_t *pos,
                            const int32_t *types, int N, int E, int word_pad,
                            int pos_pad, hpt_error_t *error);

/* out (n) = act(inp); in_type: compute type (amp), or fp32 when amp is
 * HPT_GPU_AMP_OFF (the head passes OFF). */
int hpt__gpu_act_forward(hpt_gpu_amp_t amp, cudaStream_t s, void *out,
                         const void *inp, size_t n, hpt__act_t act,
                         hpt_error_t *error);
/* dinp (n) = dout * act'(.) (OVERWRITTEN; may equal dout); reads inp for
 * GELU/ReLU, out for tanh. */
int hpt__gpu_act_backward(hpt_gpu_amp_t amp, cudaStream_t s, void *dinp,
                          const void *dout, const void *inp, const void *out,
                          size_t n, hpt__act_t act, hpt_error_t *error);

/* db (OC) += column sums of dout (N,OC), fp32 accumulation. */
int hpt__gpu_bias_backward(hpt_gpu_amp_t amp, cudaStream_t s, float *db,
                           const void *dout, int N, int OC, hpt_error_t *error);

/* fp32 dropout in place on x (n) for a head site (forward and, with the
 * same site and pass, backward). */
int hpt__gpu_dropout_f32(cudaStream_t s, float *x, size_t n,
                         const hpt__gpu_rng_t *rng, uint32_t site, float p,
                         hpt_error_t *error);

/* dst (n) = dropout(src) in the compute type, for site and the current
 * pass (dst may equal src). */
int hpt__gpu_dropout(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                     const void *src, size_t n, const hpt__gpu_rng_t *rng,
                     uint32_t site, float p, hpt_error_t *error);

/* *dst = value on the stream (a kernel argument: safe to reuse at once). */
int hpt__gpu_set_f32(cudaStream_t s, float *dst, float value,
                     hpt_error_t *error);

/* h0 (B,C) fp32 = x[:, 0, :] of x (B,T,C) act. */
int hpt__gpu_gather_first(hpt_gpu_amp_t amp, cudaStream_t s, float *h0,
                          const void *x, int B, int T, int C,
                          hpt_error_t *error);
/* dx (B,T,C) act: zero, then row (b, 0) = dh0[b]. */
int hpt__gpu_scatter_first(hpt_gpu_amp_t amp, cudaStream_t s, void *dx,
                           const float *dh0, int B, int T, int C,
                           hpt_error_t *error);

/* dst (n) compute type = src (n) fp32 (the weights' compute copy). */
int hpt__gpu_cast(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                  const float *src, size_t n, hpt_error_t *error);

/* Cross-entropy with label smoothing over logits (B,K) fp32: probs,
 * sc->loss (mean) and sc->loss_sum += loss * B. One block. */
int hpt__gpu_xent_forward(cudaStream_t s, float *probs, const float *logits,
                          const int32_t *labels, int B, int K,
                          hpt__gpu_scalars_t *sc, hpt_error_t *error);
/* dlogits = (probs - target) / B * sc->weight * sc->loss_scale. */
int hpt__gpu_xent_backward(cudaStream_t s, float *dlogits, const float *probs,
                           const int32_t *labels, int B, int K,
                           const hpt__gpu_scalars_t *sc, hpt_error_t *error);

/* sc->rng.seed = seed (a kernel argument: nothing host-side to keep). */
int hpt__gpu_set_seed(cudaStream_t s, hpt__gpu_scalars_t *sc, uint64_t seed,
                      hpt_error_t *error);
/* sc->loss_sum = 0 */
int hpt__gpu_reset_loss_sum(cudaStream_t s, hpt__gpu_scalars_t *sc,
                            hpt_error_t *error);

/* sc->rng.counter++ (one thread; inside captured graphs). */
int hpt__gpu_rng_advance(cudaStream_t s, hpt__gpu_scalars_t *sc,
                         hpt_error_t *error);

/* ---- attention (gpu_attention.cu) --------------------------------------- */

/* ctx (N,C) from q, k, v projections; fills la->qh/kh/vh/att. */
int hpt__gpu_attention_forward(hpt_gpu_model_t *g, int l, const void *x,
                               bool train, hpt_error_t *error);
/* From a->dctx (N,C): dq, dk, dv into dqh/dkh/dvh (B,H,T,D). */
int hpt__gpu_attention_backward(hpt_gpu_model_t *g, int l, bool train,
                                hpt_error_t *error);
/* (N,C) <-> (B,H,T,D) */
int hpt__gpu_split_heads(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                         const void *src, int B, int T, int H, int D,
                         hpt_error_t *error);
int hpt__gpu_merge_heads(hpt_gpu_amp_t amp, cudaStream_t s, void *dst,
                         const void *src, int B, int T, int H, int D,
                         hpt_error_t *error);

/* ---- passes (gpu_pass.cu) ----------------------------------------------- */

enum {
  HPT__PASS_EVAL = 0,      /* forward, no labels */
  HPT__PASS_EVAL_LOSS = 1, /* forward with the loss, no dropout */
  HPT__PASS_TRAIN = 2,     /* forward with dropout and the loss */
  HPT__PASS_BACKWARD = 3,  /* backward of a train forward */
  HPT__PASS_BACKWARD_EVAL = 4,
};

/* Runs pass `kind` for the current g->a shape: eagerly the first time a
 * (B, T, kind) is seen, then from a captured CUDA graph (when
 * g->opts.graphs; eagerly for good if a capture fails). */
int hpt__gpu_run_pass(hpt_gpu_model_t *g, int kind, hpt_error_t *error);
/* Destroys every captured graph (activations moved, dropout changed). */
void hpt__gpu_graphs_drop(hpt_gpu_model_t *g);

/* ---- optimizer (gpu_optimizer.cu) --------------------------------------- */

/* sc->norm_sq = sum of grads^2 (n floats). */
int hpt__gpu_grad_norm(cudaStream_t s, const float *grads, size_t n,
                       hpt__gpu_scalars_t *sc, hpt_error_t *error);
/* AdamW over the chunk table, clipping and unscaling by sc's norm and
 * scale; skips everything when the norm is not finite. With amp bf16 or
 * fp16 it also writes each new value into the compute copy wc (the same
 * offsets), so no separate cast pass reads the values again. */
int hpt__gpu_adamw(hpt_gpu_amp_t amp, cudaStream_t s, float *values, void *wc,
                   float *grads, float *m, float *v,
                   const hpt__gpu_chunk_t *chunks, int n_chunks,
                   float lr_factor, float beta1, float beta2, float eps,
                   float max_norm, hpt__gpu_scalars_t *sc, bool fp16,
                   hpt_error_t *error);
/* x (n) *= factor */
int hpt__gpu_scale(cudaStream_t s, float *x, size_t n, float factor,
                   hpt_error_t *error);

#endif
