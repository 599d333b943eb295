/* test_util.h — real processes and plain SQL for integration tests.
 *
 * Processes are started with fork/exec, their stdout and stderr appended to
 * a log file the test can read afterwards. SQL helpers open a connection per
 * call (tests are not hot paths) and abort the test on any error.
 */
#ifndef HPT_TEST_UTIL_H
#define HPT_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct hpt_test_proc {
  pid_t pid;
  char log_path[512];
} hpt_test_proc_t;

/* $HPT_BIN_DIR/name (e.g. "hpt"), in a static buffer per call slot. */
const char *hpt_test_bin(const char *name);

/* $HPT_DATA_DIR/name (e.g. "train.csv"). */
const char *hpt_test_data(const char *name);

/* A fresh directory under /tmp (mode 0755); borrowed static buffer. */
const char *hpt_test_tmpdir(void);

/* Writes `text` to `path` (aborts the test on failure). */
void hpt_test_write_file(const char *path, const char *text);

/* Whole file as a NUL-terminated string; caller frees. NULL if missing. */
char *hpt_test_read_file(const char *path);

/* Starts argv (argv[0] a path) with stdout+stderr appended to log_path. */
void hpt_test_proc_start(hpt_test_proc_t *proc, const char *log_path,
                         char *const argv[]);

/* Waits up to timeout_ms; true with *status (exit code, or 128+signal) when
 * it ended, false on timeout. */
bool hpt_test_proc_wait(hpt_test_proc_t *proc, int timeout_ms, int *status);

/* SIGKILL and reap. No-op when already reaped. */
void hpt_test_proc_kill(hpt_test_proc_t *proc);

/* Runs argv to completion (at most timeout_ms, then SIGKILL); returns its
 * exit status (128+signal when killed) and, if output is not NULL, its
 * stdout+stderr (caller frees). */
int hpt_test_run(char *const argv[], int timeout_ms, char **output);

/* First column of the first row of `query` as a long (NULL → -1). */
long hpt_test_sql_long(const char *url, const char *query);

/* First column of the first row as text (caller frees; NULL → NULL). */
char *hpt_test_sql_text(const char *url, const char *query);

/* Polls `query` every 100 ms until it returns >= want or timeout_ms passes;
 * returns the last value. */
long hpt_test_sql_wait(const char *url, const char *query, long want,
                       int timeout_ms);

/* Writes `spec_text` to dir/name.yaml and runs `hpt --db URL study create`
 * on it; aborts the test (with the command's output) unless it exits 0.
 * Returns the spec's path: a static buffer, valid until the next call. */
const char *hpt_test_create_study(const char *url, const char *dir,
                                  const char *name, const char *spec_text);

/* Runs `hpt --db URL study run NAME --local-workers N --bind
 * tcp://127.0.0.1:*` to completion (at most 240 s); aborts the test (with
 * the output) unless it exits 0. Returns its stdout+stderr (caller frees). */
char *hpt_test_run_study(const char *url, const char *name, int local_workers);

/* Runs `hpt --db URL ARGS...` (args NULL-terminated, at most 12) to
 * completion (at most 240 s); returns its exit status and, if output is
 * not NULL, its stdout+stderr (caller frees). */
int hpt_test_hpt(const char *url, char **output, char *const *args);

/* A real n-gram study `name` on train.csv (n_trials, random sampler seed
 * 3, lr and epochs searched, split seed 42) keeping its best `keep`
 * models, run with 2 local workers; aborts the test on failure. */
void hpt_test_run_ngram_study(const char *url, const char *dir,
                              const char *name, int n_trials, int keep);

/* Starts `hpt-worker --connect ENDPOINT --id ID`, output appended to
 * log_path. */
void hpt_test_start_worker(hpt_test_proc_t *proc, const char *log_path,
                           const char *endpoint, const char *id);

/* Waits up to timeout_ms for proc (SIGKILLs it on timeout), then aborts the
 * test, printing the log at log_path, if it hung or its exit status is not
 * expected_status. */
void hpt_test_expect_exit(hpt_test_proc_t *proc, const char *log_path,
                          int timeout_ms, int expected_status);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int hpt_test_free_port(void);

/* Number of '\n' in text. */
size_t hpt_test_count_lines(const char *text);

#endif
