/* dispatcher.c — see dispatcher.h.
 *
 * Workers live in a flat array: a coordinator serves tens to hundreds of
 * them, and a linear scan per message is cheaper than it sounds next to a
 * PostgreSQL write. Issue-4 scale work may replace it with a hash table.
 */
#include "dispatcher.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "space.h"
#include "wire.h"
#include "zmq_watch.h"

typedef struct worker_entry {
  hpt_wire_peer_t peer;
  char id[128];
  char hostname[128];
  uint64_t last_seen_ms;
  uint64_t last_trial_heartbeat_ms;
  hpt_study_t *study; /* NULL when idle */
  int number;         /* trial it runs when study != NULL */
  bool in_use;
} worker_entry_t;

struct hpt_dispatcher {
  uv_loop_t *loop;
  hpt_dispatcher_config_t config;
  void *socket;
  char endpoint[256];
  hpt_zmq_watch_t watch;
  uv_timer_t timer;
  hpt_study_t **studies;
  size_t n_studies;
  size_t next_study; /* round-robin cursor */
  worker_entry_t *workers;
  size_t n_workers; /* slots used (some may be !in_use) */
  size_t workers_capacity;
  size_t n_connected;
  hpt_dispatcher_change_cb on_change;
  void *on_change_data;
  bool paused;
  bool closed;
};

static void notify_change(hpt_dispatcher_t *d) {
  if (d->on_change != NULL)
    d->on_change(d, d->on_change_data);
}

static worker_entry_t *find_worker(hpt_dispatcher_t *d,
                                   const hpt_wire_peer_t *peer) {
  for (size_t i = 0; i < d->n_workers; i++) {
    worker_entry_t *w = &d->workers[i];
    if (w->in_use && w->peer.length == peer->length &&
        memcmp(w->peer.bytes, peer->bytes, peer->length) == 0)
      return w;
  }
  return NULL;
}

static worker_entry_t *add_worker(hpt_dispatcher_t *d) {
  for (size_t i = 0; i < d->n_workers; i++)
    if (!d->workers[i].in_use)
      return memset(&d->workers[i], 0, sizeof d->workers[i]);
  if (d->n_workers == d->workers_capacity) {
    size_t capacity = d->workers_capacity ? d->workers_capacity * 2 : 16;
    worker_entry_t *grown = realloc(d->workers, capacity * sizeof *grown);
    if (grown == NULL)
      return NULL;
    d->workers = grown;
    d->workers_capacity = capacity;
  }
  worker_entry_t *w = &d->workers[d->n_workers++];
  memset(w, 0, sizeof *w);
  return w;
}

static void send_envelope(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer,
                          const Hpt__Envelope *envelope) {
  hpt_error_t error;
  if (hpt_wire_send(d->socket, peer, envelope, &error) < 0) {
    char text[128];
    hpt_wire_peer_text(peer, text, sizeof text);
    hpt_log(HPT_LOG_WARN, "send_failed", "peer=%s body=%s error=\"%s\"", text,
            hpt_wire_body_name(envelope), error.message);
  }
}

static void send_who_are_you(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer) {
  Hpt__WhoAreYou body = HPT__WHO_ARE_YOU__INIT;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_WHO_ARE_YOU;
  envelope.who_are_you = &body;
  send_envelope(d, peer, &envelope);
}

/* Ends the trial a worker holds (lost worker, failed send) as FAIL. */
static void fail_worker_trial(hpt_dispatcher_t *d, worker_entry_t *w,
                              const char *reason) {
  if (w->study == NULL)
    return;
  hpt_error_t error;
  if (hpt_study_finish(w->study, w->number, HPT_TRIAL_FAIL, NAN, NAN, NULL, 0,
                       reason, &error) < 0)
    hpt_log(HPT_LOG_ERROR, "trial_fail_record",
            "study=%s trial=%d error=\"%s\"", hpt_study_name(w->study),
            w->number, error.message);
  else
    hpt_log(HPT_LOG_WARN, "trial_failed",
            "study=%s trial=%d worker=%s reason=\"%s\"",
            hpt_study_name(w->study), w->number, w->id, reason);
  w->study = NULL;
  w->number = -1;
}

static void drop_worker(hpt_dispatcher_t *d, worker_entry_t *w,
                        const char *reason) {
  fail_worker_trial(d, w, reason);
  w->in_use = false;
  d->n_connected--;
}

/* ---- trial assignment -------------------------------------------------- */

static hpt_study_t *next_study_wanting_trial(hpt_dispatcher_t *d) {
  for (size_t k = 0; k < d->n_studies; k++) {
    size_t i = (d->next_study + k) % d->n_studies;
    if (hpt_study_wants_trial(d->studies[i])) {
      d->next_study = (i + 1) % d->n_studies;
      return d->studies[i];
    }
  }
  return NULL;
}

/* Builds and sends the TrialAssign for trial `number` of `study`. */
static int send_assignment(hpt_dispatcher_t *d, worker_entry_t *w,
                           hpt_study_t *study, int number, hpt_error_t *error) {
  const hpt_spec_t *spec = hpt_study_spec(study);
  const hpt_space_t *space = &spec->space;
  const double *values = hpt_study_trial_params(study, number);
  size_t n_params = space->n_params;
  size_t n_settings = spec->objective.count;
  Hpt__Param *params = calloc(n_params + 1, sizeof *params);
  Hpt__Param **param_pointers = calloc(n_params + 1, sizeof *param_pointers);
  char(*texts)[128] = calloc(n_params + 1, sizeof *texts);
  char(*jsons)[160] = calloc(n_params + 1, sizeof *jsons);
  Hpt__Setting *settings = calloc(n_settings + 1, sizeof *settings);
  Hpt__Setting **setting_pointers =
      calloc(n_settings + 1, sizeof *setting_pointers);
  int rc = HPT_OK;
  if (!params || !param_pointers || !texts || !jsons || !settings ||
      !setting_pointers) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory building an assignment");
    goto out;
  }
  size_t used = 0;
  for (size_t i = 0; i < n_params; i++) {
    if (isnan(values[i]))
      continue; /* inactive conditional parameter */
    hpt__param__init(&params[used]);
    params[used].name = space->params[i].name;
    hpt_space_format_value(&space->params[i], values[i], texts[used],
                           sizeof texts[used]);
    params[used].value = texts[used];
    hpt_space_value_json(&space->params[i], values[i], jsons[used],
                         sizeof jsons[used]);
    params[used].json = jsons[used];
    param_pointers[used] = &params[used];
    used++;
  }
  for (size_t i = 0; i < n_settings; i++) {
    const hpt_option_t *option = &spec->objective.items[i];
    hpt__setting__init(&settings[i]);
    settings[i].key = option->key;
    settings[i].is_list = option->is_list;
    settings[i].value = option->is_list ? "" : option->value;
    settings[i].n_values = option->n_values;
    settings[i].values = option->values;
    setting_pointers[i] = &settings[i];
  }
  Hpt__TrialAssign assign = HPT__TRIAL_ASSIGN__INIT;
  assign.study_id = hpt_study_id(study);
  assign.study = (char *)hpt_study_name(study);
  assign.number = number;
  assign.n_params = used;
  assign.params = param_pointers;
  assign.n_objective = n_settings;
  assign.objective = setting_pointers;
  assign.minimize = spec->direction == HPT_DIRECTION_MINIMIZE;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_ASSIGN;
  envelope.assign = &assign;
  rc = hpt_wire_send(d->socket, &w->peer, &envelope, error);
out:
  free(params);
  free(param_pointers);
  free(texts);
  free(jsons);
  free(settings);
  free(setting_pointers);
  return rc;
}

static void dispatch_pending(hpt_dispatcher_t *d) {
  if (d->paused || d->closed)
    return;
  bool changed = false;
  for (size_t i = 0; i < d->n_workers; i++) {
    worker_entry_t *w = &d->workers[i];
    if (!w->in_use || w->study != NULL)
      continue;
    hpt_study_t *study = next_study_wanting_trial(d);
    if (study == NULL)
      break;
    hpt_error_t error;
    int number = -1;
    if (hpt_study_start_trial(study, w->id, &number, &error) < 0) {
      hpt_log(HPT_LOG_ERROR, "trial_start_failed", "study=%s error=\"%s\"",
              hpt_study_name(study), error.message);
      break; /* most likely the database: retry on the next tick */
    }
    w->study = study;
    w->number = number;
    w->last_trial_heartbeat_ms = uv_now(d->loop);
    changed = true;
    if (send_assignment(d, w, study, number, &error) < 0) {
      drop_worker(d, w, "could not send the trial to its worker");
      continue;
    }
    hpt_log(HPT_LOG_INFO, "trial_assigned", "study=%s trial=%d worker=%s",
            hpt_study_name(study), number, w->id);
  }
  if (changed)
    notify_change(d);
}

/* ---- message handlers -------------------------------------------------- */

static void handle_hello(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer,
                         const Hpt__Hello *hello) {
  if (hello->protocol_version != HPT_WIRE_PROTOCOL_VERSION) {
    char reason[160];
    snprintf(reason, sizeof reason,
             "protocol version %u not supported (coordinator speaks %d)",
             hello->protocol_version, HPT_WIRE_PROTOCOL_VERSION);
    hpt_log(HPT_LOG_WARN, "worker_refused", "worker=%s reason=\"%s\"",
            hello->worker_id, reason);
    Hpt__Refused refused = HPT__REFUSED__INIT;
    refused.reason = reason;
    Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
    envelope.body_case = HPT__ENVELOPE__BODY_REFUSED;
    envelope.refused = &refused;
    send_envelope(d, peer, &envelope);
    return;
  }
  worker_entry_t *w = find_worker(d, peer);
  if (w != NULL) {
    /* The same process said hello again: whatever it ran is gone. */
    fail_worker_trial(d, w, "worker restarted its session");
  } else {
    w = add_worker(d);
    if (w == NULL) {
      hpt_log(HPT_LOG_ERROR, "worker_table_full", "worker=%s",
              hello->worker_id);
      return;
    }
    w->peer = *peer;
    w->in_use = true;
    w->number = -1;
    d->n_connected++;
  }
  snprintf(w->id, sizeof w->id, "%s", hello->worker_id);
  snprintf(w->hostname, sizeof w->hostname, "%s", hello->hostname);
  w->last_seen_ms = uv_now(d->loop);
  char devices[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < hello->n_devices && used < sizeof devices; i++)
    used += (size_t)snprintf(devices + used, sizeof devices - used, "%s%s",
                             i ? ", " : "", hello->devices[i]);
  hpt_error_t error;
  if (d->config.store != NULL &&
      hpt_store_worker_upsert(d->config.store, w->id, w->hostname, devices,
                              (int)hello->protocol_version, &error) < 0)
    hpt_log(HPT_LOG_ERROR, "worker_record_failed", "worker=%s error=\"%s\"",
            w->id, error.message);
  hpt_log(HPT_LOG_INFO, "worker_joined", "worker=%s host=%s devices=\"%s\"",
          w->id, w->hostname, devices);
  Hpt__Welcome welcome = HPT__WELCOME__INIT;
  welcome.protocol_version = HPT_WIRE_PROTOCOL_VERSION;
  welcome.heartbeat_interval_ms = d->config.heartbeat_interval_ms;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_WELCOME;
  envelope.welcome = &welcome;
  send_envelope(d, peer, &envelope);
  notify_change(d);
}

/* The worker's current trial if (study_id, number) names it, else NULL and
 * a log line: a message about a trial the worker no longer holds is late. */
static hpt_study_t *current_trial(hpt_dispatcher_t *d, worker_entry_t *w,
                                  int64_t study_id, int number,
                                  const char *what) {
  if (w->study != NULL && hpt_study_id(w->study) == study_id &&
      w->number == number)
    return w->study;
  hpt_log(HPT_LOG_WARN, "late_message",
          "worker=%s kind=%s study_id=%lld trial=%d note=\"not its current "
          "trial; ignored\"",
          w->id, what, (long long)study_id, number);
  return NULL;
}

static void handle_report(hpt_dispatcher_t *d, worker_entry_t *w,
                          const Hpt__Report *report) {
  hpt_study_t *study =
      current_trial(d, w, report->study_id, report->number, "report");
  bool prune = false;
  if (study != NULL) {
    hpt_error_t error;
    if (hpt_study_report(study, report->number, report->step, report->value,
                         &prune, &error) < 0) {
      hpt_log(HPT_LOG_ERROR, "report_failed", "study=%s trial=%d error=\"%s\"",
              hpt_study_name(study), report->number, error.message);
      prune = false;
    } else {
      hpt_log(HPT_LOG_DEBUG, "trial_report",
              "study=%s trial=%d step=%d value=%.6g prune=%d",
              hpt_study_name(study), report->number, report->step,
              report->value, prune);
    }
  }
  Hpt__PruneVerdict verdict = HPT__PRUNE_VERDICT__INIT;
  verdict.study_id = report->study_id;
  verdict.number = report->number;
  verdict.step = report->step;
  verdict.prune = prune;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_VERDICT;
  envelope.verdict = &verdict;
  send_envelope(d, &w->peer, &envelope);
  notify_change(d);
}

static void finish_trial(hpt_dispatcher_t *d, worker_entry_t *w,
                         hpt_trial_state_t state, double value,
                         double duration_s, const hpt_metric_t *metrics,
                         size_t n_metrics, const char *reason) {
  hpt_error_t error;
  if (hpt_study_finish(w->study, w->number, state, value, duration_s, metrics,
                       n_metrics, reason, &error) < 0) {
    hpt_log(HPT_LOG_ERROR, "trial_finish_failed",
            "study=%s trial=%d error=\"%s\"", hpt_study_name(w->study),
            w->number, error.message);
  } else {
    hpt_log(HPT_LOG_INFO, "trial_finished",
            "study=%s trial=%d state=%s value=%.6g duration_s=%.3f worker=%s",
            hpt_study_name(w->study), w->number, hpt_trial_state_name(state),
            value, duration_s, w->id);
  }
  w->study = NULL;
  w->number = -1;
  notify_change(d);
}

static void handle_complete(hpt_dispatcher_t *d, worker_entry_t *w,
                            const Hpt__TrialComplete *complete) {
  if (current_trial(d, w, complete->study_id, complete->number, "complete") ==
      NULL)
    return;
  hpt_metric_t metrics[32];
  size_t n_metrics = complete->n_metrics < 32 ? complete->n_metrics : 32;
  for (size_t i = 0; i < n_metrics; i++) {
    metrics[i].name = complete->metrics[i]->name;
    metrics[i].value = complete->metrics[i]->value;
  }
  finish_trial(d, w, complete->pruned ? HPT_TRIAL_PRUNED : HPT_TRIAL_COMPLETE,
               complete->value, complete->duration_s, metrics, n_metrics, NULL);
}

static void handle_failed(hpt_dispatcher_t *d, worker_entry_t *w,
                          const Hpt__TrialFailed *failed) {
  if (current_trial(d, w, failed->study_id, failed->number, "failed") == NULL)
    return;
  finish_trial(d, w, HPT_TRIAL_FAIL, NAN, failed->duration_s, NULL, 0,
               failed->reason);
}

static void handle_heartbeat(hpt_dispatcher_t *d, worker_entry_t *w,
                             const Hpt__Heartbeat *heartbeat) {
  uint64_t now = uv_now(d->loop);
  /* Trial heartbeats reach PostgreSQL at most every 5 s per trial: enough
   * for `trial_history` readers, cheap for the database. */
  if (w->study != NULL && now - w->last_trial_heartbeat_ms >= 5000) {
    hpt_error_t error;
    w->last_trial_heartbeat_ms = now;
    if (hpt_store_trial_heartbeat(d->config.store, hpt_study_id(w->study),
                                  w->number, &error) < 0)
      hpt_log(HPT_LOG_WARN, "heartbeat_record_failed", "error=\"%s\"",
              error.message);
  }
}

static void on_readable(hpt_zmq_watch_t *watch) {
  hpt_dispatcher_t *d = watch->data;
  hpt_wire_peer_t peer = {0};
  Hpt__Envelope *envelope = NULL;
  hpt_error_t error;
  int rc = hpt_wire_receive(d->socket, &peer, &envelope, &error);
  if (rc == 0)
    return;
  char peer_text[128];
  if (rc < 0) {
    hpt_wire_peer_text(&peer, peer_text, sizeof peer_text);
    hpt_log(HPT_LOG_WARN, "message_dropped", "peer=%s reason=\"%s\"", peer_text,
            error.message);
    return;
  }
  if (envelope->body_case == HPT__ENVELOPE__BODY_HELLO) {
    handle_hello(d, &peer, envelope->hello);
    goto out;
  }
  worker_entry_t *w = find_worker(d, &peer);
  if (w == NULL) {
    hpt_wire_peer_text(&peer, peer_text, sizeof peer_text);
    hpt_log(HPT_LOG_INFO, "unknown_peer", "peer=%s body=%s action=who_are_you",
            peer_text, hpt_wire_body_name(envelope));
    send_who_are_you(d, &peer);
    goto out;
  }
  w->last_seen_ms = uv_now(d->loop);
  switch (envelope->body_case) {
  case HPT__ENVELOPE__BODY_HEARTBEAT:
    handle_heartbeat(d, w, envelope->heartbeat);
    break;
  case HPT__ENVELOPE__BODY_REPORT:
    handle_report(d, w, envelope->report);
    break;
  case HPT__ENVELOPE__BODY_COMPLETE:
    handle_complete(d, w, envelope->complete);
    break;
  case HPT__ENVELOPE__BODY_FAILED:
    handle_failed(d, w, envelope->failed);
    break;
  default:
    hpt_log(HPT_LOG_WARN, "message_dropped",
            "worker=%s reason=\"unexpected %s\"", w->id,
            hpt_wire_body_name(envelope));
    break;
  }
out:
  hpt_wire_free(envelope);
  dispatch_pending(d);
}

/* ---- timer: leases and dispatch ----------------------------------------- */

static void on_timer(uv_timer_t *timer) {
  hpt_dispatcher_t *d = timer->data;
  uint64_t now = uv_now(d->loop);
  for (size_t i = 0; i < d->n_workers; i++) {
    worker_entry_t *w = &d->workers[i];
    if (!w->in_use || now - w->last_seen_ms <= d->config.heartbeat_grace_ms)
      continue;
    char reason[200];
    snprintf(reason, sizeof reason,
             "worker %s lost: no heartbeat for %.1f s (grace %.1f s)", w->id,
             (double)(now - w->last_seen_ms) / 1000.0,
             d->config.heartbeat_grace_ms / 1000.0);
    hpt_log(HPT_LOG_WARN, "worker_lost", "worker=%s silent_ms=%llu", w->id,
            (unsigned long long)(now - w->last_seen_ms));
    drop_worker(d, w, reason);
    notify_change(d);
  }
  dispatch_pending(d);
}

/* ---- lifecycle ---------------------------------------------------------- */

int hpt_dispatcher_new(uv_loop_t *loop, void *zmq_context,
                       const hpt_dispatcher_config_t *config,
                       hpt_dispatcher_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_dispatcher_t *d = calloc(1, sizeof *d);
  if (d == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory creating the dispatcher");
  d->loop = loop;
  d->config = *config;
  if (d->config.heartbeat_interval_ms == 0)
    d->config.heartbeat_interval_ms = 1000;
  if (d->config.heartbeat_grace_ms == 0)
    d->config.heartbeat_grace_ms = 10000;
  int rc = hpt_wire_socket(zmq_context, ZMQ_ROUTER, NULL, &d->socket, error);
  if (rc < 0)
    goto fail;
  if (zmq_bind(d->socket, config->bind) != 0) {
    rc = HPT_ERR(error, HPT_EIO, "cannot bind %s: %s", config->bind,
                 zmq_strerror(zmq_errno()));
    goto fail;
  }
  size_t size = sizeof d->endpoint;
  zmq_getsockopt(d->socket, ZMQ_LAST_ENDPOINT, d->endpoint, &size);
  d->watch.data = d;
  if ((rc = hpt_zmq_watch_start(loop, &d->watch, d->socket, on_readable,
                                error)) < 0)
    goto fail;
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  unsigned tick = d->config.heartbeat_interval_ms < 500
                      ? d->config.heartbeat_interval_ms
                      : 500;
  uv_timer_start(&d->timer, on_timer, tick, tick);
  hpt_log(HPT_LOG_INFO, "dispatcher_listening", "endpoint=%s", d->endpoint);
  *out = d;
  return HPT_OK;
fail:
  if (d->socket != NULL)
    zmq_close(d->socket);
  free(d);
  return rc;
}

const char *hpt_dispatcher_endpoint(const hpt_dispatcher_t *dispatcher) {
  return dispatcher->endpoint;
}

int hpt_dispatcher_add_study(hpt_dispatcher_t *d, hpt_study_t *study,
                             hpt_error_t *error) {
  hpt_study_t **grown =
      realloc(d->studies, (d->n_studies + 1) * sizeof *d->studies);
  if (grown == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory adding a study");
  d->studies = grown;
  d->studies[d->n_studies++] = study;
  return HPT_OK;
}

void hpt_dispatcher_on_change(hpt_dispatcher_t *d,
                              hpt_dispatcher_change_cb callback, void *data) {
  d->on_change = callback;
  d->on_change_data = data;
}

size_t hpt_dispatcher_worker_count(const hpt_dispatcher_t *d) {
  return d->n_connected;
}

void hpt_dispatcher_pause(hpt_dispatcher_t *d) { d->paused = true; }

void hpt_dispatcher_close(hpt_dispatcher_t *d) {
  if (d->closed)
    return;
  d->closed = true;
  uv_timer_stop(&d->timer);
  uv_close((uv_handle_t *)&d->timer, NULL);
  hpt_zmq_watch_close(&d->watch);
}

void hpt_dispatcher_destroy(hpt_dispatcher_t **dispatcher) {
  if (dispatcher == NULL || *dispatcher == NULL)
    return;
  hpt_dispatcher_t *d = *dispatcher;
  if (d->socket != NULL)
    zmq_close(d->socket);
  free(d->studies);
  free(d->workers);
  free(d);
  *dispatcher = NULL;
}
