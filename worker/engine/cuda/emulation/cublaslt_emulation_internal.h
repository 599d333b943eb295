/* cublaslt_emulation_internal.h — what the emulated cuBLASLt's two files
 * share (private to worker/engine/cuda/emulation/): the descriptors behind
 * cublasLt.h's opaque handle types, checked by a magic number per kind,
 * and the refusal message. cublaslt_emulation.cc has the contract (what is
 * implemented and what is refused) and the descriptor calls;
 * cublaslt_matmul_emulation.cc the heuristic and cublasLtMatmul.
 */
#ifndef HPT_CUBLASLT_EMULATION_INTERNAL_H
#define HPT_CUBLASLT_EMULATION_INTERNAL_H

#include <cublasLt.h>
#include <stdint.h>

/* ---- messages ------------------------------------------------------------ */

/* Prints "cublasLt emulation: CALLER: STATUS: why" on stderr and returns
 * status, so that a refusal is visible even where the caller only checks
 * for success. */
__attribute__((format(printf, 3, 4))) cublasStatus_t
hpt_emulation_refuse(cublasStatus_t status, const char *caller,
                     const char *format, ...);

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

static inline hpt_emulation_layout_t *
hpt_emulation_layout_of(cublasLtMatrixLayout_t l) {
  hpt_emulation_layout_t *layout =
      reinterpret_cast<hpt_emulation_layout_t *>(l);
  return layout && layout->magic == HPT_EMULATION_LAYOUT_MAGIC ? layout : NULL;
}

static inline hpt_emulation_matmul_desc_t *
hpt_emulation_desc_of(cublasLtMatmulDesc_t d) {
  hpt_emulation_matmul_desc_t *desc =
      reinterpret_cast<hpt_emulation_matmul_desc_t *>(d);
  return desc && desc->magic == HPT_EMULATION_MATMUL_DESC_MAGIC ? desc : NULL;
}

static inline hpt_emulation_preference_t *
hpt_emulation_preference_of(cublasLtMatmulPreference_t p) {
  hpt_emulation_preference_t *pref =
      reinterpret_cast<hpt_emulation_preference_t *>(p);
  return pref && pref->magic == HPT_EMULATION_PREFERENCE_MAGIC ? pref : NULL;
}

static inline bool hpt_emulation_handle_ok(cublasLtHandle_t handle) {
  return handle != NULL && handle->magic == HPT_EMULATION_HANDLE_MAGIC;
}

/* CUBLAS_STATUS_SUCCESS, or the refusal of an attribute of op that is set
 * but not emulated (FP8 scales and amax for these types). */
cublasStatus_t
hpt_emulation_desc_unimplemented(const char *caller,
                                 const hpt_emulation_matmul_desc_t *op);

#endif
