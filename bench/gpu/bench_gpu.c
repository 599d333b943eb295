/* bench_gpu.c — training throughput of the CUDA backend on random-init
 * models with real configs (bench/gpu/configs/NAME.json), timed the way
 * bench_torch.py times PyTorch eager: fixed (B, T) batches of random token
 * ids, full attention mask, per step zero grad, forward in train mode
 * (the config's dropout), backward, global-norm clip at 1 and AdamW;
 * `warmup` untimed steps, then `steps` timed ones between two device
 * synchronisations.
 *
 *   hpt-gpu-bench CONFIG.json B T STEPS WARMUP AMP [PROFILE.md]
 *
 * Prints one CSV line: impl,model,batch,length,amp,samples_per_second,
 * step_ms,peak_gib,params. Exit 77 without a CUDA device. With PROFILE.md
 * the model is profiled instead (every kernel and GEMM timed with events,
 * no CUDA graphs: slower, so the CSV line is not the throughput) and the
 * table of where a step's time goes is written there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpu_model.h"
#include "model.h"
#include "rng.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const hpt_error_t *e) {
  fprintf(stderr, "hpt-gpu-bench: %s: %s\n", what, e->message);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: hpt-gpu-bench CONFIG.json B T STEPS WARMUP "
                    "AMP [PROFILE.md]\n");
    return 2;
  }
  const char *profile = argc == 8 ? argv[7] : NULL;
  const char *path = argv[1];
  int B = atoi(argv[2]), T = atoi(argv[3]), steps = atoi(argv[4]);
  int warmup = atoi(argv[5]);
  hpt_error_t e = {0};
  hpt_gpu_amp_t amp;
  if (hpt_gpu_amp_parse(argv[6], &amp, &e) != 0)
    die("amp", &e);
  if (hpt_gpu_device_count() == 0) {
    printf("skipped: no CUDA device\n");
    return 77;
  }
  hpt_model_config_t config;
  if (hpt_model_config_load(path, &config, &e) != 0)
    die(path, &e);
  hpt_model_t *model = NULL;
  if (hpt_model_new(&config, 0.02f, 42, &model, &e) != 0)
    die("model", &e);
  const hpt_model_config_t *c = hpt_model_config(model);
  int32_t *ids = malloc(sizeof(int32_t) * (size_t)B * T);
  int32_t *labels = malloc(sizeof(int32_t) * (size_t)B);
  hpt_rng_t rng;
  hpt_rng_seed2(&rng, 42, 7);
  for (size_t i = 0; i < (size_t)B * T; i++)
    ids[i] = 5 + (int32_t)(hpt_rng_uniform(&rng) * (c->vocab_size - 6));
  for (int b = 0; b < B; b++)
    labels[b] = b % c->num_labels;
  hpt_model_batch_t batch = {
      .B = B, .T = T, .input_ids = ids, .labels = labels};
  hpt_gpu_options_t opts = {
      .device = 0, .amp = amp, .graphs = true, .profile = profile != NULL};
  hpt_gpu_model_t *g = NULL;
  hpt_optimizer_options_t o;
  hpt_optimizer_defaults(&o);
  o.total_steps = steps + warmup + 1;
  if (hpt_gpu_model_new(model, &opts, &g, &e) != 0 ||
      hpt_gpu_model_reserve(g, B, T, &e) != 0 ||
      hpt_gpu_model_optimizer_init(g, &o, &e) != 0)
    die("gpu model", &e);
  hpt_gpu_mode_t mode = {.train = true, .seed = 42};
  double t0 = 0;
  for (int s = 0; s < warmup + steps; s++) {
    if (s == warmup) {
      if (hpt_gpu_model_sync(g, &e) != 0)
        die("sync", &e);
      t0 = now();
    }
    if (hpt_gpu_model_zero_grad(g, &e) != 0 ||
        hpt_gpu_model_forward(g, &batch, &mode, &e) != 0 ||
        hpt_gpu_model_backward(g, 1.0f, &e) != 0 ||
        hpt_gpu_model_step(g, &e) != 0)
      die("step", &e);
  }
  if (hpt_gpu_model_sync(g, &e) != 0)
    die("sync", &e);
  double dt = now() - t0;
  const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  printf("hpt,%.*s,%d,%d,%s,%.1f,%.3f,%.2f,%zu\n",
         (int)(strlen(name) > 5 ? strlen(name) - 5 : strlen(name)), name, B, T,
         hpt_gpu_amp_name(amp), (double)B * steps / dt, 1e3 * dt / steps,
         (double)hpt_gpu_model_peak_bytes(g) / (1 << 30),
         hpt_model_num_floats(model));
  if (profile) {
    FILE *out = fopen(profile, "w");
    if (!out) {
      fprintf(stderr, "hpt-gpu-bench: %s: cannot write\n", profile);
      return 1;
    }
    fprintf(out,
            "%.*s B%d L%d %s, %d steps (profiled: no graphs, an event "
            "after every kernel)\n\n",
            (int)(strlen(name) > 5 ? strlen(name) - 5 : strlen(name)), name, B,
            T, hpt_gpu_amp_name(amp), warmup + steps);
    if (hpt_gpu_model_profile_write(g, out, warmup + steps, &e) != 0)
      die("profile", &e);
    fclose(out);
  }
  hpt_gpu_model_destroy(&g);
  hpt_model_destroy(&model);
  free(ids);
  free(labels);
  return 0;
}
