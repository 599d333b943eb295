/* cublaslt_emulation.cc — the cuBLASLt calls of the CUDA backend, run on the
 * CPU, linked in place of libcublasLt next to runtime_emulation.cc (see
 * cuda_emulation.h for why). Its purpose is to catch the backend misusing
 * cuBLASLt, so it implements NVIDIA's documented semantics (cuBLAS docs,
 * "Using the cuBLASLt API": cublasLtMatmul(), the attribute tables, the
 * header cublasLt.h), not what the backend happens to ask for, and it
 * refuses what it does not implement instead of guessing.
 *
 * Functions (the names cublasLt.h declares; none is a macro there):
 * cublasLtCreate, cublasLtDestroy, cublasLtGetStatusString,
 * cublasLtMatmulDesc{Create,SetAttribute,Destroy},
 * cublasLtMatrixLayout{Create,SetAttribute,Destroy},
 * cublasLtMatmulPreference{Create,SetAttribute,Destroy},
 * cublasLtMatmulAlgoGetHeuristic, cublasLtMatmul.
 *
 * The operation: D = alpha * op(A) op(B) + beta * C (+ bias), per batch,
 * op = N or T (TRANSA, TRANSB); each layout describes its matrix as stored
 * (with TRANSA = T, A's layout is k x m). Orders CUBLASLT_ORDER_COL (the
 * default) and CUBLASLT_ORDER_ROW. Types, from the docs' table for
 * CUBLAS_COMPUTE_32F / _PEDANTIC with scale type CUDA_R_32F (A and B share
 * a type, C and D share a type, the bias has C's):
 *   A/B 32F  -> C/D 32F        A/B 16BF -> C/D 16BF or 32F
 *                              A/B 16F  -> C/D 16F  or 32F
 * Products are summed in double and each result is rounded once to float
 * (the scale type), then to D's type, as the GPU's fp32 epilogue does.
 * alpha and beta are host floats (CUBLASLT_POINTER_MODE_HOST), read at the
 * call. beta == 0: C is not read (it may be NULL). Epilogues DEFAULT and
 * BIAS (a packed vector of D's rows, broadcast across the columns, added
 * before D's rounding; CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE per batch).
 * C == D in place needs Cdesc equal to Ddesc; out of place C and D share
 * type, shape, batch count and order, and C's ld may be 0 (a broadcast
 * row or column, as documented). Strided batches: every layout has the
 * same BATCH_COUNT; a batch stride of 0 reuses the matrix.
 *
 * Refused with CUBLAS_STATUS_NOT_SUPPORTED (a message on stderr says why):
 * other types or compute types, other epilogues, pointer modes other than
 * host, CUBLAS_OP_C, TRANSC != N, FILL_MODE != FULL, other orders, pointer
 * array batches, planar complex, negative batch strides, a zero or
 * > INT32_MAX dimension (what cuBLASLt does with those is undocumented),
 * search mode LIMITED_BY_ALGO_ID. Refused with CUBLAS_STATUS_INVALID_VALUE
 * (as the docs say): NULL arguments, shapes that do not chain, ld smaller
 * than the rows (columns for ROW), batch counts that differ, C and D that
 * differ in type, shape, batch count or order, C == D with Cdesc != Ddesc,
 * pointers not aligned to their element, a workspace not 256-byte aligned,
 * and the FP8 scale and amax attributes set for these types.
 *
 * Misuse a GPU would not report at the call (it would race, fault or
 * work by chance), refused here with CUBLAS_STATUS_INVALID_VALUE:
 *   - D overlapping A, B, the bias, an out-of-place C, or itself across
 *     batches (element sets, not address ranges: interleaved views are
 *     fine);
 *   - an algo that cublasLtMatmulAlgoGetHeuristic did not return, or one
 *     returned for other types;
 *   - A, B, C, D less aligned than the preference's MIN_ALIGNMENT_*_BYTES
 *     that produced the algo (default 256): the docs let the heuristic
 *     pick kernels that need that much, so on a GPU such a call works or
 *     not depending on the kernel picked. The algo records the
 *     alignments; with no algo (the implicit heuristic) only the
 *     element alignment is required.
 * and, through hpt_emulation_check_range, every byte range the call
 * touches must lie in one live cudaMalloc allocation (else abort, as a
 * device would fault).
 *
 * cublasLtMatmul computes nothing itself: it copies what the job needs
 * (pointers, shapes, types, alpha, beta, the bias pointer) by value into
 * work for hpt_emulation_enqueue, which runs it in stream order or records
 * it into the graph being captured; descriptors may change or die after
 * the call, as with a real captured graph.
 *
 * Descriptors are this file's own structs behind the header's pointer
 * types; a magic number catches a handle of the wrong kind or one already
 * destroyed (where the allocator has not reused it). Every entry point
 * returns a status; no exception leaves this file (std::bad_alloc becomes
 * CUBLAS_STATUS_ALLOC_FAILED, or an abort inside enqueued work, which has
 * nobody to return to).
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

#include "emulation_internal.h"

/* ---- messages ------------------------------------------------------------ */

/* Prints why a call is refused and returns status, so that a refusal is
 * visible even where the caller only checks for success. */
__attribute__((format(printf, 3, 4))) static cublasStatus_t
hpt_emulation_refuse(cublasStatus_t status, const char *caller,
                     const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "cublasLt emulation: %s: %s: ", caller,
          cublasLtGetStatusString(status));
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  return status;
}

/* ---- descriptors --------------------------------------------------------- */

/* Distinct per kind, so that a descriptor of one kind passed as another,
 * or one destroyed (the magic is cleared first), is recognised. */
enum : uint32_t {
  HPT_EMULATION_HANDLE_MAGIC = 0x4c74484eu,
  HPT_EMULATION_MATMUL_DESC_MAGIC = 0x4c744d44u,
  HPT_EMULATION_LAYOUT_MAGIC = 0x4c744c59u,
  HPT_EMULATION_PREFERENCE_MAGIC = 0x4c745052u,
};

/* cublasLt.h declares this struct and leaves it opaque. */
struct cublasLtContext {
  uint32_t magic;
};

typedef struct hpt_emulation_layout {
  uint32_t magic;
  uint32_t type; /* cudaDataType */
  int32_t order; /* cublasLtOrder_t */
  uint64_t rows, cols;
  int64_t ld;
  int32_t batch_count;
  int64_t batch_stride; /* elements */
  int64_t plane_offset;
  uint32_t batch_mode; /* cublasLtBatchMode_t */
} hpt_emulation_layout_t;

typedef struct hpt_emulation_matmul_desc {
  uint32_t magic;
  int32_t compute_type; /* cublasComputeType_t */
  int32_t scale_type;   /* cudaDataType */
  int32_t pointer_mode;
  int32_t trans_a, trans_b, trans_c;
  int32_t fill_mode;
  uint32_t epilogue;
  const void *bias;
  int64_t bias_batch_stride;
  int32_t bias_type; /* -1: D's type */
  /* Bit per attribute (all are < 64) that this file stores without
   * implementing and whose value is not the default now. */
  uint64_t unimplemented_set;
} hpt_emulation_matmul_desc_t;

typedef struct hpt_emulation_preference {
  uint32_t magic;
  uint32_t search_mode;
  uint64_t max_workspace_bytes;
  uint32_t reduction_scheme_mask;
  uint32_t min_alignment[4]; /* A, B, C, D */
  float max_waves_count;
  uint64_t impl_mask;
} hpt_emulation_preference_t;

static hpt_emulation_layout_t *
hpt_emulation_layout_of(cublasLtMatrixLayout_t l) {
  hpt_emulation_layout_t *layout =
      reinterpret_cast<hpt_emulation_layout_t *>(l);
  return layout && layout->magic == HPT_EMULATION_LAYOUT_MAGIC ? layout : NULL;
}

static hpt_emulation_matmul_desc_t *
hpt_emulation_desc_of(cublasLtMatmulDesc_t d) {
  hpt_emulation_matmul_desc_t *desc =
      reinterpret_cast<hpt_emulation_matmul_desc_t *>(d);
  return desc && desc->magic == HPT_EMULATION_MATMUL_DESC_MAGIC ? desc : NULL;
}

static hpt_emulation_preference_t *
hpt_emulation_preference_of(cublasLtMatmulPreference_t p) {
  hpt_emulation_preference_t *pref =
      reinterpret_cast<hpt_emulation_preference_t *>(p);
  return pref && pref->magic == HPT_EMULATION_PREFERENCE_MAGIC ? pref : NULL;
}

static bool hpt_emulation_handle_ok(cublasLtHandle_t handle) {
  return handle != NULL && handle->magic == HPT_EMULATION_HANDLE_MAGIC;
}

/* ---- the library context ------------------------------------------------- */

extern "C" {

cublasStatus_t cublasLtCreate(cublasLtHandle_t *lightHandle) {
  if (lightHandle == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasLtCreate",
                                "lightHandle is NULL");
  *lightHandle = NULL;
  /* "an error in the CUDA Runtime API called by the cuBLASLt routine" */
  if (hpt_emulation_device_status() != cudaSuccess)
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtCreate",
                                "the device is unusable");
  cublasLtContext *context = new (std::nothrow) cublasLtContext;
  if (context == NULL)
    return CUBLAS_STATUS_ALLOC_FAILED;
  context->magic = HPT_EMULATION_HANDLE_MAGIC;
  *lightHandle = context;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t lightHandle) {
  if (lightHandle == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasLtDestroy",
                                "lightHandle is NULL");
  if (!hpt_emulation_handle_ok(lightHandle))
    return hpt_emulation_refuse(CUBLAS_STATUS_NOT_INITIALIZED,
                                "cublasLtDestroy",
                                "not a handle from cublasLtCreate");
  lightHandle->magic = 0;
  delete lightHandle;
  return CUBLAS_STATUS_SUCCESS;
}

/* The status's name, which says more in a log line than a description. */
const char *cublasLtGetStatusString(cublasStatus_t status) {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED:
    return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_ARCH_MISMATCH:
    return "CUBLAS_STATUS_ARCH_MISMATCH";
  case CUBLAS_STATUS_MAPPING_ERROR:
    return "CUBLAS_STATUS_MAPPING_ERROR";
  case CUBLAS_STATUS_EXECUTION_FAILED:
    return "CUBLAS_STATUS_EXECUTION_FAILED";
  case CUBLAS_STATUS_INTERNAL_ERROR:
    return "CUBLAS_STATUS_INTERNAL_ERROR";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  case CUBLAS_STATUS_LICENSE_ERROR:
    return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

} /* extern "C" */

/* ---- setting attributes -------------------------------------------------- */

/* The common rule of the three SetAttribute calls: "INVALID_VALUE if buf
 * is NULL or sizeInBytes doesn't match size of internal storage". */
static cublasStatus_t hpt_emulation_check_buffer(const char *caller,
                                                 const char *name,
                                                 const void *buf, size_t size,
                                                 size_t expected) {
  if (buf == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "%s: buf is NULL", name);
  if (size != expected)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "%s takes %zu bytes, not %zu", name, expected,
                                size);
  return CUBLAS_STATUS_SUCCESS;
}

/* What this file does with a matmul descriptor attribute. */
enum hpt_emulation_attribute_use {
  HPT_EMULATION_IMPLEMENTED,    /* stored and used */
  HPT_EMULATION_INERT,          /* no effect in any configuration this file
                                   accepts (it belongs to a refused epilogue,
                                   pointer mode or FP8), or a pure hint */
  HPT_EMULATION_REFUSED_IF_SET, /* not implemented: a non-default value
                                   makes cublasLtMatmul refuse */
};

typedef struct hpt_emulation_desc_attribute {
  cublasLtMatmulDescAttributes_t attr;
  const char *name;
  size_t size;
  enum hpt_emulation_attribute_use use;
  cublasStatus_t refusal; /* for HPT_EMULATION_REFUSED_IF_SET */
} hpt_emulation_desc_attribute_t;

#define HPT_EMULATION_ATTR(attr, size, use, refusal)                           \
  { attr, #attr, size, use, refusal }

/* Sizes from the "Data Type" column of cublasLtMatmulDescAttributes_t. The
 * FP8 scale and amax attributes: "If set for an unsupported matrix data,
 * scale, and compute type combination, calling cublasLtMatmul() will
 * return CUBLAS_INVALID_VALUE"; a C scale is allowed for these types by
 * the docs but not implemented here. */
static const hpt_emulation_desc_attribute_t hpt_emulation_desc_attributes[] = {
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_COMPUTE_TYPE, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_SCALE_TYPE, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_POINTER_MODE, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_TRANSA, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_TRANSB, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_TRANSC, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_FILL_MODE, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE, sizeof(uint32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_BIAS_POINTER, sizeof(void *),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE, sizeof(int64_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, sizeof(int32_t),
                       HPT_EMULATION_IMPLEMENTED, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER,
                       sizeof(void *), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, sizeof(int64_t),
                       HPT_EMULATION_INERT, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE,
                       sizeof(int64_t), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_ALPHA_VECTOR_BATCH_STRIDE,
                       sizeof(int64_t), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET, sizeof(int32_t),
                       HPT_EMULATION_INERT, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, sizeof(void *),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, sizeof(void *),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_C_SCALE_POINTER, sizeof(void *),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_NOT_SUPPORTED),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_D_SCALE_POINTER, sizeof(void *),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_AMAX_D_POINTER, sizeof(void *),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_DATA_TYPE,
                       sizeof(int32_t), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_SCALE_POINTER,
                       sizeof(void *), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_AMAX_POINTER,
                       sizeof(void *), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_FAST_ACCUM, sizeof(int8_t),
                       HPT_EMULATION_INERT, CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_A_SCALE_MODE, sizeof(int32_t),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_B_SCALE_MODE, sizeof(int32_t),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_C_SCALE_MODE, sizeof(int32_t),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_D_SCALE_MODE, sizeof(int32_t),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_SCALE_MODE,
                       sizeof(int32_t), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_D_OUT_SCALE_POINTER, sizeof(void *),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_D_OUT_SCALE_MODE, sizeof(int32_t),
                       HPT_EMULATION_REFUSED_IF_SET,
                       CUBLAS_STATUS_INVALID_VALUE),
    /* Floating point emulation parameters: they matter only to the
     * emulated compute types, which are refused. */
    HPT_EMULATION_ATTR(CUBLASLT_MATMUL_DESC_EMULATION_DESCRIPTOR,
                       sizeof(cublasLtEmulationDesc_t), HPT_EMULATION_INERT,
                       CUBLAS_STATUS_SUCCESS),
};

static const hpt_emulation_desc_attribute_t *
hpt_emulation_desc_attribute(cublasLtMatmulDescAttributes_t attr) {
  for (const hpt_emulation_desc_attribute_t &a : hpt_emulation_desc_attributes)
    if (a.attr == attr)
      return &a;
  return NULL;
}

static bool hpt_emulation_all_zero(const void *buf, size_t size) {
  const unsigned char *bytes = static_cast<const unsigned char *>(buf);
  for (size_t i = 0; i < size; i++)
    if (bytes[i] != 0)
      return false;
  return true;
}

extern "C" {

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t *matmulDesc,
                                        cublasComputeType_t computeType,
                                        cudaDataType_t scaleType) {
  if (matmulDesc == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE,
                                "cublasLtMatmulDescCreate",
                                "matmulDesc is NULL");
  *matmulDesc = NULL;
  hpt_emulation_matmul_desc_t *desc =
      new (std::nothrow) hpt_emulation_matmul_desc_t();
  if (desc == NULL)
    return CUBLAS_STATUS_ALLOC_FAILED;
  /* Defaults from the attribute table; the types are checked where they
   * are used, by cublasLtMatmul and the heuristic. */
  desc->magic = HPT_EMULATION_MATMUL_DESC_MAGIC;
  desc->compute_type = computeType;
  desc->scale_type = scaleType;
  desc->pointer_mode = CUBLASLT_POINTER_MODE_HOST;
  desc->trans_a = desc->trans_b = desc->trans_c = CUBLAS_OP_N;
  desc->fill_mode = CUBLAS_FILL_MODE_FULL;
  desc->epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  desc->bias = NULL;
  desc->bias_batch_stride = 0;
  desc->bias_type = -1;
  desc->unimplemented_set = 0;
  *matmulDesc = reinterpret_cast<cublasLtMatmulDesc_t>(desc);
  return CUBLAS_STATUS_SUCCESS;
}

/* Destroying NULL is a no-op: the docs give SUCCESS as its only status. */
cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t matmulDesc) {
  if (matmulDesc == NULL)
    return CUBLAS_STATUS_SUCCESS;
  hpt_emulation_matmul_desc_t *desc = hpt_emulation_desc_of(matmulDesc);
  if (desc == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE,
                                "cublasLtMatmulDescDestroy",
                                "not a live matmul descriptor");
  desc->magic = 0;
  delete desc;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t matmulDesc,
                               cublasLtMatmulDescAttributes_t attr,
                               const void *buf, size_t sizeInBytes) {
  static const char caller[] = "cublasLtMatmulDescSetAttribute";
  hpt_emulation_matmul_desc_t *desc = hpt_emulation_desc_of(matmulDesc);
  if (desc == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "not a live matmul descriptor");
  const hpt_emulation_desc_attribute_t *a = hpt_emulation_desc_attribute(attr);
  if (a == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "unknown attribute %d", (int)attr);
  cublasStatus_t status =
      hpt_emulation_check_buffer(caller, a->name, buf, sizeInBytes, a->size);
  if (status != CUBLAS_STATUS_SUCCESS)
    return status;
  switch (a->use) {
  case HPT_EMULATION_INERT:
    return CUBLAS_STATUS_SUCCESS;
  case HPT_EMULATION_REFUSED_IF_SET: {
    /* Every such attribute defaults to zero (NULL, mode 0). */
    uint64_t bit = (uint64_t)1 << attr;
    if (hpt_emulation_all_zero(buf, sizeInBytes))
      desc->unimplemented_set &= ~bit;
    else
      desc->unimplemented_set |= bit;
    return CUBLAS_STATUS_SUCCESS;
  }
  case HPT_EMULATION_IMPLEMENTED:
    break;
  }
  switch (attr) {
  case CUBLASLT_MATMUL_DESC_COMPUTE_TYPE:
    memcpy(&desc->compute_type, buf, sizeof desc->compute_type);
    break;
  case CUBLASLT_MATMUL_DESC_SCALE_TYPE:
    memcpy(&desc->scale_type, buf, sizeof desc->scale_type);
    break;
  case CUBLASLT_MATMUL_DESC_POINTER_MODE:
    memcpy(&desc->pointer_mode, buf, sizeof desc->pointer_mode);
    break;
  case CUBLASLT_MATMUL_DESC_TRANSA:
    memcpy(&desc->trans_a, buf, sizeof desc->trans_a);
    break;
  case CUBLASLT_MATMUL_DESC_TRANSB:
    memcpy(&desc->trans_b, buf, sizeof desc->trans_b);
    break;
  case CUBLASLT_MATMUL_DESC_TRANSC:
    memcpy(&desc->trans_c, buf, sizeof desc->trans_c);
    break;
  case CUBLASLT_MATMUL_DESC_FILL_MODE:
    memcpy(&desc->fill_mode, buf, sizeof desc->fill_mode);
    break;
  case CUBLASLT_MATMUL_DESC_EPILOGUE:
    memcpy(&desc->epilogue, buf, sizeof desc->epilogue);
    break;
  case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
    memcpy(&desc->bias, buf, sizeof desc->bias);
    break;
  case CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE:
    memcpy(&desc->bias_batch_stride, buf, sizeof desc->bias_batch_stride);
    break;
  case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE:
    memcpy(&desc->bias_type, buf, sizeof desc->bias_type);
    break;
  default: /* every implemented attribute has its case above */
    return hpt_emulation_refuse(CUBLAS_STATUS_INTERNAL_ERROR, caller,
                                "%s has no setter", a->name);
  }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t *matLayout,
                                          cudaDataType type, uint64_t rows,
                                          uint64_t cols, int64_t ld) {
  if (matLayout == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE,
                                "cublasLtMatrixLayoutCreate",
                                "matLayout is NULL");
  *matLayout = NULL;
  hpt_emulation_layout_t *layout = new (std::nothrow) hpt_emulation_layout_t();
  if (layout == NULL)
    return CUBLAS_STATUS_ALLOC_FAILED;
  /* The shape is checked where it is used: a layout may be created first
   * and completed with SetAttribute. */
  layout->magic = HPT_EMULATION_LAYOUT_MAGIC;
  layout->type = (uint32_t)type;
  layout->order = CUBLASLT_ORDER_COL;
  layout->rows = rows;
  layout->cols = cols;
  layout->ld = ld;
  layout->batch_count = 1;
  layout->batch_stride = 0;
  layout->plane_offset = 0;
  layout->batch_mode = CUBLASLT_BATCH_MODE_STRIDED;
  *matLayout = reinterpret_cast<cublasLtMatrixLayout_t>(layout);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t matLayout) {
  if (matLayout == NULL)
    return CUBLAS_STATUS_SUCCESS;
  hpt_emulation_layout_t *layout = hpt_emulation_layout_of(matLayout);
  if (layout == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE,
                                "cublasLtMatrixLayoutDestroy",
                                "not a live matrix layout");
  layout->magic = 0;
  delete layout;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t matLayout,
                                 cublasLtMatrixLayoutAttribute_t attr,
                                 const void *buf, size_t sizeInBytes) {
  static const char caller[] = "cublasLtMatrixLayoutSetAttribute";
  hpt_emulation_layout_t *layout = hpt_emulation_layout_of(matLayout);
  if (layout == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "not a live matrix layout");
  void *field;
  size_t size;
  const char *name;
  switch (attr) {
  case CUBLASLT_MATRIX_LAYOUT_TYPE:
    field = &layout->type, size = sizeof layout->type;
    name = "CUBLASLT_MATRIX_LAYOUT_TYPE";
    break;
  case CUBLASLT_MATRIX_LAYOUT_ORDER:
    field = &layout->order, size = sizeof layout->order;
    name = "CUBLASLT_MATRIX_LAYOUT_ORDER";
    break;
  case CUBLASLT_MATRIX_LAYOUT_ROWS:
    field = &layout->rows, size = sizeof layout->rows;
    name = "CUBLASLT_MATRIX_LAYOUT_ROWS";
    break;
  case CUBLASLT_MATRIX_LAYOUT_COLS:
    field = &layout->cols, size = sizeof layout->cols;
    name = "CUBLASLT_MATRIX_LAYOUT_COLS";
    break;
  case CUBLASLT_MATRIX_LAYOUT_LD:
    field = &layout->ld, size = sizeof layout->ld;
    name = "CUBLASLT_MATRIX_LAYOUT_LD";
    break;
  case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT:
    field = &layout->batch_count, size = sizeof layout->batch_count;
    name = "CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT";
    break;
  case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET:
    field = &layout->batch_stride, size = sizeof layout->batch_stride;
    name = "CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET";
    break;
  case CUBLASLT_MATRIX_LAYOUT_PLANE_OFFSET:
    field = &layout->plane_offset, size = sizeof layout->plane_offset;
    name = "CUBLASLT_MATRIX_LAYOUT_PLANE_OFFSET";
    break;
  case CUBLASLT_MATRIX_LAYOUT_BATCH_MODE:
    field = &layout->batch_mode, size = sizeof layout->batch_mode;
    name = "CUBLASLT_MATRIX_LAYOUT_BATCH_MODE";
    break;
  default:
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "unknown attribute %d", (int)attr);
  }
  cublasStatus_t status =
      hpt_emulation_check_buffer(caller, name, buf, sizeInBytes, size);
  if (status != CUBLAS_STATUS_SUCCESS)
    return status;
  memcpy(field, buf, size);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t *pref) {
  if (pref == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE,
                                "cublasLtMatmulPreferenceCreate",
                                "pref is NULL");
  *pref = NULL;
  hpt_emulation_preference_t *p =
      new (std::nothrow) hpt_emulation_preference_t();
  if (p == NULL)
    return CUBLAS_STATUS_ALLOC_FAILED;
  /* Defaults from cublasLtMatmulPreferenceAttributes_t. */
  p->magic = HPT_EMULATION_PREFERENCE_MAGIC;
  p->search_mode = CUBLASLT_SEARCH_BEST_FIT;
  p->max_workspace_bytes = 0;
  p->reduction_scheme_mask = CUBLASLT_REDUCTION_SCHEME_MASK;
  for (uint32_t &alignment : p->min_alignment)
    alignment = 256;
  p->max_waves_count = 0.0f;
  p->impl_mask = UINT64_MAX;
  *pref = reinterpret_cast<cublasLtMatmulPreference_t>(p);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t
cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
  if (pref == NULL)
    return CUBLAS_STATUS_SUCCESS;
  hpt_emulation_preference_t *p = hpt_emulation_preference_of(pref);
  if (p == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE,
                                "cublasLtMatmulPreferenceDestroy",
                                "not a live matmul preference");
  p->magic = 0;
  delete p;
  return CUBLAS_STATUS_SUCCESS;
}

/* Stored: the alignments (recorded into the algo and checked by
 * cublasLtMatmul) and the search mode. The workspace limit, reduction
 * scheme mask, wave count and implementation mask cannot exclude the one
 * algorithm here: it needs no workspace and no reduction, and reports one
 * wave; the mask is not applied, since what it describes (tensor cores,
 * FMA) has no counterpart on the CPU. */
cublasStatus_t
cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                     cublasLtMatmulPreferenceAttributes_t attr,
                                     const void *buf, size_t sizeInBytes) {
  static const char caller[] = "cublasLtMatmulPreferenceSetAttribute";
  hpt_emulation_preference_t *p = hpt_emulation_preference_of(pref);
  if (p == NULL)
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "not a live matmul preference");
  void *field;
  size_t size;
  const char *name;
  switch (attr) {
  case CUBLASLT_MATMUL_PREF_SEARCH_MODE:
    field = &p->search_mode, size = sizeof p->search_mode;
    name = "CUBLASLT_MATMUL_PREF_SEARCH_MODE";
    break;
  case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES:
    field = &p->max_workspace_bytes, size = sizeof p->max_workspace_bytes;
    name = "CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES";
    break;
  case CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK:
    field = &p->reduction_scheme_mask, size = sizeof p->reduction_scheme_mask;
    name = "CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK";
    break;
  case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
    field = &p->min_alignment[0], size = sizeof p->min_alignment[0];
    name = "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES";
    break;
  case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
    field = &p->min_alignment[1], size = sizeof p->min_alignment[1];
    name = "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES";
    break;
  case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
    field = &p->min_alignment[2], size = sizeof p->min_alignment[2];
    name = "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES";
    break;
  case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
    field = &p->min_alignment[3], size = sizeof p->min_alignment[3];
    name = "CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES";
    break;
  case CUBLASLT_MATMUL_PREF_MAX_WAVES_COUNT:
    field = &p->max_waves_count, size = sizeof p->max_waves_count;
    name = "CUBLASLT_MATMUL_PREF_MAX_WAVES_COUNT";
    break;
  case CUBLASLT_MATMUL_PREF_IMPL_MASK:
    field = &p->impl_mask, size = sizeof p->impl_mask;
    name = "CUBLASLT_MATMUL_PREF_IMPL_MASK";
    break;
  default:
    return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                                "unknown attribute %d", (int)attr);
  }
  cublasStatus_t status =
      hpt_emulation_check_buffer(caller, name, buf, sizeInBytes, size);
  if (status != CUBLAS_STATUS_SUCCESS)
    return status;
  memcpy(field, buf, size);
  return CUBLAS_STATUS_SUCCESS;
}

} /* extern "C" */

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
  for (const hpt_emulation_desc_attribute_t &a : hpt_emulation_desc_attributes)
    if (a.use == HPT_EMULATION_REFUSED_IF_SET &&
        (op->unimplemented_set & ((uint64_t)1 << a.attr)) != 0)
      return hpt_emulation_refuse(a.refusal, caller,
                                  "%s is set: not for these types, or not "
                                  "emulated",
                                  a.name);

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
