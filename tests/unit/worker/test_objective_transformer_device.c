/* test_objective_transformer_device.c — how the `transformer` objective
 * (worker/objective_transformer.c) picks its device and precision:
 * HPT_DEVICE (cpu when unset), amp from the params or the settings, and a
 * GPU that is not there failing the trial before any data is read, with
 * one line, also through `hpt-worker run-trial` (its `error` line and exit
 * status 1). Training itself is test_objective_transformer.c's (CPU) and
 * tests/unit/engine_cuda/'s (GPU). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "error.h"
#include "gpu_model.h"
#include "objective.h"
#include "test_util.h"

/* Paths that do not exist: a run that got as far as reading them would
 * fail naming them. */
#define NO_MODEL "/nonexistent/hpt-model"
#define NO_DATA "/nonexistent/hpt-data.csv"
#define GPU_REASON "objective transformer: device cuda:0: gpu: "

static hpt_options_t settings;

static void setup(void) {
  memset(&settings, 0, sizeof settings);
  settings.section = strdup("objective");
  hpt_error_t e = {0};
  cr_assert_eq(hpt_options_add(&settings, "type", "transformer", 0, &e), 0);
  cr_assert_eq(hpt_options_add(&settings, "model", NO_MODEL, 0, &e), 0);
  cr_assert_eq(hpt_options_add(&settings, "train", NO_DATA, 0, &e), 0);
  unsetenv("HPT_DEVICE");
}

static void teardown(void) {
  hpt_options_free(&settings);
  unsetenv("HPT_DEVICE");
}

TestSuite(objective_transformer_device, .init = setup, .fini = teardown);

static int run(const hpt_objective_param_t *params, size_t n,
               hpt_error_t *error) {
  hpt_objective_call_t call = {
      .settings = &settings, .params = params, .n_params = n};
  hpt_objective_result_t result;
  return hpt_objective_transformer_run(&call, &result, error);
}

Test(objective_transformer_device, cuda_without_a_gpu_fails_before_the_data) {
  if (hpt_gpu_device_count() > 0)
    cr_skip_test("a CUDA device is here");
  setenv("HPT_DEVICE", "cuda:0", 1);
  hpt_error_t e = {0};
  int rc = run(NULL, 0, &e);
  cr_log_info("%s", e.message);
  cr_expect_eq(rc, hpt_gpu_built() ? HPT_ENOTFOUND : HPT_EUNSUPPORTED, "%s",
               e.message);
  cr_expect(strncmp(e.message, GPU_REASON, strlen(GPU_REASON)) == 0, "%s",
            e.message);
  cr_expect(strstr(e.message, hpt_gpu_built() ? "no CUDA device"
                                              : "built without CUDA") != NULL,
            "%s", e.message);
  cr_expect(strstr(e.message, "nonexistent") == NULL, "read data: %s",
            e.message);
  cr_expect(strchr(e.message, '\n') == NULL);
}

Test(objective_transformer_device, a_bad_hpt_device_is_named) {
  setenv("HPT_DEVICE", "tpu:0", 1);
  hpt_error_t e = {0};
  cr_expect_eq(run(NULL, 0, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "HPT_DEVICE") != NULL &&
                strstr(e.message, "device 'tpu:0'") != NULL,
            "%s", e.message);
}

Test(objective_transformer_device, amp_on_the_cpu_is_refused) {
  hpt_objective_param_t amp = {"amp", "bf16"};
  hpt_error_t e = {0};
  cr_expect_eq(run(&amp, 1, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "amp bf16 needs a cuda device") != NULL, "%s",
            e.message);
  /* an explicit HPT_DEVICE=cpu is the same */
  setenv("HPT_DEVICE", "cpu", 1);
  cr_expect_eq(run(&amp, 1, &e), HPT_EINVAL);
}

Test(objective_transformer_device, amp_setting_is_a_known_key_and_checked) {
  hpt_error_t e = {0};
  cr_assert_eq(hpt_options_add(&settings, "amp", "fp8", 0, &e), 0);
  cr_expect_eq(run(NULL, 0, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "amp 'fp8'") != NULL, "%s", e.message);
  /* off on the CPU passes: the run gets as far as the model folder */
  hpt_options_free(&settings);
  setup();
  cr_assert_eq(hpt_options_add(&settings, "amp", "off", 0, &e), 0);
  cr_expect_neq(run(NULL, 0, &e), 0);
  cr_expect(strstr(e.message, NO_MODEL) != NULL, "%s", e.message);
  /* the param overrides the setting */
  hpt_objective_param_t amp = {"amp", "fp16"};
  cr_expect_eq(run(&amp, 1, &e), HPT_EINVAL);
  cr_expect(strstr(e.message, "amp fp16 needs a cuda device") != NULL, "%s",
            e.message);
}

/* The trial process prints the reason as its one `error` line and exits
 * 1, which the daemon reports as the trial's failure. */
Test(objective_transformer_device, run_trial_prints_one_error_line) {
  if (hpt_gpu_device_count() > 0)
    cr_skip_test("a CUDA device is here");
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "HPT_DEVICE=cuda:0 '%s' run-trial --setting type=transformer "
           "--setting model=" NO_MODEL " --setting train=" NO_DATA
           " 2>/dev/null",
           hpt_test_bin("hpt-worker"));
  FILE *out = popen(cmd, "r");
  cr_assert_not_null(out);
  char line[1024], first[1024] = "";
  int lines = 0;
  while (fgets(line, sizeof line, out) != NULL)
    if (lines++ == 0)
      snprintf(first, sizeof first, "%s", line);
  int status = pclose(out);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
  cr_expect_eq(lines, 1, "%d lines", lines);
  cr_expect(strncmp(first, "error " GPU_REASON, strlen("error " GPU_REASON)) ==
                0,
            "%s", first);
}
