/* test_train.c — the fine-tuning loop (worker/engine/train.c) on
 * tests/fixtures/tiny-bert (a random 2-layer BERT, 100 ids, 40 positions,
 * 3 labels) with synthetic texts "t12 t40 ..." that a toy encoder maps to
 * ids [2] 12 40 ... [3]; label 0 draws ids 10..49, label 1 ids 50..89.
 * The GPU loop (train_gpu.c) runs only on a GPU: here its failure without
 * one is tested; tests/unit/engine_cuda/test_gpu_model.c trains through it
 * on a device and compares with this CPU loop. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_model.h"
#include "model.h"
#include "rng.h"
#include "train.h"

#define TINY "tests/fixtures/tiny-bert"

static const char *src_path(const char *rel) {
  static char buf[4096];
  const char *src = getenv("HPT_SOURCE_DIR");
  cr_assert_not_null(src, "HPT_SOURCE_DIR not set");
  snprintf(buf, sizeof buf, "%s/%s", src, rel);
  return buf;
}

/* ---- a toy tokenizer ----------------------------------------------------- */

typedef struct toy {
  size_t calls;      /* texts encoded so far */
  const char *watch; /* when set, count encodings of exactly this text */
  size_t watch_hits;
} toy_t;

static int toy_encode(const void *tokenizer, const char *text,
                      size_t max_length, hpt_token_ids_t *out,
                      hpt_error_t *error) {
  toy_t *toy = (toy_t *)tokenizer;
  toy->calls++;
  if (toy->watch && strcmp(toy->watch, text) == 0)
    toy->watch_hits++;
  out->count = 0;
  cr_assert_eq(hpt_token_ids_push(out, 2, error), 0);
  for (const char *p = text; *p;) {
    while (*p == ' ')
      p++;
    if (*p != 't')
      break;
    int id = (int)strtol(p + 1, (char **)&p, 10);
    if (max_length == 0 || out->count + 1 < max_length)
      cr_assert_eq(hpt_token_ids_push(out, id, error), 0);
  }
  return hpt_token_ids_push(out, 3, error);
}

/* ---- a synthetic, separable data set ------------------------------------ */

typedef struct data {
  char **texts;
  int *labels;
  size_t n;
  hpt_train_data_t view;
} data_t;

static void data_make(data_t *d, size_t n, uint64_t seed) {
  hpt_rng_t rng;
  hpt_rng_seed(&rng, seed);
  d->n = n;
  d->texts = calloc(n, sizeof *d->texts);
  d->labels = calloc(n, sizeof *d->labels);
  for (size_t i = 0; i < n; i++) {
    int label = (int)(i % 2);
    int len = 4 + (int)hpt_rng_below(&rng, 12);
    char buf[512] = "";
    for (int t = 0; t < len; t++) {
      char word[16];
      int id = 10 + 40 * label + (int)hpt_rng_below(&rng, 40);
      snprintf(word, sizeof word, "%st%d", t ? " " : "", id);
      strcat(buf, word);
    }
    d->texts[i] = strdup(buf);
    d->labels[i] = label;
  }
  d->view = (hpt_train_data_t){(const char *const *)d->texts, d->labels, n};
}

static void data_free(data_t *d) {
  for (size_t i = 0; i < d->n; i++)
    free(d->texts[i]);
  free(d->texts);
  free(d->labels);
}

static hpt_model_t *tiny(uint64_t seed) {
  hpt_model_t *m = NULL;
  hpt_error_t e = {0};
  cr_assert_eq(hpt_model_load(src_path(TINY), seed, &m, &e), 0, "%s",
               e.message);
  return m;
}

static void fast_options(hpt_train_options_t *o) {
  hpt_train_options_default(o);
  o->epochs = 6;
  o->batch_size = 16;
  o->optimizer.lr_backbone = 3e-3;
  o->optimizer.lr_head = 3e-3;
  o->warmup_ratio = 0.1;
  o->threads = 1;
}

typedef struct epochs_seen {
  int calls;
  double acc[64];
} epochs_seen_t;

static void record(void *user, int epoch, double val_accuracy,
                   double train_loss) {
  epochs_seen_t *s = user;
  cr_assert_eq(epoch, s->calls + 1);
  cr_assert(isfinite(train_loss));
  s->acc[s->calls++] = val_accuracy;
}

Test(train, learns_a_separable_task) {
  data_t tr, va;
  data_make(&tr, 240, 1);
  data_make(&va, 60, 2);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  hpt_model_t *m = tiny(42);
  epochs_seen_t seen = {0};
  hpt_train_result_t r;
  hpt_error_t e = {0};
  cr_assert_eq(
      hpt_train_run(m, &enc, &tr.view, &va.view, &o, record, &seen, &r, &e), 0,
      "%s", e.message);
  cr_expect_eq(seen.calls, 6);
  cr_expect_eq(r.epochs_run, 6);
  cr_expect_gt(r.best_val_accuracy, 0.9, "accuracy %.3f", r.best_val_accuracy);
  cr_expect_eq(r.steps, 6 * 15);
  cr_expect_gt(r.samples_per_second, 0);
  cr_expect_lt(r.train_loss, 0.5);
  /* Validation and training are tokenised once each without augmentation. */
  cr_expect_eq(toy.calls, 300);
  hpt_model_destroy(&m);
  data_free(&tr);
  data_free(&va);
}

/* Copies every parameter value, in order. */
static float *snapshot(const hpt_model_t *m) {
  float *all = malloc(hpt_model_num_floats(m) * sizeof *all), *p = all;
  for (size_t i = 0; i < hpt_model_param_count(m); i++) {
    const hpt_model_param_t *t = hpt_model_param_at(m, i);
    memcpy(p, t->value, t->numel * sizeof *p);
    p += t->numel;
  }
  return all;
}

Test(train, accumulating_two_micro_batches_equals_one_big_batch) {
  data_t tr, va;
  data_make(&tr, 16, 3);
  data_make(&va, 4, 4);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  hpt_train_options_default(&o);
  o.epochs = 1;
  o.dropout = 0.0;
  o.warmup_ratio = 0.0;
  o.threads = 1;
  o.optimizer.weight_decay = 0.0;
  o.optimizer.max_grad_norm = 0.0;
  o.optimizer.lr_backbone = o.optimizer.lr_head = 1e-2;
  /* With eps >> sqrt(v), Adam's first update is ~ lr * g: the parameters
   * then compare the gradients (with eps 1e-8 it is lr * sign(g), which
   * float rounding can flip for g near 0). */
  o.optimizer.eps = 1.0;
  hpt_error_t e = {0};
  hpt_train_result_t r;

  hpt_model_t *big = tiny(42), *acc = tiny(42);
  o.batch_size = 16;
  o.gradient_accumulation_steps = 1;
  cr_assert_eq(
      hpt_train_run(big, &enc, &tr.view, &va.view, &o, NULL, NULL, &r, &e), 0,
      "%s", e.message);
  cr_expect_eq(r.steps, 1);
  o.batch_size = 8;
  o.gradient_accumulation_steps = 2;
  cr_assert_eq(
      hpt_train_run(acc, &enc, &tr.view, &va.view, &o, NULL, NULL, &r, &e), 0,
      "%s", e.message);
  cr_expect_eq(r.steps, 1);

  hpt_model_t *start = tiny(42);
  float *a = snapshot(big), *b = snapshot(acc), *s = snapshot(start);
  double max_diff = 0, max_move = 0;
  for (size_t i = 0; i < hpt_model_num_floats(big); i++) {
    max_diff = fmax(max_diff, fabs((double)a[i] - b[i]));
    max_move = fmax(max_move, fabs((double)a[i] - s[i]));
  }
  printf("accumulation: max |big - accumulated| = %.3g, max update %.3g\n",
         max_diff, max_move);
  cr_expect_lt(max_diff, 1e-5);
  cr_expect_gt(max_move, 1e-4, "the step moved nothing");

  /* An uneven split (16 = 6 + 6 + 4) weights each example alike too. */
  hpt_model_t *uneven = tiny(42);
  o.batch_size = 6;
  o.gradient_accumulation_steps = 3;
  cr_assert_eq(
      hpt_train_run(uneven, &enc, &tr.view, &va.view, &o, NULL, NULL, &r, &e),
      0, "%s", e.message);
  float *c = snapshot(uneven);
  max_diff = 0;
  for (size_t i = 0; i < hpt_model_num_floats(big); i++)
    max_diff = fmax(max_diff, fabs((double)a[i] - c[i]));
  cr_expect_lt(max_diff, 1e-5, "uneven: %.3g", max_diff);

  free(a);
  free(b);
  free(c);
  free(s);
  hpt_model_destroy(&big);
  hpt_model_destroy(&acc);
  hpt_model_destroy(&uneven);
  hpt_model_destroy(&start);
  data_free(&tr);
  data_free(&va);
}

Test(train, early_stopping_stops_after_patience_epochs) {
  data_t tr, va;
  data_make(&tr, 32, 5);
  data_make(&va, 8, 6);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  o.epochs = 10;
  o.patience = 2;
  /* A learning rate this small changes nothing: the accuracy never
   * improves after epoch 1. */
  o.optimizer.lr_backbone = o.optimizer.lr_head = 1e-20;
  hpt_model_t *m = tiny(42);
  epochs_seen_t seen = {0};
  hpt_train_result_t r;
  hpt_error_t e = {0};
  cr_assert_eq(
      hpt_train_run(m, &enc, &tr.view, &va.view, &o, record, &seen, &r, &e), 0,
      "%s", e.message);
  cr_expect_eq(r.epochs_run, 3);
  cr_expect_eq(seen.calls, 3);
  cr_expect_eq(r.best_epoch, 1);
  /* The schedule still spans the 10 planned epochs. */
  cr_expect_eq(r.steps, 3 * 2);
  hpt_model_destroy(&m);
  data_free(&tr);
  data_free(&va);
}

Test(train, is_deterministic_by_seed) {
  data_t tr, va;
  data_make(&tr, 48, 7);
  data_make(&va, 12, 8);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  o.epochs = 2;
  o.dropout = 0.2;
  o.label_smoothing = 0.1;
  hpt_error_t e = {0};
  hpt_train_result_t r1, r2, r3;
  hpt_model_t *m1 = tiny(42), *m2 = tiny(42), *m3 = tiny(42);
  cr_assert_eq(
      hpt_train_run(m1, &enc, &tr.view, &va.view, &o, NULL, NULL, &r1, &e), 0);
  cr_assert_eq(
      hpt_train_run(m2, &enc, &tr.view, &va.view, &o, NULL, NULL, &r2, &e), 0);
  o.seed = 43;
  cr_assert_eq(
      hpt_train_run(m3, &enc, &tr.view, &va.view, &o, NULL, NULL, &r3, &e), 0);
  float *a = snapshot(m1), *b = snapshot(m2), *c = snapshot(m3);
  size_t n = hpt_model_num_floats(m1);
  cr_expect(memcmp(a, b, n * sizeof *a) == 0, "same seed, different weights");
  cr_expect(memcmp(a, c, n * sizeof *a) != 0, "seed has no effect");
  cr_expect_eq(r1.train_loss, r2.train_loss);
  cr_expect_eq(r1.best_val_accuracy, r2.best_val_accuracy);
  free(a);
  free(b);
  free(c);
  hpt_model_destroy(&m1);
  hpt_model_destroy(&m2);
  hpt_model_destroy(&m3);
  data_free(&tr);
  data_free(&va);
}

Test(train, augmentation_never_touches_validation) {
  hpt_augment_t *aug = NULL;
  hpt_error_t e = {0};
  int rc = hpt_augment_new(NULL, &aug, &e);
  if (rc == HPT_ENOTFOUND)
    cr_skip_test("no WordNet data: %s", e.message);
  cr_assert_eq(rc, 0, "%s", e.message);
  data_t tr, va;
  data_make(&tr, 32, 9);
  data_make(&va, 8, 10);
  toy_t toy = {.watch = va.texts[3]};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  o.epochs = 3;
  o.augment = aug;
  o.aug_p = 1.0;
  hpt_train_result_t r;
  hpt_model_t *m = tiny(42);
  cr_assert_eq(
      hpt_train_run(m, &enc, &tr.view, &va.view, &o, NULL, NULL, &r, &e), 0,
      "%s", e.message);
  /* Validation: tokenised once, verbatim; training: afresh every epoch. */
  cr_expect_eq(toy.watch_hits, 1);
  cr_expect_eq(toy.calls, 8 + 3 * 32);
  hpt_model_destroy(&m);
  hpt_augment_destroy(&aug);
  data_free(&tr);
  data_free(&va);
}

Test(train, rejects_bad_options_and_labels) {
  data_t tr, va;
  data_make(&tr, 8, 11);
  data_make(&va, 4, 12);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  hpt_train_result_t r;
  hpt_error_t e = {0};
  hpt_model_t *m = tiny(42);
  o.gradient_accumulation_steps = 0;
  cr_expect_eq(
      hpt_train_run(m, &enc, &tr.view, &va.view, &o, NULL, NULL, &r, &e),
      HPT_EINVAL);
  cr_expect(strstr(e.message, "gradient_accumulation_steps") != NULL, "%s",
            e.message);
  fast_options(&o);
  tr.labels[0] = 7; /* tiny-bert has 3 labels */
  cr_expect_eq(
      hpt_train_run(m, &enc, &tr.view, &va.view, &o, NULL, NULL, &r, &e),
      HPT_EINVAL);
  cr_expect(strstr(e.message, "label 7") != NULL, "%s", e.message);
  hpt_model_destroy(&m);
  data_free(&tr);
  data_free(&va);
}

/* Accuracy of the model as it is now on `va`, and the softmax of each
 * row's logits into probs (n, K), one row per forward pass. */
static double accuracy_now(hpt_model_t *m, toy_t *toy, const data_t *va,
                           float *probs) {
  int K = hpt_model_config(m)->num_labels;
  size_t correct = 0;
  for (size_t i = 0; i < va->n; i++) {
    hpt_token_ids_t ids = {0};
    hpt_error_t e = {0};
    cr_assert_eq(toy_encode(toy, va->texts[i], 32, &ids, &e), 0);
    hpt_model_batch_t batch = {
        .B = 1, .T = (int)ids.count, .input_ids = ids.ids};
    cr_assert_eq(hpt_model_forward(m, &batch, NULL, &e), 0, "%s", e.message);
    const float *logits = hpt_model_logits(m);
    double max = logits[0], sum = 0;
    int best = 0;
    for (int k = 1; k < K; k++)
      if (logits[k] > logits[best])
        best = k;
    max = logits[best];
    for (int k = 0; k < K; k++)
      sum += exp(logits[k] - max);
    for (int k = 0; k < K; k++)
      probs[i * (size_t)K + k] = (float)(exp(logits[k] - max) / sum);
    correct += best == va->labels[i];
    hpt_token_ids_close(&ids);
  }
  return (double)correct / (double)va->n;
}

/* With restore_best the model ends with the best epoch's weights, and
 * val_probabilities are that epoch's softmax outputs in val order. A
 * learning rate far too high (without clipping or warm-up) makes the
 * accuracy climb and then collapse (best epoch 5 of 8: 0.733, last 0.5),
 * so the best epoch is not the last one. */
Test(train, restores_the_best_epoch_and_its_probabilities) {
  data_t tr, va;
  data_make(&tr, 64, 11);
  data_make(&va, 30, 12);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  o.epochs = 8;
  o.optimizer.lr_backbone = o.optimizer.lr_head = 0.01;
  o.optimizer.max_grad_norm = 0;
  o.warmup_ratio = 0;
  int K = 3; /* tiny-bert's head */
  float *probs = calloc(va.n * (size_t)K, sizeof *probs);
  float *again = calloc(va.n * (size_t)K, sizeof *again);
  o.restore_best = true;
  o.val_probabilities = probs;
  hpt_model_t *m = tiny(42);
  epochs_seen_t seen = {0};
  hpt_train_result_t r;
  hpt_error_t e = {0};
  cr_assert_eq(
      hpt_train_run(m, &enc, &tr.view, &va.view, &o, record, &seen, &r, &e), 0,
      "%s", e.message);
  cr_log_info("best epoch %d of %d: %.3f (last %.3f)", r.best_epoch,
              r.epochs_run, r.best_val_accuracy, r.last_val_accuracy);
  cr_expect_lt(r.best_epoch, r.epochs_run,
               "the best epoch should not be "
               "the last for this test to bite");
  cr_expect_gt(r.best_val_accuracy, r.last_val_accuracy);
  double acc = accuracy_now(m, &toy, &va, again);
  cr_expect_float_eq(acc, r.best_val_accuracy, 1e-12, "model %.3f best %.3f",
                     acc, r.best_val_accuracy);
  double max_diff = 0;
  for (size_t i = 0; i < va.n * (size_t)K; i++)
    max_diff = fmax(max_diff, fabs((double)probs[i] - again[i]));
  cr_expect_lt(max_diff, 1e-4, "probabilities differ by %g", max_diff);
  free(probs);
  free(again);
  hpt_model_destroy(&m);
  data_free(&tr);
  data_free(&va);
}

/* ---- devices --------------------------------------------------------------
 */

/* device "cuda:0" where there is no GPU (this build has no CUDA, or the
 * machine no device): the run fails at once with the backend's one-line
 * reason, and the model keeps its weights. */
Test(train, cuda_without_a_device_fails_with_a_one_line_reason) {
  if (hpt_gpu_device_count() > 0)
    cr_skip_test("a CUDA device is here: tests/unit/engine_cuda/ covers it");
  data_t tr, va;
  data_make(&tr, 16, 13);
  data_make(&va, 4, 14);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  o.device = "cuda:0";
  o.amp = HPT_GPU_AMP_BF16;
  hpt_model_t *m = tiny(42), *fresh = tiny(42);
  hpt_train_result_t r;
  hpt_error_t e = {0};
  int rc = hpt_train_run(m, &enc, &tr.view, &va.view, &o, NULL, NULL, &r, &e);
  cr_log_info("%s", e.message);
  if (hpt_gpu_built()) {
    cr_expect_eq(rc, HPT_ENOTFOUND, "%s", e.message);
    cr_expect(strstr(e.message, "no CUDA device cuda:0") != NULL, "%s",
              e.message);
  } else {
    cr_expect_eq(rc, HPT_EUNSUPPORTED, "%s", e.message);
    cr_expect(strstr(e.message, "built without CUDA") != NULL, "%s", e.message);
  }
  cr_expect(strncmp(e.message, "train: cuda:0: gpu: ", 20) == 0, "%s",
            e.message);
  cr_expect(strchr(e.message, '\n') == NULL, "not one line: %s", e.message);
  cr_expect_eq(r.epochs_run, 0);
  cr_expect_eq(r.peak_gpu_bytes, 0);
  float *a = snapshot(m), *b = snapshot(fresh);
  cr_expect(memcmp(a, b, hpt_model_num_floats(m) * sizeof *a) == 0,
            "a failed GPU run changed the host model");
  free(a);
  free(b);
  hpt_model_destroy(&m);
  hpt_model_destroy(&fresh);
  data_free(&tr);
  data_free(&va);
}

Test(train, rejects_unknown_devices_and_amp_on_the_cpu) {
  hpt_train_options_t o;
  hpt_error_t e = {0};
  fast_options(&o);
  cr_expect_eq(o.device, NULL);
  cr_expect_eq(o.amp, HPT_GPU_AMP_OFF);
  o.device = "gpu0";
  cr_expect_eq(hpt_train_options_check(&o, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "device 'gpu0'") != NULL, "%s", e.message);
  o.device = "cuda:64";
  cr_expect_eq(hpt_train_options_check(&o, &e), HPT_EINVAL);
  o.device = "cpu";
  cr_expect_eq(hpt_train_options_check(&o, &e), 0, "%s", e.message);
  o.amp = HPT_GPU_AMP_BF16;
  cr_expect_eq(hpt_train_options_check(&o, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "amp bf16 needs a cuda device") != NULL, "%s",
            e.message);
  o.device = NULL;
  cr_expect_eq(hpt_train_options_check(&o, &e), HPT_EINVAL);
  o.device = "cuda:3";
  cr_expect_eq(hpt_train_options_check(&o, &e), 0, "%s", e.message);
  o.amp = (hpt_gpu_amp_t)7;
  cr_expect_eq(hpt_train_options_check(&o, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "amp must be") != NULL, "%s", e.message);
}

/* device "cpu" is the default's loop: the same weights bit for bit. */
Test(train, device_cpu_is_the_default_loop) {
  data_t tr, va;
  data_make(&tr, 40, 15);
  data_make(&va, 10, 16);
  toy_t toy = {0};
  hpt_train_encoder_t enc = {toy_encode, &toy, 0, 32};
  hpt_train_options_t o;
  fast_options(&o);
  o.epochs = 2;
  o.dropout = 0.1;
  hpt_model_t *m1 = tiny(42), *m2 = tiny(42);
  hpt_train_result_t r1, r2;
  hpt_error_t e = {0};
  cr_assert_eq(
      hpt_train_run(m1, &enc, &tr.view, &va.view, &o, NULL, NULL, &r1, &e), 0,
      "%s", e.message);
  o.device = "cpu";
  cr_assert_eq(
      hpt_train_run(m2, &enc, &tr.view, &va.view, &o, NULL, NULL, &r2, &e), 0,
      "%s", e.message);
  float *a = snapshot(m1), *b = snapshot(m2);
  cr_expect(memcmp(a, b, hpt_model_num_floats(m1) * sizeof *a) == 0);
  cr_expect_eq(r1.train_loss, r2.train_loss);
  cr_expect_eq(r2.peak_gpu_bytes, 0);
  free(a);
  free(b);
  hpt_model_destroy(&m1);
  hpt_model_destroy(&m2);
  data_free(&tr);
  data_free(&va);
}
