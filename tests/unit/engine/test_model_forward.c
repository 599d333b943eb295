/* test_model_forward.c — the model's forward pass (worker/engine/model.c,
 * model_pass.c, layers_cpu.c) against transformers: logits and loss of the
 * four tiny random models and of MiniLM, dumped by
 * tests/fixtures/make_model_fixtures.py; and the load-time errors. */
#include "model_fixture.h"

#include <sys/stat.h>

#define LOGIT_TOL 1e-4

/* Forward on tiny-<arch>'s reference batch; logits within LOGIT_TOL
 * relative, loss too. */
static void check_tiny(const char *arch) {
  char dir[256], ref_path[256];
  snprintf(dir, sizeof dir, "tests/fixtures/tiny-%s", arch);
  snprintf(ref_path, sizeof ref_path, "%s/reference.safetensors", dir);
  ref_t r;
  ref_open(&r, src_path(3, ref_path));
  hpt_model_t *m = load_model(dir, &r);
  cr_assert_eq(hpt_model_config(m)->num_labels, r.K);
  run_forward(m, &r);
  double abs_diff = 0.0;
  double rel =
      rel_diff(hpt_model_logits(m), r.logits, (size_t)r.B * r.K, &abs_diff);
  double loss_rel = fabs(hpt_model_loss(m) - r.loss) / fabs(r.loss);
  printf("forward tiny-%-10s logits max abs diff %.3g (relative %.3g), "
         "loss %.7f vs %.7f (relative %.3g)\n",
         arch, abs_diff, rel, hpt_model_loss(m), r.loss, loss_rel);
  cr_expect_leq(rel, LOGIT_TOL, "tiny-%s logits: relative diff %g", arch, rel);
  cr_expect_leq(loss_rel, LOGIT_TOL, "tiny-%s loss: relative diff %g", arch,
                loss_rel);
  hpt_model_destroy(&m);
  hpt_model_destroy(&m);
  ref_close(&r);
}

Test(model_forward, tiny_bert) { check_tiny("bert"); }
Test(model_forward, tiny_distilbert) { check_tiny("distilbert"); }
Test(model_forward, tiny_electra) { check_tiny("electra"); }
Test(model_forward, tiny_roberta) { check_tiny("roberta"); }

Test(model_forward, minilm) {
  if (!have_minilm())
    cr_skip_test("models/all-MiniLM-L6-v2 absent: run ./ops/fetch-models");
  ref_t r;
  ref_open(&r, src_path(3, "tests/fixtures/minilm-reference.safetensors"));
  hpt_model_t *m = load_model(MINILM_DIR, &r);
  const hpt_model_param_t *pooler =
      hpt_model_param_find(m, "bert.pooler.dense.weight");
  cr_assert(pooler && pooler->loaded, "the pooler comes from the checkpoint");
  cr_assert(!hpt_model_param_find(m, "classifier.weight")->loaded);
  run_forward(m, &r);
  double abs_diff = 0.0;
  double rel =
      rel_diff(hpt_model_logits(m), r.logits, (size_t)r.B * r.K, &abs_diff);
  double loss_rel = fabs(hpt_model_loss(m) - r.loss) / fabs(r.loss);
  printf("forward MiniLM            logits max abs diff %.3g (relative %.3g), "
         "loss %.7f vs %.7f (relative %.3g)\n",
         abs_diff, rel, hpt_model_loss(m), r.loss, loss_rel);
  cr_expect_leq(rel, LOGIT_TOL);
  cr_expect_leq(loss_rel, LOGIT_TOL);
  hpt_model_destroy(&m);
  ref_close(&r);
}

/* Logits do not depend on the batch they sit in: sequence 1 alone, cut to
 * its own length, gives the same logits as inside the padded batch. */
Test(model_forward, padding_does_not_leak) {
  ref_t r;
  ref_open(&r, src_path(3, "tests/fixtures/tiny-bert/reference.safetensors"));
  hpt_model_t *m = load_model("tests/fixtures/tiny-bert", &r);
  run_forward(m, &r);
  float want[8];
  memcpy(want, hpt_model_logits(m) + r.K, sizeof(float) * r.K);
  int n = 0;
  while (n < r.T && r.mask[r.T + n])
    n++;
  hpt_model_batch_t one = {.B = 1,
                           .T = n,
                           .input_ids = r.ids + r.T,
                           .token_type_ids = r.types + r.T};
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_forward(m, &one, NULL, &e), 0, "%s", e.message);
  cr_expect_leq(rel_diff(hpt_model_logits(m), want, (size_t)r.K, NULL), 1e-5);
  cr_expect(isnan(hpt_model_loss(m)), "no labels: no loss");
  cr_expect_eq(hpt_model_backward(m, &e), HPT_ESTATE);
  hpt_model_destroy(&m);
  ref_close(&r);
}

/* Train mode: dropout changes the logits, and the same rng seed gives the
 * same masks. */
Test(model_forward, dropout_is_deterministic) {
  ref_t r;
  ref_open(&r, src_path(3, "tests/fixtures/tiny-bert/reference.safetensors"));
  hpt_model_t *m = load_model("tests/fixtures/tiny-bert", &r);
  size_t n = (size_t)r.B * r.K;
  hpt_model_batch_t batch = {.B = r.B,
                             .T = r.T,
                             .input_ids = r.ids,
                             .attention_mask = r.mask,
                             .token_type_ids = r.types,
                             .labels = r.labels};
  hpt_error_t e = {0};
  float runs[2][16];
  for (int i = 0; i < 2; i++) {
    hpt_rng_t rng;
    hpt_rng_seed(&rng, 42);
    hpt_model_mode_t mode = {.train = true, .rng = &rng};
    cr_assert_eq(hpt_model_forward(m, &batch, &mode, &e), 0, "%s", e.message);
    memcpy(runs[i], hpt_model_logits(m), n * sizeof(float));
  }
  cr_expect_arr_eq(runs[0], runs[1], n * sizeof(float));
  cr_expect_gt(rel_diff(runs[0], r.logits, n, NULL), 1e-3,
               "dropout 0.1 must change the logits");
  hpt_model_mode_t no_rng = {.train = true};
  cr_expect_eq(hpt_model_forward(m, &batch, &no_rng, &e), HPT_EINVAL);
  hpt_model_destroy(&m);
  ref_close(&r);
}

Test(model_forward, bad_input_is_einval) {
  ref_t r;
  ref_open(&r,
           src_path(3, "tests/fixtures/tiny-roberta/reference.safetensors"));
  hpt_model_t *m = load_model("tests/fixtures/tiny-roberta", &r);
  int32_t ids[2] = {0, 100};
  hpt_model_batch_t batch = {.B = 1, .T = 2, .input_ids = ids};
  hpt_error_t e = {0};
  cr_expect_eq(hpt_model_forward(m, &batch, NULL, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "input_ids[0][1] = 100"), "%s", e.message);
  ids[1] = 5;
  int32_t label = 3;
  batch.labels = &label;
  cr_expect_eq(hpt_model_forward(m, &batch, NULL, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "labels[0] = 3"), "%s", e.message);
  /* RoBERTa positions start at pad + 1 = 2: 38 tokens fit in 40, 39 not */
  int32_t many[39];
  for (int i = 0; i < 39; i++)
    many[i] = 5;
  hpt_model_batch_t longer = {.B = 1, .T = 38, .input_ids = many};
  cr_expect_eq(hpt_model_forward(m, &longer, NULL, &e), 0, "%s", e.message);
  longer.T = 39;
  cr_expect_eq(hpt_model_forward(m, &longer, NULL, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "max_position_embeddings"), "%s", e.message);
  cr_expect_null(hpt_model_logits(m));
  hpt_model_destroy(&m);
  ref_close(&r);
}

/* ---- load errors -------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s", path);
  cr_assert_eq(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* A fresh directory holding tiny-bert's config.json. */
static const char *dir_with_config(const char *config_text) {
  static char dir[256];
  snprintf(dir, sizeof dir, "/tmp/hpt-model-test-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  char path[512];
  snprintf(path, sizeof path, "%s/config.json", dir);
  if (config_text) {
    write_file(path, config_text, strlen(config_text));
  } else {
    FILE *in = fopen(src_path(0, "tests/fixtures/tiny-bert/config.json"), "rb");
    cr_assert_not_null(in);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    write_file(path, buf, n);
  }
  return dir;
}

/* Writes dir/model.safetensors holding only the word embeddings, shaped
 * (rows, cols) F32 zeros. */
static void write_checkpoint(const char *dir, int rows, int cols) {
  char header[256];
  size_t nbytes = (size_t)rows * cols * 4;
  snprintf(header, sizeof header,
           "{\"bert.embeddings.word_embeddings.weight\":{\"dtype\":\"F32\","
           "\"shape\":[%d,%d],\"data_offsets\":[0,%zu]}}",
           rows, cols, nbytes);
  size_t hn = strlen(header), padded = (hn + 7) / 8 * 8;
  size_t total = 8 + padded + nbytes;
  unsigned char *file = calloc(1, total);
  cr_assert_not_null(file);
  for (int i = 0; i < 8; i++)
    file[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  memset(file + 8, ' ', padded);
  memcpy(file + 8, header, hn);
  char path[512];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  write_file(path, file, total);
  free(file);
}

static void remove_dir(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/config.json", dir);
  unlink(path);
  rmdir(dir);
}

Test(model_load, missing_tensor_is_named) {
  const char *dir = dir_with_config(NULL);
  write_checkpoint(dir, 100, 32);
  hpt_model_t *m = NULL;
  hpt_error_t e = {0};
  cr_expect_eq(hpt_model_load(dir, 1, &m, &e), HPT_ENOTFOUND);
  cr_expect_null(m);
  printf("missing tensor: %s\n", e.message);
  cr_expect(strstr(e.message, "'bert.embeddings.position_embeddings.weight'"),
            "%s", e.message);
  remove_dir(dir);
}

Test(model_load, wrong_shape_is_named) {
  const char *dir = dir_with_config(NULL);
  write_checkpoint(dir, 100, 16);
  hpt_model_t *m = NULL;
  hpt_error_t e = {0};
  cr_expect_eq(hpt_model_load(dir, 1, &m, &e), HPT_EPARSE);
  cr_expect_null(m);
  printf("wrong shape: %s\n", e.message);
  cr_expect(strstr(e.message, "'bert.embeddings.word_embeddings.weight' has "
                              "shape [100, 16]"),
            "%s", e.message);
  remove_dir(dir);
}

Test(model_load, unsupported_model_type) {
  const char *dir =
      dir_with_config("{\"model_type\": \"gpt2\", \"vocab_size\": 100,"
                      " \"n_embd\": 32, \"n_layer\": 2, \"n_head\": 4}");
  hpt_model_t *m = NULL;
  hpt_error_t e = {0};
  cr_expect_eq(hpt_model_load(dir, 1, &m, &e), HPT_EUNSUPPORTED);
  cr_expect_null(m);
  printf("unsupported: %s\n", e.message);
  cr_expect(strstr(e.message, "gpt2"), "%s", e.message);
  remove_dir(dir);
}

Test(model_load, new_model_heads_are_initialised) {
  hpt_model_config_t c;
  hpt_error_t e = {0};
  cr_assert_eq(
      hpt_model_config_load(
          src_path(0, "tests/fixtures/tiny-electra/config.json"), &c, &e),
      0, "%s", e.message);
  hpt_model_t *a = NULL, *b = NULL;
  cr_assert_eq(hpt_model_new(&c, 0.02f, 9, &a, &e), 0, "%s", e.message);
  cr_assert_eq(
      hpt_model_config_load(
          src_path(0, "tests/fixtures/tiny-electra/config.json"), &c, &e),
      0, "%s", e.message);
  cr_assert_eq(hpt_model_new(&c, 0.02f, 9, &b, &e), 0, "%s", e.message);
  cr_assert_eq(hpt_model_param_count(a), 43);
  for (size_t i = 0; i < hpt_model_param_count(a); i++) {
    const hpt_model_param_t *p = hpt_model_param_at(a, i);
    const hpt_model_param_t *q = hpt_model_param_at(b, i);
    cr_expect_arr_eq(p->value, q->value, p->numel * sizeof(float), "%s",
                     p->name);
  }
  const hpt_model_param_t *w =
      hpt_model_param_find(a, "classifier.out_proj.weight");
  double s = 0.0;
  for (size_t i = 0; i < w->numel; i++)
    s += (double)w->value[i] * w->value[i];
  double std = sqrt(s / (double)w->numel);
  cr_expect(std > 0.015 && std < 0.025, "std %g", std);
  const hpt_model_param_t *wte =
      hpt_model_param_find(a, "electra.embeddings.word_embeddings.weight");
  for (int i = 0; i < 16; i++)
    cr_expect_eq(wte->value[i], 0.0f, "padding row is zero");
  cr_expect_eq(hpt_model_param_find(a, "classifier.out_proj.bias")->value[0],
               0.0f);
  cr_expect_eq(
      hpt_model_param_find(a, "electra.embeddings.LayerNorm.weight")->value[3],
      1.0f);
  hpt_model_destroy(&a);
  hpt_model_destroy(&b);
}
