/* test_model_backward.c — the model's backward pass (model_pass.c,
 * layers_cpu.c) against transformers: the gradient of every parameter of
 * the four tiny random models, and of chosen MiniLM tensors, dumped by
 * tests/fixtures/make_model_fixtures.py (eval mode, label smoothing on);
 * and the dropout path against finite differences. */
#include "model_fixture.h"

#define GRAD_TOL 1e-3
/* Denominator floor for the relative difference, times the largest
 * reference gradient of the model: some gradients are analytically zero
 * and both sides hold only rounding noise (~1e-8): the attention key
 * biases, since softmax ignores a constant added to a whole row. */
#define GRAD_FLOOR 1e-4

/* Forward + backward on the reference batch, then every "grad/<name>" in
 * the reference against the model's gradient (a reference may hold only
 * the leading rows). Returns how many gradients were compared. */
static size_t check_grads(hpt_model_t *m, ref_t *r, const char *what) {
  run_forward(m, r);
  hpt_model_zero_grad(m);
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_backward(m, &e), 0, "%s", e.message);
  double floor = 0.0;
  for (size_t i = 0; i < hpt_safetensors_count(r->st); i++) {
    const hpt_safetensors_tensor_t *t = hpt_safetensors_at(r->st, i);
    if (strncmp(t->name, "grad/", 5) != 0)
      continue;
    float *want = ref_tensor(r, t->name, NULL);
    for (size_t k = 0; k < t->n_elements; k++)
      floor = fmax(floor, GRAD_FLOOR * fabs(want[k]));
    free(want);
  }
  size_t compared = 0, n_noise = 0;
  double worst = 0.0;
  const char *worst_name = "";
  for (size_t i = 0; i < hpt_safetensors_count(r->st); i++) {
    const hpt_safetensors_tensor_t *t = hpt_safetensors_at(r->st, i);
    if (strncmp(t->name, "grad/", 5) != 0)
      continue;
    const char *name = t->name + 5;
    const hpt_model_param_t *p = hpt_model_param_find(m, name);
    cr_assert_not_null(p, "%s: the model has no '%s'", what, name);
    size_t n = 0;
    float *want = ref_tensor(r, t->name, &n);
    cr_assert_leq(n, p->numel, "%s", name);
    double abs_diff = 0.0;
    double rel = rel_diff(p->grad, want, n, &abs_diff);
    double max_ref = 0.0;
    for (size_t k = 0; k < n; k++)
      max_ref = fmax(max_ref, fabs(want[k]));
    bool noise = max_ref < floor;
    if (noise) {
      rel = abs_diff / floor;
      n_noise++;
    }
    cr_expect_leq(rel, GRAD_TOL, "%s %s: relative diff %g (abs %g)", what, name,
                  rel, abs_diff);
    if (!noise && (rel > worst || worst_name[0] == 0)) {
      worst = rel;
      worst_name = p->name;
    }
    free(want);
    compared++;
  }
  printf("backward %-16s %2zu gradients, largest relative diff %.3g (%s); "
         "%zu analytically zero (noise only)\n",
         what, compared, worst, worst_name, n_noise);
  return compared;
}

static void check_tiny(const char *arch) {
  char dir[256], ref_path[256], what[64];
  snprintf(dir, sizeof dir, "tests/fixtures/tiny-%s", arch);
  snprintf(ref_path, sizeof ref_path, "%s/reference.safetensors", dir);
  snprintf(what, sizeof what, "tiny-%s", arch);
  ref_t r;
  ref_open(&r, src_path(3, ref_path));
  hpt_model_t *m = load_model(dir, &r);
  size_t compared = check_grads(m, &r, what);
  cr_expect_eq(compared, hpt_model_param_count(m),
               "every parameter's gradient is checked");
  /* backward accumulates: a second pass doubles every gradient */
  const hpt_model_param_t *p = hpt_model_param_at(m, 0);
  float *twice = malloc(p->numel * sizeof(float));
  for (size_t i = 0; i < p->numel; i++)
    twice[i] = 2.0f * p->grad[i];
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_backward(m, &e), 0, "%s", e.message);
  cr_expect_leq(rel_diff(p->grad, twice, p->numel, NULL), 1e-5);
  free(twice);
  hpt_model_destroy(&m);
  ref_close(&r);
}

Test(model_backward, tiny_bert) { check_tiny("bert"); }
Test(model_backward, tiny_distilbert) { check_tiny("distilbert"); }
Test(model_backward, tiny_electra) { check_tiny("electra"); }
Test(model_backward, tiny_roberta) { check_tiny("roberta"); }

Test(model_backward, minilm) {
  if (!have_minilm())
    cr_skip_test("models/all-MiniLM-L6-v2 absent: run ./ops/fetch-models");
  ref_t r;
  ref_open(&r, src_path(3, "tests/fixtures/minilm-reference.safetensors"));
  hpt_model_t *m = load_model(MINILM_DIR, &r);
  cr_expect_geq(check_grads(m, &r, "MiniLM"), 10);
  hpt_model_destroy(&m);
  ref_close(&r);
}

/* Train mode with dropout (masks fixed by reseeding the rng before each
 * pass): the analytic gradient of a few entries of every tensor against
 * central differences in double-checked fp32. */
static double loss_at(hpt_model_t *m, const hpt_model_batch_t *batch) {
  hpt_rng_t rng;
  hpt_rng_seed(&rng, 77);
  hpt_model_mode_t mode = {.train = true, .label_smoothing = 0.1f, .rng = &rng};
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_forward(m, batch, &mode, &e), 0, "%s", e.message);
  return hpt_model_loss(m);
}

static void check_dropout_fd(const char *arch) {
  char dir[256], ref_path[256];
  snprintf(dir, sizeof dir, "tests/fixtures/tiny-%s", arch);
  snprintf(ref_path, sizeof ref_path, "%s/reference.safetensors", dir);
  ref_t r;
  ref_open(&r, src_path(3, ref_path));
  hpt_model_t *m = load_model(dir, &r);
  hpt_model_batch_t batch = {.B = r.B,
                             .T = r.T,
                             .input_ids = r.ids,
                             .attention_mask = r.mask,
                             .token_type_ids = r.types,
                             .labels = r.labels};
  loss_at(m, &batch);
  hpt_model_zero_grad(m);
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_backward(m, &e), 0, "%s", e.message);
  double worst = 0.0;
  const float h = 1e-2f;
  for (size_t i = 0; i < hpt_model_param_count(m); i++) {
    const hpt_model_param_t *p = hpt_model_param_at(m, i);
    /* the entry with the largest gradient: best signal over fp32 noise */
    size_t j = 0;
    for (size_t k = 1; k < p->numel; k++)
      if (fabsf(p->grad[k]) > fabsf(p->grad[j]))
        j = k;
    float analytic = p->grad[j];
    if (fabsf(analytic) < 1e-3f)
      continue;
    float saved = p->value[j];
    p->value[j] = saved + h;
    double up = loss_at(m, &batch);
    p->value[j] = saved - h;
    double down = loss_at(m, &batch);
    p->value[j] = saved;
    double numeric = (up - down) / (2.0 * h);
    double rel = fabs(numeric - analytic) / fabs(analytic);
    if (rel > worst)
      worst = rel;
    cr_expect_leq(rel, 2e-2, "%s %s[%zu]: analytic %g, numeric %g", arch,
                  p->name, j, analytic, numeric);
  }
  printf("dropout finite differences tiny-%s: largest relative diff %.3g\n",
         arch, worst);
  hpt_model_destroy(&m);
  ref_close(&r);
}

Test(model_backward, dropout_bert_finite_differences) {
  check_dropout_fd("bert");
}
Test(model_backward, dropout_electra_finite_differences) {
  check_dropout_fd("electra");
}
Test(model_backward, dropout_distilbert_finite_differences) {
  check_dropout_fd("distilbert");
}
