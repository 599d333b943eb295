/* test_safetensors_write.c — the safetensors writer
 * (worker/engine/safetensors_write.c): what it writes reads back through
 * the strict reader (safetensors.c) with the same names, shapes and
 * values, the data starts 8-byte aligned, and bad input is refused without
 * leaving a file behind. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"
#include "safetensors_write.h"

static char dir[] = "/tmp/hpt-st-write-XXXXXX";

static void setup(void) { cr_assert_not_null(mkdtemp(dir)); }
static void teardown(void) {
  char command[128];
  snprintf(command, sizeof command, "rm -rf %s", dir);
  cr_assert_eq(system(command), 0);
}

TestSuite(safetensors_write, .init = setup, .fini = teardown);

Test(safetensors_write, round_trip) {
  float a[6] = {1, -2, 3.5f, 0, 1e-30f, -7};
  float b[3] = {0.25f, 0.5f, 0.75f};
  float s[1] = {42};
  int64_t shape_a[2] = {2, 3}, shape_b[1] = {3};
  hpt_safetensors_out_t tensors[] = {
      {"bert.encoder.layer.0.weight", 2, shape_a, a},
      {"classifier.bias", 1, shape_b, b},
      {"scalar", 0, NULL, s},
      {"empty", 1, (int64_t[]){0}, NULL},
  };
  char path[256];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  hpt_error_t error;
  cr_assert_eq(hpt_safetensors_write_f32(path, tensors, 4, &error), 0, "%s",
               error.message);

  FILE *in = fopen(path, "rb");
  uint8_t prefix[8];
  cr_assert_eq(fread(prefix, 1, 8, in), 8);
  fclose(in);
  uint64_t header = 0;
  for (int i = 0; i < 8; i++)
    header |= (uint64_t)prefix[i] << (8 * i);
  cr_assert_eq(header % 8, 0, "data buffer starts 8-byte aligned");

  hpt_safetensors_t *st = NULL;
  cr_assert_eq(hpt_safetensors_open(path, &st, &error), 0, "%s", error.message);
  cr_assert_eq(hpt_safetensors_count(st), 4);
  cr_assert_str_eq(hpt_safetensors_metadata(st, "format"), "pt");
  const hpt_safetensors_tensor_t *t =
      hpt_safetensors_find(st, "bert.encoder.layer.0.weight");
  cr_assert_not_null(t);
  cr_assert_eq(t->dtype, HPT_SAFETENSORS_F32);
  cr_assert_eq(t->rank, 2);
  cr_assert_eq(t->shape[0], 2);
  cr_assert_eq(t->shape[1], 3);
  float back[6];
  cr_assert_eq(hpt_safetensors_to_f32(t, back, 6, &error), 0);
  cr_assert_eq(memcmp(back, a, sizeof a), 0);
  t = hpt_safetensors_find(st, "classifier.bias");
  cr_assert_eq(t->rank, 1);
  cr_assert_eq(hpt_safetensors_to_f32(t, back, 3, &error), 0);
  cr_assert_eq(memcmp(back, b, sizeof b), 0);
  t = hpt_safetensors_find(st, "scalar");
  cr_assert_eq(t->rank, 0);
  cr_assert_eq(t->n_elements, 1);
  t = hpt_safetensors_find(st, "empty");
  cr_assert_eq(t->n_elements, 0);
  hpt_safetensors_close(&st);
}

Test(safetensors_write, duplicate_name_leaves_nothing) {
  float a[1] = {1};
  int64_t shape[1] = {1};
  hpt_safetensors_out_t tensors[] = {{"x", 1, shape, a}, {"x", 1, shape, a}};
  char path[256], tmp[280];
  snprintf(path, sizeof path, "%s/dup.safetensors", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  hpt_error_t error;
  cr_assert_eq(hpt_safetensors_write_f32(path, tensors, 2, &error), HPT_EINVAL);
  cr_assert(strstr(error.message, "'x'") != NULL, "%s", error.message);
  cr_assert_neq(access(path, F_OK), 0);
  cr_assert_neq(access(tmp, F_OK), 0);
}

Test(safetensors_write, bad_rank_and_shape) {
  float a[1] = {1};
  int64_t negative[1] = {-1};
  hpt_safetensors_out_t rank[] = {{"r", 9, negative, a}};
  hpt_safetensors_out_t shape[] = {{"s", 1, negative, a}};
  hpt_safetensors_out_t meta[] = {{"__metadata__", 0, NULL, a}};
  char path[256];
  snprintf(path, sizeof path, "%s/bad.safetensors", dir);
  hpt_error_t error;
  cr_assert_eq(hpt_safetensors_write_f32(path, rank, 1, &error), HPT_EINVAL);
  cr_assert_eq(hpt_safetensors_write_f32(path, shape, 1, &error), HPT_EINVAL);
  cr_assert_eq(hpt_safetensors_write_f32(path, meta, 1, &error), HPT_EINVAL);
  cr_assert_neq(access(path, F_OK), 0);
}

Test(safetensors_write, unwritable_directory) {
  float a[1] = {1};
  int64_t shape[1] = {1};
  hpt_safetensors_out_t tensors[] = {{"x", 1, shape, a}};
  hpt_error_t error;
  cr_assert_eq(hpt_safetensors_write_f32("/nonexistent-dir/m.safetensors",
                                         tensors, 1, &error),
               HPT_EIO);
  cr_assert(strstr(error.message, "/nonexistent-dir/") != NULL);
}
