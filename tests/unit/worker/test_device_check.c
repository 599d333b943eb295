/* test_device_check.c — worker/device_check.h: what `PROGRAM device-info
 * cuda:N`'s exit and output say about the GPU. The program is the emulated
 * GPU's hpt-trial where the build has one (present; and gone, through
 * HPT_GPU_EMULATION_LOST_FILE), and otherwise small shell scripts that
 * behave as a device-info would in each case (an answer, a refusal, a
 * hang, a crash, garbage), each run as a real child process. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "device_check.h"
#include "test_util.h"

/* dir/name: an executable shell script with `body`. Static buffer. */
static const char *script(const char *dir, const char *name, const char *body) {
  static char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char text[1024];
  snprintf(text, sizeof text, "#!/bin/sh\n%s\n", body);
  hpt_test_write_file(path, text);
  cr_assert_eq(chmod(path, 0755), 0);
  return path;
}

static hpt_device_report_t check(const char *program, unsigned timeout_ms) {
  hpt_device_report_t report;
  hpt_device_check_run(program, "cuda:0", timeout_ms, &report);
  return report;
}

Test(device_check, an_answer_is_a_present_device) {
  const char *dir = hpt_test_tmpdir();
  /* It is asked `device-info cuda:0`: the script checks that too. */
  hpt_device_report_t r =
      check(script(dir, "ok",
                   "[ \"$1 $2\" = 'device-info cuda:0' ] || exit 9\n"
                   "printf 'NVIDIA H200\\t139.8\\t138.5\\n'"),
            5000);
  cr_assert_eq(r.state, HPT_DEVICE_PRESENT, "%s", r.why);
  cr_assert_str_eq(r.name, "NVIDIA H200");
  cr_assert_float_eq(r.total_gib, 139.8, 1e-9);
  cr_assert_float_eq(r.free_gib, 138.5, 1e-9);
}

Test(device_check, a_refusal_is_a_missing_device_with_its_reason) {
  const char *dir = hpt_test_tmpdir();
  hpt_device_report_t r =
      check(script(dir, "gone",
                   "echo 'gpu: no CUDA device cuda:0 (0 devices visible)' >&2\n"
                   "exit 1"),
            5000);
  cr_assert_eq(r.state, HPT_DEVICE_MISSING);
  cr_assert_str_eq(r.why, "gpu: no CUDA device cuda:0 (0 devices visible)");
}

Test(device_check, a_crash_is_a_missing_device) {
  const char *dir = hpt_test_tmpdir();
  hpt_device_report_t r = check(script(dir, "crash", "kill -SEGV $$"), 5000);
  cr_assert_eq(r.state, HPT_DEVICE_MISSING);
  cr_assert(strstr(r.why, "killed by signal 11") != NULL, "%s", r.why);
}

Test(device_check, a_hang_is_a_missing_device_after_the_timeout) {
  const char *dir = hpt_test_tmpdir();
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  hpt_device_report_t r = check(script(dir, "hang", "exec sleep 30"), 300);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double seconds =
      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  cr_assert_eq(r.state, HPT_DEVICE_MISSING);
  cr_assert(strstr(r.why, "did not answer") != NULL, "%s", r.why);
  cr_assert(seconds < 5.0, "the check waited %.1f s for a hung child", seconds);
}

Test(device_check, what_says_nothing_of_the_device_is_unknown) {
  const char *dir = hpt_test_tmpdir();
  hpt_device_report_t r =
      check(script(dir, "garbled", "echo 'no tabs here'"), 5000);
  cr_assert_eq(r.state, HPT_DEVICE_UNKNOWN);
  cr_assert(strstr(r.why, "no tabs here") != NULL, "%s", r.why);
  r = check(script(dir, "other", "echo 'usage: ...' >&2; exit 2"), 5000);
  cr_assert_eq(r.state, HPT_DEVICE_UNKNOWN, "exit 2 is not device-info's no");
  char missing[300];
  snprintf(missing, sizeof missing, "%s/no-such-program", dir);
  r = check(missing, 5000);
  cr_assert_eq(r.state, HPT_DEVICE_UNKNOWN);
  cr_assert(strstr(r.why, "cannot start") != NULL, "%s", r.why);
}

static void never_called(const hpt_device_report_t *report, void *data) {
  (void)report;
  *(int *)data += 1;
}

Test(device_check, a_cancelled_check_never_calls_back) {
  const char *dir = hpt_test_tmpdir();
  const char *program = script(dir, "slow", "exec sleep 30");
  uv_loop_t loop;
  cr_assert_eq(uv_loop_init(&loop), 0);
  int calls = 0;
  hpt_device_check_t *c = NULL;
  hpt_error_t error;
  cr_assert_eq(hpt_device_check_start(&loop, program, "cuda:0", 60000,
                                      never_called, &calls, &c, &error),
               0, "%s", error.message);
  uv_run(&loop, UV_RUN_NOWAIT);
  hpt_device_check_cancel(&c);
  cr_assert_null(c);
  hpt_device_check_cancel(&c);   /* NULL: nothing */
  uv_run(&loop, UV_RUN_DEFAULT); /* returns: every handle closed */
  cr_assert_eq(calls, 0);
  cr_assert_eq(uv_loop_close(&loop), 0);
}

/* The real thing: the emulated GPU's hpt-trial, there and then gone. */
Test(device_check, the_emulated_gpu_is_present_then_lost) {
  const char *program = hpt_test_bin("gpu-emulated/hpt-trial");
  if (access(program, X_OK) != 0)
    cr_skip_test("no %s in this build", program);
  const char *dir = hpt_test_tmpdir();
  char lost[300];
  snprintf(lost, sizeof lost, "%s/lost", dir);
  setenv("HPT_GPU_EMULATION_LOST_FILE", lost, 1);
  setenv("HPT_GPU_EMULATION_MEMORY_MIB", "1024", 1);
  hpt_device_report_t r = check(program, 30000);
  cr_assert_eq(r.state, HPT_DEVICE_PRESENT, "%s", r.why);
  cr_assert_str_eq(r.name, "hpt CUDA emulation (CPU)");
  cr_assert_float_eq(r.total_gib, 1.0, 1e-9);
  hpt_test_write_file(lost, "");
  r = check(program, 30000);
  cr_assert_eq(r.state, HPT_DEVICE_MISSING);
  cr_assert_str_eq(r.why, "gpu: no CUDA device cuda:0 (0 devices visible)");
}
