/* daemon.c — see daemon.h: the worker daemon's side facing the
 * coordinator (Hello, heartbeats, messages, stopping); the running trial
 * is daemon_trial.c's (daemon_internal.h). */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "daemon_internal.h"
#include "log.h"
#include "wire.h"
#include "zmq_watch.h"

/* Keeps a copy of a trial result until the next assignment. */
static void keep_result(daemon_state_t *s, const Hpt__Envelope *envelope) {
  size_t length = hpt__envelope__get_packed_size(envelope);
  uint8_t *bytes = malloc(length ? length : 1);
  if (bytes == NULL)
    return;
  hpt__envelope__pack(envelope, bytes);
  free(s->pending_result);
  s->pending_result = bytes;
  s->pending_result_length = length;
}

void hpt__daemon_send(daemon_state_t *s, Hpt__Envelope *envelope) {
  hpt_error_t error;
  if (envelope->body_case == HPT__ENVELOPE__BODY_COMPLETE ||
      (envelope->body_case == HPT__ENVELOPE__BODY_FAILED &&
       !envelope->failed->not_started))
    keep_result(s, envelope);
  if (hpt_wire_send(s->socket, NULL, envelope, &error) < 0)
    hpt_log(HPT_LOG_WARN, "send_failed", "body=%s error=\"%s\"",
            hpt_wire_body_name(envelope), error.message);
}

/* After re-introducing ourselves to a coordinator that did not know us:
 * the result it may never have handled goes again (a duplicate is recorded
 * as late and changes nothing). */
static void resend_pending_result(daemon_state_t *s) {
  if (s->pending_result == NULL)
    return;
  hpt_error_t error;
  if (hpt_wire_send_packed(s->socket, NULL, s->pending_result,
                           s->pending_result_length, &error) < 0)
    hpt_log(HPT_LOG_WARN, "send_failed", "body=result error=\"%s\"",
            error.message);
}

static void send_hello(daemon_state_t *s) {
  char hostname[256] = "unknown";
  gethostname(hostname, sizeof hostname - 1);
  char *devices[1] = {(char *)s->config->device};
  Hpt__Hello hello = HPT__HELLO__INIT;
  hello.worker_id = (char *)s->config->worker_id;
  hello.hostname = hostname;
  hello.n_devices = 1;
  hello.devices = devices;
  hello.protocol_version = s->config->protocol_version
                               ? s->config->protocol_version
                               : HPT_WIRE_PROTOCOL_VERSION;
  hello.slots = 1;
  hello.session = s->session;
  hello.n_tags = s->config->n_tags;
  hello.tags = (char **)s->config->tags;
  hello.memory_gb = s->config->memory_gb;
  /* After a coordinator restart, the trial still running here is
   * re-announced so that the new coordinator adopts it. */
  if (s->trial != NULL) {
    hello.current_study_id = s->trial->study_id;
    hello.current_number = s->trial->number;
  } else if (s->check != NULL) {
    hello.current_study_id = s->held.study_id;
    hello.current_number = s->held.number;
  } else if (s->upload != NULL) {
    hello.current_study_id = s->upload_study_id;
    hello.current_number = s->upload_number;
  }
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_HELLO;
  envelope.hello = &hello;
  hpt__daemon_send(s, &envelope);
}

static void send_heartbeat(daemon_state_t *s) {
  Hpt__Heartbeat heartbeat = HPT__HEARTBEAT__INIT;
  heartbeat.study_id = s->trial    ? s->trial->study_id
                       : s->check  ? s->held.study_id
                       : s->upload ? s->upload_study_id
                                   : 0;
  heartbeat.number = s->trial    ? s->trial->number
                     : s->check  ? s->held.number
                     : s->upload ? s->upload_number
                                 : -1;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_HEARTBEAT;
  envelope.heartbeat = &heartbeat;
  hpt__daemon_send(s, &envelope);
}

/* retryable: the failure is not the objective's (see hpt.proto). */
void hpt__daemon_send_failed(daemon_state_t *s, int64_t study_id, int number,
                             const char *reason, double duration_s,
                             bool retryable) {
  Hpt__TrialFailed failed = HPT__TRIAL_FAILED__INIT;
  failed.study_id = study_id;
  failed.number = number;
  failed.reason = (char *)reason;
  failed.duration_s = duration_s;
  failed.retryable = retryable;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_FAILED;
  envelope.failed = &failed;
  hpt__daemon_send(s, &envelope);
}

/* Tells the coordinator that this worker takes no more trials. */
void hpt__daemon_send_leaving(daemon_state_t *s, const char *reason) {
  Hpt__WorkerLeaving leaving = HPT__WORKER_LEAVING__INIT;
  leaving.reason = (char *)reason;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_LEAVING;
  envelope.leaving = &leaving;
  hpt__daemon_send(s, &envelope);
}

/* ---- coordinator messages ---------------------------------------------- */

/* A random 64-bit session id (urandom; time and pid if that fails). */
static uint64_t new_session_id(void) {
  uint64_t id = 0;
  FILE *random = fopen("/dev/urandom", "rb");
  if (random == NULL || fread(&id, sizeof id, 1, random) != 1)
    id = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
  if (random != NULL)
    fclose(random);
  return id ? id : 1;
}

static void on_readable(hpt_zmq_watch_t *watch) {
  daemon_state_t *s = watch->data;
  Hpt__Envelope *envelope = NULL;
  hpt_error_t error;
  int rc = hpt_wire_receive(s->socket, NULL, &envelope, &error);
  if (rc == 0)
    return;
  if (rc < 0) {
    hpt_log(HPT_LOG_WARN, "message_dropped", "reason=\"%s\"", error.message);
    return;
  }
  switch (envelope->body_case) {
  case HPT__ENVELOPE__BODY_WELCOME:
    s->welcomed = true;
    if (envelope->welcome->heartbeat_interval_ms > 0 &&
        envelope->welcome->heartbeat_interval_ms != s->heartbeat_ms) {
      s->heartbeat_ms = envelope->welcome->heartbeat_interval_ms;
      uv_timer_start(&s->heartbeat, s->heartbeat.timer_cb, s->heartbeat_ms,
                     s->heartbeat_ms);
    }
    hpt_log(HPT_LOG_INFO, "welcomed", "heartbeat_ms=%u", s->heartbeat_ms);
    break;
  case HPT__ENVELOPE__BODY_WHO_ARE_YOU:
    hpt_log(HPT_LOG_INFO, "reintroducing", "reason=\"coordinator asked\"");
    send_hello(s);
    resend_pending_result(s);
    break;
  case HPT__ENVELOPE__BODY_REFUSED:
    hpt_log(HPT_LOG_ERROR, "refused", "reason=\"%s\"",
            envelope->refused->reason);
    s->result = HPT_ERR(s->error, HPT_EUNSUPPORTED,
                        "coordinator refused this worker: %s",
                        envelope->refused->reason);
    hpt__daemon_stop(s);
    break;
  case HPT__ENVELOPE__BODY_ASSIGN:
    /* A new assignment means the coordinator has our last result. */
    free(s->pending_result);
    s->pending_result = NULL;
    hpt__daemon_start_trial(s, envelope->assign);
    break;
  case HPT__ENVELOPE__BODY_VERDICT: {
    const Hpt__PruneVerdict *verdict = envelope->verdict;
    trial_t *t = s->trial;
    if (verdict->prune && t != NULL && !t->prune_requested &&
        verdict->study_id == t->study_id && verdict->number == t->number) {
      t->prune_requested = true;
      uv_process_kill(&t->process, SIGKILL);
      hpt_log(HPT_LOG_INFO, "prune_verdict", "trial=%d step=%d", t->number,
              verdict->step);
    }
    break;
  }
  default:
    hpt_log(HPT_LOG_WARN, "message_dropped", "reason=\"unexpected %s\"",
            hpt_wire_body_name(envelope));
  }
  hpt_wire_free(envelope);
}

static void on_heartbeat(uv_timer_t *timer) {
  daemon_state_t *s = timer->data;
  /* Until welcomed, keep introducing ourselves: the coordinator may not be
   * up yet, or may have dropped our first Hello. */
  if (!s->welcomed) {
    /* A CURVE handshake that fails is silent on this side: say once what
     * the likely causes are. */
    if (++s->unanswered_hellos == 10)
      hpt_log(HPT_LOG_WARN, "coordinator_silent",
              "connect=%s hellos=%u note=\"%s\"", s->config->connect,
              s->unanswered_hellos,
              s->config->curve != NULL
                  ? "not up yet, a wrong --server-key, or this worker's "
                    "public key is not in the coordinator's --allow list"
                  : "not up yet, or it requires CURVE keys");
    send_hello(s);
  } else
    send_heartbeat(s);
}

void hpt__daemon_stop(daemon_state_t *s) {
  if (s->stopping)
    return;
  s->stopping = true;
  trial_t *t = s->trial;
  if (t != NULL) {
    hpt__daemon_send_failed(
        s, t->study_id, t->number, "worker stopped during the trial",
        (double)(uv_now(s->loop) - t->started_ms) / 1000.0, true);
    uv_process_kill(&t->process, SIGKILL);
  }
  if (s->check != NULL) {
    /* Stopped before the GPU's answer came: the failure goes as it was. */
    hpt_device_check_cancel(&s->check);
    hpt__daemon_send_held_failure(s);
  }
  if (s->upload != NULL)
    hpt__daemon_end_upload(
        s, true); /* the result goes, the rest of the files not */
  uv_close((uv_handle_t *)&s->pump, NULL);
  uv_timer_stop(&s->heartbeat);
  uv_close((uv_handle_t *)&s->heartbeat, NULL);
  uv_close((uv_handle_t *)&s->sigint, NULL);
  uv_close((uv_handle_t *)&s->sigterm, NULL);
  hpt_zmq_watch_close(&s->watch);
}

static void on_signal(uv_signal_t *handle, int signum) {
  daemon_state_t *s = handle->data;
  hpt_log(HPT_LOG_INFO, "stopping", "signal=%d", signum);
  hpt__daemon_stop(s);
}

int hpt_worker_run(const hpt_worker_config_t *config, hpt_error_t *error) {
  if (config->exit_with_parent) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1)
      return HPT_ERR(error, HPT_ESTATE, "parent already exited");
  }
  daemon_state_t state;
  memset(&state, 0, sizeof state);
  daemon_state_t *s = &state;
  s->config = config;
  s->error = error;
  s->heartbeat_ms = 1000;
  s->session = new_session_id();
  uv_loop_t loop;
  int rc = uv_loop_init(&loop);
  if (rc < 0)
    return HPT_ERR(error, HPT_ESYSTEM, "uv_loop_init: %s", uv_strerror(rc));
  s->loop = &loop;
  s->context = zmq_ctx_new();
  if (s->context == NULL) {
    rc = HPT_ERR(error, HPT_ESYSTEM, "zmq_ctx_new: %s",
                 zmq_strerror(zmq_errno()));
    goto out_loop;
  }
  if ((rc = hpt_wire_socket(s->context, ZMQ_DEALER, config->worker_id,
                            &s->socket, error)) < 0)
    goto out_context;
  if (config->curve != NULL &&
      (rc = hpt_wire_socket_secure(s->socket, config->curve, error)) < 0)
    goto out_socket;
  if (zmq_connect(s->socket, config->connect) != 0) {
    rc = HPT_ERR(error, HPT_EINVAL, "cannot connect to %s: %s", config->connect,
                 zmq_strerror(zmq_errno()));
    goto out_socket;
  }
  s->watch.data = s;
  if ((rc = hpt_zmq_watch_start(&loop, &s->watch, s->socket, on_readable,
                                error)) < 0)
    goto out_socket;
  uv_timer_init(&loop, &s->heartbeat);
  s->heartbeat.data = s;
  uv_timer_init(&loop, &s->pump);
  s->pump.data = s;
  uv_timer_start(&s->heartbeat, on_heartbeat, s->heartbeat_ms, s->heartbeat_ms);
  uv_signal_init(&loop, &s->sigint);
  uv_signal_init(&loop, &s->sigterm);
  s->sigint.data = s->sigterm.data = s;
  uv_signal_start(&s->sigint, on_signal, SIGINT);
  uv_signal_start(&s->sigterm, on_signal, SIGTERM);
  hpt_log(HPT_LOG_INFO, "worker_started",
          "id=%s connect=%s device=%s security=%s", config->worker_id,
          config->connect, config->device,
          config->curve != NULL ? "curve" : "plain");
  send_hello(s);
  /* A send may leave ZeroMQ's pending commands unprocessed and ZMQ_FD
   * quiet (zmq_watch.h): outside a loop callback nothing drains after it,
   * so without this the Welcome would wait for the first heartbeat tick. */
  hpt_zmq_watch_drain(&s->watch);
  uv_run(&loop, UV_RUN_DEFAULT);
  rc = s->result;
  {
    /* Give the last messages (a FAIL for the interrupted trial) a moment to
     * leave before the socket closes. */
    int linger = 1000;
    zmq_setsockopt(s->socket, ZMQ_LINGER, &linger, sizeof linger);
  }
out_socket:
  zmq_close(s->socket);
out_context:
  zmq_ctx_term(s->context);
out_loop:
  uv_loop_close(&loop);
  free(s->pending_result);
  free(s->upload_complete);
  hpt_artifact_upload_destroy(&s->upload);
  return rc;
}
