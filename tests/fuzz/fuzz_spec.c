/* fuzz_spec.c — the study-spec reader (shared/spec.c, spec_params.c) on
 * arbitrary YAML, then what `hpt study create` does with a spec that
 * passes: the sampler, pruner and require checks, and a few trials sampled
 * from the space, each value checked against its parameter and sent through
 * the text form objectives receive and back. */
#include <math.h>

#include "fuzz_util.h"
#include "history.h"
#include "pruner.h"
#include "require.h"
#include "sampler.h"
#include "spec.h"

#define TRIALS 4
#define MAX_PARAMS 64

/* Samples TRIALS trials (each COMPLETE with a value made from its params,
 * so that a sampler with n_startup_trials 0 models the history) and checks
 * every value. */
static void sample(const hpt_spec_t *spec) {
  hpt_error_t error;
  hpt_sampler_t *sampler = NULL;
  if (hpt_sampler_new(&spec->sampler, &spec->space, &sampler, &error) < 0) {
    FUZZ_CHECK(sampler == NULL && error.message[0] != '\0');
    return;
  }
  hpt_pruner_t *pruner = NULL;
  if (hpt_pruner_new(&spec->pruner, &pruner, &error) < 0)
    FUZZ_CHECK(pruner == NULL);
  hpt_history_t history;
  hpt_history_init(&history, spec->direction, spec->space.n_params);
  double params[MAX_PARAMS];
  for (int number = 0; number < TRIALS; number++) {
    if (hpt_sampler_suggest(sampler, &history, number, params, &error) < 0)
      break;
    double value = 0;
    for (size_t i = 0; i < spec->space.n_params; i++) {
      const hpt_param_t *param = &spec->space.params[i];
      bool active = hpt_space_is_active(&spec->space, i, params);
      if (!active) {
        FUZZ_CHECK(isnan(params[i]));
        continue;
      }
      FUZZ_CHECK(hpt_space_value_valid(param, params[i]));
      /* The dispatcher's buffers (coordinator/dispatcher.c): every value
       * a valid spec can produce must fit them. */
      char text[HPT_SPACE_VALUE_TEXT_MAX], json[HPT_SPACE_VALUE_JSON_MAX];
      FUZZ_CHECK(hpt_space_format_value(param, params[i], text, sizeof text) ==
                 0);
      FUZZ_CHECK(hpt_space_value_json(param, params[i], json, sizeof json) ==
                 0);
      double back = NAN;
      FUZZ_CHECK(hpt_space_parse_value(param, text, &back, &error) == 0);
      FUZZ_CHECK(back == params[i]);
      value += param->type == HPT_PARAM_CATEGORICAL ? params[i] : 0.5;
    }
    hpt_trial_t *trial = NULL;
    FUZZ_CHECK(hpt_history_add(&history, number, HPT_TRIAL_RUNNING, params,
                               &trial, &error) == 0);
    FUZZ_CHECK(hpt_history_report(trial, 1, value, &error) == 0);
    if (pruner != NULL)
      (void)hpt_pruner_should_prune(pruner, &history, number);
    trial->state = HPT_TRIAL_COMPLETE;
    trial->value = value;
  }
  hpt_history_close(&history);
  hpt_pruner_destroy(&pruner);
  hpt_sampler_destroy(&sampler);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hpt_spec_t *spec = NULL;
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = hpt_spec_parse_string((const char *)data, size, "fuzz.yaml", &spec,
                                 &error);
  if (rc < 0) {
    FUZZ_CHECK(spec == NULL);
    FUZZ_CHECK(error.code == rc && error.message[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(spec != NULL && spec->name != NULL);
  FUZZ_CHECK(spec->n_trials >= 1 && spec->max_parallel >= 1);
  (void)hpt_require_validate(&spec->require, &error);
  if (spec->space.n_params <= MAX_PARAMS)
    sample(spec);
  hpt_spec_destroy(&spec);
  FUZZ_CHECK(spec == NULL);
  return 0;
}
