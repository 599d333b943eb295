/* model_fixture.h — shared by test_model_forward.c and
 * test_model_backward.c: loading the PyTorch reference dumps that
 * tests/fixtures/make_model_fixtures.py writes, running the model on their
 * batch, and measuring differences as max |a - b| / max |b|. */
#ifndef HPT_TEST_MODEL_FIXTURE_H
#define HPT_TEST_MODEL_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "safetensors.h"

#define MINILM_DIR "models/all-MiniLM-L6-v2"

/* $HPT_SOURCE_DIR/rel in a static buffer (one per slot 0..3). */
static inline const char *src_path(int slot, const char *rel) {
  static char buf[4][4096];
  const char *src = getenv("HPT_SOURCE_DIR");
  cr_assert_not_null(src, "HPT_SOURCE_DIR not set");
  snprintf(buf[slot], sizeof buf[slot], "%s/%s", src, rel);
  return buf[slot];
}

typedef struct {
  hpt_safetensors_t *st;
  int B, T, K;
  int32_t *ids, *mask, *types, *labels; /* types NULL when not saved */
  float eps;
  float *logits; /* (B,K) */
  float loss;
} ref_t;

/* A tensor of the reference as a malloc'ed copy (aborts the test when
 * absent); *n receives its element count. */
static inline void *ref_tensor(ref_t *r, const char *name, size_t *n) {
  const hpt_safetensors_tensor_t *t = hpt_safetensors_find(r->st, name);
  cr_assert_not_null(t, "reference lacks '%s'", name);
  void *p = malloc(t->nbytes ? t->nbytes : 1);
  cr_assert_not_null(p);
  memcpy(p, t->data, t->nbytes);
  if (n)
    *n = t->n_elements;
  return p;
}

static inline void ref_open(ref_t *r, const char *path) {
  memset(r, 0, sizeof *r);
  hpt_error_t e = {0};
  cr_assert_eq(hpt_safetensors_open(path, &r->st, &e), 0, "%s", e.message);
  const hpt_safetensors_tensor_t *ids =
      hpt_safetensors_find(r->st, "input_ids");
  const hpt_safetensors_tensor_t *lg = hpt_safetensors_find(r->st, "logits");
  cr_assert(ids && lg && ids->dtype == HPT_SAFETENSORS_I32);
  r->B = (int)ids->shape[0];
  r->T = (int)ids->shape[1];
  r->K = (int)lg->shape[1];
  r->ids = ref_tensor(r, "input_ids", NULL);
  r->mask = ref_tensor(r, "attention_mask", NULL);
  r->labels = ref_tensor(r, "labels", NULL);
  if (hpt_safetensors_find(r->st, "token_type_ids"))
    r->types = ref_tensor(r, "token_type_ids", NULL);
  r->logits = ref_tensor(r, "logits", NULL);
  float *v = ref_tensor(r, "label_smoothing", NULL);
  r->eps = v[0];
  free(v);
  v = ref_tensor(r, "loss", NULL);
  r->loss = v[0];
  free(v);
}

static inline void ref_close(ref_t *r) {
  free(r->ids);
  free(r->mask);
  free(r->types);
  free(r->labels);
  free(r->logits);
  hpt_safetensors_close(&r->st);
}

/* max |a - b| / max |b| over n values (0 when both are all zero). */
static inline double rel_diff(const float *a, const float *b, size_t n,
                              double *max_abs_diff) {
  double d = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++) {
    double x = fabs((double)a[i] - b[i]);
    if (x > d || isnan(x))
      d = isnan(x) ? INFINITY : x;
    if (fabs(b[i]) > m)
      m = fabs(b[i]);
  }
  if (max_abs_diff)
    *max_abs_diff = d;
  return m > 0.0 ? d / m : d;
}

/* Loads the model in `dir` (a source-relative path) or, for MiniLM, the
 * checkpoint plus the reference's classifier initialisation. */
static inline hpt_model_t *load_model(const char *dir, ref_t *r) {
  hpt_model_t *m = NULL;
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_load(src_path(0, dir), 1, &m, &e), 0, "%s", e.message);
  const char *init[] = {"classifier.weight", "classifier.bias"};
  for (int i = 0; i < 2; i++) {
    char name[128];
    snprintf(name, sizeof name, "init/%s", init[i]);
    if (!hpt_safetensors_find(r->st, name))
      continue;
    size_t n = 0;
    float *v = ref_tensor(r, name, &n);
    const hpt_model_param_t *p = hpt_model_param_find(m, init[i]);
    cr_assert(p && p->numel == n, "%s", init[i]);
    memcpy(p->value, v, n * sizeof(float));
    free(v);
  }
  return m;
}

/* Eval-mode forward pass on the reference batch, with its labels and
 * label smoothing. */
static inline void run_forward(hpt_model_t *m, const ref_t *r) {
  hpt_model_batch_t batch = {.B = r->B,
                             .T = r->T,
                             .input_ids = r->ids,
                             .attention_mask = r->mask,
                             .token_type_ids = r->types,
                             .labels = r->labels};
  hpt_model_mode_t mode = {.train = false, .label_smoothing = r->eps};
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_forward(m, &batch, &mode, &e), 0, "%s", e.message);
}

/* Whether MiniLM and its reference dump are present. */
static inline bool have_minilm(void) {
  return access(src_path(1, MINILM_DIR "/model.safetensors"), R_OK) == 0 &&
         access(src_path(2, "tests/fixtures/minilm-reference.safetensors"),
                R_OK) == 0;
}

#endif
