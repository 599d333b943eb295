/* daemon_trial.c — the worker daemon's running trial (daemon_internal.h):
 * its process (hpt-trial or this binary's `run-trial`, spawned through
 * libuv), the lines it prints (steps become Reports), its outcome
 * (TrialComplete or TrialFailed), the upload of its kept files, and on a
 * GPU worker the device check that tells a failing trial from a lost GPU.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_internal.h"
#include "log.h"
#include "objective.h"
#include "wire.h"

/* ---- a failed trial on a GPU: the trial's fault, or the GPU's? ----------- */

void hpt__daemon_send_held_failure(daemon_state_t *s) {
  hpt__daemon_send_failed(s, s->held.study_id, s->held.number, s->held.reason,
                          s->held.duration_s, s->held.retryable);
  hpt_log(HPT_LOG_WARN, "trial_failed", "trial=%d reason=\"%s\"",
          s->held.number, s->held.reason);
}

/* The device check's answer: the held TrialFailed goes as it is, unless
 * the GPU is gone. Then the failure was not the trial's (a CUDA call
 * failed because the device went away under it): the worker says it is
 * leaving, fails the trial as retryable with the reason ahead of the
 * trial's own, and stops as on SIGTERM (its messages leave within the
 * socket's linger). */
static void on_device_checked(const hpt_device_report_t *report, void *data) {
  daemon_state_t *s = data;
  s->check = NULL; /* freed by the check after this call */
  if (report->state != HPT_DEVICE_MISSING) {
    if (report->state == HPT_DEVICE_UNKNOWN)
      hpt_log(HPT_LOG_WARN, "device_check_failed",
              "device=%s why=\"%s\" note=\"the GPU is taken to be there\"",
              s->config->gpu, report->why);
    hpt__daemon_send_held_failure(s);
    return;
  }
  char leaving[600];
  snprintf(leaving, sizeof leaving,
           "GPU lost: %s no longer answers (%s); the worker takes no more "
           "trials",
           s->config->gpu, report->why);
  char reason[sizeof leaving + sizeof s->held.reason + 32];
  snprintf(reason, sizeof reason, "%s; the trial's own error: %s", leaving,
           s->held.reason);
  snprintf(s->held.reason, sizeof s->held.reason, "%s", reason);
  s->held.retryable = true;
  hpt_log(HPT_LOG_ERROR, "gpu_lost", "device=%s trial=%d why=\"%s\"",
          s->config->gpu, s->held.number, report->why);
  hpt__daemon_send_leaving(s, leaving);
  hpt__daemon_send_held_failure(s);
  s->result = HPT_ERR(s->error, HPT_EDEVICE, "%s", leaving);
  hpt__daemon_stop(s);
}

/* Sends a trial's TrialFailed; on a GPU worker, holds it until a device
 * check says whether the GPU is still there (on_device_checked). */
static void fail_trial(daemon_state_t *s, int64_t study_id, int number,
                       const char *reason, double duration_s, bool retryable) {
  s->held.study_id = study_id;
  s->held.number = number;
  snprintf(s->held.reason, sizeof s->held.reason, "%s", reason);
  s->held.duration_s = duration_s;
  s->held.retryable = retryable;
  hpt_error_t error;
  if (s->config->gpu != NULL &&
      hpt_device_check_start(s->loop, s->config->trial_program, s->config->gpu,
                             HPT_DEVICE_CHECK_TIMEOUT_MS, on_device_checked, s,
                             &s->check, &error) == 0) {
    hpt_log(HPT_LOG_INFO, "device_check", "device=%s trial=%d", s->config->gpu,
            number);
    return;
  }
  if (s->config->gpu != NULL)
    hpt_log(HPT_LOG_WARN, "device_check_failed", "device=%s why=\"%s\"",
            s->config->gpu, error.message);
  hpt__daemon_send_held_failure(s);
}

/* ---- the trial process -------------------------------------------------- */

/* Handles one line the trial process printed (see trial_process.h). */
static void handle_line(trial_t *t, char *line) {
  daemon_state_t *s = t->daemon;
  char name[64];
  int step;
  double value;
  if (sscanf(line, "step %d %lf", &step, &value) == 2) {
    t->has_last_step = true;
    t->last_step_value = value;
    Hpt__Report report = HPT__REPORT__INIT;
    report.study_id = t->study_id;
    report.number = t->number;
    report.step = step;
    report.value = value;
    Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
    envelope.body_case = HPT__ENVELOPE__BODY_REPORT;
    envelope.report = &report;
    if (!s->stopping)
      hpt__daemon_send(s, &envelope);
  } else if (sscanf(line, "value %lf", &value) == 1) {
    t->has_value = true;
    t->value = value;
  } else if (sscanf(line, "metric %63s %lf", name, &value) == 2) {
    if (t->n_metrics < MAX_METRICS) {
      snprintf(t->metric_names[t->n_metrics], sizeof t->metric_names[0], "%s",
               name);
      t->metric_values[t->n_metrics++] = value;
    }
  } else if (strncmp(line, "error ", 6) == 0) {
    snprintf(t->error_text, sizeof t->error_text, "%s", line + 6);
  } else if (line[0] != '\0') {
    hpt_log(HPT_LOG_DEBUG, "trial_output", "line=\"%.200s\"", line);
  }
}

/* ---- artifact upload ------------------------------------------------------
 */

#define PUMP_INTERVAL_MS 1
#define PUMP_CHUNKS 64 /* per tick: up to 4 MB */

/* Sends the held TrialComplete (if the socket takes it) and ends the
 * upload; false when it must wait for room in the queue. */
bool hpt__daemon_end_upload(daemon_state_t *s, bool force) {
  hpt_error_t error;
  if (s->upload_complete != NULL &&
      hpt_wire_send_packed(s->socket, NULL, s->upload_complete,
                           s->upload_complete_length, &error) < 0) {
    if (!force)
      return false;
    hpt_log(HPT_LOG_WARN, "send_failed", "body=complete error=\"%s\"",
            error.message);
  }
  double seconds = (double)(uv_now(s->loop) - s->upload_started_ms) / 1000.0;
  hpt_log(HPT_LOG_INFO, "artifacts_sent",
          "trial=%d files=%zu bytes=%llu seconds=%.2f%s", s->upload_number,
          hpt_artifact_upload_files(s->upload),
          (unsigned long long)hpt_artifact_upload_bytes(s->upload), seconds,
          force ? " note=\"cut short\"" : "");
  /* The result is kept until the next assignment (see keep_result). */
  free(s->pending_result);
  s->pending_result = s->upload_complete;
  s->pending_result_length = s->upload_complete_length;
  s->upload_complete = NULL;
  hpt_artifact_upload_destroy(&s->upload);
  hpt_artifact_dir_remove(s->upload_dir);
  s->upload_dir[0] = '\0';
  uv_timer_stop(&s->pump);
  return true;
}

static void on_pump(uv_timer_t *timer) {
  daemon_state_t *s = timer->data;
  if (s->upload != NULL &&
      hpt_artifact_upload_pump(s->upload, s->socket, PUMP_CHUNKS) == 1)
    hpt__daemon_end_upload(s, false);
}

/* Starts sending trial t's artifact files; its TrialComplete follows the
 * last chunk. The upload takes over the artifact directory. False when it
 * cannot start (the complete is then sent at once without files). */
static bool start_upload(daemon_state_t *s, trial_t *t,
                         const Hpt__Envelope *complete) {
  hpt_error_t error;
  size_t length = hpt__envelope__get_packed_size(complete);
  uint8_t *bytes = malloc(length ? length : 1);
  if (bytes == NULL ||
      hpt_artifact_upload_new(t->artifact_dir, t->study_id, t->number,
                              &s->upload, &error) < 0) {
    free(bytes);
    hpt_log(HPT_LOG_WARN, "artifacts_not_sent", "trial=%d error=\"%s\"",
            t->number, bytes ? error.message : "out of memory");
    return false;
  }
  hpt__envelope__pack(complete, bytes);
  s->upload_complete = bytes;
  s->upload_complete_length = length;
  s->upload_study_id = t->study_id;
  s->upload_number = t->number;
  s->upload_started_ms = uv_now(s->loop);
  snprintf(s->upload_dir, sizeof s->upload_dir, "%s", t->artifact_dir);
  t->artifact_dir[0] = '\0'; /* the upload removes it */
  uv_timer_start(&s->pump, on_pump, 0, PUMP_INTERVAL_MS);
  return true;
}

/* Removes the trial's artifact directory and what it holds. */
static void remove_artifacts(trial_t *t) {
  hpt_artifact_dir_remove(t->artifact_dir);
  t->artifact_dir[0] = '\0';
}

/* Sends the trial's outcome: PRUNED (killed on a verdict), COMPLETE (exit 0
 * and a value line; after its artifact files when the study keeps models)
 * or FAIL with the best reason known. */
static void report_outcome(trial_t *t) {
  daemon_state_t *s = t->daemon;
  double duration_s = (double)(uv_now(s->loop) - t->started_ms) / 1000.0;
  if (t->prune_requested) {
    Hpt__TrialComplete complete = HPT__TRIAL_COMPLETE__INIT;
    complete.study_id = t->study_id;
    complete.number = t->number;
    complete.value = t->has_last_step ? t->last_step_value : NAN;
    complete.duration_s = duration_s;
    complete.pruned = true;
    Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
    envelope.body_case = HPT__ENVELOPE__BODY_COMPLETE;
    envelope.complete = &complete;
    hpt__daemon_send(s, &envelope);
    hpt_log(HPT_LOG_INFO, "trial_pruned", "trial=%d", t->number);
    return;
  }
  if (t->exit_status == 0 && t->term_signal == 0 && t->has_value) {
    Hpt__Metric metrics[MAX_METRICS];
    Hpt__Metric *pointers[MAX_METRICS];
    for (size_t i = 0; i < t->n_metrics; i++) {
      hpt__metric__init(&metrics[i]);
      metrics[i].name = t->metric_names[i];
      metrics[i].value = t->metric_values[i];
      pointers[i] = &metrics[i];
    }
    Hpt__TrialComplete complete = HPT__TRIAL_COMPLETE__INIT;
    complete.study_id = t->study_id;
    complete.number = t->number;
    complete.value = t->value;
    complete.duration_s = duration_s;
    complete.n_metrics = t->n_metrics;
    complete.metrics = pointers;
    Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
    envelope.body_case = HPT__ENVELOPE__BODY_COMPLETE;
    envelope.complete = &complete;
    if (t->artifact_dir[0] == '\0' || !start_upload(s, t, &envelope))
      hpt__daemon_send(s, &envelope);
    hpt_log(HPT_LOG_INFO, "trial_complete", "trial=%d value=%.6g seconds=%.2f",
            t->number, t->value, duration_s);
    return;
  }
  char reason[700];
  if (t->error_text[0] != '\0')
    snprintf(reason, sizeof reason, "%s", t->error_text);
  else if (t->term_signal != 0)
    snprintf(reason, sizeof reason, "trial process killed by signal %d (%s)",
             t->term_signal, strsignal(t->term_signal));
  else if (t->exit_status != 0)
    snprintf(reason, sizeof reason, "trial process exited with status %lld",
             (long long)t->exit_status);
  else
    snprintf(reason, sizeof reason, "trial process printed no value");
  /* A trial process killed by a signal (the OOM killer, a crash) may well
   * succeed elsewhere; an objective that reported an error will not. */
  bool retryable = t->error_text[0] == '\0' && t->term_signal != 0;
  fail_trial(s, t->study_id, t->number, reason, duration_s, retryable);
}

static void on_trial_handle_closed(uv_handle_t *handle) {
  trial_t *t = handle->data;
  if (--t->open_handles == 0)
    free(t);
}

/* Called when the process has exited or its stdout has closed; acts once
 * both have happened (the last lines may still be in the pipe when the exit
 * is seen). */
static void finish_trial(trial_t *t) {
  if (!t->process_exited || !t->out_closed)
    return;
  daemon_state_t *s = t->daemon;
  if (t->line_length > 0) {
    t->line[t->line_length] = '\0';
    handle_line(t, t->line);
    t->line_length = 0;
  }
  /* When stopping, stop_daemon has already reported the trial as FAIL. */
  if (!s->stopping)
    report_outcome(t);
  remove_artifacts(t);
  if (s->trial == t)
    s->trial = NULL;
  uv_close((uv_handle_t *)&t->process, on_trial_handle_closed);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  static char buffer[65536];
  (void)handle;
  (void)suggested;
  *buf = uv_buf_init(buffer, sizeof buffer);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  trial_t *t = stream->data;
  if (nread < 0) {
    uv_close((uv_handle_t *)stream, on_trial_handle_closed);
    t->out_closed = true;
    finish_trial(t);
    return;
  }
  for (ssize_t i = 0; i < nread; i++) {
    char c = buf->base[i];
    if (c == '\n') {
      t->line[t->line_length] = '\0';
      handle_line(t, t->line);
      t->line_length = 0;
    } else if (t->line_length + 1 < sizeof t->line) {
      t->line[t->line_length++] = c;
    }
  }
}

static void on_trial_exit(uv_process_t *process, int64_t exit_status,
                          int term_signal) {
  trial_t *t = process->data;
  t->process_exited = true;
  t->exit_status = exit_status;
  t->term_signal = term_signal;
  finish_trial(t);
}

/* Appends a copy of text to argv; returns -1 on OOM. */
static int push_arg(char ***args, size_t *count, const char *text) {
  char **grown = realloc(*args, (*count + 2) * sizeof **args);
  if (grown == NULL)
    return -1;
  *args = grown;
  if ((grown[*count] = strdup(text)) == NULL)
    return -1;
  grown[++*count] = NULL;
  return 0;
}

static void free_args(char **args, size_t count) {
  for (size_t i = 0; i < count; i++)
    free(args[i]);
  free(args);
}

/* argv of the trial process for an assignment (see trial_process.h), or
 * NULL when out of memory. */
static char **trial_args(daemon_state_t *s, const Hpt__TrialAssign *assign,
                         size_t *count) {
  char **args = NULL;
  char text[8192];
  *count = 0;
  int bad = push_arg(&args, count, s->config->trial_program) ||
            push_arg(&args, count, "run-trial");
  for (size_t i = 0; i < assign->n_objective && !bad; i++) {
    const Hpt__Setting *setting = assign->objective[i];
    if (setting->is_list) {
      for (size_t j = 0; j < setting->n_values && !bad; j++) {
        snprintf(text, sizeof text, "%s[]=%s", setting->key,
                 setting->values[j]);
        bad =
            push_arg(&args, count, "--setting") || push_arg(&args, count, text);
      }
    } else {
      snprintf(text, sizeof text, "%s=%s", setting->key, setting->value);
      bad = push_arg(&args, count, "--setting") || push_arg(&args, count, text);
    }
  }
  /* The params twice: as text for --param, and as one typed JSON object
   * (the command objective hands it to the user's program). */
  char *json = NULL;
  size_t json_size = 0;
  FILE *json_stream = open_memstream(&json, &json_size);
  bad = bad || json_stream == NULL;
  if (!bad)
    fputc('{', json_stream);
  for (size_t i = 0; i < assign->n_params && !bad; i++) {
    const Hpt__Param *param = assign->params[i];
    snprintf(text, sizeof text, "%s=%s", param->name, param->value);
    bad = push_arg(&args, count, "--param") || push_arg(&args, count, text);
    fprintf(json_stream, "%s\"%s\": %s", i ? ", " : "", param->name,
            param->json && param->json[0] ? param->json : "null");
  }
  if (json_stream != NULL) {
    fputc('}', json_stream);
    fclose(json_stream);
    bad = bad || push_arg(&args, count, "--params-json") ||
          push_arg(&args, count, json);
  }
  free(json);
  if (bad) {
    free_args(args, *count);
    return NULL;
  }
  return args;
}

/* Setting `key` of an assignment, or NULL. */
static const char *assign_setting(const Hpt__TrialAssign *assign,
                                  const char *key) {
  for (size_t i = 0; i < assign->n_objective; i++)
    if (!assign->objective[i]->is_list &&
        strcmp(assign->objective[i]->key, key) == 0)
      return assign->objective[i]->value;
  return NULL;
}

static void report_inline_step(void *user, int step, double value) {
  (void)user;
  (void)step;
  (void)value; /* an instant noop trial reports no steps on the wire */
}

/* The noop objective without sleep or steps is answered here, without a
 * trial process: what a benchmark of the job queue should measure is the
 * queue, not fork/exec. Returns false when the trial needs a process. */
static bool run_instant_noop(daemon_state_t *s,
                             const Hpt__TrialAssign *assign) {
  const char *type = assign_setting(assign, "type");
  const char *sleep_ms = assign_setting(assign, "sleep_ms");
  const char *steps = assign_setting(assign, "steps");
  if (type == NULL || strcmp(type, "noop") != 0 ||
      (sleep_ms != NULL && atof(sleep_ms) != 0) ||
      (steps != NULL && atoi(steps) != 0) || assign->n_params > 256)
    return false;
  hpt_objective_param_t params[256];
  for (size_t i = 0; i < assign->n_params; i++) {
    params[i].name = assign->params[i]->name;
    params[i].value = assign->params[i]->value;
  }
  hpt_options_t settings = {0};
  hpt_objective_call_t call = {.settings = &settings,
                               .params = params,
                               .n_params = assign->n_params,
                               .report = report_inline_step};
  hpt_objective_result_t result;
  hpt_error_t error;
  if (hpt_objective_noop_run(&call, &result, &error) < 0) {
    hpt__daemon_send_failed(s, assign->study_id, assign->number, error.message,
                            0.0, false);
    return true;
  }
  Hpt__TrialComplete complete = HPT__TRIAL_COMPLETE__INIT;
  complete.study_id = assign->study_id;
  complete.number = assign->number;
  complete.value = result.value;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_COMPLETE;
  envelope.complete = &complete;
  hpt__daemon_send(s, &envelope);
  return true;
}

void hpt__daemon_start_trial(daemon_state_t *s,
                             const Hpt__TrialAssign *assign) {
  if (s->upload != NULL) {
    /* The coordinator has moved on (it failed the trial meanwhile): the
     * rest of the files would be dropped as late. */
    hpt_log(HPT_LOG_WARN, "artifacts_abandoned", "trial=%d", s->upload_number);
    free(s->upload_complete);
    s->upload_complete = NULL;
    hpt__daemon_end_upload(s, true);
  }
  bool busy = s->trial != NULL || s->check != NULL;
  if (!busy && run_instant_noop(s, assign))
    return;
  if (busy) {
    hpt_log(HPT_LOG_WARN, "assign_while_busy", "trial=%d busy_with=%d",
            assign->number, s->trial ? s->trial->number : s->held.number);
    Hpt__TrialFailed failed = HPT__TRIAL_FAILED__INIT;
    failed.study_id = assign->study_id;
    failed.number = assign->number;
    failed.reason = "worker already runs a trial";
    failed.not_started = true;
    Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
    envelope.body_case = HPT__ENVELOPE__BODY_FAILED;
    envelope.failed = &failed;
    hpt__daemon_send(s, &envelope);
    return;
  }
  size_t count = 0;
  char **args = trial_args(s, assign, &count);
  trial_t *t = args ? calloc(1, sizeof *t) : NULL;
  if (t == NULL) {
    if (args)
      free_args(args, count);
    hpt__daemon_send_failed(s, assign->study_id, assign->number,
                            "worker out of memory starting the trial", 0.0,
                            true);
    return;
  }
  if (assign->keep_artifacts) {
    snprintf(t->artifact_dir, sizeof t->artifact_dir,
             "/tmp/hpt-artifacts-XXXXXX");
    if (mkdtemp(t->artifact_dir) == NULL ||
        push_arg(&args, &count, "--artifact-dir") ||
        push_arg(&args, &count, t->artifact_dir)) {
      hpt_log(HPT_LOG_WARN, "artifact_dir_failed", "trial=%d", assign->number);
      t->artifact_dir[0] = '\0';
    }
  }
  t->daemon = s;
  t->study_id = assign->study_id;
  t->number = assign->number;
  t->started_ms = uv_now(s->loop);
  uv_pipe_init(s->loop, &t->out, 0);
  t->out.data = t;
  t->process.data = t;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *)&t->out;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  uv_process_options_t options;
  memset(&options, 0, sizeof options);
  options.file = s->config->trial_program;
  options.args = args;
  options.exit_cb = on_trial_exit;
  options.stdio_count = 3;
  options.stdio = stdio;
  int rc = uv_spawn(s->loop, &t->process, &options);
  free_args(args, count);
  t->open_handles = 2;
  if (rc < 0) {
    char reason[300];
    snprintf(reason, sizeof reason, "cannot start trial process %s: %s",
             s->config->trial_program, uv_strerror(rc));
    remove_artifacts(t);
    uv_close((uv_handle_t *)&t->out, on_trial_handle_closed);
    uv_close((uv_handle_t *)&t->process, on_trial_handle_closed);
    hpt__daemon_send_failed(s, assign->study_id, assign->number, reason, 0.0,
                            false);
    return;
  }
  s->trial = t;
  uv_read_start((uv_stream_t *)&t->out, on_alloc, on_read);
  hpt_log(HPT_LOG_INFO, "trial_started", "study=%s trial=%d pid=%d",
          assign->study, assign->number, t->process.pid);
}
