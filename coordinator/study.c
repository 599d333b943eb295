/* study.c — see study.h. */
#include "study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "objective_check.h"
#include "pruner.h"
#include "sampler.h"

struct hpt_study {
  hpt_store_t *store; /* borrowed */
  int64_t id;
  hpt_spec_t *spec;
  hpt_sampler_t *sampler;
  hpt_pruner_t *pruner;
  hpt_history_t history;
  int started; /* trials in the history (any state) */
  int running;
  int finished;
  bool marked_complete;
};

int hpt_study_open(hpt_store_t *store, const char *name, unsigned flags,
                   hpt_study_t **out, hpt_error_t *error) {
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
  rc = hpt_spec_parse_string(row.spec_text, strlen(row.spec_text),
                             row.spec_source, &study->spec, error);
  if (rc < 0)
    goto fail;
  /* Relative objective paths are relative to the spec file's directory. */
  if (row.spec_source != NULL && strrchr(row.spec_source, '/') != NULL) {
    char *base_dir =
        strndup(row.spec_source,
                (size_t)(strrchr(row.spec_source, '/') - row.spec_source));
    if (base_dir == NULL) {
      rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
      goto fail;
    }
    free(study->spec->base_dir);
    study->spec->base_dir = base_dir;
  }
  if ((rc = hpt_objective_prepare(study->spec, false, error)) < 0)
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
  int orphans = 0;
  if ((flags & HPT_STUDY_OPEN_FAIL_ORPHANS) &&
      (rc = hpt_store_trials_fail_running(store, study->id,
                                          "orphaned: its coordinator stopped",
                                          &orphans, error)) < 0)
    goto fail;
  if (orphans > 0)
    hpt_log(HPT_LOG_WARN, "orphans_failed", "study=%s count=%d", name, orphans);
  if ((rc = hpt_store_history_load(store, study->id, &study->spec->space,
                                   &study->history, error)) < 0)
    goto fail;
  study->started = (int)study->history.n_trials;
  study->running = (int)hpt_history_count(&study->history, HPT_TRIAL_RUNNING);
  study->finished =
      (int)(hpt_history_count(&study->history, HPT_TRIAL_COMPLETE) +
            hpt_history_count(&study->history, HPT_TRIAL_PRUNED) +
            hpt_history_count(&study->history, HPT_TRIAL_FAIL));
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
  return study->started < study->spec->n_trials;
}

bool hpt_study_wants_trial(const hpt_study_t *study) {
  return study->spec->objective.count > 0 &&
         study->running < study->spec->max_parallel &&
         hpt_study_has_budget(study);
}

bool hpt_study_finished(const hpt_study_t *study) {
  return study->finished >= study->spec->n_trials;
}

int hpt_study_start_trial(hpt_study_t *study, const char *worker_id,
                          int *number, hpt_error_t *error) {
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
  study->started++;
  study->running++;
  *number = next;
out:
  free(params);
  return rc;
}

const double *hpt_study_trial_params(const hpt_study_t *study, int number) {
  const hpt_trial_t *trial = hpt_history_find(&study->history, number);
  return trial ? trial->params : NULL;
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

int hpt_study_finish(hpt_study_t *study, int number, hpt_trial_state_t state,
                     double value, double duration_s,
                     const hpt_metric_t *metrics, size_t n_metrics,
                     const char *fail_reason, hpt_error_t *error) {
  hpt_trial_t *trial = running_trial(study, number, error);
  if (trial == NULL)
    return error ? error->code : HPT_ESTATE;
  if (state == HPT_TRIAL_PRUNED && isnan(value) && trial->n_steps > 0)
    value = trial->step_values[trial->n_steps - 1];
  if (state == HPT_TRIAL_FAIL)
    value = NAN;
  int rc = hpt_store_trial_finish(study->store, study->id, number, state, value,
                                  duration_s, metrics, n_metrics, fail_reason,
                                  error);
  if (rc < 0)
    return rc;
  trial->state = state;
  trial->value = value;
  study->running--;
  study->finished++;
  if (hpt_study_finished(study) && !study->marked_complete) {
    rc = hpt_store_study_set_state(study->store, study->id, HPT_STUDY_COMPLETE,
                                   error);
    if (rc < 0)
      return rc;
    study->marked_complete = true;
  }
  return HPT_OK;
}

void hpt_study_progress(const hpt_study_t *study,
                        hpt_study_progress_t *progress) {
  memset(progress, 0, sizeof *progress);
  progress->n_trials = study->spec->n_trials;
  progress->running = study->running;
  progress->complete =
      (int)hpt_history_count(&study->history, HPT_TRIAL_COMPLETE);
  progress->pruned = (int)hpt_history_count(&study->history, HPT_TRIAL_PRUNED);
  progress->failed = (int)hpt_history_count(&study->history, HPT_TRIAL_FAIL);
  progress->finished = study->finished;
  const hpt_trial_t *best = hpt_history_best(&study->history);
  if (best != NULL) {
    progress->has_best = true;
    progress->best_number = best->number;
    progress->best_value = best->value;
  }
}
