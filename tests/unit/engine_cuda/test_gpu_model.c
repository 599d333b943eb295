/* test_gpu_model.c — the CUDA backend (worker/engine/cuda/) against the
 * CPU engine, which is the reference (layers_cpu.c, itself checked
 * against PyTorch by tests/unit/engine/test_model_*.c):
 *
 *   parity     logits, loss and every gradient of the four tiny fixture
 *              models (tests/fixtures/tiny-*: BERT, DistilBERT, ELECTRA
 *              with embeddings_project, RoBERTa) on their reference batch,
 *              eval mode, label smoothing on, in fp32, bf16 and fp16; and
 *              MiniLM when models/all-MiniLM-L6-v2 is present
 *   shapes     the same in fp32 on random batches of lengths 1 to 38 with
 *              uneven, masked rows: the kernels' edge cases
 *   adamw      two AdamW steps from the CPU's gradients (layer-wise lr
 *              decay, weight decay, clipping active) against
 *              hpt_optimizer_step
 *   scaler     fp16 loss scaling: an injected inf skips the step, halves
 *              the scale and leaves the weights alone; a clean step then
 *              applies
 *   graphs     the same batch eagerly, captured and replayed gives the
 *              same logits bit for bit
 *   profile    a profiled step charges time to its kernels and GEMMs
 *   train      train.c's loop end to end (hpt_train_run with device
 *              cuda:0, the path a transformer trial takes): 2 AdamW steps
 *              of 2 accumulated, uneven micro-batches each on tiny-bert,
 *              then evaluation and the weights read back, against the same
 *              run on the CPU, in fp32, bf16 and fp16 (GradScaler); and a
 *              missing device
 *
 * Measure: max |gpu - cpu| / max |cpu| per tensor. A tensor whose largest
 * CPU gradient is under NOISE_FLOOR (1%) of the model's largest is a sum
 * that cancels: attention key biases are analytically zero (softmax
 * ignores a constant per row), the last LayerNorm's bias sums a few rows
 * of opposite signs. Its rounding noise scales with the terms summed, not
 * with the result, so it is measured against the model's largest gradient
 * instead. A wrong formula there still fails fp32, whose tolerance is then
 * 1e-4 of the largest gradient.
 *
 * Tolerances:
 *   fp32  1e-4: same formulas, different summation orders (cuBLASLt's
 *         split-K, warp reductions) in fp32; seen differences are ~1e-6.
 *   bf16  5e-2: bf16 keeps 8 mantissa bits, so every rounding of an
 *         activation or weight copy is off by up to 2^-9 = 2e-3 relative;
 *         dot products accumulate in fp32, so they add no error beyond
 *         their rounded inputs, but each layer rounds its activations a
 *         few times (GEMM outputs, LayerNorm outputs, probabilities) and
 *         gradients pass through ~10 such roundings per layer on the way
 *         back: errors of 1e-2 relative to the tensor's largest value
 *         are expected, and 5e-2 leaves room without hiding a wrong
 *         formula (a wrong one is off by O(1)).
 *   fp16  2e-2: 11 mantissa bits (2^-12 = 2.4e-4 per rounding), same
 *         argument.
 *
 * A plain C program (no criterion), so ops/gpu-check can run it on a GPU
 * host without hpt's Debian libraries. Exit 0 all passed, 1 a failure,
 * 77 skipped (no CUDA build or no device; ctest's SKIP_RETURN_CODE).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpu_model.h"
#include "model.h"
#include "optimizer.h"
#include "rng.h"
#include "safetensors.h"
#include "train.h"

static int failures, checks;

/* See the top: below this fraction of the model's largest gradient a
 * tensor is measured against that largest gradient. */
#define NOISE_FLOOR 1e-2

/* AdamW from the same gradients: the same fp32 formula, with the lr
 * rounded to float on the device and fused multiply-adds on a GPU, so the
 * new values may differ in their last bit or two. The update (new value -
 * initial value) of a weight near 1 is ~1e-3 while one bit of the value is
 * 6e-8: a 2-bit difference is 1.2e-4 of the update. */
#define ADAMW_TOLERANCE 5e-4

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    checks++;                                                                  \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                              \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
    }                                                                          \
  } while (0)

static hpt_error_t err;
static void die(const char *what) {
  printf("FAIL %s: %s\n", what, err.message);
  exit(1);
}

static const char *src_path(const char *rel) {
  static char buf[8][4096];
  static int slot;
  const char *src = getenv("HPT_SOURCE_DIR");
  char *b = buf[slot++ % 8];
  snprintf(b, 4096, "%s/%s", src ? src : ".", rel);
  return b;
}

/* ---- the reference batch of a fixture ----------------------------------- */

typedef struct {
  hpt_safetensors_t *st;
  hpt_model_batch_t batch;
  float eps;
} fixture_batch_t;

static const void *tensor(fixture_batch_t *f, const char *name) {
  const hpt_safetensors_tensor_t *t = hpt_safetensors_find(f->st, name);
  return t ? t->data : NULL;
}

static void batch_open(fixture_batch_t *f, const char *path) {
  memset(f, 0, sizeof *f);
  if (hpt_safetensors_open(path, &f->st, &err) != 0)
    die(path);
  const hpt_safetensors_tensor_t *ids =
      hpt_safetensors_find(f->st, "input_ids");
  if (!ids)
    die("input_ids");
  f->batch.B = (int)ids->shape[0];
  f->batch.T = (int)ids->shape[1];
  f->batch.input_ids = ids->data;
  f->batch.attention_mask = tensor(f, "attention_mask");
  f->batch.token_type_ids = tensor(f, "token_type_ids");
  f->batch.labels = tensor(f, "labels");
  const float *eps = tensor(f, "label_smoothing");
  f->eps = eps ? eps[0] : 0.0f;
}

/* ---- comparisons -------------------------------------------------------- */

static double rel_diff(const float *a, const float *b, size_t n,
                       double *max_ref, double *max_abs) {
  double d = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++) {
    double x = fabs((double)a[i] - b[i]);
    if (isnan(x))
      x = INFINITY;
    d = fmax(d, x);
    m = fmax(m, fabs(b[i]));
  }
  if (max_ref)
    *max_ref = m;
  if (max_abs)
    *max_abs = d;
  return m > 0.0 ? d / m : d;
}

/* CPU forward + backward (eval mode, the fixture's smoothing). */
static void cpu_pass(hpt_model_t *m, const fixture_batch_t *f) {
  hpt_model_mode_t mode = {.train = false, .label_smoothing = f->eps};
  if (hpt_model_forward(m, &f->batch, &mode, &err) != 0)
    die("cpu forward");
  hpt_model_zero_grad(m);
  if (hpt_model_backward(m, &err) != 0)
    die("cpu backward");
}

static void gpu_pass(hpt_gpu_model_t *g, const fixture_batch_t *f) {
  hpt_gpu_mode_t mode = {.train = false, .label_smoothing = f->eps};
  if (hpt_gpu_model_zero_grad(g, &err) != 0 ||
      hpt_gpu_model_forward(g, &f->batch, &mode, &err) != 0 ||
      hpt_gpu_model_backward(g, 1.0f, &err) != 0 ||
      hpt_gpu_model_sync(g, &err) != 0)
    die("gpu pass");
}

/* Logits, loss and every gradient of the model in `dir` on batch f, GPU in
 * precision amp against the CPU; returns the largest difference. With
 * quiet, prints nothing when all pass. */
static double compare(const char *name, const char *dir,
                      const fixture_batch_t *fp, hpt_gpu_amp_t amp, double tol,
                      bool quiet) {
  fixture_batch_t f = *fp;
  hpt_model_t *cpu = NULL, *back = NULL;
  if (hpt_model_load(dir, 1, &cpu, &err) != 0 ||
      hpt_model_load(dir, 1, &back, &err) != 0)
    die(dir);
  cpu_pass(cpu, &f);
  /* fp16: a modest loss scale, so one pass cannot overflow (the scaler
   * test below covers overflow) */
  hpt_gpu_options_t opts = {
      .device = 0, .amp = amp, .graphs = true, .loss_scale = 1024.0f};
  hpt_gpu_model_t *g = NULL;
  if (hpt_gpu_model_new(cpu, &opts, &g, &err) != 0)
    die("gpu model");
  gpu_pass(g, &f);

  int B = f.batch.B, K = hpt_model_config(cpu)->num_labels;
  float *logits = malloc(sizeof(float) * (size_t)B * K), loss = 0;
  if (hpt_gpu_model_read_outputs(g, logits, &loss, &err) != 0 ||
      hpt_gpu_model_read_params(g, back, false, &err) != 0)
    die("gpu read");
  double d_logits =
      rel_diff(logits, hpt_model_logits(cpu), (size_t)B * K, NULL, NULL);
  double d_loss =
      fabs(loss - hpt_model_loss(cpu)) / fmax(1e-6, fabs(hpt_model_loss(cpu)));
  CHECK(d_logits <= tol, "%s %s logits rel diff %g > %g", name,
        hpt_gpu_amp_name(amp), d_logits, tol);
  CHECK(d_loss <= tol, "%s %s loss %g vs %g", name, hpt_gpu_amp_name(amp),
        (double)loss, (double)hpt_model_loss(cpu));

  size_t n = hpt_model_param_count(cpu), noise = 0;
  double largest = 0.0, worst = 0.0;
  const char *worst_name = "";
  for (size_t i = 0; i < n; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(cpu, i);
    for (size_t j = 0; j < p->numel; j++)
      largest = fmax(largest, fabs(p->grad[j]));
  }
  for (size_t i = 0; i < n; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(cpu, i);
    const hpt_model_param_t *q = hpt_model_param_at(back, i);
    double max_ref = 0, max_abs = 0;
    double d = rel_diff(q->grad, p->grad, p->numel, &max_ref, &max_abs);
    if (max_ref < NOISE_FLOOR * largest) {
      d = max_abs / largest;
      noise++;
    } else if (d > worst) {
      worst = d;
      worst_name = p->name;
    }
    CHECK(d <= tol, "%s %s grad %s rel diff %g > %g (abs %g)", name,
          hpt_gpu_amp_name(amp), p->name, d, tol, max_abs);
  }
  if (!quiet)
    printf("parity %-15s %-4s logits %.2e loss %.2e grads %2zu worst %.2e "
           "(%s), %zu cancelling; tol %.0e\n",
           name, hpt_gpu_amp_name(amp), d_logits, d_loss, n, worst, worst_name,
           noise, tol);
  free(logits);
  hpt_gpu_model_destroy(&g);
  hpt_model_destroy(&cpu);
  hpt_model_destroy(&back);
  return fmax(fmax(d_logits, d_loss), worst);
}

/* compare() on a fixture's reference batch. */
static void parity(const char *name, const char *dir, const char *ref,
                   hpt_gpu_amp_t amp, double tol) {
  fixture_batch_t f;
  batch_open(&f, ref);
  compare(name, dir, &f, amp, tol, false);
  hpt_safetensors_close(&f.st);
}

/* ---- shapes: the kernels' edges ---------------------------------------- */

/* compare() in fp32 on random batches of every length class the kernels
 * treat differently: one token, fewer than a warp, one more than a warp,
 * the longest the position table allows; rows of uneven length (masked
 * padding, one row of a single real token), random token types. */
static void shapes(void) {
  const char *archs[] = {"bert", "distilbert", "electra", "roberta"};
  const int lengths[] = {1, 3, 17, 33, 38};
  hpt_rng_t rng;
  hpt_rng_seed2(&rng, 11, 5);
  double worst = 0.0;
  int batches = 0;
  for (int a = 0; a < 4; a++)
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
      int B = 3, T = lengths[l];
      int32_t ids[3 * 38], mask[3 * 38], types[3 * 38], labels[3];
      for (int b = 0; b < B; b++) {
        int real = b == 1 ? 1 : 1 + (int)(hpt_rng_uniform(&rng) * T);
        if (b == 0)
          real = T;
        for (int t = 0; t < T; t++) {
          ids[b * T + t] = 4 + (int)(hpt_rng_uniform(&rng) * 90);
          mask[b * T + t] = t < real;
          types[b * T + t] = a == 0 || a == 2 ? t >= T / 2 : 0;
        }
        labels[b] = (int)(hpt_rng_uniform(&rng) * 2);
      }
      fixture_batch_t f;
      memset(&f, 0, sizeof f);
      f.batch.B = B;
      f.batch.T = T;
      f.batch.input_ids = ids;
      f.batch.attention_mask = mask;
      f.batch.token_type_ids = a == 1 ? NULL : types;
      f.batch.labels = labels;
      f.eps = 0.1f;
      char dir[256], name[64];
      snprintf(dir, sizeof dir, "tests/fixtures/tiny-%s", archs[a]);
      snprintf(name, sizeof name, "tiny-%s T=%d", archs[a], T);
      worst = fmax(
          worst, compare(name, src_path(dir), &f, HPT_GPU_AMP_OFF, 1e-4, true));
      batches++;
    }
  printf("shapes  tiny-*          %d random batches (T 1..38, uneven rows), "
         "fp32, worst %.2e (tol 1e-4)\n",
         batches, worst);
}

/* ---- AdamW ----------------------------------------------------------- */

static void adamw(void) {
  const char *dir = src_path("tests/fixtures/tiny-bert");
  fixture_batch_t f;
  batch_open(&f, src_path("tests/fixtures/tiny-bert/reference.safetensors"));
  hpt_model_t *cpu = NULL, *back = NULL, *init = NULL;
  if (hpt_model_load(dir, 1, &cpu, &err) != 0 ||
      hpt_model_load(dir, 1, &back, &err) != 0 ||
      hpt_model_load(dir, 1, &init, &err) != 0)
    die(dir);
  hpt_optimizer_options_t o;
  hpt_optimizer_defaults(&o);
  o.lr_backbone = 1e-3;
  o.lr_head = 3e-3;
  o.layer_decay = 0.8;
  o.weight_decay = 0.05;
  o.max_grad_norm = 0.05; /* small enough to clip */
  o.warmup_steps = 0;
  o.total_steps = 10;
  hpt_optimizer_t *opt = NULL;
  if (hpt_optimizer_new(cpu, &o, &opt, &err) != 0)
    die("optimizer");
  hpt_gpu_options_t opts = {.device = 0, .amp = HPT_GPU_AMP_OFF};
  hpt_gpu_model_t *g = NULL;
  if (hpt_gpu_model_new(cpu, &opts, &g, &err) != 0 ||
      hpt_gpu_model_optimizer_init(g, &o, &err) != 0)
    die("gpu model");
  /* Both optimizers step from the CPU's gradients: Adam divides by
   * sqrt(v) + 1e-8, so an element whose gradient is near zero moves by up
   * to lr on a rounding difference of its gradient; this compares the
   * optimizers, the passes are compared above. */
  double cpu_norm = 0;
  for (int step = 0; step < 2; step++) {
    cpu_pass(cpu, &f);
    gpu_pass(g, &f);
    if (hpt_gpu_model_debug_write_grads(g, cpu, &err) != 0 ||
        hpt_gpu_model_step(g, &err) != 0)
      die("gpu step");
    if (hpt_optimizer_step(opt, &cpu_norm, &err) != 0)
      die("cpu step");
  }
  hpt_gpu_step_info_t info;
  if (hpt_gpu_model_step_info(g, &info, &err) != 0 ||
      hpt_gpu_model_read_params(g, back, true, &err) != 0)
    die("gpu read");
  CHECK(fabs(info.grad_norm - cpu_norm) <= 1e-6 * cpu_norm,
        "adamw grad norm %g vs %g", info.grad_norm, cpu_norm);
  CHECK(info.applied == 2 && !info.skipped, "adamw applied %ld", info.applied);
  /* compare the updates (value - initial), tensor by tensor */
  double worst = 0;
  size_t n = hpt_model_param_count(cpu), compared = 0;
  for (size_t i = 0; i < n; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(cpu, i);
    const hpt_model_param_t *q = hpt_model_param_at(back, i);
    const hpt_model_param_t *s = hpt_model_param_at(init, i);
    float *dc = malloc(sizeof(float) * p->numel);
    float *dg = malloc(sizeof(float) * p->numel);
    for (size_t j = 0; j < p->numel; j++) {
      dc[j] = p->value[j] - s->value[j];
      dg[j] = q->value[j] - s->value[j];
    }
    double d = rel_diff(dg, dc, p->numel, NULL, NULL);
    CHECK(d <= ADAMW_TOLERANCE, "adamw %s update rel diff %g", p->name, d);
    worst = fmax(worst, d);
    compared++;
    free(dc);
    free(dg);
  }
  printf("adamw   tiny-bert       2 steps, norm %.4g vs %.4g, %zu tensors' "
         "updates within %.2e (tol %.0e)\n",
         info.grad_norm, cpu_norm, compared, worst, ADAMW_TOLERANCE);
  hpt_optimizer_destroy(&opt);
  hpt_gpu_model_destroy(&g);
  hpt_model_destroy(&cpu);
  hpt_model_destroy(&back);
  hpt_model_destroy(&init);
  hpt_safetensors_close(&f.st);
}

/* ---- GradScaler ------------------------------------------------------ */

static void scaler(void) {
  const char *dir = src_path("tests/fixtures/tiny-roberta");
  fixture_batch_t f;
  batch_open(&f, src_path("tests/fixtures/tiny-roberta/reference.safetensors"));
  hpt_model_t *m = NULL, *back = NULL;
  if (hpt_model_load(dir, 1, &m, &err) != 0 ||
      hpt_model_load(dir, 1, &back, &err) != 0)
    die(dir);
  hpt_optimizer_options_t o;
  hpt_optimizer_defaults(&o);
  o.total_steps = 10;
  hpt_gpu_options_t opts = {.device = 0, .amp = HPT_GPU_AMP_FP16};
  hpt_gpu_model_t *g = NULL;
  if (hpt_gpu_model_new(m, &opts, &g, &err) != 0 ||
      hpt_gpu_model_optimizer_init(g, &o, &err) != 0)
    die("gpu model");
  gpu_pass(g, &f);
  if (hpt_gpu_model_debug_set_grad(g, 3, 0, INFINITY, &err) != 0 ||
      hpt_gpu_model_step(g, &err) != 0)
    die("scaler step");
  hpt_gpu_step_info_t info;
  if (hpt_gpu_model_step_info(g, &info, &err) != 0 ||
      hpt_gpu_model_read_params(g, back, true, &err) != 0)
    die("scaler info");
  CHECK(info.skipped, "scaler: inf step not skipped");
  CHECK(info.loss_scale == 32768.0f, "scaler: scale %g, want 32768",
        (double)info.loss_scale);
  CHECK(info.applied == 0, "scaler: applied %ld", info.applied);
  double d = 0.0;
  for (size_t i = 0; i < hpt_model_param_count(m); i++) {
    const hpt_model_param_t *p = hpt_model_param_at(m, i);
    const hpt_model_param_t *q = hpt_model_param_at(back, i);
    d = fmax(d, rel_diff(q->value, p->value, p->numel, NULL, NULL));
  }
  CHECK(d == 0.0, "scaler: weights moved on a skipped step (%g)", d);
  /* Clean steps: at a scale of 32768 a pass may still overflow in fp16;
   * then the step is skipped and the scale halves again, as GradScaler.
   * Within a few halvings one applies. */
  float want = 32768.0f;
  int tries = 0;
  for (; tries < 8; tries++) {
    gpu_pass(g, &f);
    if (hpt_gpu_model_step(g, &err) != 0 ||
        hpt_gpu_model_step_info(g, &info, &err) != 0)
      die("scaler clean step");
    if (!info.skipped)
      break;
    want *= 0.5f;
    CHECK(info.loss_scale == want,
          "scaler: scale %g after an overflow, "
          "want %g",
          (double)info.loss_scale, (double)want);
  }
  CHECK(!info.skipped && info.applied == 1 && info.loss_scale == want,
        "scaler: clean step skipped=%d applied=%ld scale %g", info.skipped,
        info.applied, (double)info.loss_scale);
  printf("scaler  tiny-roberta    inf -> skipped, scale 65536 -> 32768; "
         "clean step applied after %d more overflow(s), scale %g\n",
         tries, (double)info.loss_scale);
  hpt_gpu_model_destroy(&g);
  hpt_model_destroy(&m);
  hpt_model_destroy(&back);
  hpt_safetensors_close(&f.st);
}

/* ---- profile ----------------------------------------------------------- */

static void profile(void) {
  const char *dir = src_path("tests/fixtures/tiny-bert");
  fixture_batch_t f;
  batch_open(&f, src_path("tests/fixtures/tiny-bert/reference.safetensors"));
  hpt_model_t *m = NULL;
  if (hpt_model_load(dir, 1, &m, &err) != 0)
    die(dir);
  hpt_optimizer_options_t o;
  hpt_optimizer_defaults(&o);
  hpt_gpu_options_t opts = {
      .device = 0, .amp = HPT_GPU_AMP_BF16, .graphs = true, .profile = true};
  hpt_gpu_model_t *g = NULL;
  if (hpt_gpu_model_new(m, &opts, &g, &err) != 0 ||
      hpt_gpu_model_optimizer_init(g, &o, &err) != 0)
    die("gpu model");
  for (int step = 0; step < 2; step++) {
    gpu_pass(g, &f);
    if (hpt_gpu_model_step(g, &err) != 0)
      die("gpu step");
  }
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  if (!out || hpt_gpu_model_profile_write(g, out, 2, &err) != 0)
    die("profile");
  fclose(out);
  long captured = 0, replayed = 0;
  hpt_gpu_model_graph_stats(g, &captured, &replayed);
  CHECK(captured == 0 && replayed == 0, "profile: graphs were used");
  CHECK(strstr(text, "| adamw | 1.0 |") != NULL, "profile: no adamw row");
  CHECK(strstr(text, "| gemm TN ") != NULL, "profile: no GEMM row");
  CHECK(strstr(text, "| softmax_forward | 2.0 |") != NULL,
        "profile: no attention row");
  const char *all = strstr(text, "| **all** | | **");
  CHECK(all && atof(all + strlen("| **all** | | **")) > 0.0,
        "profile: no time");
  printf("profile tiny-bert       %zu bytes of table, %s\n", size,
         all ? "time charged" : "-");
  free(text);
  hpt_gpu_model_destroy(&g);
  hpt_model_destroy(&m);
  hpt_safetensors_close(&f.st);
}

/* ---- graphs ------------------------------------------------------------ */

static void graphs(void) {
  const char *dir = src_path("tests/fixtures/tiny-electra");
  fixture_batch_t f;
  batch_open(&f, src_path("tests/fixtures/tiny-electra/reference.safetensors"));
  hpt_model_t *m = NULL;
  if (hpt_model_load(dir, 1, &m, &err) != 0)
    die(dir);
  hpt_gpu_options_t opts = {
      .device = 0, .amp = HPT_GPU_AMP_BF16, .graphs = true};
  hpt_gpu_model_t *g = NULL;
  if (hpt_gpu_model_new(m, &opts, &g, &err) != 0)
    die("gpu model");
  int BK = f.batch.B * hpt_model_config(m)->num_labels;
  float *first = calloc((size_t)BK, sizeof(float));
  float *again = calloc((size_t)BK, sizeof(float));
  hpt_gpu_mode_t mode = {.label_smoothing = f.eps};
  for (int run = 0; run < 4; run++) {
    if (hpt_gpu_model_forward(g, &f.batch, &mode, &err) != 0 ||
        hpt_gpu_model_read_outputs(g, run ? again : first, NULL, &err) != 0)
      die("graphs forward");
    if (run)
      CHECK(memcmp(first, again, sizeof(float) * (size_t)BK) == 0,
            "graphs: run %d logits differ from the eager run", run);
  }
  long captured = 0, replayed = 0;
  hpt_gpu_model_graph_stats(g, &captured, &replayed);
  CHECK(captured >= 1 && replayed >= 2, "graphs: captured %ld replayed %ld",
        captured, replayed);
  printf("graphs  tiny-electra    eager, captured (%ld), replayed (%ld): "
         "identical logits\n",
         captured, replayed);
  free(first);
  free(again);
  hpt_gpu_model_destroy(&g);
  hpt_model_destroy(&m);
  hpt_safetensors_close(&f.st);
}

/* ---- train.c's GPU loop ------------------------------------------------ */

/* "t12 t40 ..." -> [2] 12 40 ... [3] (tiny-bert: 100 ids, 40 positions). */
static int toy_encode(const void *tokenizer, const char *text,
                      size_t max_length, hpt_token_ids_t *out,
                      hpt_error_t *error) {
  (void)tokenizer;
  out->count = 0;
  int rc = hpt_token_ids_push(out, 2, error);
  for (const char *p = text; rc == 0 && *p;) {
    while (*p == ' ')
      p++;
    if (*p != 't')
      break;
    int id = (int)strtol(p + 1, (char **)&p, 10);
    if (out->count + 1 < max_length)
      rc = hpt_token_ids_push(out, id, error);
  }
  return rc != 0 ? rc : hpt_token_ids_push(out, 3, error);
}

/* n texts of 3..14 ids; label 0 draws 10..49, label 1 50..89. */
static void toy_data(char **texts, int *labels, size_t n, uint64_t seed) {
  hpt_rng_t rng;
  hpt_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++) {
    int label = (int)(i % 2), len = 3 + (int)hpt_rng_below(&rng, 12);
    char buf[256] = "";
    for (int t = 0; t < len; t++) {
      char word[16];
      snprintf(word, sizeof word, "%st%d", t ? " " : "",
               10 + 40 * label + (int)hpt_rng_below(&rng, 40));
      strcat(buf, word);
    }
    texts[i] = strdup(buf);
    labels[i] = label;
  }
}

/* cos(angle) between the CPU's and the GPU's total updates (final -
 * initial weights, all tensors together). */
static double update_cosine(const hpt_model_t *cpu, const hpt_model_t *gpu,
                            const hpt_model_t *init) {
  double dot = 0, nc = 0, ng = 0;
  for (size_t i = 0; i < hpt_model_param_count(cpu); i++) {
    const hpt_model_param_t *c = hpt_model_param_at(cpu, i);
    const hpt_model_param_t *g = hpt_model_param_at(gpu, i);
    const hpt_model_param_t *s = hpt_model_param_at(init, i);
    for (size_t j = 0; j < c->numel; j++) {
      double dc = (double)c->value[j] - s->value[j];
      double dg = (double)g->value[j] - s->value[j];
      dot += dc * dg;
      nc += dc * dc;
      ng += dg * dg;
    }
  }
  return nc > 0 && ng > 0 ? dot / sqrt(nc * ng) : 0.0;
}

/* hpt_train_run on the CPU and on cuda:0 in precision amp: 30 examples
 * in micro-batches of 8 with 2 accumulated per step (8 + 8, then 8 + 6:
 * weights count / step_examples) = 2 steps, dropout off (the GPU's masks
 * are another stream), smoothing on, restore_best and probabilities on.
 * The losses (training: before each step; validation: after both) and
 * the validation probabilities must agree within tol, the updates point
 * the same way, and the weights must have come back to the host model. */
static void train_loop(hpt_gpu_amp_t amp, double tol, double min_cosine) {
  const char *dir = src_path("tests/fixtures/tiny-bert");
  enum { NT = 30, NV = 10, K = 3 };
  char *tr_texts[NT], *va_texts[NV];
  int tr_labels[NT], va_labels[NV];
  toy_data(tr_texts, tr_labels, NT, 1);
  toy_data(va_texts, va_labels, NV, 2);
  hpt_train_data_t tr = {(const char *const *)tr_texts, tr_labels, NT};
  hpt_train_data_t va = {(const char *const *)va_texts, va_labels, NV};
  hpt_train_encoder_t enc = {toy_encode, NULL, 0, 32};
  hpt_model_t *cpu = NULL, *gpu = NULL, *init = NULL;
  if (hpt_model_load(dir, 42, &cpu, &err) != 0 ||
      hpt_model_load(dir, 42, &gpu, &err) != 0 ||
      hpt_model_load(dir, 42, &init, &err) != 0)
    die(dir);
  hpt_train_options_t o;
  hpt_train_options_default(&o);
  o.epochs = 1;
  o.batch_size = 8;
  o.gradient_accumulation_steps = 2;
  o.eval_batch_size = 4;
  o.dropout = 0.0;
  o.label_smoothing = 0.1;
  o.warmup_ratio = 0.0;
  o.threads = 1;
  o.optimizer.lr_backbone = 1e-3;
  o.optimizer.lr_head = 3e-3;
  o.optimizer.layer_decay = 0.8;
  o.restore_best = true;
  float p_cpu[NV * K], p_gpu[NV * K];
  hpt_train_result_t r_cpu, r_gpu;
  o.val_probabilities = p_cpu;
  if (hpt_train_run(cpu, &enc, &tr, &va, &o, NULL, NULL, &r_cpu, &err) != 0)
    die("cpu train");
  o.val_probabilities = p_gpu;
  o.device = "cuda:0";
  o.amp = amp;
  if (hpt_train_run(gpu, &enc, &tr, &va, &o, NULL, NULL, &r_gpu, &err) != 0)
    die("gpu train");
  const char *name = hpt_gpu_amp_name(amp);
  CHECK(r_gpu.steps == 2 && r_cpu.steps == 2, "train %s: steps cpu %ld gpu %ld",
        name, r_cpu.steps, r_gpu.steps);
  CHECK(r_gpu.epochs_run == 1 && r_gpu.best_epoch == 1,
        "train %s: epochs %d/%d", name, r_gpu.epochs_run, r_gpu.best_epoch);
  CHECK(r_gpu.peak_gpu_bytes > 0, "train %s: no peak memory", name);
  double d_train = fabs(r_gpu.train_loss - r_cpu.train_loss) / r_cpu.train_loss;
  double d_val = fabs(r_gpu.val_loss - r_cpu.val_loss) / r_cpu.val_loss;
  double d_prob = 0.0;
  for (int i = 0; i < NV * K; i++)
    d_prob = fmax(d_prob, fabs((double)p_gpu[i] - p_cpu[i]));
  double cosine = update_cosine(cpu, gpu, init);
  CHECK(d_train <= tol, "train %s: train loss %.6f vs cpu %.6f", name,
        r_gpu.train_loss, r_cpu.train_loss);
  CHECK(d_val <= tol, "train %s: val loss after 2 steps %.6f vs cpu %.6f", name,
        r_gpu.val_loss, r_cpu.val_loss);
  CHECK(d_prob <= tol, "train %s: probabilities differ by %g", name, d_prob);
  CHECK(cosine >= min_cosine, "train %s: updates' cosine %.4f < %.2f", name,
        cosine, min_cosine);
  printf("train   tiny-bert       %-4s 2 steps (2 x 2 micro-batches): loss "
         "train %.5f/%.5f val %.5f/%.5f (gpu/cpu), probs %.1e, update "
         "cosine %.4f, peak %.1f MiB; tol %.0e\n",
         name, r_gpu.train_loss, r_cpu.train_loss, r_gpu.val_loss,
         r_cpu.val_loss, d_prob, cosine,
         (double)r_gpu.peak_gpu_bytes / (1 << 20), tol);

  /* A device that is not there fails with the backend's reason. */
  hpt_model_t *other = NULL;
  if (hpt_model_load(dir, 42, &other, &err) != 0)
    die(dir);
  o.device = "cuda:63";
  int rc = hpt_train_run(other, &enc, &tr, &va, &o, NULL, NULL, &r_gpu, &err);
  CHECK(rc == HPT_ENOTFOUND && strstr(err.message, "train: cuda:63: gpu: "),
        "train: cuda:63 gave %d: %s", rc, err.message);
  hpt_model_destroy(&other);
  hpt_model_destroy(&cpu);
  hpt_model_destroy(&gpu);
  hpt_model_destroy(&init);
  for (int i = 0; i < NT; i++)
    free(tr_texts[i]);
  for (int i = 0; i < NV; i++)
    free(va_texts[i]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!hpt_gpu_built() || hpt_gpu_device_count() == 0) {
    printf("skipped: no CUDA device%s\n",
           hpt_gpu_built() ? "" : " (built without CUDA)");
    return 77;
  }
  hpt_gpu_device_info_t info;
  if (hpt_gpu_device_info(0, &info, &err) != 0)
    die("device");
  printf("device  %s, sm_%d%d, %.1f GiB\n", info.name, info.major, info.minor,
         (double)info.total_bytes / (1 << 30));
  const char *archs[] = {"bert", "distilbert", "electra", "roberta"};
  struct {
    hpt_gpu_amp_t amp;
    double tol;
  } precisions[] = {{HPT_GPU_AMP_OFF, 1e-4},
                    {HPT_GPU_AMP_BF16, 5e-2},
                    {HPT_GPU_AMP_FP16, 2e-2}};
  for (int p = 0; p < 3; p++)
    for (int a = 0; a < 4; a++) {
      char dir[256], ref[256], name[64];
      snprintf(dir, sizeof dir, "tests/fixtures/tiny-%s", archs[a]);
      snprintf(ref, sizeof ref, "%s/reference.safetensors", dir);
      snprintf(name, sizeof name, "tiny-%s", archs[a]);
      parity(name, src_path(dir), src_path(ref), precisions[p].amp,
             precisions[p].tol);
    }
  const char *minilm = src_path("models/all-MiniLM-L6-v2");
  char probe[4200];
  snprintf(probe, sizeof probe, "%s/model.safetensors", minilm);
  const char *mref = src_path("tests/fixtures/minilm-reference.safetensors");
  if (access(probe, R_OK) == 0 && access(mref, R_OK) == 0) {
    parity("minilm", minilm, mref, HPT_GPU_AMP_OFF, 1e-4);
    parity("minilm", minilm, mref, HPT_GPU_AMP_BF16, 5e-2);
  } else {
    printf("parity minilm          skipped: models/all-MiniLM-L6-v2 not "
           "here\n");
  }
  shapes();
  adamw();
  scaler();
  graphs();
  profile();
  train_loop(HPT_GPU_AMP_OFF, 1e-4, 0.99);
  train_loop(HPT_GPU_AMP_BF16, 5e-2, 0.9);
  train_loop(HPT_GPU_AMP_FP16, 2e-2, 0.9);
  printf("%s: %d checks, %d failed\n", failures ? "FAILED" : "passed", checks,
         failures);
  return failures ? 1 : 0;
}
