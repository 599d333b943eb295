/* safetensors_write.h — writes F32 tensors as a safetensors file
 * (https://github.com/huggingface/safetensors, "Format"; the layout is
 * described in safetensors.h), as Hugging Face's save_file does:
 *
 *   - the header is compact JSON, `__metadata__` first ({"format": "pt"},
 *     which transformers' loader expects), then the tensors in the order
 *     given, each {"dtype": "F32", "shape": [...], "data_offsets": [b, e]};
 *   - the header is padded with spaces to a multiple of 8 bytes, so the
 *     data buffer starts 8-byte aligned;
 *   - the data is the tensors back to back, little-endian, row-major.
 *
 * The file is written under a temporary name beside `path` and renamed
 * over it only when complete: a failure never leaves a half-written file
 * at `path`. Data is streamed tensor by tensor; nothing is copied.
 * Thread-safe (no shared state).
 */
#ifndef HPT_SAFETENSORS_WRITE_H
#define HPT_SAFETENSORS_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "safetensors.h"

/* One tensor to write; every pointer is borrowed for the call. */
typedef struct hpt_safetensors_out {
  const char *name;     /* non-empty UTF-8, unique, not "__metadata__" */
  int rank;             /* 0..HPT_SAFETENSORS_MAX_RANK */
  const int64_t *shape; /* rank non-negative dimensions */
  const float *data;    /* product(shape) floats */
} hpt_safetensors_out_t;

/* Writes tensors[0..n) as F32 to `path`. Returns 0, or HPT_EINVAL (a bad
 * name, rank or shape, a duplicate name: the message names the tensor),
 * HPT_EIO (cannot create, write or rename: the message names the path)
 * or HPT_ENOMEM; nothing is then left at `path` or beside it. */
int hpt_safetensors_write_f32(const char *path,
                              const hpt_safetensors_out_t *tensors, size_t n,
                              hpt_error_t *error);

#endif
