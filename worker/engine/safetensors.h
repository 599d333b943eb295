/* safetensors.h — a read-only, memory-mapped reader of the safetensors
 * format (https://github.com/huggingface/safetensors, "Format"):
 *
 *   bytes [0, 8)        N, a little-endian u64: the header's length
 *   bytes [8, 8+N)      the header: UTF-8 JSON, starts with '{', may be
 *                       padded at the end with spaces
 *   bytes [8+N, size)   the data buffer
 *
 *   header = { "<tensor name>": { "dtype": "F32", "shape": [d0, d1, ...],
 *                                 "data_offsets": [begin, end] }, ...,
 *              "__metadata__": { "<key>": "<string>", ... } (optional) }
 *
 * begin/end are relative to the data buffer, end one past the last byte.
 * Everything the format's rules (and the reference Rust reader) demand is
 * checked at open, so that nothing read later can point outside the file:
 *
 *   - the file holds at least the 8 length bytes; N <= 100,000,000 and
 *     8 + N <= file size; the header is valid UTF-8 JSON starting with '{';
 *   - tensor names are unique (duplicate keys are rejected);
 *     __metadata__, when present, maps strings to strings;
 *   - every tensor has exactly dtype, shape and data_offsets (no other
 *     keys); dtype is one
 *     of the names below; shape is a list of at most HPT_SAFETENSORS_MAX_RANK
 *     non-negative integers (rank 0 = a scalar, a 0 dimension = an empty
 *     tensor); product(shape) * dtype size == end - begin, without overflow;
 *   - sorted by offsets, the tensors tile the data buffer exactly: the
 *     first begins at 0, each begins where the previous ends, the last ends
 *     at the end of the file (no holes, no overlap, no trailing bytes).
 *
 * Data is little-endian, row-major (C order), and not necessarily aligned
 * (the header length is arbitrary): read it with memcpy or
 * hpt_safetensors_to_f32, never through a cast pointer.
 *
 * A hpt_safetensors_t is immutable after open: any number of threads may
 * read it at once. Tensor views and names are borrowed from it and valid
 * until hpt_safetensors_close.
 */
#ifndef HPT_SAFETENSORS_H
#define HPT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HPT_SAFETENSORS_MAX_RANK 8
#define HPT_SAFETENSORS_MAX_HEADER 100000000u

typedef enum {
  HPT_SAFETENSORS_BOOL,
  HPT_SAFETENSORS_U8,
  HPT_SAFETENSORS_I8,
  HPT_SAFETENSORS_F8_E5M2,
  HPT_SAFETENSORS_F8_E4M3,
  HPT_SAFETENSORS_I16,
  HPT_SAFETENSORS_U16,
  HPT_SAFETENSORS_F16,
  HPT_SAFETENSORS_BF16,
  HPT_SAFETENSORS_I32,
  HPT_SAFETENSORS_U32,
  HPT_SAFETENSORS_F32,
  HPT_SAFETENSORS_F64,
  HPT_SAFETENSORS_I64,
  HPT_SAFETENSORS_U64,
} hpt_safetensors_dtype_t;

/* A view of one tensor. All fields are read-only; the strings and data
 * belong to the file object. */
typedef struct hpt_safetensors_tensor {
  const char *name;
  hpt_safetensors_dtype_t dtype;
  int rank;                                /* 0..HPT_SAFETENSORS_MAX_RANK */
  int64_t shape[HPT_SAFETENSORS_MAX_RANK]; /* shape[rank..] are 0 */
  size_t n_elements;                       /* product of shape (1 if rank 0) */
  const void *data; /* nbytes bytes inside the mapping, maybe unaligned */
  size_t nbytes;    /* == n_elements * hpt_safetensors_dtype_size(dtype) */
  uint64_t offset;  /* begin, relative to the data buffer */
} hpt_safetensors_tensor_t;

typedef struct hpt_safetensors hpt_safetensors_t;

/* Maps the file at `path` read-only and validates it (see the top of this
 * file). On success *out is a new object the caller owns (close with
 * hpt_safetensors_close). On failure *out is NULL, nothing stays mapped or
 * open, and the return value is HPT_ENOTFOUND (no such file), HPT_EIO
 * (unreadable, not a regular file), HPT_EPARSE (any format violation; the
 * message says which and names the tensor), HPT_EUNSUPPORTED (unknown
 * dtype, rank above HPT_SAFETENSORS_MAX_RANK) or HPT_ENOMEM. */
int hpt_safetensors_open(const char *path, hpt_safetensors_t **out,
                         hpt_error_t *error);

/* As hpt_safetensors_open, on `size` bytes already in memory. The bytes
 * are borrowed: they must stay unchanged until hpt_safetensors_close.
 * `what` names the source in messages (NULL reads as "safetensors"). */
int hpt_safetensors_open_buffer(const void *bytes, size_t size,
                                const char *what, hpt_safetensors_t **out,
                                hpt_error_t *error);

/* Unmaps and frees; sets *st to NULL. Accepts NULL and *st == NULL.
 * Every view taken from the object becomes invalid. Cannot fail. */
void hpt_safetensors_close(hpt_safetensors_t **st);

/* Number of tensors (the __metadata__ entry excluded). Cannot fail. */
size_t hpt_safetensors_count(const hpt_safetensors_t *st);

/* The i-th tensor in data-offset order (i < count), borrowed; NULL when i
 * is out of range. Cannot fail otherwise. */
const hpt_safetensors_tensor_t *hpt_safetensors_at(const hpt_safetensors_t *st,
                                                   size_t i);

/* The tensor called `name`, borrowed; NULL when there is none. O(log n).
 * Cannot fail otherwise. */
const hpt_safetensors_tensor_t *
hpt_safetensors_find(const hpt_safetensors_t *st, const char *name);

/* The __metadata__ value for `key`, borrowed; NULL when absent. */
const char *hpt_safetensors_metadata(const hpt_safetensors_t *st,
                                     const char *key);

/* Bytes per element of `dtype` (1 for BOOL and the F8 types). */
size_t hpt_safetensors_dtype_size(hpt_safetensors_dtype_t dtype);

/* "F32", "BF16", ...; "?" for a value outside the enum. Cannot fail. */
const char *hpt_safetensors_dtype_name(hpt_safetensors_dtype_t dtype);

/* Converts the n_elements values of an F32, F16 or BF16 tensor to float32
 * into out[0..n_out). F16 and BF16 convert exactly (subnormals, signed
 * zeros, infinities and NaN kept). Returns HPT_EUNSUPPORTED for other
 * dtypes and HPT_EINVAL when n_out != tensor->n_elements; `out` is then
 * untouched. Thread-safe. */
int hpt_safetensors_to_f32(const hpt_safetensors_tensor_t *tensor, float *out,
                           size_t n_out, hpt_error_t *error);

/* IEEE 754 binary16 bits -> float, exactly. Cannot fail. */
float hpt_f16_to_f32(uint16_t bits);

/* bfloat16 bits -> float, exactly. Cannot fail. */
float hpt_bf16_to_f32(uint16_t bits);

#endif
