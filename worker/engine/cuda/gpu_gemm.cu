/* gpu_gemm.cu — every matrix product of the CUDA backend, through
 * cuBLASLt: fp32 accumulation (CUBLAS_COMPUTE_32F, never TF32, so the fp32
 * path matches the CPU engine), bf16/fp16/fp32 inputs, the bias added in
 * the epilogue, strided batches for attention.
 *
 * Descriptors and the heuristic's algorithm are cached per problem (shape,
 * types, ops, batch, epilogue and the pointers' alignment), so a replayed
 * shape costs one cublasLtMatmul; the alignment is part of the key because
 * cuBLASLt's heuristic otherwise assumes 256-byte aligned pointers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.cuh"

#define WORKSPACE_BYTES ((size_t)32 << 20)
#define CACHE_MAX 512

typedef struct key {
  int trans_a, trans_b, m, n, k, lda, ldb, ldc, batch, has_bias;
  long long stride_a, stride_b, stride_c;
  int a_type, c_type;
  unsigned align_a, align_b, align_c, align_d;
} key_t_;

typedef struct entry {
  key_t_ key;
  cublasLtMatmulDesc_t op;
  cublasLtMatrixLayout_t a, b, c;
  cublasLtMatmulAlgo_t algo;
} entry_t;

struct hpt__gpu_gemm_cache {
  entry_t entries[CACHE_MAX];
  int n;
};

int hpt__gpu_gemm_init(hpt_gpu_model_t *g, hpt_error_t *error) {
  HPT_CUBLAS_CHECK(error, cublasLtCreate(&g->lt));
  g->gemm_cache =
      (struct hpt__gpu_gemm_cache *)calloc(1, sizeof *g->gemm_cache);
  if (!g->gemm_cache)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  g->workspace_bytes = WORKSPACE_BYTES;
  return hpt__gpu_alloc(g, &g->workspace, WORKSPACE_BYTES, "gemm workspace",
                        error);
}

void hpt__gpu_gemm_close(hpt_gpu_model_t *g) {
  if (g->gemm_cache) {
    for (int i = 0; i < g->gemm_cache->n; i++) {
      entry_t *e = &g->gemm_cache->entries[i];
      cublasLtMatrixLayoutDestroy(e->a);
      cublasLtMatrixLayoutDestroy(e->b);
      cublasLtMatrixLayoutDestroy(e->c);
      cublasLtMatmulDescDestroy(e->op);
    }
    free(g->gemm_cache);
    g->gemm_cache = NULL;
  }
  hpt__gpu_free(g, &g->workspace, g->workspace_bytes);
  if (g->lt)
    cublasLtDestroy(g->lt);
  g->lt = NULL;
}

/* Largest power of two dividing the address, at most 256. */
static unsigned alignment(const void *p) {
  uintptr_t a = (uintptr_t)p;
  unsigned al = 256;
  while (al > 1 && a % al != 0)
    al /= 2;
  return al;
}

static int make_layout(cublasLtMatrixLayout_t *out, cudaDataType_t type,
                       int rows, int cols, int ld, int batch, long long stride,
                       hpt_error_t *error) {
  HPT_CUBLAS_CHECK(error, cublasLtMatrixLayoutCreate(out, type, (uint64_t)rows,
                                                     (uint64_t)cols, ld));
  if (batch > 1) {
    int32_t count = batch;
    int64_t off = stride;
    HPT_CUBLAS_CHECK(error, cublasLtMatrixLayoutSetAttribute(
                                *out, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                &count, sizeof count));
    HPT_CUBLAS_CHECK(error,
                     cublasLtMatrixLayoutSetAttribute(
                         *out, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                         &off, sizeof off));
  }
  return 0;
}

/* Builds descriptors and picks an algorithm for key k into e. */
static int make_entry(hpt_gpu_model_t *g, const key_t_ *k, entry_t *e,
                      hpt_error_t *error) {
  memset(e, 0, sizeof *e);
  e->key = *k;
  cudaDataType_t at = (cudaDataType_t)k->a_type, ct = (cudaDataType_t)k->c_type;
  HPT_CUBLAS_CHECK(
      error, cublasLtMatmulDescCreate(&e->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  cublasOperation_t ta = k->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t tb = k->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  HPT_CUBLAS_CHECK(
      error, cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSA,
                                            &ta, sizeof ta));
  HPT_CUBLAS_CHECK(
      error, cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_TRANSB,
                                            &tb, sizeof tb));
  if (k->has_bias) {
    cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    HPT_CUBLAS_CHECK(
        error, cublasLtMatmulDescSetAttribute(
                   e->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
  }
  int rc;
  if ((rc = make_layout(&e->a, at, k->trans_a ? k->k : k->m,
                        k->trans_a ? k->m : k->k, k->lda, k->batch, k->stride_a,
                        error)) != 0 ||
      (rc = make_layout(&e->b, at, k->trans_b ? k->n : k->k,
                        k->trans_b ? k->k : k->n, k->ldb, k->batch, k->stride_b,
                        error)) != 0 ||
      (rc = make_layout(&e->c, ct, k->m, k->n, k->ldc, k->batch, k->stride_c,
                        error)) != 0)
    return rc;

  cublasLtMatmulPreference_t pref = NULL;
  HPT_CUBLAS_CHECK(error, cublasLtMatmulPreferenceCreate(&pref));
  uint64_t ws = g->workspace_bytes;
  cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
  uint32_t al[4] = {k->align_a, k->align_b, k->align_c, k->align_d};
  cublasLtMatmulPreferenceAttributes_t which[4] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  for (int i = 0; i < 4; i++)
    cublasLtMatmulPreferenceSetAttribute(pref, which[i], &al[i], sizeof al[i]);
  cublasLtMatmulHeuristicResult_t result;
  int found = 0;
  cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(
      g->lt, e->op, e->a, e->b, e->c, e->c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (s != CUBLAS_STATUS_SUCCESS || found == 0)
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "cublasLt: no algorithm for %s%s m=%d n=%d k=%d batch=%d "
                   "types %d/%d (status %d)",
                   k->trans_a ? "T" : "N", k->trans_b ? "T" : "N", k->m, k->n,
                   k->k, k->batch, k->a_type, k->c_type, (int)s);
  e->algo = result.algo;
  return 0;
}

int hpt__gpu_gemm_run(hpt_gpu_model_t *g, const hpt__gpu_gemm_t *p,
                      hpt_error_t *error) {
  key_t_ k;
  memset(&k, 0, sizeof k); /* padding too: the key is compared bytewise */
  k.trans_a = p->trans_a;
  k.trans_b = p->trans_b;
  k.m = p->m;
  k.n = p->n;
  k.k = p->k;
  k.lda = p->lda;
  k.ldb = p->ldb;
  k.ldc = p->ldc;
  k.batch = p->batch < 1 ? 1 : p->batch;
  k.has_bias = p->bias != NULL;
  k.stride_a = p->stride_a;
  k.stride_b = p->stride_b;
  k.stride_c = p->stride_c;
  k.a_type = (int)p->a_type;
  k.c_type = (int)p->c_type;
  const void *C = p->C ? p->C : p->D;
  k.align_a = alignment(p->A);
  k.align_b = alignment(p->B);
  k.align_c = alignment(C);
  k.align_d = alignment(p->D);

  struct hpt__gpu_gemm_cache *cache = g->gemm_cache;
  entry_t *e = NULL;
  for (int i = 0; i < cache->n && !e; i++)
    if (memcmp(&cache->entries[i].key, &k, sizeof k) == 0)
      e = &cache->entries[i];
  entry_t fresh;
  if (!e) {
    int rc = make_entry(g, &k, &fresh, error);
    if (rc != 0) {
      if (fresh.a)
        cublasLtMatrixLayoutDestroy(fresh.a);
      if (fresh.b)
        cublasLtMatrixLayoutDestroy(fresh.b);
      if (fresh.c)
        cublasLtMatrixLayoutDestroy(fresh.c);
      if (fresh.op)
        cublasLtMatmulDescDestroy(fresh.op);
      return rc;
    }
    if (cache->n < CACHE_MAX) {
      cache->entries[cache->n] = fresh;
      e = &cache->entries[cache->n++];
    } else {
      e = &fresh; /* full: used once, leaked descriptors avoided below */
    }
  }
  if (p->bias)
    HPT_CUBLAS_CHECK(error, cublasLtMatmulDescSetAttribute(
                                e->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                &p->bias, sizeof p->bias));
  cublasStatus_t s = cublasLtMatmul(
      g->lt, e->op, &p->alpha, p->A, e->a, p->B, e->b, &p->beta, C, e->c, p->D,
      e->c, &e->algo, g->workspace, g->workspace_bytes, g->stream);
  if (e == &fresh) {
    cublasLtMatrixLayoutDestroy(fresh.a);
    cublasLtMatrixLayoutDestroy(fresh.b);
    cublasLtMatrixLayoutDestroy(fresh.c);
    cublasLtMatmulDescDestroy(fresh.op);
  }
  if (s != CUBLAS_STATUS_SUCCESS)
    return hpt__gpu_cublas_error(error, s, "cublasLtMatmul", __FILE__,
                                 __LINE__);
  if (hpt__gpu_profiling()) {
    char name[96];
    snprintf(name, sizeof name, "gemm %s%s %dx%dx%d%s%s%s",
             k.trans_a ? "T" : "N", k.trans_b ? "T" : "N", k.m, k.n, k.k,
             k.batch > 1 ? " batched" : "",
             k.a_type == CUDA_R_16BF  ? " bf16"
             : k.a_type == CUDA_R_16F ? " fp16"
                                      : " fp32",
             k.c_type != k.a_type ? "->fp32" : "");
    hpt__gpu_profile_mark(name);
  }
  return 0;
}

/* ---- row-major products ------------------------------------------------- */

/* A row-major (r, c) matrix is the column-major (c, r) one at the same
 * address, so out = op(a) op(b) row-major is out^T = op(b)^T op(a)^T
 * column-major: the operands swap, each keeps its own transpose flag, and
 * each leading dimension is its stored row length. */
int hpt__gpu_matmul_rows(hpt_gpu_model_t *g, void *out, const void *a,
                         bool trans_a, const void *b, bool trans_b, int M,
                         int N, int K, int batch, float alpha, const void *c,
                         float beta, const void *bias, cudaDataType_t in_type,
                         cudaDataType_t out_type, hpt_error_t *error) {
  hpt__gpu_gemm_t p;
  memset(&p, 0, sizeof p);
  p.trans_a = trans_b;
  p.trans_b = trans_a;
  p.m = N;
  p.n = M;
  p.k = K;
  p.A = b;
  p.lda = trans_b ? K : N;
  p.stride_a = (long long)K * N;
  p.B = a;
  p.ldb = trans_a ? M : K;
  p.stride_b = (long long)M * K;
  p.C = c;
  p.D = out;
  p.ldc = N;
  p.stride_c = (long long)M * N;
  p.batch = batch;
  p.alpha = alpha;
  p.beta = beta;
  p.a_type = in_type;
  p.c_type = out_type;
  p.bias = bias;
  return hpt__gpu_gemm_run(g, &p, error);
}

int hpt__gpu_linear_forward(hpt_gpu_model_t *g, void *out, const void *inp,
                            const void *w, const void *bias, int N, int IC,
                            int OC, cudaDataType_t type, hpt_error_t *error) {
  /* out (N,OC) = inp (N,IC) @ w^T, w (OC,IC) */
  return hpt__gpu_matmul_rows(g, out, inp, false, w, true, N, OC, IC, 1, 1.0f,
                              NULL, 0.0f, bias, type, type, error);
}

int hpt__gpu_linear_backward(hpt_gpu_model_t *g, void *dinp, const void *resid,
                             float *dw, const void *dout, const void *inp,
                             const void *w, int N, int IC, int OC,
                             cudaDataType_t type, hpt_error_t *error) {
  int rc;
  /* dinp (N,IC) = dout (N,OC) @ w (OC,IC) [+ resid] */
  if (dinp && (rc = hpt__gpu_matmul_rows(
                   g, dinp, dout, false, w, false, N, IC, OC, 1, 1.0f, resid,
                   resid ? 1.0f : 0.0f, NULL, type, type, error)) != 0)
    return rc;
  /* dw (OC,IC) += dout^T @ inp (N,IC), accumulated in fp32 */
  return hpt__gpu_matmul_rows(g, dw, dout, true, inp, false, OC, IC, N, 1, 1.0f,
                              dw, 1.0f, NULL, type, CUDA_R_32F, error);
}
