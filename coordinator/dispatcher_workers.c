/* dispatcher_workers.c — the dispatcher's table of workers and its orphans
 * (see dispatcher_internal.h).
 *
 * Workers live in a flat array: a coordinator serves tens to hundreds of
 * them, and a linear scan per message costs less than the PostgreSQL write
 * that follows it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifact_receive.h"
#include "dispatcher_internal.h"
#include "log.h"

hpt__worker_t *hpt__worker_find(hpt_dispatcher_t *d,
                                const hpt_wire_peer_t *peer) {
  for (size_t i = 0; i < d->n_workers; i++) {
    hpt__worker_t *w = &d->workers[i];
    if (w->in_use && w->peer.length == peer->length &&
        memcmp(w->peer.bytes, peer->bytes, peer->length) == 0)
      return w;
  }
  return NULL;
}

hpt__worker_t *hpt__worker_add(hpt_dispatcher_t *d,
                               const hpt_wire_peer_t *peer) {
  hpt__worker_t *w = NULL;
  for (size_t i = 0; i < d->n_workers && w == NULL; i++)
    if (!d->workers[i].in_use)
      w = &d->workers[i];
  if (w == NULL) {
    if (d->n_workers == d->workers_capacity) {
      size_t capacity = d->workers_capacity ? d->workers_capacity * 2 : 16;
      hpt__worker_t *grown = realloc(d->workers, capacity * sizeof *grown);
      if (grown == NULL)
        return NULL;
      /* Workers' tag pointers point into their own entries: re-aim them. */
      for (size_t i = 0; i < d->n_workers; i++)
        for (size_t t = 0; t < grown[i].n_tags; t++)
          grown[i].tags[t] = grown[i].tag_text[t];
      d->workers = grown;
      d->workers_capacity = capacity;
    }
    w = &d->workers[d->n_workers++];
  }
  memset(w, 0, sizeof *w);
  w->peer = *peer;
  w->in_use = true;
  w->number = -1;
  hpt_wire_peer_text(peer, w->id, sizeof w->id);
  snprintf(w->device, sizeof w->device, "unknown");
  d->n_connected++;
  return w;
}

void hpt__worker_describe(hpt__worker_t *w, const Hpt__Hello *hello) {
  snprintf(w->id, sizeof w->id, "%s", hello->worker_id);
  snprintf(w->hostname, sizeof w->hostname, "%s", hello->hostname);
  snprintf(w->device, sizeof w->device, "%s",
           hello->n_devices > 0 ? hello->devices[0] : "unknown");
  w->memory_gb = hello->memory_gb;
  w->n_tags = 0;
  for (size_t i = 0; i < hello->n_tags && i < HPT__MAX_TAGS; i++) {
    snprintf(w->tag_text[i], sizeof w->tag_text[i], "%s", hello->tags[i]);
    w->tags[i] = w->tag_text[i];
    w->n_tags++;
  }
  w->introduced = true;
}

void hpt__worker_caps(const hpt__worker_t *w, hpt_worker_caps_t *caps) {
  caps->device = w->device;
  caps->memory_gb = w->memory_gb;
  caps->tags = w->tags;
  caps->n_tags = w->n_tags;
}

void hpt__worker_fail_trial(hpt_dispatcher_t *d, hpt__worker_t *w,
                            const char *reason) {
  if (w->study == NULL)
    return;
  hpt_error_t error;
  hpt_trial_outcome_t outcome = {.state = HPT_TRIAL_FAIL,
                                 .value = NAN,
                                 .duration_s = NAN,
                                 .fail_reason = reason,
                                 .retryable = true,
                                 .worker_id = w->id};
  if (hpt_study_finish(w->study, w->number, &outcome, &error) < 0)
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

void hpt__worker_drop(hpt_dispatcher_t *d, hpt__worker_t *w,
                      const char *reason) {
  hpt__worker_fail_trial(d, w, reason);
  hpt_artifact_receive_destroy(&w->artifact, d->config.store);
  w->in_use = false;
  d->n_connected--;
}

int hpt__orphans_load(hpt_dispatcher_t *d, hpt_study_t *study,
                      hpt_error_t *error) {
  int *numbers = NULL;
  char **workers = NULL;
  size_t count = 0;
  int rc = hpt_store_trials_running(d->config.store, hpt_study_id(study),
                                    &numbers, &workers, &count, error);
  if (rc < 0)
    return rc;
  hpt__orphan_t *grown =
      count ? realloc(d->orphans, (d->n_orphans + count) * sizeof *grown)
            : d->orphans;
  if (count > 0 && grown == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto out;
  }
  d->orphans = grown;
  uint64_t deadline = uv_now(d->loop) + d->config.heartbeat_grace_ms;
  for (size_t i = 0; i < count; i++) {
    hpt__orphan_t *orphan = &d->orphans[d->n_orphans++];
    orphan->study = study;
    orphan->number = numbers[i];
    snprintf(orphan->worker_id, sizeof orphan->worker_id, "%s",
             workers[i] ? workers[i] : "");
    orphan->deadline_ms = deadline;
  }
  if (count > 0)
    hpt_log(HPT_LOG_INFO, "orphans_waiting",
            "study=%s count=%zu grace_ms=%u note=\"running trials of an "
            "earlier coordinator wait for their workers\"",
            hpt_study_name(study), count, d->config.heartbeat_grace_ms);
out:
  for (size_t i = 0; i < count; i++)
    free(workers[i]);
  free(workers);
  free(numbers);
  return rc;
}

static void orphan_remove(hpt_dispatcher_t *d, size_t index) {
  d->orphans[index] = d->orphans[--d->n_orphans];
}

bool hpt__orphans_adopt(hpt_dispatcher_t *d, hpt__worker_t *w, int64_t study_id,
                        int number) {
  for (size_t i = 0; i < d->n_orphans; i++) {
    hpt__orphan_t *orphan = &d->orphans[i];
    if (hpt_study_id(orphan->study) != study_id || orphan->number != number ||
        strcmp(orphan->worker_id, w->id) != 0)
      continue;
    w->study = orphan->study;
    w->number = number;
    hpt_log(HPT_LOG_INFO, "trial_adopted", "study=%s trial=%d worker=%s",
            hpt_study_name(orphan->study), number, w->id);
    orphan_remove(d, i);
    return true;
  }
  return false;
}

bool hpt__orphans_expire(hpt_dispatcher_t *d, uint64_t now_ms) {
  bool any = false;
  for (size_t i = 0; i < d->n_orphans;) {
    hpt__orphan_t *orphan = &d->orphans[i];
    if (now_ms < orphan->deadline_ms) {
      i++;
      continue;
    }
    hpt_error_t error;
    hpt_trial_outcome_t outcome = {
        .state = HPT_TRIAL_FAIL,
        .value = NAN,
        .duration_s = NAN,
        .fail_reason = "orphaned: its worker did not come back after the "
                       "coordinator restarted",
        .retryable = true,
        .worker_id = orphan->worker_id};
    if (hpt_study_finish(orphan->study, orphan->number, &outcome, &error) < 0)
      hpt_log(HPT_LOG_WARN, "orphan_fail_record",
              "study=%s trial=%d error=\"%s\"", hpt_study_name(orphan->study),
              orphan->number, error.message);
    else
      hpt_log(HPT_LOG_WARN, "orphan_failed", "study=%s trial=%d worker=%s",
              hpt_study_name(orphan->study), orphan->number, orphan->worker_id);
    orphan_remove(d, i);
    any = true;
  }
  return any;
}

void hpt__leases_renew(hpt_dispatcher_t *d, uint64_t now_ms) {
  for (size_t i = 0; i < d->n_workers; i++)
    if (d->workers[i].in_use)
      d->workers[i].last_seen_ms = now_ms;
  for (size_t i = 0; i < d->n_orphans; i++)
    if (d->orphans[i].deadline_ms < now_ms + d->config.heartbeat_grace_ms)
      d->orphans[i].deadline_ms = now_ms + d->config.heartbeat_grace_ms;
}
