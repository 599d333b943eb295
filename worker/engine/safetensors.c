/* safetensors.c — see safetensors.h. Validation mirrors the reference
 * reader (safetensors/src/tensor.rs: read_metadata, Metadata::validate). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c reads little-endian data in place"
#endif

#define METADATA_KEY "__metadata__"

struct hpt_safetensors {
  char *what; /* path or label, for messages */
  void *map;  /* mmap'd file, or NULL for a buffer */
  size_t map_size;
  json_t *root;     /* the header; owns the tensor names */
  json_t *metadata; /* borrowed from root, or NULL */
  size_t count;
  hpt_safetensors_tensor_t *tensors;        /* count, by data offset */
  const hpt_safetensors_tensor_t **by_name; /* count, sorted by strcmp */
};

static const struct {
  const char *name;
  size_t size;
} DTYPES[] = {
    [HPT_SAFETENSORS_BOOL] = {"BOOL", 1},
    [HPT_SAFETENSORS_U8] = {"U8", 1},
    [HPT_SAFETENSORS_I8] = {"I8", 1},
    [HPT_SAFETENSORS_F8_E5M2] = {"F8_E5M2", 1},
    [HPT_SAFETENSORS_F8_E4M3] = {"F8_E4M3", 1},
    [HPT_SAFETENSORS_I16] = {"I16", 2},
    [HPT_SAFETENSORS_U16] = {"U16", 2},
    [HPT_SAFETENSORS_F16] = {"F16", 2},
    [HPT_SAFETENSORS_BF16] = {"BF16", 2},
    [HPT_SAFETENSORS_I32] = {"I32", 4},
    [HPT_SAFETENSORS_U32] = {"U32", 4},
    [HPT_SAFETENSORS_F32] = {"F32", 4},
    [HPT_SAFETENSORS_F64] = {"F64", 8},
    [HPT_SAFETENSORS_I64] = {"I64", 8},
    [HPT_SAFETENSORS_U64] = {"U64", 8},
};
#define N_DTYPES (sizeof DTYPES / sizeof DTYPES[0])

size_t hpt_safetensors_dtype_size(hpt_safetensors_dtype_t dtype) {
  return (size_t)dtype < N_DTYPES ? DTYPES[dtype].size : 0;
}

const char *hpt_safetensors_dtype_name(hpt_safetensors_dtype_t dtype) {
  return (size_t)dtype < N_DTYPES ? DTYPES[dtype].name : "?";
}

static int dtype_parse(const char *name, hpt_safetensors_dtype_t *out) {
  for (size_t i = 0; i < N_DTYPES; i++)
    if (strcmp(DTYPES[i].name, name) == 0) {
      *out = (hpt_safetensors_dtype_t)i;
      return 0;
    }
  return -1;
}

/* Reads one tensor entry into *t (name, dtype, shape, n_elements, nbytes,
 * offset) and checks it against the data buffer's size. */
static int tensor_parse(const char *what, const char *name, const json_t *entry,
                        uint64_t data_size, hpt_safetensors_tensor_t *t,
                        hpt_error_t *error) {
  memset(t, 0, sizeof *t);
  t->name = name;
  if (!json_is_object(entry))
    return HPT_ERR(error, HPT_EPARSE, "%s: tensor '%s': entry is not an object",
                   what, name);
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)entry, key, value) {
    if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
        strcmp(key, "data_offsets") != 0)
      return HPT_ERR(error, HPT_EPARSE, "%s: tensor '%s': unexpected key '%s'",
                     what, name, key);
  }

  json_t *dtype = json_object_get(entry, "dtype");
  if (!json_is_string(dtype))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s': 'dtype' missing or not a string", what,
                   name);
  if (dtype_parse(json_string_value(dtype), &t->dtype) != 0)
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: tensor '%s': unknown dtype '%s'", what, name,
                   json_string_value(dtype));

  json_t *shape = json_object_get(entry, "shape");
  if (!json_is_array(shape))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s': 'shape' missing or not a list", what,
                   name);
  if (json_array_size(shape) > HPT_SAFETENSORS_MAX_RANK)
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "%s: tensor '%s': rank %zu above the supported %d", what,
                   name, json_array_size(shape), HPT_SAFETENSORS_MAX_RANK);
  t->rank = (int)json_array_size(shape);
  size_t n_elements = 1;
  bool overflow = false;
  for (int d = 0; d < t->rank; d++) {
    json_t *dim = json_array_get(shape, (size_t)d);
    if (!json_is_integer(dim) || json_integer_value(dim) < 0)
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: tensor '%s': shape[%d] is not a non-negative integer",
                     what, name, d);
    t->shape[d] = json_integer_value(dim);
    if ((uint64_t)t->shape[d] > SIZE_MAX ||
        __builtin_mul_overflow(n_elements, (size_t)t->shape[d], &n_elements))
      overflow = true;
  }
  size_t nbytes = 0;
  if (overflow ||
      __builtin_mul_overflow(n_elements, DTYPES[t->dtype].size, &nbytes))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s': shape overflows the size of a tensor",
                   what, name);
  t->n_elements = n_elements;
  t->nbytes = nbytes;

  json_t *offsets = json_object_get(entry, "data_offsets");
  if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
      !json_is_integer(json_array_get(offsets, 0)) ||
      !json_is_integer(json_array_get(offsets, 1)))
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s': 'data_offsets' must be [begin, end]", what,
                   name);
  json_int_t begin = json_integer_value(json_array_get(offsets, 0));
  json_int_t end = json_integer_value(json_array_get(offsets, 1));
  if (begin < 0 || end < begin)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s': data_offsets [%lld, %lld] are not "
                   "0 <= begin <= end",
                   what, name, (long long)begin, (long long)end);
  if ((uint64_t)end > data_size)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s': data_offsets [%lld, %lld] run past the "
                   "data buffer (%llu bytes)",
                   what, name, (long long)begin, (long long)end,
                   (unsigned long long)data_size);
  if ((uint64_t)(end - begin) != (uint64_t)nbytes)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: tensor '%s': %zu elements of %s need %zu bytes but "
                   "data_offsets [%lld, %lld] hold %lld",
                   what, name, n_elements, DTYPES[t->dtype].name, nbytes,
                   (long long)begin, (long long)end, (long long)(end - begin));
  t->offset = (uint64_t)begin;
  return 0;
}

static int by_offset(const void *a, const void *b) {
  const hpt_safetensors_tensor_t *x = a, *y = b;
  if (x->offset != y->offset)
    return x->offset < y->offset ? -1 : 1;
  if (x->nbytes != y->nbytes)
    return x->nbytes < y->nbytes ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b) {
  const hpt_safetensors_tensor_t *const *x = a, *const *y = b;
  return strcmp((*x)->name, (*y)->name);
}

static int metadata_check(const char *what, json_t *metadata,
                          hpt_error_t *error) {
  if (!json_is_object(metadata))
    return HPT_ERR(error, HPT_EPARSE, "%s: '%s' is not an object", what,
                   METADATA_KEY);
  const char *key;
  json_t *value;
  json_object_foreach(metadata, key, value) {
    if (!json_is_string(value))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: '%s' value for '%s' is not a string", what,
                     METADATA_KEY, key);
  }
  return 0;
}

/* Parses and validates the header of bytes[0..size) into st. */
static int parse(hpt_safetensors_t *st, const unsigned char *bytes, size_t size,
                 hpt_error_t *error) {
  const char *what = st->what;
  if (size < 8)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: %zu bytes, too short for the 8-byte header length",
                   what, size);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = (n << 8) | bytes[i];
  if (n > HPT_SAFETENSORS_MAX_HEADER)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: header length %llu is above the limit of %u bytes",
                   what, (unsigned long long)n, HPT_SAFETENSORS_MAX_HEADER);
  if (n > size - 8)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: header length %llu runs past the end of the file "
                   "(%zu bytes)",
                   what, (unsigned long long)n, size);
  if (n == 0 || bytes[8] != '{')
    return HPT_ERR(error, HPT_EPARSE, "%s: header does not start with '{'",
                   what);
  int rc = hpt_json_parse((const char *)bytes + 8, (size_t)n, what, &st->root,
                          error);
  if (rc != 0)
    return rc;
  if (!json_is_object(st->root))
    return HPT_ERR(error, HPT_EPARSE, "%s: header is not a JSON object", what);

  st->metadata = json_object_get(st->root, METADATA_KEY);
  if (st->metadata != NULL &&
      (rc = metadata_check(what, st->metadata, error)) != 0)
    return rc;
  st->count = json_object_size(st->root) - (st->metadata != NULL);
  const unsigned char *data = bytes + 8 + n;
  uint64_t data_size = (uint64_t)(size - 8 - n);

  st->tensors = calloc(st->count ? st->count : 1, sizeof *st->tensors);
  st->by_name = calloc(st->count ? st->count : 1, sizeof *st->by_name);
  if (st->tensors == NULL || st->by_name == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  size_t i = 0;
  const char *key;
  json_t *value;
  json_object_foreach(st->root, key, value) {
    if (strcmp(key, METADATA_KEY) == 0)
      continue;
    rc = tensor_parse(what, key, value, data_size, &st->tensors[i], error);
    if (rc != 0)
      return rc;
    i++;
  }

  /* The format forbids holes and overlaps: sorted by offset, the tensors
   * must tile the data buffer exactly. */
  qsort(st->tensors, st->count, sizeof *st->tensors, by_offset);
  uint64_t expected = 0;
  for (i = 0; i < st->count; i++) {
    hpt_safetensors_tensor_t *t = &st->tensors[i];
    if (t->offset < expected)
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: tensor '%s' (bytes %llu..%llu) overlaps tensor '%s'",
                     what, t->name, (unsigned long long)t->offset,
                     (unsigned long long)(t->offset + t->nbytes),
                     st->tensors[i - 1].name);
    if (t->offset > expected)
      return HPT_ERR(error, HPT_EPARSE,
                     "%s: bytes %llu..%llu of the data buffer belong to no "
                     "tensor (hole before '%s')",
                     what, (unsigned long long)expected,
                     (unsigned long long)t->offset, t->name);
    expected = t->offset + t->nbytes;
    t->data = data + t->offset;
    st->by_name[i] = t;
  }
  if (expected != data_size)
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: %llu bytes after the last tensor belong to no tensor",
                   what, (unsigned long long)(data_size - expected));
  qsort(st->by_name, st->count, sizeof *st->by_name, by_name);
  return 0;
}

static int open_common(const unsigned char *bytes, size_t size, void *map,
                       const char *what, hpt_safetensors_t **out,
                       hpt_error_t *error) {
  hpt_safetensors_t *st = calloc(1, sizeof *st);
  if (st == NULL || (st->what = strdup(what)) == NULL) {
    free(st);
    if (map != NULL)
      munmap(map, size);
    return HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", what);
  }
  st->map = map;
  st->map_size = size;
  int rc = parse(st, bytes, size, error);
  if (rc != 0) {
    hpt_safetensors_close(&st);
    return rc;
  }
  *out = st;
  return 0;
}

int hpt_safetensors_open_buffer(const void *bytes, size_t size,
                                const char *what, hpt_safetensors_t **out,
                                hpt_error_t *error) {
  *out = NULL;
  return open_common(bytes, size, NULL, what ? what : "safetensors", out,
                     error);
}

int hpt_safetensors_open(const char *path, hpt_safetensors_t **out,
                         hpt_error_t *error) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return HPT_ERR(error, errno == ENOENT ? HPT_ENOTFOUND : HPT_EIO,
                   "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return HPT_ERR(error, HPT_EIO, "%s: not a regular file", path);
  }
  size_t size = (size_t)sb.st_size;
  if (size < 8) {
    close(fd);
    return HPT_ERR(error, HPT_EPARSE,
                   "%s: %zu bytes, too short for the 8-byte header length",
                   path, size);
  }
  void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int saved = errno;
  close(fd);
  if (map == MAP_FAILED)
    return HPT_ERR(error, HPT_EIO, "%s: mmap failed: %s", path,
                   strerror(saved));
  return open_common(map, size, map, path, out, error);
}

void hpt_safetensors_close(hpt_safetensors_t **st) {
  if (st == NULL || *st == NULL)
    return;
  hpt_safetensors_t *s = *st;
  if (s->map != NULL)
    munmap(s->map, s->map_size);
  json_decref(s->root);
  free(s->tensors);
  free(s->by_name);
  free(s->what);
  free(s);
  *st = NULL;
}

size_t hpt_safetensors_count(const hpt_safetensors_t *st) { return st->count; }

const hpt_safetensors_tensor_t *hpt_safetensors_at(const hpt_safetensors_t *st,
                                                   size_t i) {
  return i < st->count ? &st->tensors[i] : NULL;
}

const hpt_safetensors_tensor_t *
hpt_safetensors_find(const hpt_safetensors_t *st, const char *name) {
  size_t lo = 0, hi = st->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(name, st->by_name[mid]->name);
    if (c == 0)
      return st->by_name[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

const char *hpt_safetensors_metadata(const hpt_safetensors_t *st,
                                     const char *key) {
  if (st->metadata == NULL)
    return NULL;
  return json_string_value(json_object_get(st->metadata, key));
}

float hpt_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    /* Zero or subnormal: mantissa * 2^-24, exact in float. */
    float magnitude = (float)mantissa * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    bits = sign | 0x7f800000u | (mantissa << 13); /* inf, NaN (payload kept) */
  else
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

float hpt_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

int hpt_safetensors_to_f32(const hpt_safetensors_tensor_t *tensor, float *out,
                           size_t n_out, hpt_error_t *error) {
  if (tensor->dtype != HPT_SAFETENSORS_F32 &&
      tensor->dtype != HPT_SAFETENSORS_F16 &&
      tensor->dtype != HPT_SAFETENSORS_BF16)
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "tensor '%s': cannot convert %s to float32", tensor->name,
                   hpt_safetensors_dtype_name(tensor->dtype));
  if (n_out != tensor->n_elements)
    return HPT_ERR(error, HPT_EINVAL,
                   "tensor '%s': %zu elements, output holds %zu", tensor->name,
                   tensor->n_elements, n_out);
  const unsigned char *p = tensor->data;
  if (tensor->dtype == HPT_SAFETENSORS_F32) {
    if (n_out > 0)
      memcpy(out, p, n_out * sizeof *out);
    return 0;
  }
  bool half = tensor->dtype == HPT_SAFETENSORS_F16;
  for (size_t i = 0; i < n_out; i++) {
    uint16_t bits = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
    out[i] = half ? hpt_f16_to_f32(bits) : hpt_bf16_to_f32(bits);
  }
  return 0;
}
