/* cublaslt_matmul_emulation.cc — cublasLtMatmulAlgoGetHeuristic and
 * cublasLtMatmul of the emulated cuBLASLt: the problem planned from the
 * descriptors (shapes, types, batches, bias) and checked as
 * cublaslt_emulation.cc's contract says, the algorithm record that ties a
 * call to its heuristic's types and alignments, the aliasing checks, and
 * the computation, enqueued on the stream (emulation_internal.h).
 */
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <functional>
#include <new>
#include <vector>

#include "cublaslt_emulation_internal.h"
#include "emulation_internal.h"

/* ---- the problem --------------------------------------------------------- */

/* One operand as the computation sees it: element (i, j) of batch b is at
 * data + b * batch_stride + i * row_stride + j * col_stride (elements). */
typedef struct hpt_emulation_matrix {
  const void *data;
  cudaDataType type;
  size_t element_bytes;
  int64_t rows, cols;
  int64_t row_stride, col_stride, batch_stride;
} hpt_emulation_matrix_t;

/* Everything a matmul needs, by value: what cublasLt 'plans' from the
 * descriptors and what the enqueued work copies. */
typedef struct hpt_emulation_problem {
  int64_t m, n, k, batch;
  bool trans_a, trans_b;
  hpt_emulation_matrix_t a, b, c, d;
  bool c_layout_is_d; /* Cdesc describes what Ddesc describes */
  bool has_bias;
  cudaDataType bias_type;
  size_t bias_element_bytes;
  int64_t bias_batch_stride;
  int32_t compute_type, scale_type;
} hpt_emulation_problem_t;

static size_t hpt_emulation_element_bytes(uint32_t type) {
  switch (type) {
  case CUDA_R_32F:
    return 4;
  case CUDA_R_16F:
  case CUDA_R_16BF:
    return 2;
  default:
    return 0;
  }
}

static const char *hpt_emulation_type_name(uint32_t type) {
  switch (type) {
  case CUDA_R_32F:
    return "CUDA_R_32F";
  case CUDA_R_16F:
    return "CUDA_R_16F";
  case CUDA_R_16BF:
    return "CUDA_R_16BF";
  case CUDA_R_64F:
    return "CUDA_R_64F";
  case CUDA_R_8I:
    return "CUDA_R_8I";
  case CUDA_R_32I:
    return "CUDA_R_32I";
  case CUDA_R_8F_E4M3:
    return "CUDA_R_8F_E4M3";
  case CUDA_R_8F_E5M2:
    return "CUDA_R_8F_E5M2";
  default:
    return "another type";
  }
}

/* The supported rows of the docs' datatype table for CUBLAS_COMPUTE_32F. */
static bool hpt_emulation_types_supported(uint32_t ab, uint32_t cd) {
  return (ab == CUDA_R_32F && cd == CUDA_R_32F) ||
         (ab == CUDA_R_16BF && (cd == CUDA_R_16BF || cd == CUDA_R_32F)) ||
         (ab == CUDA_R_16F && (cd == CUDA_R_16F || cd == CUDA_R_32F));
}

/* Offset (elements) of the last element of m's batches, with overflow
 * checked; false when it does not fit. */
static bool hpt_emulation_last_offset(const hpt_emulation_matrix_t *m,
                                      int64_t batch, uint64_t *last) {
  uint64_t a, b, c;
  if (__builtin_mul_overflow((uint64_t)(batch - 1), (uint64_t)m->batch_stride,
                             &a) ||
      __builtin_mul_overflow((uint64_t)(m->rows - 1), (uint64_t)m->row_stride,
                             &b) ||
      __builtin_mul_overflow((uint64_t)(m->cols - 1), (uint64_t)m->col_stride,
                             &c) ||
      __builtin_add_overflow(a, b, &a) || __builtin_add_overflow(a, c, &a))
    return false;
  *last = a;
  return true;
}

/* Bytes from m's first element to the end of its last, or 0 on overflow. */
static size_t hpt_emulation_extent_bytes(const hpt_emulation_matrix_t *m,
                                         int64_t batch) {
  uint64_t last, bytes;
  if (!hpt_emulation_last_offset(m, batch, &last) ||
      __builtin_mul_overflow(last + 1, (uint64_t)m->element_bytes, &bytes) ||
      bytes > SIZE_MAX)
    return 0;
  return (size_t)bytes;
}

/* Checks one layout on its own and turns it into a matrix. which names it
 * in messages ("A", ...). C alone may have ld 0. */
static cublasStatus_t hpt_emulation_matrix_of(const char *caller,
                                              const char *which,
                                              const hpt_emulation_layout_t *l,
                                              bool ld_zero_allowed,
                                              hpt_emulation_matrix_t *out) {
  if (l->order != CUBLASLT_ORDER_COL && l->order != CUBLASLT_ORDER_ROW)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "%s: only orders COL and ROW are emulated, "
                                "not %d",
                                which, (int)l->order);
  if (l->batch_mode != CUBLASLT_BATCH_MODE_STRIDED)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "%s: only strided batches are emulated", which);
  if (l->plane_offset != 0)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "%s: planar complex is not emulated", which);
  if (l->rows == 0 || l->cols == 0)
    return hpt_emulation_refuse(
        CUBLAS_STATUS_NOT_SUPPORTED, caller,
        "%s is %llu x %llu: cuBLASLt's handling of an empty matrix is "
        "undocumented; skip the call instead",
        which, (unsigned long long)l->rows, (unsigned long long)l->cols);
  if (l->rows > INT32_MAX || l->cols > INT32_MAX)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "%s is %llu x %llu: more than int32_t", which,
                                (unsigned long long)l->rows,
                                (unsigned long long)l->cols);
  /* "greater or equal to CUBLASLT_MATRIX_LAYOUT_ROWS in case of
   * CUBLASLT_ORDER_COL"; for ROW the stride is between rows. */
  uint64_t minimum_ld = l->order == CUBLASLT_ORDER_COL ? l->rows : l->cols;
  if (l->ld < 0 ||
      ((uint64_t)l->ld < minimum_ld && !(ld_zero_allowed && l->ld == 0)))
    return hpt_emulation_refuse(
        CUBLAS_STATUS_INVALID_VALUE, caller,
        "%s: ld %lld is less than its %s (%llu, order %s)", which,
        (long long)l->ld, l->order == CUBLASLT_ORDER_COL ? "rows" : "columns",
        (unsigned long long)minimum_ld,
        l->order == CUBLASLT_ORDER_COL ? "COL" : "ROW");
  if (l->batch_count < 1)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "%s: batch count %d", which,
                                (int)l->batch_count);
  if (l->batch_stride < 0)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "%s: negative batch stride %lld", which,
                                (long long)l->batch_stride);
  out->data = NULL;
  out->type = (cudaDataType)l->type;
  out->element_bytes = hpt_emulation_element_bytes(l->type);
  out->rows = (int64_t)l->rows;
  out->cols = (int64_t)l->cols;
  out->row_stride = l->order == CUBLASLT_ORDER_COL ? 1 : l->ld;
  out->col_stride = l->order == CUBLASLT_ORDER_COL ? l->ld : 1;
  out->batch_stride = l->batch_count > 1 ? l->batch_stride : 0;
  return CUBLAS_STATUS_SUCCESS;
}

static bool hpt_emulation_same_layout(const hpt_emulation_layout_t *x,
                                      const hpt_emulation_layout_t *y) {
  return x->type == y->type && x->order == y->order && x->rows == y->rows &&
         x->cols == y->cols && x->ld == y->ld &&
         x->batch_count == y->batch_count &&
         (x->batch_count == 1 || x->batch_stride == y->batch_stride) &&
         x->plane_offset == y->plane_offset && x->batch_mode == y->batch_mode;
}

/* Whether two batches of d would write one element: the GPU's blocks
 * would race. Exact (a bitmap of d's elements) unless the batch stride
 * alone keeps the batches apart. Throws std::bad_alloc. */
static bool hpt_emulation_batches_overlap(const hpt_emulation_matrix_t *d,
                                          int64_t batch) {
  if (batch == 1)
    return false;
  uint64_t one_last = 0;
  hpt_emulation_last_offset(d, 1, &one_last); /* checked by the caller */
  if ((uint64_t)d->batch_stride > one_last)
    return false;
  if (d->batch_stride == 0)
    return true;
  std::vector<bool> written(
      (size_t)(one_last + 1 + (uint64_t)(batch - 1) * d->batch_stride));
  for (int64_t b = 0; b < batch; b++)
    for (int64_t j = 0; j < d->cols; j++)
      for (int64_t i = 0; i < d->rows; i++) {
        size_t at = (size_t)(b * d->batch_stride + i * d->row_stride +
                             j * d->col_stride);
        if (written[at])
          return true;
        written[at] = true;
      }
  return false;
}

/* The checks that need only the descriptors, shared by the heuristic and
 * cublasLtMatmul (which then checks pointers). Throws std::bad_alloc. */
static cublasStatus_t hpt_emulation_plan(const char *caller,
                                         const hpt_emulation_matmul_desc_t *op,
                                         const hpt_emulation_layout_t *la,
                                         const hpt_emulation_layout_t *lb,
                                         const hpt_emulation_layout_t *lc,
                                         const hpt_emulation_layout_t *ld,
                                         hpt_emulation_problem_t *p) {
  if (op->compute_type != CUBLAS_COMPUTE_32F &&
      op->compute_type != CUBLAS_COMPUTE_32F_PEDANTIC)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "compute type %d: only CUBLAS_COMPUTE_32F "
                                "and _PEDANTIC are emulated",
                                (int)op->compute_type);
  if (op->scale_type != CUDA_R_32F)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "scale type %s with CUBLAS_COMPUTE_32F: the "
                                "docs allow only CUDA_R_32F",
                                hpt_emulation_type_name(op->scale_type));
  if (op->pointer_mode != CUBLASLT_POINTER_MODE_HOST)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "pointer mode %d: only "
                                "CUBLASLT_POINTER_MODE_HOST is emulated",
                                (int)op->pointer_mode);
  const int32_t trans[2] = {op->trans_a, op->trans_b};
  for (int i = 0; i < 2; i++) {
    if (trans[i] == CUBLAS_OP_N || trans[i] == CUBLAS_OP_T)
      continue;
    return hpt_emulation_refuse(
        trans[i] == CUBLAS_OP_C ? CUBLAS_STATUS_NOT_SUPPORTED
                                : CUBLAS_STATUS_INVALID_VALUE,
        caller, "TRANS%c is %d: only CUBLAS_OP_N and CUBLAS_OP_T are emulated",
        "AB"[i], (int)trans[i]);
  }
  if (op->trans_c != CUBLAS_OP_N)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "TRANSC is %d: \"Currently only CUBLAS_OP_N "
                                "is supported\"",
                                (int)op->trans_c);
  if (op->fill_mode != CUBLAS_FILL_MODE_FULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "fill mode %d: only CUBLAS_FILL_MODE_FULL is "
                                "emulated",
                                (int)op->fill_mode);
  if (op->epilogue != CUBLASLT_EPILOGUE_DEFAULT &&
      op->epilogue != CUBLASLT_EPILOGUE_BIAS)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "epilogue %u: only DEFAULT and BIAS are "
                                "emulated",
                                (unsigned)op->epilogue);
  cublasStatus_t unimplemented = hpt_emulation_desc_unimplemented(caller, op);
  if (unimplemented != CUBLAS_STATUS_SUCCESS)
    return unimplemented;

  cublasStatus_t status;
  if ((status = hpt_emulation_matrix_of(caller, "A", la, false, &p->a)) ||
      (status = hpt_emulation_matrix_of(caller, "B", lb, false, &p->b)) ||
      (status = hpt_emulation_matrix_of(caller, "C", lc, true, &p->c)) ||
      (status = hpt_emulation_matrix_of(caller, "D", ld, false, &p->d)))
    return status;

  if (la->type != lb->type || lc->type != ld->type ||
      !hpt_emulation_types_supported(la->type, ld->type))
    return hpt_emulation_refuse(
        CUBLAS_STATUS_NOT_SUPPORTED, caller,
        "types A %s, B %s, C %s, D %s are not a row of the docs' table for "
        "CUBLAS_COMPUTE_32F (A = B in 32F, 16BF, 16F; C = D in the same or "
        "32F)",
        hpt_emulation_type_name(la->type), hpt_emulation_type_name(lb->type),
        hpt_emulation_type_name(lc->type), hpt_emulation_type_name(ld->type));
  /* "out-of-place matrix multiplication (C != D, both matrices must have
   * the same data type, number of rows, number of columns, batch size, and
   * memory order)" */
  if (lc->order != ld->order)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "C and D differ in order");

  p->trans_a = op->trans_a == CUBLAS_OP_T;
  p->trans_b = op->trans_b == CUBLAS_OP_T;
  p->m = p->trans_a ? p->a.cols : p->a.rows;
  p->k = p->trans_a ? p->a.rows : p->a.cols;
  int64_t k_of_b = p->trans_b ? p->b.cols : p->b.rows;
  p->n = p->trans_b ? p->b.rows : p->b.cols;
  if (k_of_b != p->k || p->d.rows != p->m || p->d.cols != p->n ||
      p->c.rows != p->m || p->c.cols != p->n)
    return hpt_emulation_refuse(
        CUBLAS_STATUS_INVALID_VALUE, caller,
        "shapes do not chain: op(A) is %lld x %lld (A %lld x %lld, TRANSA "
        "%c), op(B) is %lld x %lld (B %lld x %lld, TRANSB %c), C is %lld x "
        "%lld, D is %lld x %lld",
        (long long)p->m, (long long)p->k, (long long)p->a.rows,
        (long long)p->a.cols, p->trans_a ? 'T' : 'N', (long long)k_of_b,
        (long long)p->n, (long long)p->b.rows, (long long)p->b.cols,
        p->trans_b ? 'T' : 'N', (long long)p->c.rows, (long long)p->c.cols,
        (long long)p->d.rows, (long long)p->d.cols);
  if (la->batch_count != ld->batch_count ||
      lb->batch_count != ld->batch_count || lc->batch_count != ld->batch_count)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "batch counts differ: A %d, B %d, C %d, D %d",
                                (int)la->batch_count, (int)lb->batch_count,
                                (int)lc->batch_count, (int)ld->batch_count);
  p->batch = ld->batch_count;

  p->has_bias = op->epilogue == CUBLASLT_EPILOGUE_BIAS;
  p->bias_type = p->d.type;
  p->bias_element_bytes = p->d.element_bytes;
  p->bias_batch_stride = 0;
  if (p->has_bias) {
    /* "If unset (or set to the default value of -1), the bias vector
     * elements are the same type as the elements of the output matrix";
     * the table's bias type is C's type in every row emulated here. */
    if (op->bias_type != -1 && (uint32_t)op->bias_type != ld->type)
      return hpt_emulation_refuse(
          CUBLAS_STATUS_NOT_SUPPORTED, caller,
          "bias type %s with D %s: the docs' table gives the bias D's type",
          hpt_emulation_type_name((uint32_t)op->bias_type),
          hpt_emulation_type_name(ld->type));
    if (op->bias_batch_stride < 0)
      return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                  "negative bias batch stride %lld",
                                  (long long)op->bias_batch_stride);
    p->bias_batch_stride = p->batch > 1 ? op->bias_batch_stride : 0;
  }

  const hpt_emulation_matrix_t *all[4] = {&p->a, &p->b, &p->c, &p->d};
  for (int i = 0; i < 4; i++)
    if (hpt_emulation_extent_bytes(all[i], p->batch) == 0)
      return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                  "%c spans more than the address space",
                                  "ABCD"[i]);
  if (hpt_emulation_batches_overlap(&p->d, p->batch))
    return hpt_emulation_refuse(
        CUBLAS_STATUS_INVALID_VALUE, caller,
        "D's %lld batches overlap (batch stride %lld): they would race",
        (long long)p->batch, (long long)p->d.batch_stride);
  p->c_layout_is_d = hpt_emulation_same_layout(lc, ld);
  p->compute_type = op->compute_type;
  p->scale_type = op->scale_type;
  return CUBLAS_STATUS_SUCCESS;
}

/* ---- the algorithm ------------------------------------------------------- */

/* cublasLtMatmulAlgo_t is ours to fill: data[0] marks it as this file's,
 * data[1] records the types it was found for, data[2] and data[3] the
 * preference's minimum alignments of A, B, C and D. */
static const uint64_t HPT_EMULATION_ALGO_MAGIC = 0x68707420456d4c74ull;

static uint64_t hpt_emulation_type_signature(const hpt_emulation_problem_t *p) {
  return (uint64_t)(p->a.type & 0xff) | (uint64_t)(p->b.type & 0xff) << 8 |
         (uint64_t)(p->c.type & 0xff) << 16 |
         (uint64_t)(p->d.type & 0xff) << 24 |
         (uint64_t)(p->compute_type & 0xffff) << 32 |
         (uint64_t)(p->scale_type & 0xffff) << 48;
}

extern "C" cublasStatus_t cublasLtMatmulAlgoGetHeuristic(
    cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t operationDesc,
    cublasLtMatrixLayout_t Adesc, cublasLtMatrixLayout_t Bdesc,
    cublasLtMatrixLayout_t Cdesc, cublasLtMatrixLayout_t Ddesc,
    cublasLtMatmulPreference_t preference, int requestedAlgoCount,
    cublasLtMatmulHeuristicResult_t heuristicResultsArray[],
    int *returnAlgoCount) {
  static const char caller[] = "cublasLtMatmulAlgoGetHeuristic";
  if (returnAlgoCount != NULL)
    *returnAlgoCount = 0;
  if (!hpt_emulation_handle_ok(lightHandle))
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_INITIALIZED, caller,
                                "not a handle from cublasLtCreate");
  if (requestedAlgoCount <= 0)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "requestedAlgoCount is %d", requestedAlgoCount);
  if (heuristicResultsArray == NULL || returnAlgoCount == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "heuristicResultsArray or returnAlgoCount "
                                "is NULL");
  const hpt_emulation_matmul_desc_t *op = hpt_emulation_desc_of(operationDesc);
  const hpt_emulation_layout_t *la = hpt_emulation_layout_of(Adesc);
  const hpt_emulation_layout_t *lb = hpt_emulation_layout_of(Bdesc);
  const hpt_emulation_layout_t *ld = hpt_emulation_layout_of(Ddesc);
  /* As cublasLtMatmul: "If Cdesc is omitted ... equal to Ddesc". */
  const hpt_emulation_layout_t *lc =
      Cdesc == NULL ? ld : hpt_emulation_layout_of(Cdesc);
  const hpt_emulation_preference_t *pref =
      hpt_emulation_preference_of(preference);
  if (op == NULL || la == NULL || lb == NULL || lc == NULL || ld == NULL ||
      pref == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "a descriptor or the preference is NULL or "
                                "not live");
  if (pref->search_mode != CUBLASLT_SEARCH_BEST_FIT)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_SUPPORTED, caller,
                                "search mode %u: only "
                                "CUBLASLT_SEARCH_BEST_FIT is emulated",
                                (unsigned)pref->search_mode);
  hpt_emulation_problem_t problem;
  try {
    cublasStatus_t status =
        hpt_emulation_plan(caller, op, la, lb, lc, ld, &problem);
    if (status != CUBLAS_STATUS_SUCCESS)
      return status;
  } catch (const std::bad_alloc &) {
    return CUBLAS_STATUS_ALLOC_FAILED;
  }
  cublasLtMatmulHeuristicResult_t *result = &heuristicResultsArray[0];
  memset(result, 0, sizeof *result);
  result->algo.data[0] = HPT_EMULATION_ALGO_MAGIC;
  result->algo.data[1] = hpt_emulation_type_signature(&problem);
  result->algo.data[2] =
      pref->min_alignment[0] | (uint64_t)pref->min_alignment[1] << 32;
  result->algo.data[3] =
      pref->min_alignment[2] | (uint64_t)pref->min_alignment[3] << 32;
  result->workspaceSize = 0;
  result->state = CUBLAS_STATUS_SUCCESS;
  result->wavesCount = 1.0f;
  *returnAlgoCount = 1;
  return CUBLAS_STATUS_SUCCESS;
}

/* ---- the computation ----------------------------------------------------- */

static double hpt_emulation_load(const void *data, cudaDataType type,
                                 int64_t index) {
  switch (type) {
  case CUDA_R_32F:
    return static_cast<const float *>(data)[index];
  case CUDA_R_16BF:
    return __bfloat162float(static_cast<const __nv_bfloat16 *>(data)[index]);
  case CUDA_R_16F:
    return __half2float(static_cast<const __half *>(data)[index]);
  default: /* hpt_emulation_plan admits no other type */
    abort();
  }
}

/* Rounds to float, the scale type, then to the stored type: the GPU's
 * epilogue rounds its fp32 result the same way. */
static void hpt_emulation_store(void *data, cudaDataType type, int64_t index,
                                double value) {
  float rounded = (float)value;
  switch (type) {
  case CUDA_R_32F:
    static_cast<float *>(data)[index] = rounded;
    return;
  case CUDA_R_16BF:
    static_cast<__nv_bfloat16 *>(data)[index] = __float2bfloat16_rn(rounded);
    return;
  case CUDA_R_16F:
    static_cast<__half *>(data)[index] = __float2half_rn(rounded);
    return;
  default:
    abort();
  }
}

static int64_t hpt_emulation_at(const hpt_emulation_matrix_t *m, int64_t b,
                                int64_t i, int64_t j) {
  return b * m->batch_stride + i * m->row_stride + j * m->col_stride;
}

typedef struct hpt_emulation_job {
  hpt_emulation_problem_t p;
  float alpha, beta;
  const void *bias;
  void *d; /* p.d.data, writable */
} hpt_emulation_job_t;

/* Runs in stream order (or at each graph launch). op(A)'s rows and op(B)'s
 * columns are first gathered into doubles, so that each dot product runs
 * over contiguous memory whatever the layouts. */
static void hpt_emulation_run(const hpt_emulation_job_t &job) {
  const hpt_emulation_problem_t &p = job.p;
  std::vector<double> a_rows, b_cols;
  try {
    a_rows.resize((size_t)(p.m * p.k));
    b_cols.resize((size_t)(p.n * p.k));
  } catch (const std::bad_alloc &) {
    /* Work in a stream or a graph has nobody to return a status to. */
    fprintf(stderr,
            "cublasLt emulation: cublasLtMatmul: out of host memory "
            "for a %lld x %lld x %lld product\n",
            (long long)p.m, (long long)p.n, (long long)p.k);
    abort();
  }
  for (int64_t b = 0; b < p.batch; b++) {
    for (int64_t i = 0; i < p.m; i++)
      for (int64_t l = 0; l < p.k; l++)
        a_rows[(size_t)(i * p.k + l)] =
            hpt_emulation_load(p.a.data, p.a.type,
                               p.trans_a ? hpt_emulation_at(&p.a, b, l, i)
                                         : hpt_emulation_at(&p.a, b, i, l));
    for (int64_t j = 0; j < p.n; j++)
      for (int64_t l = 0; l < p.k; l++)
        b_cols[(size_t)(j * p.k + l)] =
            hpt_emulation_load(p.b.data, p.b.type,
                               p.trans_b ? hpt_emulation_at(&p.b, b, j, l)
                                         : hpt_emulation_at(&p.b, b, l, j));
    for (int64_t j = 0; j < p.n; j++)
      for (int64_t i = 0; i < p.m; i++) {
        const double *x = &a_rows[(size_t)(i * p.k)];
        const double *y = &b_cols[(size_t)(j * p.k)];
        double sum = 0.0;
        for (int64_t l = 0; l < p.k; l++)
          sum += x[l] * y[l];
        double value = (double)job.alpha * sum;
        /* beta == 0: C is not read, so NaN or garbage there stays out. */
        if (job.beta != 0.0f)
          value += (double)job.beta *
                   hpt_emulation_load(p.c.data, p.c.type,
                                      hpt_emulation_at(&p.c, b, i, j));
        if (p.has_bias)
          value += hpt_emulation_load(job.bias, p.bias_type,
                                      b * p.bias_batch_stride + i);
        hpt_emulation_store(job.d, p.d.type, hpt_emulation_at(&p.d, b, i, j),
                            value);
      }
  }
}

/* ---- aliasing ------------------------------------------------------------ */

typedef struct hpt_emulation_span {
  uintptr_t first, end; /* bytes [first, end) */
} hpt_emulation_span_t;

static hpt_emulation_span_t hpt_emulation_span_of(const void *data,
                                                  size_t bytes) {
  hpt_emulation_span_t s = {(uintptr_t)data, (uintptr_t)data + bytes};
  return s;
}

/* Whether a read operand x shares a byte with D. Exact: where the spans
 * meet, a bitmap of D's bytes is tested with x's elements, so views that
 * interleave within one buffer (column slices) are not mistaken for
 * overlap. Throws std::bad_alloc. */
static bool hpt_emulation_overlaps_d(const hpt_emulation_problem_t *p,
                                     const hpt_emulation_matrix_t *x,
                                     int64_t x_batch) {
  hpt_emulation_span_t d = hpt_emulation_span_of(
      p->d.data, hpt_emulation_extent_bytes(&p->d, p->batch));
  hpt_emulation_span_t s =
      hpt_emulation_span_of(x->data, hpt_emulation_extent_bytes(x, x_batch));
  if (s.end <= d.first || d.end <= s.first)
    return false;
  std::vector<bool> written(d.end - d.first);
  for (int64_t b = 0; b < p->batch; b++)
    for (int64_t j = 0; j < p->d.cols; j++)
      for (int64_t i = 0; i < p->d.rows; i++) {
        uintptr_t at = d.first + (uintptr_t)hpt_emulation_at(&p->d, b, i, j) *
                                     p->d.element_bytes;
        for (size_t byte = 0; byte < p->d.element_bytes; byte++)
          written[at + byte - d.first] = true;
      }
  for (int64_t b = 0; b < x_batch; b++)
    for (int64_t j = 0; j < x->cols; j++)
      for (int64_t i = 0; i < x->rows; i++) {
        uintptr_t at = s.first + (uintptr_t)hpt_emulation_at(x, b, i, j) *
                                     x->element_bytes;
        for (size_t byte = 0; byte < x->element_bytes; byte++)
          if (at + byte >= d.first && at + byte < d.end &&
              written[at + byte - d.first])
            return true;
      }
  return false;
}

/* ---- cublasLtMatmul ------------------------------------------------------ */

static bool hpt_emulation_aligned(const void *p, size_t alignment) {
  return alignment == 0 || (uintptr_t)p % alignment == 0;
}

/* The checks of pointers and algo, after the plan; fills job. Throws
 * std::bad_alloc. */
static cublasStatus_t
hpt_emulation_check_call(const char *caller, const float *alpha, const void *A,
                         const void *B, const float *beta, const void *C,
                         void *D, const void *bias,
                         const cublasLtMatmulAlgo_t *algo, void *workspace,
                         size_t workspace_bytes, hpt_emulation_job_t *job) {
  hpt_emulation_problem_t *p = &job->p;
  if (alpha == NULL || beta == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "alpha or beta is NULL");
  job->alpha = *alpha;
  job->beta = *beta;
  bool reads_c = job->beta != 0.0f;
  if (A == NULL || B == NULL || D == NULL || (reads_c && C == NULL))
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "A, B, D or (with beta != 0) C is NULL");
  if (p->has_bias && bias == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "CUBLASLT_EPILOGUE_BIAS without "
                                "CUBLASLT_MATMUL_DESC_BIAS_POINTER");
  /* "in-place matrix multiplication (C == D and Cdesc == Ddesc)" */
  if (C == D && !p->c_layout_is_d)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "C == D in place but Cdesc differs from "
                                "Ddesc");
  p->a.data = A;
  p->b.data = B;
  p->c.data = C;
  p->d.data = D;
  job->d = D;
  job->bias = bias;

  const struct {
    const char *name;
    const void *data;
    size_t element_bytes;
    bool used;
  } pointers[] = {
      {"A", A, p->a.element_bytes, true},
      {"B", B, p->b.element_bytes, true},
      {"C", C, p->c.element_bytes, reads_c},
      {"D", D, p->d.element_bytes, true},
      {"the bias", bias, p->bias_element_bytes, p->has_bias},
  };
  for (const auto &x : pointers)
    if (x.used && !hpt_emulation_aligned(x.data, x.element_bytes))
      return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                  "%s at %p is not aligned to its %zu-byte "
                                  "elements",
                                  x.name, x.data, x.element_bytes);

  if (algo != NULL) {
    if (algo->data[0] != HPT_EMULATION_ALGO_MAGIC)
      return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                  "the algo did not come from "
                                  "cublasLtMatmulAlgoGetHeuristic");
    if (algo->data[1] != hpt_emulation_type_signature(p))
      return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                  "the algo was found for other types or "
                                  "compute type");
    const uint32_t alignment[4] = {
        (uint32_t)algo->data[2], (uint32_t)(algo->data[2] >> 32),
        (uint32_t)algo->data[3], (uint32_t)(algo->data[3] >> 32)};
    for (int i = 0; i < 4; i++) { /* A, B, C, D: pointers[0..3] */
      if (!pointers[i].used ||
          hpt_emulation_aligned(pointers[i].data, alignment[i]))
        continue;
      return hpt_emulation_refuse(
          CUBLAS_STATUS_INVALID_VALUE, caller,
          "%s at %p is less aligned than the %u bytes of "
          "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_%c_BYTES the algo was chosen "
          "for (the default is 256): lower the preference to the alignment "
          "the pointers have",
          pointers[i].name, pointers[i].data, alignment[i], "ABCD"[i]);
    }
  }
  /* The algo needs no workspace, but a workspace given must be usable:
   * "Must be 256B aligned", and as large as claimed. */
  if (workspace_bytes > 0 && workspace == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "workspaceSizeInBytes %zu with a NULL "
                                "workspace",
                                workspace_bytes);
  if (workspace != NULL && !hpt_emulation_aligned(workspace, 256))
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "the workspace at %p is not 256-byte "
                                "aligned",
                                workspace);

  /* D written while read as another operand: the GPU's blocks would race. */
  hpt_emulation_matrix_t bias_vector = {
      bias, p->bias_type,  p->bias_element_bytes, p->m, 1,
      1,    (int64_t)p->m, p->bias_batch_stride};
  if (hpt_emulation_overlaps_d(p, &p->a, p->batch) ||
      hpt_emulation_overlaps_d(p, &p->b, p->batch) ||
      (reads_c && C != D && hpt_emulation_overlaps_d(p, &p->c, p->batch)) ||
      (p->has_bias && hpt_emulation_overlaps_d(p, &bias_vector, p->batch)))
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "D shares memory with A, B, the bias or an "
                                "out-of-place C");

  /* Every byte the work touches, as a device would fault on it. */
  hpt_emulation_check_range(A, hpt_emulation_extent_bytes(&p->a, p->batch),
                            "cublasLtMatmul A");
  hpt_emulation_check_range(B, hpt_emulation_extent_bytes(&p->b, p->batch),
                            "cublasLtMatmul B");
  if (reads_c)
    hpt_emulation_check_range(C, hpt_emulation_extent_bytes(&p->c, p->batch),
                              "cublasLtMatmul C");
  hpt_emulation_check_range(D, hpt_emulation_extent_bytes(&p->d, p->batch),
                            "cublasLtMatmul D");
  if (p->has_bias)
    hpt_emulation_check_range(
        bias, hpt_emulation_extent_bytes(&bias_vector, p->batch),
        "cublasLtMatmul bias");
  if (workspace_bytes > 0)
    hpt_emulation_check_range(workspace, workspace_bytes,
                              "cublasLtMatmul workspace");
  return CUBLAS_STATUS_SUCCESS;
}

extern "C" cublasStatus_t
cublasLtMatmul(cublasLtHandle_t lightHandle, cublasLtMatmulDesc_t computeDesc,
               const void *alpha, const void *A, cublasLtMatrixLayout_t Adesc,
               const void *B, cublasLtMatrixLayout_t Bdesc, const void *beta,
               const void *C, cublasLtMatrixLayout_t Cdesc, void *D,
               cublasLtMatrixLayout_t Ddesc, const cublasLtMatmulAlgo_t *algo,
               void *workspace, size_t workspaceSizeInBytes,
               cudaStream_t stream) {
  static const char caller[] = "cublasLtMatmul";
  if (!hpt_emulation_handle_ok(lightHandle))
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_INITIALIZED, caller,
                                "not a handle from cublasLtCreate");
  const hpt_emulation_matmul_desc_t *op = hpt_emulation_desc_of(computeDesc);
  const hpt_emulation_layout_t *la = hpt_emulation_layout_of(Adesc);
  const hpt_emulation_layout_t *lb = hpt_emulation_layout_of(Bdesc);
  const hpt_emulation_layout_t *ld = hpt_emulation_layout_of(Ddesc);
  /* "If Cdesc is omitted, this function assumes it to be equal to Ddesc." */
  const hpt_emulation_layout_t *lc =
      Cdesc == NULL ? ld : hpt_emulation_layout_of(Cdesc);
  if (op == NULL || la == NULL || lb == NULL || lc == NULL || ld == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "a descriptor is NULL or not live");
  try {
    hpt_emulation_job_t job;
    cublasStatus_t status =
        hpt_emulation_plan(caller, op, la, lb, lc, ld, &job.p);
    if (status != CUBLAS_STATUS_SUCCESS)
      return status;
    /* The bias pointer as it is now: the descriptor may change later. */
    status = hpt_emulation_check_call(caller, static_cast<const float *>(alpha),
                                      A, B, static_cast<const float *>(beta), C,
                                      D, op->bias, algo, workspace,
                                      workspaceSizeInBytes, &job);
    if (status != CUBLAS_STATUS_SUCCESS)
      return status;
    cudaError_t enqueued =
        hpt_emulation_enqueue(stream, [job]() { hpt_emulation_run(job); });
    if (enqueued != cudaSuccess)
      return hpt_emulation_refuse(CUBLAS_STATUS_EXECUTION_FAILED, caller,
                                  "the stream refused the work: %s",
                                  cudaGetErrorName(enqueued));
    return CUBLAS_STATUS_SUCCESS;
  } catch (const std::bad_alloc &) {
    return CUBLAS_STATUS_ALLOC_FAILED;
  }
}
