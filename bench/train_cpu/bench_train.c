/* bench_train.c — hpt's CPU training step on a real checkpoint, timed the
 * way bench_torch.py times PyTorch's: the first `rows` texts of a labelled
 * CSV, tokenised with the model's tokenizer, cut and PADDED TO EXACTLY
 * max_length (fixed shapes, so both sides do identical work), batches of
 * `batch` in order; per step: zero grad, forward in train mode (dropout
 * 0.1 from the config), backward, clip to norm 1, AdamW. `warmup` steps
 * are run untimed first, then `steps` steps are timed.
 *
 *   bench_train MODEL_DIR CSV BATCH MAX_LENGTH STEPS WARMUP THREADS
 *
 * Prints one CSV line: impl,batch,max_length,threads,steps,seconds,
 * samples_per_second. Built by run.sh against the hpt engine library.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataset.h"
#include "model.h"
#include "optimizer.h"
#include "text_clean.h"
#include "tokenizer_wordpiece.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const hpt_error_t *e) {
  fprintf(stderr, "bench_train: %s: %s\n", what, e->message);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: bench_train MODEL_DIR CSV BATCH MAX_LENGTH STEPS "
                    "WARMUP THREADS\n");
    return 2;
  }
  const char *dir = argv[1], *csv = argv[2];
  int B = atoi(argv[3]), T = atoi(argv[4]), steps = atoi(argv[5]);
  int warmup = atoi(argv[6]), threads = atoi(argv[7]);
  openblas_set_num_threads(threads);
  hpt_error_t e = {0};
  char path[4096];

  hpt_model_t *model = NULL;
  if (hpt_model_load(dir, 42, &model, &e) != 0)
    die("model", &e);
  hpt_wordpiece_t *wp = NULL;
  snprintf(path, sizeof path, "%s/tokenizer.json", dir);
  if (hpt_wordpiece_load_json(path, &wp, &e) != 0)
    die("tokenizer", &e);
  hpt_dataset_t *ds = NULL;
  if (hpt_dataset_load(csv, true, &ds, &e) != 0)
    die("data", &e);

  int total = warmup + steps;
  size_t n = (size_t)B * (size_t)total;
  int32_t *ids = calloc(n * (size_t)T, sizeof *ids);
  int32_t *mask = calloc(n * (size_t)T, sizeof *mask);
  int32_t *labels = calloc(n, sizeof *labels);
  int32_t pad = hpt_wordpiece_pad_id(wp);
  for (size_t i = 0; i < n; i++) {
    size_t row = i % ds->n_rows;
    char *clean = NULL;
    hpt_token_ids_t seq;
    hpt_token_ids_init(&seq);
    if (hpt_text_clean(ds->texts[row], &clean, &e) != 0 ||
        hpt_wordpiece_encode(wp, clean, (size_t)T, &seq, &e) != 0)
      die("encode", &e);
    for (int t = 0; t < T; t++) {
      bool real = (size_t)t < seq.count;
      ids[i * (size_t)T + t] = real ? seq.ids[t] : pad;
      mask[i * (size_t)T + t] = real;
    }
    labels[i] = ds->labels[row];
    free(clean);
    hpt_token_ids_close(&seq);
  }

  hpt_optimizer_options_t oo;
  hpt_optimizer_defaults(&oo);
  oo.lr_backbone = 5e-5;
  oo.lr_head = 1e-3;
  oo.total_steps = total + 1;
  hpt_optimizer_t *opt = NULL;
  if (hpt_optimizer_new(model, &oo, &opt, &e) != 0)
    die("optimizer", &e);
  hpt_rng_t rng;
  hpt_rng_seed(&rng, 1);
  hpt_model_mode_t mode = {.train = true, .label_smoothing = 0, .rng = &rng};

  double start = 0;
  for (int s = 0; s < total; s++) {
    if (s == warmup)
      start = now();
    size_t off = (size_t)s * (size_t)B;
    hpt_model_batch_t batch = {.B = B,
                               .T = T,
                               .input_ids = ids + off * (size_t)T,
                               .attention_mask = mask + off * (size_t)T,
                               .token_type_ids = NULL,
                               .labels = labels + off};
    hpt_model_zero_grad(model);
    if (hpt_model_forward(model, &batch, &mode, &e) != 0 ||
        hpt_model_backward(model, &e) != 0 ||
        hpt_optimizer_step(opt, NULL, &e) != 0)
      die("step", &e);
  }
  double seconds = now() - start;
  printf("hpt,%d,%d,%d,%d,%.3f,%.2f\n", B, T, threads, steps, seconds,
         (double)steps * B / seconds);
  hpt_optimizer_destroy(&opt);
  hpt_model_destroy(&model);
  hpt_wordpiece_destroy(&wp);
  hpt_dataset_destroy(&ds);
  free(ids);
  free(mask);
  free(labels);
  return 0;
}
