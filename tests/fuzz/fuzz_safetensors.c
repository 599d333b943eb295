/* fuzz_safetensors.c — the safetensors reader
 * (worker/engine/safetensors.c) on arbitrary bytes, through
 * hpt_safetensors_open_buffer. Whatever opens must keep the header's
 * promise that nothing read later points outside the file: every tensor's
 * bytes lie in the buffer, tile the data section, and convert to float32
 * when the dtype allows it. */
#include "fuzz_util.h"
#include "safetensors.h"

static void check(const hpt_safetensors_t *st, const uint8_t *data,
                  size_t size) {
  size_t count = hpt_safetensors_count(st);
  FUZZ_CHECK(hpt_safetensors_at(st, count) == NULL);
  uint64_t header = 0;
  for (int i = 7; i >= 0; i--)
    header = (header << 8) | data[i];
  uint64_t next = 0; /* where the next tensor must begin */
  for (size_t i = 0; i < count; i++) {
    const hpt_safetensors_tensor_t *t = hpt_safetensors_at(st, i);
    FUZZ_CHECK(t != NULL && t->name != NULL);
    FUZZ_CHECK(t->rank >= 0 && t->rank <= HPT_SAFETENSORS_MAX_RANK);
    size_t elements = 1;
    for (int d = 0; d < t->rank; d++) {
      FUZZ_CHECK(t->shape[d] >= 0);
      elements *= (size_t)t->shape[d];
    }
    FUZZ_CHECK(elements == t->n_elements);
    FUZZ_CHECK(t->nbytes == t->n_elements * hpt_safetensors_dtype_size(t->dtype));
    FUZZ_CHECK(t->offset == next);
    next += t->nbytes;
    const uint8_t *bytes = t->data;
    FUZZ_CHECK(bytes == data + 8 + header + t->offset);
    FUZZ_CHECK(bytes + t->nbytes <= data + size);
    FUZZ_CHECK(hpt_safetensors_find(st, t->name) == t);
    FUZZ_CHECK(hpt_safetensors_dtype_name(t->dtype)[0] != '?');
    if (t->dtype == HPT_SAFETENSORS_F32 || t->dtype == HPT_SAFETENSORS_F16 ||
        t->dtype == HPT_SAFETENSORS_BF16) {
      float *out = malloc((t->n_elements + 1) * sizeof *out);
      FUZZ_CHECK(out != NULL);
      hpt_error_t error;
      FUZZ_CHECK(hpt_safetensors_to_f32(t, out, t->n_elements, &error) == 0);
      FUZZ_CHECK(hpt_safetensors_to_f32(t, out, t->n_elements + 1, &error) ==
                 HPT_EINVAL);
      free(out);
    }
  }
  FUZZ_CHECK(8 + header + next == size);
  (void)hpt_safetensors_metadata(st, "format");
  (void)hpt_safetensors_find(st, "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hpt_safetensors_t *st = NULL;
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = hpt_safetensors_open_buffer(data, size, "fuzz", &st, &error);
  if (rc < 0) {
    FUZZ_CHECK(st == NULL && error.code == rc);
    return 0;
  }
  FUZZ_CHECK(st != NULL && size >= 8);
  check(st, data, size);
  hpt_safetensors_close(&st);
  FUZZ_CHECK(st == NULL);
  return 0;
}
