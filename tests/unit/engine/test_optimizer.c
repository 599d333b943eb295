/* test_optimizer.c — AdamW with clipping, layer-wise lr decay and warm-up +
 * cosine (worker/engine/optimizer.c) against torch.optim.AdamW +
 * clip_grad_norm_ + get_cosine_schedule_with_warmup: tiny-bert's
 * parameters after three steps from fixed gradients, dumped by
 * tests/fixtures/make_model_fixtures.py (its ADAMW options match
 * options() below). */
#include "model_fixture.h"
#include "optimizer.h"

static hpt_optimizer_options_t options(void) {
  hpt_optimizer_options_t o;
  hpt_optimizer_defaults(&o);
  o.lr_backbone = 1e-3;
  o.lr_head = 5e-3;
  o.layer_decay = 0.8;
  o.weight_decay = 0.01;
  o.max_grad_norm = 0.5;
  o.warmup_steps = 2;
  o.total_steps = 10;
  return o;
}

Test(optimizer, three_steps_match_pytorch) {
  ref_t r;
  ref_open(&r, src_path(3, "tests/fixtures/tiny-bert/reference.safetensors"));
  hpt_model_t *m = load_model("tests/fixtures/tiny-bert", &r);
  hpt_safetensors_t *after = NULL;
  hpt_error_t e = {0};
  cr_assert_eq(hpt_safetensors_open(
                   src_path(1, "tests/fixtures/tiny-bert/adamw.safetensors"),
                   &after, &e),
               0, "%s", e.message);
  hpt_optimizer_options_t o = options();
  hpt_optimizer_t *opt = NULL;
  cr_assert_eq(hpt_optimizer_new(m, &o, &opt, &e), 0, "%s", e.message);
  for (int s = 0; s < 3; s++) {
    for (size_t i = 0; i < hpt_model_param_count(m); i++) {
      const hpt_model_param_t *p = hpt_model_param_at(m, i);
      char name[256];
      snprintf(name, sizeof name, "grad/%s", p->name);
      size_t n = 0;
      float *g = ref_tensor(&r, name, &n);
      cr_assert_eq(n, p->numel);
      memcpy(p->grad, g, n * sizeof(float));
      free(g);
    }
    double norm = 0.0;
    cr_assert_eq(hpt_optimizer_step(opt, &norm, &e), 0, "%s", e.message);
    cr_expect_gt(norm, 0.5, "the fixture's gradients must be clipped");
  }
  cr_expect_eq(hpt_optimizer_steps(opt), 3);
  double worst = 0.0;
  const char *worst_name = "";
  for (size_t i = 0; i < hpt_model_param_count(m); i++) {
    const hpt_model_param_t *p = hpt_model_param_at(m, i);
    char name[256];
    snprintf(name, sizeof name, "after/%s", p->name);
    const hpt_safetensors_tensor_t *t = hpt_safetensors_find(after, name);
    cr_assert_not_null(t, "%s", name);
    cr_assert_eq(t->n_elements, p->numel);
    float *want = malloc(t->nbytes);
    memcpy(want, t->data, t->nbytes);
    double rel = rel_diff(p->value, want, p->numel, NULL);
    cr_expect_leq(rel, 1e-4, "%s: relative diff %g", p->name, rel);
    if (rel > worst) {
      worst = rel;
      worst_name = p->name;
    }
    free(want);
  }
  printf("adamw tiny-bert after 3 steps: largest relative diff %.3g (%s)\n",
         worst, worst_name);
  hpt_optimizer_destroy(&opt);
  hpt_optimizer_destroy(&opt);
  hpt_safetensors_close(&after);
  hpt_model_destroy(&m);
  ref_close(&r);
}

Test(optimizer, schedule_and_groups) {
  ref_t r;
  ref_open(&r, src_path(3, "tests/fixtures/tiny-bert/reference.safetensors"));
  hpt_model_t *m = load_model("tests/fixtures/tiny-bert", &r);
  hpt_optimizer_options_t o = options();
  hpt_optimizer_t *opt = NULL;
  hpt_error_t e = {0};
  cr_assert_eq(hpt_optimizer_new(m, &o, &opt, &e), 0, "%s", e.message);
  cr_expect_float_eq(hpt_optimizer_schedule(opt, 0), 0.0, 1e-12);
  cr_expect_float_eq(hpt_optimizer_schedule(opt, 1), 0.5, 1e-12);
  cr_expect_float_eq(hpt_optimizer_schedule(opt, 2), 1.0, 1e-12);
  cr_expect_float_eq(hpt_optimizer_schedule(opt, 6), 0.5, 1e-12);
  cr_expect_float_eq(hpt_optimizer_schedule(opt, 10), 0.0, 1e-12);
  cr_expect_float_eq(hpt_optimizer_schedule(opt, 50), 0.0, 1e-12);
  /* 2 layers: embeddings 1e-3 * 0.8^2, layer 0 * 0.8, layer 1 1e-3 */
  struct {
    const char *name;
    double lr;
  } want[] = {{"bert.embeddings.word_embeddings.weight", 0.64e-3},
              {"bert.encoder.layer.0.output.dense.bias", 0.8e-3},
              {"bert.encoder.layer.1.attention.self.query.weight", 1e-3},
              {"bert.pooler.dense.weight", 5e-3},
              {"classifier.bias", 5e-3}};
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    size_t i = 0;
    while (strcmp(hpt_model_param_at(m, i)->name, want[k].name) != 0)
      i++;
    cr_expect_float_eq(hpt_optimizer_lr(opt, i, 2), want[k].lr, 1e-12, "%s",
                       want[k].name);
  }
  hpt_optimizer_destroy(&opt);
  o.total_steps = 2;
  cr_expect_eq(hpt_optimizer_new(m, &o, &opt, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "total_steps"), "%s", e.message);
  cr_expect_null(opt);
  hpt_model_destroy(&m);
  ref_close(&r);
}

Test(optimizer, nan_gradient_skips_the_step) {
  ref_t r;
  ref_open(&r, src_path(3, "tests/fixtures/tiny-bert/reference.safetensors"));
  hpt_model_t *m = load_model("tests/fixtures/tiny-bert", &r);
  hpt_optimizer_options_t o = options();
  hpt_optimizer_t *opt = NULL;
  hpt_error_t e = {0};
  cr_assert_eq(hpt_optimizer_new(m, &o, &opt, &e), 0, "%s", e.message);
  const hpt_model_param_t *p = hpt_model_param_at(m, 0);
  float before = p->value[40];
  hpt_model_zero_grad(m);
  p->grad[40] = NAN;
  cr_expect_eq(hpt_optimizer_step(opt, NULL, &e), HPT_ESTATE);
  cr_expect_eq(hpt_optimizer_steps(opt), 0);
  cr_expect_eq(p->value[40], before);
  hpt_optimizer_destroy(&opt);
  hpt_model_destroy(&m);
  ref_close(&r);
}
