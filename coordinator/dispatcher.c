/* dispatcher.c — see dispatcher.h. The worker table and the orphans of an
 * earlier coordinator live in dispatcher_workers.c. */
#include "dispatcher.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "artifact_receive.h"
#include "dispatcher_internal.h"
#include "log.h"
#include "space.h"

/* How often studies' states are re-read (stop/resume/delete from the CLI). */
#define STATE_POLL_MS 2000

static const char *const db_op_names[HPT_DISPATCHER_N_DB_OPS] = {
    "start", "report", "finish", "barrier"};

/* Records a database write that began at uv_hrtime() `started_ns`. */
static void db_timed(hpt_dispatcher_t *d, int op, uint64_t started_ns) {
  hpt_histogram_observe(&d->db_write[op],
                        (double)(uv_hrtime() - started_ns) / 1e9);
}

static void notify_change(hpt_dispatcher_t *d) {
  if (d->on_change != NULL)
    d->on_change(d, d->on_change_data);
}

/* Group commit: answers wait in the outbox (dispatcher_outbox.c). */
static void send_envelope(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer,
                          const Hpt__Envelope *envelope) {
  hpt__outbox_queue(d, peer, envelope);
}

static void send_who_are_you(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer) {
  Hpt__WhoAreYou body = HPT__WHO_ARE_YOU__INIT;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_WHO_ARE_YOU;
  envelope.who_are_you = &body;
  send_envelope(d, peer, &envelope);
}

/* ---- trial assignment -------------------------------------------------- */

/* The study this worker should serve next: among studies that want a
 * trial and whose `require` the worker meets, the one with the fewest
 * running trials per unit of weight (weighted fair share). */
static hpt_study_t *next_study_for(hpt_dispatcher_t *d,
                                   const hpt__worker_t *w) {
  hpt_worker_caps_t caps;
  hpt__worker_caps(w, &caps);
  hpt_study_t *chosen = NULL;
  double chosen_load = INFINITY;
  for (size_t i = 0; i < d->n_studies; i++) {
    hpt_study_t *study = d->studies[i];
    if (!hpt_study_wants_trial(study) ||
        !hpt_require_matches(&hpt_study_spec(study)->require, &caps))
      continue;
    hpt_study_progress_t progress;
    hpt_study_progress(study, &progress);
    double load = progress.running / hpt_study_spec(study)->weight;
    if (load < chosen_load) {
      chosen = study;
      chosen_load = load;
    }
  }
  return chosen;
}

/* Builds and sends the TrialAssign for trial `number` of `study`. */
static int send_assignment(hpt_dispatcher_t *d, hpt__worker_t *w,
                           hpt_study_t *study, int number, hpt_error_t *error) {
  const hpt_spec_t *spec = hpt_study_spec(study);
  const hpt_space_t *space = &spec->space;
  const double *values = hpt_study_trial_params(study, number);
  size_t n_params = space->n_params;
  size_t n_settings = spec->objective.count;
  Hpt__Param *params = calloc(n_params + 1, sizeof *params);
  Hpt__Param **param_pointers = calloc(n_params + 1, sizeof *param_pointers);
  char(*texts)[HPT_SPACE_VALUE_TEXT_MAX] = calloc(n_params + 1, sizeof *texts);
  char(*jsons)[HPT_SPACE_VALUE_JSON_MAX] = calloc(n_params + 1, sizeof *jsons);
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
  assign.keep_artifacts = spec->keep_top_k > 0;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_ASSIGN;
  envelope.assign = &assign;
  hpt__outgoing_t *out = hpt__outbox_queue(d, &w->peer, &envelope);
  if (out != NULL)
    out->idle_since_ns = w->idle_since_ns;
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
    hpt__worker_t *w = &d->workers[i];
    if (!w->in_use || !w->introduced || w->study != NULL || w->busy_elsewhere ||
        w->leaving)
      continue;
    hpt_study_t *study = next_study_for(d, w);
    if (study == NULL || w->idle_since_ns == 0) {
      /* Nothing to run (or it just stopped running a stale trial): its wait
       * from here on is the queue's, not the dispatcher's. */
      w->idle_since_ns = uv_hrtime();
      if (study == NULL)
        continue;
    }
    hpt_error_t error;
    int number = -1;
    uint64_t started_ns = uv_hrtime();
    int start_rc = hpt_study_start_trial(study, w->id, &number, &error);
    db_timed(d, HPT_DISPATCHER_DB_START, started_ns);
    if (start_rc < 0) {
      hpt_log(HPT_LOG_ERROR, "trial_start_failed", "study=%s error=\"%s\"",
              hpt_study_name(study), error.message);
      break; /* most likely the database: retry on the next tick */
    }
    w->study = study;
    w->number = number;
    w->last_trial_heartbeat_ms = uv_now(d->loop);
    changed = true;
    int send_rc = send_assignment(d, w, study, number, &error);
    w->idle_since_ns = 0;
    if (send_rc < 0) {
      hpt__worker_drop(d, w, error.message);
      continue;
    }
    hpt_log(HPT_LOG_INFO, "trial_assigned", "study=%s trial=%d worker=%s",
            hpt_study_name(study), number, w->id);
  }
  if (changed)
    notify_change(d);
}

/* ---- message handlers -------------------------------------------------- */

static void refuse(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer,
                   const char *worker_id, const char *reason) {
  hpt_log(HPT_LOG_WARN, "worker_refused", "worker=%s reason=\"%s\"", worker_id,
          reason);
  Hpt__Refused refused = HPT__REFUSED__INIT;
  refused.reason = (char *)reason;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_REFUSED;
  envelope.refused = &refused;
  send_envelope(d, peer, &envelope);
}

static void send_welcome(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer) {
  Hpt__Welcome welcome = HPT__WELCOME__INIT;
  welcome.protocol_version = HPT_WIRE_PROTOCOL_VERSION;
  welcome.heartbeat_interval_ms = d->config.heartbeat_interval_ms;
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_WELCOME;
  envelope.welcome = &welcome;
  send_envelope(d, peer, &envelope);
}

static void handle_hello(hpt_dispatcher_t *d, const hpt_wire_peer_t *peer,
                         const Hpt__Hello *hello) {
  if (hello->protocol_version != HPT_WIRE_PROTOCOL_VERSION) {
    char reason[160];
    snprintf(reason, sizeof reason,
             "protocol version %u not supported (coordinator speaks %d)",
             hello->protocol_version, HPT_WIRE_PROTOCOL_VERSION);
    refuse(d, peer, hello->worker_id, reason);
    return;
  }
  hpt__worker_t *w = hpt__worker_find(d, peer);
  bool known = w != NULL;
  if (w == NULL && (w = hpt__worker_add(d, peer)) == NULL) {
    hpt_log(HPT_LOG_ERROR, "worker_table_full", "worker=%s", hello->worker_id);
    return;
  }
  /* A Hello from the same worker process that we already know (queued while
   * the coordinator was away, or a re-send) is no restart: its trial stays,
   * whatever stale "current trial" the repeat carries. */
  bool repeat = known && hello->session != 0 && w->session == hello->session;
  hpt__worker_describe(w, hello);
  w->session = hello->session;
  w->last_seen_ms = uv_now(d->loop);
  if (repeat) {
    send_welcome(d, peer);
    return;
  }
  w->idle_since_ns = uv_hrtime(); /* matters only if it is idle */
  w->leaving = false; /* a new session: whatever made it leave is over */
  bool same_trial = w->study != NULL &&
                    hpt_study_id(w->study) == hello->current_study_id &&
                    w->number == hello->current_number;
  if (known && w->study != NULL && !same_trial)
    /* It says hello again without the trial we gave it: that one is gone. */
    hpt__worker_fail_trial(d, w, "worker restarted its session");
  w->busy_elsewhere = false;
  if (w->study == NULL && hello->current_study_id != 0 &&
      !hpt__orphans_adopt(d, w, hello->current_study_id,
                          hello->current_number)) {
    w->busy_elsewhere = true;
    hpt_log(HPT_LOG_WARN, "stale_trial",
            "worker=%s study_id=%lld trial=%d note=\"the worker runs a trial "
            "this coordinator no longer expects; its result will be kept as "
            "late\"",
            w->id, (long long)hello->current_study_id, hello->current_number);
  }
  char devices[512] = "", tags[HPT__MAX_TAGS * 50] = "";
  size_t used = 0;
  for (size_t i = 0; i < hello->n_devices && used < sizeof devices; i++)
    used += (size_t)snprintf(devices + used, sizeof devices - used, "%s%s",
                             i ? ", " : "", hello->devices[i]);
  used = 0;
  for (size_t i = 0; i < w->n_tags && used < sizeof tags; i++)
    used += (size_t)snprintf(tags + used, sizeof tags - used, "%s%s",
                             i ? ", " : "", w->tags[i]);
  hpt_error_t error;
  if (d->config.store != NULL &&
      hpt_store_worker_upsert(d->config.store, w->id, w->hostname, devices,
                              (int)hello->protocol_version, w->memory_gb, tags,
                              &error) < 0)
    hpt_log(HPT_LOG_ERROR, "worker_record_failed", "worker=%s error=\"%s\"",
            w->id, error.message);
  hpt_log(HPT_LOG_INFO, "worker_joined",
          "worker=%s host=%s devices=\"%s\" memory_gb=%g tags=%zu", w->id,
          w->hostname, devices, w->memory_gb, w->n_tags);
  send_welcome(d, peer);
  notify_change(d);
}

static hpt_study_t *study_by_id(hpt_dispatcher_t *d, int64_t study_id) {
  for (size_t i = 0; i < d->n_studies; i++)
    if (hpt_study_id(d->studies[i]) == study_id)
      return d->studies[i];
  return NULL;
}

/* The worker's current trial if (study_id, number) names it. Otherwise the
 * message is late — its lease expired and the trial was failed or retried —
 * and it is recorded as such, never applied. */
static hpt_study_t *current_trial(hpt_dispatcher_t *d, hpt__worker_t *w,
                                  int64_t study_id, int number,
                                  const char *kind, double value) {
  if (w->study != NULL && hpt_study_id(w->study) == study_id &&
      w->number == number)
    return w->study;
  /* A result re-sent after a coordinator restart, for a trial this worker
   * ran and nobody has claimed yet: adopt it and take the result. */
  if (w->study == NULL && strcmp(kind, "report") != 0 &&
      hpt__orphans_adopt(d, w, study_id, number))
    return w->study;
  hpt_log(HPT_LOG_WARN, "late_message",
          "worker=%s kind=%s study_id=%lld trial=%d note=\"not its current "
          "trial; recorded as late, not applied\"",
          w->id, kind, (long long)study_id, number);
  if (strcmp(kind, "report") != 0)
    w->busy_elsewhere = false; /* that old trial has ended */
  hpt_error_t error;
  if (study_by_id(d, study_id) != NULL &&
      hpt_store_late_message(d->config.store, study_id, number, w->id, kind,
                             value, &error) < 0)
    hpt_log(HPT_LOG_WARN, "late_message_record_failed", "error=\"%s\"",
            error.message);
  return NULL;
}

static void handle_report(hpt_dispatcher_t *d, hpt__worker_t *w,
                          const Hpt__Report *report) {
  hpt_study_t *study = current_trial(d, w, report->study_id, report->number,
                                     "report", report->value);
  bool prune = false;
  if (study != NULL) {
    hpt_error_t error;
    uint64_t started_ns = uv_hrtime();
    int rc = hpt_study_report(study, report->number, report->step,
                              report->value, &prune, &error);
    db_timed(d, HPT_DISPATCHER_DB_REPORT, started_ns);
    if (rc < 0) {
      hpt_log(HPT_LOG_ERROR, "report_failed", "study=%s trial=%d error=\"%s\"",
              hpt_study_name(study), report->number, error.message);
      prune = false;
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

static void finish_trial(hpt_dispatcher_t *d, hpt__worker_t *w,
                         const hpt_trial_outcome_t *outcome) {
  hpt_error_t error;
  uint64_t started_ns = uv_hrtime();
  w->idle_since_ns = started_ns;
  int rc = hpt_study_finish(w->study, w->number, outcome, &error);
  db_timed(d, HPT_DISPATCHER_DB_FINISH, started_ns);
  if (rc < 0)
    hpt_log(HPT_LOG_ERROR, "trial_finish_failed",
            "study=%s trial=%d error=\"%s\"", hpt_study_name(w->study),
            w->number, error.message);
  else
    hpt_log(HPT_LOG_INFO, "trial_finished",
            "study=%s trial=%d state=%s value=%.6g duration_s=%.3f worker=%s",
            hpt_study_name(w->study), w->number,
            hpt_trial_state_name(outcome->state), outcome->value,
            outcome->duration_s, w->id);
  w->study = NULL;
  w->number = -1;
  if (w->leaving) /* its last trial: nothing more will come from it */
    hpt__worker_drop(d, w, "worker left");
  notify_change(d);
}

static void handle_complete(hpt_dispatcher_t *d, hpt__worker_t *w,
                            const Hpt__TrialComplete *complete) {
  if (current_trial(d, w, complete->study_id, complete->number, "complete",
                    complete->value) == NULL)
    return;
  hpt_metric_t metrics[32];
  size_t n_metrics = complete->n_metrics < 32 ? complete->n_metrics : 32;
  for (size_t i = 0; i < n_metrics; i++) {
    metrics[i].name = complete->metrics[i]->name;
    metrics[i].value = complete->metrics[i]->value;
  }
  hpt_trial_outcome_t outcome = {.state = complete->pruned ? HPT_TRIAL_PRUNED
                                                           : HPT_TRIAL_COMPLETE,
                                 .value = complete->value,
                                 .duration_s = complete->duration_s,
                                 .metrics = metrics,
                                 .n_metrics = n_metrics,
                                 .worker_id = w->id};
  finish_trial(d, w, &outcome);
}

static void handle_failed(hpt_dispatcher_t *d, hpt__worker_t *w,
                          const Hpt__TrialFailed *failed) {
  if (current_trial(d, w, failed->study_id, failed->number, "failed", NAN) ==
      NULL)
    return;
  if (failed->not_started) {
    /* It is still busy with an earlier trial: the trial goes back to the
     * queue untouched, and this worker gets nothing until it is idle. */
    hpt_error_t error;
    if (hpt_study_requeue(w->study, w->number, &error) < 0)
      hpt_log(HPT_LOG_ERROR, "requeue_failed", "study=%s trial=%d error=\"%s\"",
              hpt_study_name(w->study), w->number, error.message);
    w->study = NULL;
    w->number = -1;
    w->busy_elsewhere = true;
    notify_change(d);
    return;
  }
  hpt_trial_outcome_t outcome = {.state = HPT_TRIAL_FAIL,
                                 .value = NAN,
                                 .duration_s = failed->duration_s,
                                 .fail_reason = failed->reason,
                                 .retryable = failed->retryable,
                                 .worker_id = w->id};
  finish_trial(d, w, &outcome);
}

/* Chunks of the worker's current trial's artifact files, streamed into the
 * store (artifact_receive.h). */
static void handle_artifact(hpt_dispatcher_t *d, hpt__worker_t *w,
                            const Hpt__ArtifactChunk *chunk) {
  if (w->study == NULL || hpt_study_id(w->study) != chunk->study_id ||
      w->number != chunk->number)
    return; /* late: the trial was failed or retried meanwhile */
  hpt_artifact_receive_chunk(&w->artifact, d->config.store, w->id, chunk);
}

/* Records that worker `id` leaves, for `reason` (WorkerLeaving): one log
 * line and its row in `workers`. */
static void record_leaving(hpt_dispatcher_t *d, const char *id,
                           const char *reason) {
  hpt_log(HPT_LOG_WARN, "worker_left", "worker=%s reason=\"%s\"", id, reason);
  hpt_error_t error;
  if (d->config.store != NULL &&
      hpt_store_worker_left(d->config.store, id, reason, &error) < 0)
    hpt_log(HPT_LOG_ERROR, "worker_record_failed", "worker=%s error=\"%s\"", id,
            error.message);
}

/* The worker takes no more trials and is about to exit: nothing more is
 * assigned to it. Its current trial's result follows this message (the
 * worker sends them in that order); once that has been applied
 * (finish_trial), or at once when it is idle, the worker is forgotten. */
static void handle_leaving(hpt_dispatcher_t *d, hpt__worker_t *w,
                           const Hpt__WorkerLeaving *leaving) {
  record_leaving(d, w->id, leaving->reason);
  w->leaving = true;
  if (w->study == NULL)
    hpt__worker_drop(d, w, "worker left");
  notify_change(d);
}

static void handle_heartbeat(hpt_dispatcher_t *d, hpt__worker_t *w,
                             const Hpt__Heartbeat *heartbeat) {
  uint64_t now = uv_now(d->loop);
  /* The heartbeat says what the worker really runs. */
  if (heartbeat->study_id == 0)
    w->busy_elsewhere = false;
  else if (w->study == NULL)
    w->busy_elsewhere = true;
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

/* A trial message from a peer this coordinator does not know (it restarted
 * while the worker ran; the worker's queued messages arrive before its new
 * Hello). The peer identity is the worker's id: if it ran that trial, the
 * worker is registered provisionally and adopts the trial, so nothing it
 * reports is lost. Either way it is asked to introduce itself. */
static hpt__worker_t *unknown_peer(hpt_dispatcher_t *d,
                                   const hpt_wire_peer_t *peer,
                                   const Hpt__Envelope *envelope) {
  send_who_are_you(d, peer);
  int64_t study_id = 0;
  int number = -1;
  switch (envelope->body_case) {
  case HPT__ENVELOPE__BODY_REPORT:
    study_id = envelope->report->study_id;
    number = envelope->report->number;
    break;
  case HPT__ENVELOPE__BODY_COMPLETE:
    study_id = envelope->complete->study_id;
    number = envelope->complete->number;
    break;
  case HPT__ENVELOPE__BODY_FAILED:
    study_id = envelope->failed->study_id;
    number = envelope->failed->number;
    break;
  case HPT__ENVELOPE__BODY_HEARTBEAT:
    study_id = envelope->heartbeat->study_id;
    number = envelope->heartbeat->number;
    break;
  default:
    break;
  }
  char id[128];
  hpt_wire_peer_text(peer, id, sizeof id);
  if (study_id == 0)
    return NULL;
  for (size_t i = 0; i < d->n_orphans; i++) {
    if (hpt_study_id(d->orphans[i].study) != study_id ||
        d->orphans[i].number != number ||
        strcmp(d->orphans[i].worker_id, id) != 0)
      continue;
    hpt__worker_t *w = hpt__worker_add(d, peer);
    if (w == NULL || !hpt__orphans_adopt(d, w, study_id, number))
      return NULL;
    w->last_seen_ms = uv_now(d->loop);
    return w;
  }
  /* Not an orphan: a worker whose lease expired (it was frozen or cut off)
   * speaks about a trial that has been failed and retried. Keep what it
   * says as late; never apply it. */
  const char *kind = NULL;
  double value = NAN;
  if (envelope->body_case == HPT__ENVELOPE__BODY_COMPLETE) {
    kind = "complete";
    value = envelope->complete->value;
  } else if (envelope->body_case == HPT__ENVELOPE__BODY_REPORT) {
    kind = "report";
    value = envelope->report->value;
  } else if (envelope->body_case == HPT__ENVELOPE__BODY_FAILED) {
    kind = "failed";
  }
  hpt_error_t error;
  if (kind != NULL && study_by_id(d, study_id) != NULL) {
    hpt_log(HPT_LOG_WARN, "late_message",
            "worker=%s kind=%s study_id=%lld trial=%d note=\"lease expired; "
            "recorded as late, not applied\"",
            id, kind, (long long)study_id, number);
    if (hpt_store_late_message(d->config.store, study_id, number, id, kind,
                               value, &error) < 0)
      hpt_log(HPT_LOG_WARN, "late_message_record_failed", "error=\"%s\"",
              error.message);
  }
  return NULL;
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
  hpt__worker_t *w = hpt__worker_find(d, &peer);
  if (w == NULL && envelope->body_case == HPT__ENVELOPE__BODY_LEAVING) {
    /* Not worth a WhoAreYou: it is on its way out. Its id is its peer
     * identity. */
    hpt_wire_peer_text(&peer, peer_text, sizeof peer_text);
    record_leaving(d, peer_text, envelope->leaving->reason);
    goto out;
  }
  if (w == NULL && (w = unknown_peer(d, &peer, envelope)) == NULL) {
    hpt_wire_peer_text(&peer, peer_text, sizeof peer_text);
    hpt_log(HPT_LOG_INFO, "unknown_peer", "peer=%s body=%s action=who_are_you",
            peer_text, hpt_wire_body_name(envelope));
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
  case HPT__ENVELOPE__BODY_ARTIFACT:
    handle_artifact(d, w, envelope->artifact);
    break;
  case HPT__ENVELOPE__BODY_LEAVING:
    handle_leaving(d, w, envelope->leaving);
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
  hpt__outbox_poll(d);
}

/* ---- timer: leases, orphans, study states, dispatch ---------------------- */

/* Re-reads each study's state: `hpt study stop` pauses it, `resume`
 * resumes it, a deleted study stops getting trials. */
static void poll_study_states(hpt_dispatcher_t *d) {
  for (size_t i = 0; i < d->n_studies; i++) {
    hpt_study_t *study = d->studies[i];
    hpt_study_state_t state;
    hpt_error_t error;
    int rc = hpt_store_study_get_state(d->config.store, hpt_study_id(study),
                                       &state, &error);
    if (rc == HPT_ENOTFOUND)
      state = HPT_STUDY_STOPPED; /* deleted: start nothing more */
    else if (rc < 0)
      continue;
    bool paused = state == HPT_STUDY_STOPPED;
    if (paused != hpt_study_paused(study)) {
      hpt_study_set_paused(study, paused);
      hpt_log(HPT_LOG_INFO, paused ? "study_stopped" : "study_resumed",
              "study=%s", hpt_study_name(study));
      notify_change(d);
    }
  }
}

static void on_drained(hpt_zmq_watch_t *watch) {
  hpt__outbox_flush(watch->data);
}

static void on_timer(uv_timer_t *timer) {
  hpt_dispatcher_t *d = timer->data;
  uint64_t now = uv_now(d->loop);
  /* A long gap between ticks means this process was stalled (a database
   * outage blocks the loop): the workers' silence then is not theirs. */
  uint64_t gap = now - d->last_tick_ms;
  uint64_t expected = d->config.heartbeat_interval_ms < 500
                          ? d->config.heartbeat_interval_ms
                          : 500;
  if (gap > expected + d->config.heartbeat_grace_ms / 2) {
    hpt_log(HPT_LOG_WARN, "coordinator_stalled",
            "ms=%llu note=\"leases extended\"", (unsigned long long)gap);
    hpt__leases_renew(d, now);
  }
  d->last_tick_ms = now;
  for (size_t i = 0; i < d->n_workers; i++) {
    hpt__worker_t *w = &d->workers[i];
    if (!w->in_use || now - w->last_seen_ms <= d->config.heartbeat_grace_ms)
      continue;
    char reason[200];
    snprintf(reason, sizeof reason,
             "worker %s lost: no heartbeat for %.1f s (grace %.1f s)", w->id,
             (double)(now - w->last_seen_ms) / 1000.0,
             d->config.heartbeat_grace_ms / 1000.0);
    hpt_log(HPT_LOG_WARN, "worker_lost", "worker=%s silent_ms=%llu", w->id,
            (unsigned long long)(now - w->last_seen_ms));
    hpt__worker_drop(d, w, reason);
    notify_change(d);
  }
  if (hpt__orphans_expire(d, now))
    notify_change(d);
  if (now - d->last_state_poll_ms >= STATE_POLL_MS) {
    d->last_state_poll_ms = now;
    poll_study_states(d);
  }
  dispatch_pending(d);
  hpt__outbox_poll(d);
  hpt__outbox_flush(d);
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
  hpt_histogram_init(&d->dispatch_latency, hpt_metrics_latency_bounds,
                     hpt_metrics_latency_n_bounds);
  for (int op = 0; op < HPT_DISPATCHER_N_DB_OPS; op++)
    hpt_histogram_init(&d->db_write[op], hpt_metrics_latency_bounds,
                       hpt_metrics_latency_n_bounds);
  if (d->config.heartbeat_interval_ms == 0)
    d->config.heartbeat_interval_ms = 1000;
  if (d->config.heartbeat_grace_ms == 0)
    d->config.heartbeat_grace_ms = 10000;
  int rc = hpt_wire_socket(zmq_context, ZMQ_ROUTER, NULL, &d->socket, error);
  if (rc < 0 ||
      (config->curve != NULL &&
       (rc = hpt_wire_socket_secure(d->socket, config->curve, error)) < 0))
    goto fail;
  if (zmq_bind(d->socket, config->bind) != 0) {
    rc = HPT_ERR(error, HPT_EIO, "cannot bind %s: %s", config->bind,
                 zmq_strerror(zmq_errno()));
    goto fail;
  }
  size_t size = sizeof d->endpoint;
  zmq_getsockopt(d->socket, ZMQ_LAST_ENDPOINT, d->endpoint, &size);
  if (config->store != NULL &&
      (rc = hpt_store_set_synchronous(config->store, false, error)) < 0)
    goto fail;
  d->watch.data = d;
  if ((rc = hpt_zmq_watch_start(loop, &d->watch, d->socket, on_readable,
                                error)) < 0)
    goto fail;
  d->watch.on_drained = on_drained;
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  unsigned tick = d->config.heartbeat_interval_ms < 500
                      ? d->config.heartbeat_interval_ms
                      : 500;
  d->last_tick_ms = uv_now(loop);
  uv_timer_start(&d->timer, on_timer, tick, tick);
  hpt_log(HPT_LOG_INFO, "dispatcher_listening", "endpoint=%s security=%s",
          d->endpoint, config->curve != NULL ? "curve" : "plain");
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
  int rc = hpt__orphans_load(d, study, error);
  if (rc < 0)
    return rc;
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

void hpt_dispatcher_stats(const hpt_dispatcher_t *d,
                          hpt_dispatcher_stats_t *stats) {
  stats->dispatch_latency = &d->dispatch_latency;
  stats->db_write = d->db_write;
  stats->db_ops = db_op_names;
  stats->n_db_ops = HPT_DISPATCHER_N_DB_OPS;
}

size_t hpt_dispatcher_study_count(const hpt_dispatcher_t *d) {
  return d->n_studies;
}

const hpt_study_t *hpt_dispatcher_study(const hpt_dispatcher_t *d,
                                        size_t index) {
  return index < d->n_studies ? d->studies[index] : NULL;
}

void hpt_dispatcher_pause(hpt_dispatcher_t *d) { d->paused = true; }

void hpt_dispatcher_close(hpt_dispatcher_t *d) {
  if (d->closed)
    return;
  hpt__outbox_close(d);
  /* Whatever was written without an answer to send (a lease that expired,
   * the study's final state) becomes durable too. */
  hpt_error_t error;
  if (d->config.store != NULL && hpt_store_barrier(d->config.store, &error) < 0)
    hpt_log(HPT_LOG_ERROR, "barrier_failed", "error=\"%s\"", error.message);
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
  for (size_t i = 0; i < d->n_workers; i++)
    hpt_artifact_receive_destroy(&d->workers[i].artifact, NULL);
  free(d->workers);
  free(d->orphans);
  hpt__outbox_free(d);
  free(d);
  *dispatcher = NULL;
}
