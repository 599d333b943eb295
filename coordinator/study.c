/* study.c — see study.h. */
#include "study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "objective_check.h"
#include "pruner.h"
#include "sampler.h"
#include "store_artifacts.h"

/* A queued retry and the worker its predecessor failed on. */
typedef struct queued_retry {
  int number;
  char failed_on[128]; /* "" when unknown (loaded after a restart) */
} queued_retry_t;

struct hpt_study {
  hpt_store_t *store; /* borrowed */
  int64_t id;
  hpt_spec_t *spec;
  hpt_sampler_t *sampler;
  hpt_pruner_t *pruner;
  hpt_history_t history;
  int sampled; /* trials that are not retries: the budget's count */
  int running;
  int finished; /* final outcomes: COMPLETE, PRUNED, FAIL not retried */
  int complete, pruned, failed, retried; /* counts by outcome */
  int best_number;                       /* -1: no COMPLETE trial yet */
  queued_retry_t *queue;                 /* WAITING retries, oldest first */
  size_t queue_length, queue_capacity;
  bool paused;
  bool marked_complete;
};

static int queue_push(hpt_study_t *study, int number, const char *failed_on) {
  if (study->queue_length == study->queue_capacity) {
    size_t capacity = study->queue_capacity ? study->queue_capacity * 2 : 8;
    queued_retry_t *grown = realloc(study->queue, capacity * sizeof *grown);
    if (grown == NULL)
      return HPT_ENOMEM;
    study->queue = grown;
    study->queue_capacity = capacity;
  }
  queued_retry_t *entry = &study->queue[study->queue_length++];
  entry->number = number;
  snprintf(entry->failed_on, sizeof entry->failed_on, "%s",
           failed_on ? failed_on : "");
  return HPT_OK;
}

static void queue_remove(hpt_study_t *study, size_t index) {
  memmove(&study->queue[index], &study->queue[index + 1],
          (study->queue_length - index - 1) * sizeof *study->queue);
  study->queue_length--;
}

/* Rebuilds the counters and the retry queue from the loaded history. */
static int count_history(hpt_study_t *study) {
  for (size_t i = 0; i < study->history.n_trials; i++) {
    const hpt_trial_t *trial = &study->history.trials[i];
    if (trial->retry_of < 0)
      study->sampled++;
    switch (trial->state) {
    case HPT_TRIAL_RUNNING:
      study->running++;
      break;
    case HPT_TRIAL_WAITING:
      if (queue_push(study, trial->number, NULL) < 0)
        return HPT_ENOMEM;
      break;
    case HPT_TRIAL_FAIL:
      if (trial->retried) {
        study->retried++;
      } else {
        study->failed++;
        study->finished++;
      }
      break;
    case HPT_TRIAL_PRUNED:
      study->pruned++;
      study->finished++;
      break;
    case HPT_TRIAL_COMPLETE:
      study->complete++;
      study->finished++;
      break;
    }
  }
  const hpt_trial_t *best = hpt_history_best(&study->history);
  study->best_number = best ? best->number : -1;
  return HPT_OK;
}

/* Spec source's directory: relative objective paths are relative to it. */
static int set_base_dir(hpt_spec_t *spec, const char *source,
                        hpt_error_t *error) {
  const char *slash = source ? strrchr(source, '/') : NULL;
  if (slash == NULL)
    return HPT_OK;
  char *base_dir = strndup(source, (size_t)(slash - source));
  if (base_dir == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  free(spec->base_dir);
  spec->base_dir = base_dir;
  return HPT_OK;
}

int hpt_study_open(hpt_store_t *store, const char *name, hpt_study_t **out,
                   hpt_error_t *error) {
  *out = NULL;
  hpt_study_row_t row = {0};
  int rc = hpt_store_study_find(store, name, &row, error);
  if (rc < 0)
    return rc;
  hpt_study_t *study = calloc(1, sizeof *study);
  if (study == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory opening study '%s'", name);
    goto fail;
  }
  study->store = store;
  study->id = row.id;
  study->marked_complete = row.state == HPT_STUDY_COMPLETE;
  study->paused = row.state == HPT_STUDY_STOPPED;
  rc = hpt_spec_parse_string(row.spec_text, strlen(row.spec_text),
                             row.spec_source, &study->spec, error);
  if (rc < 0 || (rc = set_base_dir(study->spec, row.spec_source, error)) < 0 ||
      (rc = hpt_objective_prepare(study->spec, false, error)) < 0)
    goto fail;
  /* The stored name wins over the YAML's (`study create --name`). */
  free(study->spec->name);
  study->spec->name = row.name;
  row.name = NULL;
  if ((rc = hpt_sampler_new(&study->spec->sampler, &study->spec->space,
                            &study->sampler, error)) < 0 ||
      (rc = hpt_pruner_new(&study->spec->pruner, &study->pruner, error)) < 0)
    goto fail;
  hpt_history_init(&study->history, study->spec->direction,
                   study->spec->space.n_params);
  if ((rc = hpt_store_history_load(store, study->id, &study->spec->space,
                                   &study->history, error)) < 0)
    goto fail;
  if (count_history(study) < 0) {
    rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
    goto fail;
  }
  hpt_study_row_free(&row);
  *out = study;
  return HPT_OK;
fail:
  hpt_study_row_free(&row);
  hpt_study_destroy(&study);
  return rc;
}

void hpt_study_destroy(hpt_study_t **study) {
  if (study == NULL || *study == NULL)
    return;
  hpt_study_t *s = *study;
  hpt_sampler_destroy(&s->sampler);
  hpt_pruner_destroy(&s->pruner);
  hpt_history_close(&s->history);
  hpt_spec_destroy(&s->spec);
  free(s->queue);
  free(s);
  *study = NULL;
}

const char *hpt_study_name(const hpt_study_t *study) {
  return study->spec->name;
}

int64_t hpt_study_id(const hpt_study_t *study) { return study->id; }

const hpt_spec_t *hpt_study_spec(const hpt_study_t *study) {
  return study->spec;
}

bool hpt_study_has_budget(const hpt_study_t *study) {
  return study->sampled < study->spec->n_trials;
}

bool hpt_study_wants_trial(const hpt_study_t *study) {
  return study->spec->objective.count > 0 && !study->paused &&
         study->running < study->spec->max_parallel &&
         (study->queue_length > 0 || hpt_study_has_budget(study));
}

bool hpt_study_finished(const hpt_study_t *study) {
  return study->finished >= study->spec->n_trials;
}

void hpt_study_set_paused(hpt_study_t *study, bool paused) {
  study->paused = paused;
}

bool hpt_study_paused(const hpt_study_t *study) { return study->paused; }

/* A queued retry becomes RUNNING on worker_id. */
static int claim_retry(hpt_study_t *study, size_t index, const char *worker_id,
                       int *number, hpt_error_t *error) {
  int retry = study->queue[index].number;
  int rc =
      hpt_store_trial_claim(study->store, study->id, retry, worker_id, error);
  if (rc < 0)
    return rc;
  hpt_trial_t *trial = hpt_history_find(&study->history, retry);
  if (trial != NULL)
    trial->state = HPT_TRIAL_RUNNING;
  queue_remove(study, index);
  study->running++;
  *number = retry;
  return HPT_OK;
}

static int sample_trial(hpt_study_t *study, const char *worker_id, int *number,
                        hpt_error_t *error) {
  size_t n_params = study->spec->space.n_params;
  double *params = calloc(n_params ? n_params : 1, sizeof *params);
  if (params == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory sampling a trial");
  int next = hpt_history_next_number(&study->history);
  int rc =
      hpt_sampler_suggest(study->sampler, &study->history, next, params, error);
  if (rc < 0)
    goto out;
  rc = hpt_store_trial_start(study->store, study->id, next, &study->spec->space,
                             params, worker_id, error);
  if (rc < 0)
    goto out;
  rc = hpt_history_add(&study->history, next, HPT_TRIAL_RUNNING, params, NULL,
                       error);
  if (rc < 0)
    goto out;
  study->sampled++;
  study->running++;
  *number = next;
out:
  free(params);
  return rc;
}

int hpt_study_start_trial(hpt_study_t *study, const char *worker_id,
                          int *number, hpt_error_t *error) {
  for (size_t i = 0; i < study->queue_length; i++)
    if (strcmp(study->queue[i].failed_on, worker_id) != 0)
      return claim_retry(study, i, worker_id, number, error);
  if (hpt_study_has_budget(study))
    return sample_trial(study, worker_id, number, error);
  /* Only retries of trials that failed on this very worker are left, and
   * nobody else may come: better here than never. */
  if (study->queue_length > 0)
    return claim_retry(study, 0, worker_id, number, error);
  return HPT_ERR(error, HPT_ESTATE, "study '%s' has no trial to start",
                 study->spec->name);
}

const double *hpt_study_trial_params(const hpt_study_t *study, int number) {
  const hpt_trial_t *trial = hpt_history_find(&study->history, number);
  return trial ? trial->params : NULL;
}

int hpt_study_trial_state(const hpt_study_t *study, int number) {
  const hpt_trial_t *trial = hpt_history_find(&study->history, number);
  return trial ? (int)trial->state : -1;
}

static hpt_trial_t *running_trial(hpt_study_t *study, int number,
                                  hpt_error_t *error) {
  hpt_trial_t *trial = hpt_history_find(&study->history, number);
  if (trial == NULL) {
    HPT_ERR(error, HPT_ENOTFOUND, "study '%s' has no trial %d",
            study->spec->name, number);
    return NULL;
  }
  if (trial->state != HPT_TRIAL_RUNNING) {
    HPT_ERR(error, HPT_ESTATE, "trial %d of study '%s' is %s, not RUNNING",
            number, study->spec->name, hpt_trial_state_name(trial->state));
    return NULL;
  }
  return trial;
}

int hpt_study_report(hpt_study_t *study, int number, int step, double value,
                     bool *prune, hpt_error_t *error) {
  *prune = false;
  hpt_trial_t *trial = running_trial(study, number, error);
  if (trial == NULL)
    return error ? error->code : HPT_ESTATE;
  int rc = hpt_store_trial_report(study->store, study->id, number, step, value,
                                  error);
  if (rc < 0)
    return rc;
  if ((rc = hpt_history_report(trial, step, value, error)) < 0)
    return rc;
  *prune = hpt_pruner_should_prune(study->pruner, &study->history, number);
  return HPT_OK;
}

/* How many attempts the chain ending at `trial` has made (1 = no retry). */
static int attempts(const hpt_study_t *study, const hpt_trial_t *trial) {
  int count = 1;
  while (trial->retry_of >= 0 && count < 100000) {
    trial = hpt_history_find(&study->history, trial->retry_of);
    if (trial == NULL)
      break;
    count++;
  }
  return count;
}

/* Queues a retry of `failed` with the same params. */
static int enqueue_retry(hpt_study_t *study, hpt_trial_t *failed,
                         const char *worker_id, hpt_error_t *error) {
  int failed_number = failed->number;
  int next = hpt_history_next_number(&study->history);
  int rc = hpt_store_trial_enqueue_retry(study->store, study->id, next,
                                         failed_number, &study->spec->space,
                                         failed->params, error);
  if (rc < 0)
    return rc;
  hpt_trial_t *retry = NULL;
  /* `failed` may move when the history grows: copy what we need first. */
  double *params = NULL;
  size_t n_params = study->spec->space.n_params;
  if (n_params > 0) {
    params = malloc(n_params * sizeof *params);
    if (params == NULL)
      return HPT_ERR(error, HPT_ENOMEM, "out of memory");
    memcpy(params, failed->params, n_params * sizeof *params);
  }
  failed->retried = true;
  rc = hpt_history_add(&study->history, next, HPT_TRIAL_WAITING, params, &retry,
                       error);
  free(params);
  if (rc < 0)
    return rc;
  retry->retry_of = failed_number;
  if (queue_push(study, next, worker_id) < 0)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  hpt_log(HPT_LOG_INFO, "trial_retry_queued", "study=%s trial=%d retry_of=%d",
          study->spec->name, next, failed_number);
  return HPT_OK;
}

int hpt_study_finish(hpt_study_t *study, int number,
                     const hpt_trial_outcome_t *outcome, hpt_error_t *error) {
  hpt_trial_t *trial = running_trial(study, number, error);
  if (trial == NULL)
    return error ? error->code : HPT_ESTATE;
  hpt_trial_state_t state = outcome->state;
  double value = outcome->value;
  if (state == HPT_TRIAL_PRUNED && isnan(value) && trial->n_steps > 0)
    value = trial->step_values[trial->n_steps - 1];
  if (state == HPT_TRIAL_FAIL)
    value = NAN;
  int rc = hpt_store_trial_finish(
      study->store, study->id, number, state, value, outcome->duration_s,
      outcome->metrics, outcome->n_metrics, outcome->fail_reason, error);
  if (rc < 0)
    return rc;
  trial->state = state;
  trial->value = value;
  study->running--;
  bool retry = state == HPT_TRIAL_FAIL && outcome->retryable &&
               attempts(study, trial) <= study->spec->max_retries;
  if (retry &&
      (rc = enqueue_retry(study, trial, outcome->worker_id, error)) < 0) {
    /* The trial stays a final FAIL: the study must not wait for a retry
     * that was never queued. */
    hpt_log(HPT_LOG_ERROR, "retry_enqueue_failed", "study=%s trial=%d",
            study->spec->name, number);
    retry = false;
  }
  if (!retry)
    study->finished++;
  if (state == HPT_TRIAL_COMPLETE && study->spec->keep_top_k > 0 &&
      hpt_store_artifacts_prune(study->store, study->id,
                                study->spec->keep_top_k, error) < 0)
    hpt_log(HPT_LOG_WARN, "artifact_prune_failed", "study=%s error=\"%s\"",
            study->spec->name, error ? error->message : "");
  if (state == HPT_TRIAL_COMPLETE) {
    study->complete++;
    const hpt_trial_t *best =
        study->best_number >= 0
            ? hpt_history_find(&study->history, study->best_number)
            : NULL;
    if (best == NULL ||
        hpt_direction_better(study->spec->direction, value, best->value))
      study->best_number = number;
  } else if (state == HPT_TRIAL_PRUNED) {
    study->pruned++;
  } else if (retry) {
    study->retried++;
  } else {
    study->failed++;
  }
  if (hpt_study_finished(study) && !study->marked_complete) {
    int set_rc = hpt_store_study_set_state(study->store, study->id,
                                           HPT_STUDY_COMPLETE, error);
    if (set_rc < 0)
      return set_rc;
    study->marked_complete = true;
  }
  return rc;
}

int hpt_study_requeue(hpt_study_t *study, int number, hpt_error_t *error) {
  hpt_trial_t *trial = running_trial(study, number, error);
  if (trial == NULL)
    return error ? error->code : HPT_ESTATE;
  int rc = hpt_store_trial_requeue(study->store, study->id, number, error);
  if (rc < 0)
    return rc;
  if (queue_push(study, number, NULL) < 0)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  /* First in line again: move it to the front. */
  queued_retry_t entry = study->queue[study->queue_length - 1];
  memmove(&study->queue[1], &study->queue[0],
          (study->queue_length - 1) * sizeof *study->queue);
  study->queue[0] = entry;
  trial->state = HPT_TRIAL_WAITING;
  study->running--;
  return HPT_OK;
}

void hpt_study_progress(const hpt_study_t *study,
                        hpt_study_progress_t *progress) {
  memset(progress, 0, sizeof *progress);
  progress->n_trials = study->spec->n_trials;
  progress->running = study->running;
  progress->waiting = (int)study->queue_length;
  progress->complete = study->complete;
  progress->pruned = study->pruned;
  progress->failed = study->failed;
  progress->retried = study->retried;
  progress->finished = study->finished;
  const hpt_trial_t *best =
      study->best_number >= 0
          ? hpt_history_find(&study->history, study->best_number)
          : NULL;
  if (best != NULL) {
    progress->has_best = true;
    progress->best_number = best->number;
    progress->best_value = best->value;
  }
}
