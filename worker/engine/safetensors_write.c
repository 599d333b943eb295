/* safetensors_write.c — see safetensors_write.h. */
#include "safetensors_write.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors_write.c writes host floats as little-endian data"
#endif

/* Elements of a tensor, or SIZE_MAX on overflow. */
static size_t elements(const hpt_safetensors_out_t *t) {
  size_t n = 1;
  for (int d = 0; d < t->rank; d++) {
    size_t dim = (size_t)t->shape[d];
    if (dim != 0 && n > SIZE_MAX / 4 / dim)
      return SIZE_MAX;
    n *= dim;
  }
  return n;
}

/* The header JSON (compact, insertion order), or NULL with *error set. */
static char *build_header(const hpt_safetensors_out_t *tensors, size_t n,
                          hpt_error_t *error) {
  json_t *root = json_object();
  json_t *meta = json_pack("{s:s}", "format", "pt");
  char *text = NULL;
  if (root == NULL || meta == NULL ||
      json_object_set_new(root, "__metadata__", meta) != 0) {
    json_decref(root);
    HPT_ERR(error, HPT_ENOMEM, "safetensors: out of memory");
    return NULL;
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < n; i++) {
    const hpt_safetensors_out_t *t = &tensors[i];
    if (t->name == NULL || t->name[0] == '\0' ||
        strcmp(t->name, "__metadata__") == 0 ||
        json_object_get(root, t->name) != NULL) {
      HPT_ERR(error, HPT_EINVAL, "safetensors: tensor %zu: name '%s' is %s", i,
              t->name ? t->name : "",
              t->name && t->name[0] ? "taken" : "empty");
      goto fail;
    }
    if (t->rank < 0 || t->rank > HPT_SAFETENSORS_MAX_RANK) {
      HPT_ERR(error, HPT_EINVAL, "safetensors: tensor '%s': rank %d", t->name,
              t->rank);
      goto fail;
    }
    json_t *shape = json_array();
    for (int d = 0; shape != NULL && d < t->rank; d++) {
      if (t->shape[d] < 0) {
        json_decref(shape);
        HPT_ERR(error, HPT_EINVAL,
                "safetensors: tensor '%s': negative dimension", t->name);
        goto fail;
      }
      json_array_append_new(shape, json_integer(t->shape[d]));
    }
    size_t count = elements(t);
    if (count == SIZE_MAX) {
      json_decref(shape);
      HPT_ERR(error, HPT_EINVAL, "safetensors: tensor '%s' is too large",
              t->name);
      goto fail;
    }
    uint64_t end = offset + 4 * (uint64_t)count;
    json_t *entry =
        json_pack("{s:s,s:o,s:[I,I]}", "dtype", "F32", "shape", shape,
                  "data_offsets", (json_int_t)offset, (json_int_t)end);
    if (entry == NULL || json_object_set_new(root, t->name, entry) != 0) {
      HPT_ERR(error, HPT_ENOMEM, "safetensors: out of memory");
      goto fail;
    }
    offset = end;
  }
  text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (text == NULL)
    HPT_ERR(error, HPT_ENOMEM, "safetensors: out of memory");
fail:
  json_decref(root);
  return text;
}

int hpt_safetensors_write_f32(const char *path,
                              const hpt_safetensors_out_t *tensors, size_t n,
                              hpt_error_t *error) {
  char *header = build_header(tensors, n, error);
  if (header == NULL)
    return error ? error->code : HPT_EINVAL;
  size_t length = strlen(header), padded = (length + 7) / 8 * 8;
  size_t tmp_size = strlen(path) + 16;
  char *tmp = malloc(tmp_size);
  if (tmp == NULL) {
    free(header);
    return HPT_ERR(error, HPT_ENOMEM, "safetensors: out of memory");
  }
  snprintf(tmp, tmp_size, "%s.tmp", path);
  int rc = HPT_OK;
  FILE *out = fopen(tmp, "wb");
  if (out == NULL) {
    rc = HPT_ERR(error, HPT_EIO, "%s: cannot create", tmp);
    goto out;
  }
  uint8_t prefix[8];
  for (int i = 0; i < 8; i++)
    prefix[i] = (uint8_t)((uint64_t)padded >> (8 * i));
  bool ok = fwrite(prefix, 1, 8, out) == 8 &&
            fwrite(header, 1, length, out) == length;
  for (size_t i = length; ok && i < padded; i++)
    ok = fputc(' ', out) != EOF;
  for (size_t i = 0; ok && i < n; i++) {
    size_t count = elements(&tensors[i]);
    ok = count == 0 ||
         fwrite(tensors[i].data, sizeof(float), count, out) == count;
  }
  ok = (fflush(out) == 0) & ok;
  ok = (fclose(out) == 0) & ok;
  if (!ok) {
    rc = HPT_ERR(error, HPT_EIO, "%s: write failed", tmp);
    unlink(tmp);
    goto out;
  }
  if (rename(tmp, path) != 0) {
    rc = HPT_ERR(error, HPT_EIO, "%s: cannot rename to %s", tmp, path);
    unlink(tmp);
  }
out:
  free(tmp);
  free(header);
  return rc;
}
