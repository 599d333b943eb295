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
 * cublasLtMatmulAlgoGetHeuristic, cublasLtMatmul (these two, and the
 * problem and its computation, in cublaslt_matmul_emulation.cc; the
 * descriptors both files read are in cublaslt_emulation_internal.h).
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <functional>
#include <new>
#include <vector>

#include "cublaslt_emulation_internal.h"
#include "emulation_internal.h"

/* ---- messages ------------------------------------------------------------ */

/* Prints why a call is refused and returns status, so that a refusal is
 * visible even where the caller only checks for success. */
cublasStatus_t hpt_emulation_refuse(cublasStatus_t status, const char *caller,
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

/* Where a layout or preference attribute is stored: its bytes are copied
 * as they are into the field (the docs give each attribute one type). */
typedef struct hpt_emulation_field {
  int attr;
  const char *name;
  size_t offset, size;
} hpt_emulation_field_t;

#define HPT_EMULATION_FIELD(attr, type, member)                                \
  { (int)(attr), #attr, offsetof(type, member), sizeof(((type *)0)->member) }

static const hpt_emulation_field_t hpt_emulation_layout_fields[] = {
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_TYPE, hpt_emulation_layout_t,
                        type),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_ORDER, hpt_emulation_layout_t,
                        order),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_ROWS, hpt_emulation_layout_t,
                        rows),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_COLS, hpt_emulation_layout_t,
                        cols),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_LD, hpt_emulation_layout_t, ld),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                        hpt_emulation_layout_t, batch_count),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                        hpt_emulation_layout_t, batch_stride),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_PLANE_OFFSET,
                        hpt_emulation_layout_t, plane_offset),
    HPT_EMULATION_FIELD(CUBLASLT_MATRIX_LAYOUT_BATCH_MODE,
                        hpt_emulation_layout_t, batch_mode),
};

static const hpt_emulation_field_t hpt_emulation_preference_fields[] = {
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_SEARCH_MODE,
                        hpt_emulation_preference_t, search_mode),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                        hpt_emulation_preference_t, max_workspace_bytes),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK,
                        hpt_emulation_preference_t, reduction_scheme_mask),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                        hpt_emulation_preference_t, min_alignment[0]),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                        hpt_emulation_preference_t, min_alignment[1]),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                        hpt_emulation_preference_t, min_alignment[2]),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                        hpt_emulation_preference_t, min_alignment[3]),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_MAX_WAVES_COUNT,
                        hpt_emulation_preference_t, max_waves_count),
    HPT_EMULATION_FIELD(CUBLASLT_MATMUL_PREF_IMPL_MASK,
                        hpt_emulation_preference_t, impl_mask),
};

/* Stores attribute attr (buf, size bytes) into its field of object, after
 * checking buf and size; an attribute not in fields is refused. */
static cublasStatus_t
hpt_emulation_set_field(const char *caller, const hpt_emulation_field_t *fields,
                        size_t n_fields, void *object, int attr,
                        const void *buf, size_t size) {
  for (size_t i = 0; i < n_fields; i++) {
    if (fields[i].attr != attr)
      continue;
    cublasStatus_t status = hpt_emulation_check_buffer(
        caller, fields[i].name, buf, size, fields[i].size);
    if (status == CUBLAS_STATUS_SUCCESS)
      memcpy((char *)object + fields[i].offset, buf, size);
    return status;
  }
  return hpt_emulation_refuse(CUBLAS_STATUS_INVALID_VALUE, caller,
                              "unknown attribute %d", attr);
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

/* Refuses a descriptor with an attribute set that is stored but not
 * implemented (see the table). */
cublasStatus_t
hpt_emulation_desc_unimplemented(const char *caller,
                                 const hpt_emulation_matmul_desc_t *op) {
  for (const hpt_emulation_desc_attribute_t &a : hpt_emulation_desc_attributes)
    if (a.use == HPT_EMULATION_REFUSED_IF_SET &&
        (op->unimplemented_set & ((uint64_t)1 << a.attr)) != 0)
      return hpt_emulation_refuse(a.refusal, caller,
                                  "%s is set: not for these types, or not "
                                  "emulated",
                                  a.name);
  return CUBLAS_STATUS_SUCCESS;
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
  return hpt_emulation_set_field(caller, hpt_emulation_layout_fields,
                                 sizeof hpt_emulation_layout_fields /
                                     sizeof hpt_emulation_layout_fields[0],
                                 layout, (int)attr, buf, sizeInBytes);
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
  return hpt_emulation_set_field(caller, hpt_emulation_preference_fields,
                                 sizeof hpt_emulation_preference_fields /
                                     sizeof hpt_emulation_preference_fields[0],
                                 p, (int)attr, buf, sizeInBytes);
}

} /* extern "C" */
