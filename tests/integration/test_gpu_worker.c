/* test_gpu_worker.c — a GPU worker end to end, on the emulated GPU: the
 * real coordinator, PostgreSQL and ZeroMQ, and `gpu-emulated/hpt-worker
 * --device cuda:0`, a worker daemon whose trial processes run the CUDA
 * backend's code on the CPU (worker/engine/cuda/emulation/). Its knobs go
 * in the worker's environment, which its trial processes inherit:
 * HPT_GPU_EMULATION_MEMORY_MIB (the device's size) and
 * HPT_GPU_EMULATION_LOST_FILE (once that file exists the GPU is gone).
 *
 *   - a transformer study with amp bf16 and gradient accumulation
 *     completes there: the workers table shows the device and memory of
 *     the worker's Hello, and each trial stores peak_gpu_gib;
 *   - a batch that does not fit in the device's memory fails its trial
 *     with the engine's "would fit" message, and the same daemon then
 *     completes a trial that fits;
 *   - a GPU that disappears mid-trial: the trial fails as retryable with
 *     the GPU-lost reason, the coordinator records the worker leaving, the
 *     worker exits 3, and a CPU worker completes the retry.
 *
 * The emulation runs every GPU thread as a coroutine, so it is slow: the
 * studies train a tiny BERT (test_model.h) on 32 rows of train.csv at
 * max_length 16, about a second or two per epoch. Skipped when the build
 * has no emulated GPU worker (CUDA's headers were not found). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_db.h"
#include "test_model.h"
#include "test_util.h"

typedef struct fixture {
  char url[1024];
  char dir[256];
  char endpoint[512];
  char model[300];
  char data[300];
  char gpu_worker[1024];
} fixture_t;

/* dir/small.csv: the header and the first 16 rows of each label of
 * train.csv. */
static void write_small_data(fixture_t *f) {
  char *text = hpt_test_read_file(hpt_test_data("train.csv"));
  cr_assert_not_null(text, "cannot read %s", hpt_test_data("train.csv"));
  snprintf(f->data, sizeof f->data, "%s/small.csv", f->dir);
  FILE *out = fopen(f->data, "w");
  cr_assert_not_null(out);
  int extremist = 0, other = 0;
  char *save = NULL;
  char *line = strtok_r(text, "\n", &save);
  fprintf(out, "%s\n", line); /* the header */
  while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
    size_t n = strlen(line);
    bool is_other = n > 14 && strcmp(line + n - 14, ",NON_EXTREMIST") == 0;
    bool is_extremist =
        !is_other && n > 10 && strcmp(line + n - 10, ",EXTREMIST") == 0;
    if ((is_other && other < 16) || (is_extremist && extremist < 16)) {
      fprintf(out, "%s\n", line);
      other += is_other;
      extremist += is_extremist;
    }
  }
  fclose(out);
  free(text);
  cr_assert(extremist == 16 && other == 16, "train.csv: %d + %d rows",
            extremist, other);
}

static void setup(fixture_t *f) {
  snprintf(f->gpu_worker, sizeof f->gpu_worker, "%s",
           hpt_test_bin("gpu-emulated/hpt-worker"));
  if (access(f->gpu_worker, X_OK) != 0)
    cr_skip_test("no %s (this build found no CUDA headers, so it has no "
                 "emulated GPU): GPU worker tests skipped",
                 f->gpu_worker);
  snprintf(f->url, sizeof f->url, "%s", hpt_test_db_url());
  snprintf(f->dir, sizeof f->dir, "%s", hpt_test_tmpdir());
  snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/c.sock", f->dir);
  snprintf(f->model, sizeof f->model, "%s/tiny", f->dir);
  hpt_test_make_tiny_bert(f->model, "{\"0\": \"A\", \"1\": \"B\"}");
  write_small_data(f);
}

/* A transformer study: one batch size, `epochs` epochs; `extra` goes in
 * the objective section (e.g. "amp: bf16"). */
static void create_study(const fixture_t *f, const char *name, int n_trials,
                         int batch_size, int accumulation, int epochs,
                         const char *extra) {
  char spec[2048];
  snprintf(spec, sizeof spec,
           "name: %s\nn_trials: %d\nmax_parallel: 1\nmax_retries: 2\n"
           "sampler: {type: random, seed: 5}\npruner: {type: none}\n"
           "params:\n"
           "  lr_backbone: {type: float, low: 1.0e-3, high: 3.0e-3}\n"
           "  epochs: {type: int, low: %d, high: %d}\n"
           "  batch_size: {type: categorical, choices: [\"%d\"]}\n"
           "  gradient_accumulation_steps: {type: int, low: %d, high: %d}\n"
           "objective: {type: transformer, model: %s, train: %s,\n"
           "  val_fraction: 0.25, seed: 42, max_length: 16, threads: 1%s%s}\n",
           name, n_trials, epochs, epochs, batch_size, accumulation,
           accumulation, f->model, f->data, extra[0] ? ", " : "", extra);
  hpt_test_create_study(f->url, f->dir, name, spec);
}

/* `hpt study run NAME` on the fixture's endpoint, without local workers. */
static void start_coordinator(const fixture_t *f, hpt_test_proc_t *proc,
                              const char *name) {
  char log[600];
  snprintf(log, sizeof log, "%s/coordinator-%s.log", f->dir, name);
  char *argv[] = {(char *)hpt_test_bin("hpt"),
                  "--db",
                  (char *)f->url,
                  "study",
                  "run",
                  (char *)name,
                  "--bind",
                  (char *)f->endpoint,
                  "--heartbeat-ms",
                  "200",
                  "--local-workers",
                  "0",
                  "--log-level",
                  "info",
                  NULL};
  hpt_test_proc_start(proc, log, argv);
}

static void expect_study_done(const fixture_t *f, hpt_test_proc_t *proc,
                              const char *name, int timeout_ms) {
  char log[600];
  snprintf(log, sizeof log, "%s/coordinator-%s.log", f->dir, name);
  hpt_test_expect_exit(proc, log, timeout_ms, 0);
}

/* `hpt-worker --device DEVICE` (the emulated GPU's for cuda:0, the CPU
 * build's for cpu), its log in dir/ID.log. */
static void start_worker(const fixture_t *f, hpt_test_proc_t *proc,
                         const char *id, const char *device) {
  char log[600];
  snprintf(log, sizeof log, "%s/%s.log", f->dir, id);
  bool gpu = strcmp(device, "cpu") != 0;
  char *argv[] = {gpu ? (char *)f->gpu_worker
                      : (char *)hpt_test_bin("hpt-worker"),
                  "--connect",
                  (char *)f->endpoint,
                  "--id",
                  (char *)id,
                  "--device",
                  (char *)device,
                  "--exit-with-parent", /* when a failed test ends early */
                  NULL};
  hpt_test_proc_start(proc, log, argv);
}

static char *read_log(const fixture_t *f, const char *name) {
  char path[600];
  snprintf(path, sizeof path, "%s/%s.log", f->dir, name);
  char *text = hpt_test_read_file(path);
  cr_assert_not_null(text, "no log %s", path);
  return text;
}

static long sql(const fixture_t *f, const char *query) {
  return hpt_test_sql_long(f->url, query);
}

/* Every trial as "number state worker reason; ...", for messages. */
static char *trials_text(const fixture_t *f) {
  char *text = hpt_test_sql_text(
      f->url, "select string_agg(s.name || ':' || t.number || ' ' || t.state "
              "|| ' ' || coalesce(t.worker_id, '-') || ' ' || "
              "coalesce(t.fail_reason, ''), '; ' order by s.name, t.number) "
              "from trials t join studies s on s.id = t.study_id");
  return text ? text : strdup("(no trials)");
}

Test(gpu_worker, transformer_study_runs_with_bf16_and_accumulation,
     .timeout = 300) {
  fixture_t f;
  setup(&f);
  create_study(&f, "gpu", 2, 8, 2, 1, "amp: bf16");
  hpt_test_proc_t coordinator, worker;
  start_worker(&f, &worker, "gpu0", "cuda:0");
  start_coordinator(&f, &coordinator, "gpu");
  expect_study_done(&f, &coordinator, "gpu", 240000);
  kill(worker.pid, SIGTERM);
  int status = -1;
  cr_assert(hpt_test_proc_wait(&worker, 10000, &status));
  char *trials = trials_text(&f);
  cr_assert_eq(sql(&f, "select count(*) from trials where state = 'COMPLETE' "
                       "and worker_id = 'gpu0'"),
               2, "%s", trials);
  free(trials);
  cr_assert_eq(status, 0, "SIGTERM stops an idle worker with 0");

  /* The Hello's device and memory, as the coordinator stored them. */
  char *devices =
      hpt_test_sql_text(f.url, "select devices from workers where id = "
                               "'gpu0'");
  cr_assert_not_null(devices);
  cr_assert_str_eq(devices, "cuda:0 hpt CUDA emulation (CPU) 4.0GiB 4.0GiB "
                            "free");
  free(devices);
  cr_assert_eq(sql(&f, "select round(memory_gb * 1000) from workers where id "
                       "= 'gpu0'"),
               4000, "the emulated device's default 4096 MiB");
  /* Each trial ran on the device and stored its peak memory. */
  cr_assert_eq(sql(&f, "select count(*) from trial_metrics m join trials t "
                       "on t.id = m.trial_id where m.name = 'peak_gpu_gib' "
                       "and m.value > 0 and m.value < 4"),
               2);
  char *log = read_log(&f, "gpu0");
  cr_assert(strstr(log, "event=transformer_device device=cuda:0") != NULL &&
                strstr(log, "amp=bf16") != NULL,
            "the trials did not train on the emulated GPU in bf16: %s", log);
  free(log);
}

Test(gpu_worker, out_of_memory_fails_the_trial_and_the_daemon_goes_on,
     .timeout = 300) {
  fixture_t f;
  setup(&f);
  /* 48 MiB: the tiny model, its optimizer, cuBLASLt's workspace and the
   * activations of a batch of 8 (evaluation: 64) fit; those of a batch of
   * 4096 sequences of 16 tokens (some 200 MiB) do not. */
  setenv("HPT_GPU_EMULATION_MEMORY_MIB", "48", 1);
  create_study(&f, "big", 1, 4096, 1, 1, "");
  create_study(&f, "small", 1, 8, 1, 1, "");
  hpt_test_proc_t coordinator, worker;
  start_worker(&f, &worker, "gpu0", "cuda:0");
  start_coordinator(&f, &coordinator, "big");
  expect_study_done(&f, &coordinator, "big", 120000);

  char *reason = hpt_test_sql_text(
      f.url, "select fail_reason from trial_history where study = 'big' "
             "and state = 'FAIL'");
  char *trials = trials_text(&f);
  cr_assert_not_null(reason, "the big batch did not fail: %s", trials);
  cr_log_info("out-of-memory reason: %s", reason);
  cr_assert(strstr(reason, "batch 4096 x 16 tokens needs") != NULL &&
                strstr(reason, "sequences would fit (lower batch_size or "
                               "max_length)") != NULL,
            "reason: %s", reason);
  free(reason);
  cr_assert_eq(sql(&f, "select count(*) from trials"), 1,
               "an out-of-memory trial is the trial's, not retried: %s",
               trials);
  free(trials);
  cr_assert(!hpt_test_proc_wait(&worker, 0, NULL),
            "the worker exited after its trial ran out of device memory");
  cr_assert_eq(sql(&f, "select count(*) from workers where left_at is not "
                       "null"),
               0);

  /* The same daemon, with a coordinator for the next study. */
  start_coordinator(&f, &coordinator, "small");
  expect_study_done(&f, &coordinator, "small", 120000);
  trials = trials_text(&f);
  cr_assert_eq(sql(&f, "select count(*) from trial_history where study = "
                       "'small' and state = 'COMPLETE' and worker = 'gpu0'"),
               1, "%s", trials);
  free(trials);
  cr_assert(!hpt_test_proc_wait(&worker, 0, NULL));
  char *log = read_log(&f, "gpu0");
  cr_assert(strstr(log, "event=device_check device=cuda:0") != NULL,
            "the failed trial was not followed by a device check: %s", log);
  cr_assert(strstr(log, "event=gpu_lost") == NULL, "%s", log);
  free(log);
  kill(worker.pid, SIGTERM);
  int status = -1;
  cr_assert(hpt_test_proc_wait(&worker, 10000, &status));
  cr_assert_eq(status, 0);
}

Test(gpu_worker, lost_gpu_fails_the_trial_for_a_retry_and_the_worker_leaves,
     .timeout = 300) {
  fixture_t f;
  setup(&f);
  char lost[600];
  snprintf(lost, sizeof lost, "%s/gpu-lost", f.dir);
  setenv("HPT_GPU_EMULATION_LOST_FILE", lost, 1);
  /* 40 epochs: about a minute on the emulated GPU, which is lost long
   * before; a moment on the CPU. */
  create_study(&f, "lost", 1, 8, 1, 40, "");
  hpt_test_proc_t coordinator, gpu, cpu;
  start_worker(&f, &gpu, "gpu0", "cuda:0");
  start_coordinator(&f, &coordinator, "lost");

  /* Wait until the trial trains on the device, then pull the GPU. */
  char log_path[600];
  snprintf(log_path, sizeof log_path, "%s/gpu0.log", f.dir);
  bool training = false;
  for (int waited = 0; waited < 60000 && !training; waited += 100) {
    char *log = hpt_test_read_file(log_path);
    training = log != NULL && strstr(log, "event=transformer_device") != NULL;
    free(log);
    if (!training)
      usleep(100 * 1000);
  }
  cr_assert(training, "the trial never started on the GPU");
  usleep(500 * 1000);
  hpt_test_write_file(lost, "gone\n");

  /* The worker reports it and stops: exit 3, after its messages left. */
  int status = -1;
  bool ended = hpt_test_proc_wait(&gpu, 60000, &status);
  char *log = read_log(&f, "gpu0");
  cr_assert(ended, "the worker did not stop after losing its GPU: %s", log);
  cr_assert_eq(status, 3, "exit %d: %s", status, log);
  cr_assert(strstr(log, "event=gpu_lost device=cuda:0") != NULL, "%s", log);
  free(log);
  char *reason = NULL;
  for (int waited = 0; waited < 10000 && reason == NULL; waited += 100) {
    reason = hpt_test_sql_text(f.url, "select fail_reason from trials where "
                                      "number = 0 and state = 'FAIL'");
    if (reason == NULL)
      usleep(100 * 1000);
  }
  char *trials = trials_text(&f);
  cr_assert_not_null(reason, "trial 0 did not fail: %s", trials);
  cr_log_info("GPU-lost reason: %s", reason);
  cr_assert(strncmp(reason, "GPU lost: cuda:0 no longer answers (", 36) == 0,
            "reason: %s", reason);
  cr_assert(strstr(reason, "the trial's own error: ") != NULL, "%s", reason);
  free(reason);
  cr_assert_eq(sql(&f, "select count(*) from trials where retry_of = 0 and "
                       "state = 'WAITING'"),
               1, "the lost GPU's trial was not queued for a retry: %s",
               trials);
  free(trials);
  char *left = hpt_test_sql_text(
      f.url, "select left_reason from workers where id = 'gpu0' and left_at "
             "is not null");
  cr_assert_not_null(left, "the coordinator did not record gpu0 leaving");
  cr_assert(strncmp(left, "GPU lost: cuda:0 ", 17) == 0, "%s", left);
  free(left);
  char *listing = NULL;
  char *workers[] = {"workers", NULL};
  cr_assert_eq(hpt_test_hpt(f.url, &listing, workers), 0, "%s", listing);
  cr_assert(strstr(listing, "left: GPU lost: cuda:0") != NULL, "%s", listing);
  free(listing);

  /* A GPU worker started while the GPU is gone refuses to start. */
  char *output = NULL;
  char *again[] = {f.gpu_worker, "--connect", f.endpoint, "--id",
                   "gpu0b",      "--device",  "cuda:0",   NULL};
  cr_assert_eq(hpt_test_run(again, 30000, &output), 1, "%s", output);
  cr_assert(strstr(output, "hpt-worker: --device cuda:0: gpu: no CUDA "
                           "device cuda:0") != NULL,
            "%s", output);
  free(output);

  /* A CPU worker takes the retry and completes it. */
  start_worker(&f, &cpu, "cpu0", "cpu");
  expect_study_done(&f, &coordinator, "lost", 120000);
  hpt_test_proc_kill(&cpu);
  trials = trials_text(&f);
  cr_assert_eq(sql(&f, "select count(*) from trials where retry_of = 0 and "
                       "state = 'COMPLETE' and worker_id = 'cpu0'"),
               1, "%s", trials);
  cr_assert_eq(sql(&f, "select count(*) from trials where worker_id = "
                       "'gpu0'"),
               1, "the leaving worker got another trial: %s", trials);
  free(trials);
  char *coordinator_log = read_log(&f, "coordinator-lost");
  char *line = strstr(coordinator_log, "event=worker_left worker=gpu0");
  cr_assert(line != NULL, "%s", coordinator_log);
  cr_assert(strstr(line + 1, "event=worker_left") == NULL,
            "one line per worker leaving: %s", coordinator_log);
  free(coordinator_log);
}
