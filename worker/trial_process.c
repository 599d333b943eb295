/* trial_process.c — see trial_process.h. */
#include "trial_process.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "objective.h"
#include "options.h"

#define MAX_PARAMS 256

static void print_step(void *user, int step, double value) {
  (void)user;
  printf("step %d %.17g\n", step, value);
  fflush(stdout);
}

/* Adds "KEY=VALUE" or "KEY[]=ITEM" to settings. */
static int add_setting(hpt_options_t *settings, char *text,
                       hpt_error_t *error) {
  char *equals = strchr(text, '=');
  if (equals == NULL || equals == text)
    return HPT_ERR(error, HPT_EINVAL, "--setting %s: expected KEY=VALUE", text);
  *equals = '\0';
  const char *value = equals + 1;
  size_t key_length = strlen(text);
  if (key_length > 2 && strcmp(text + key_length - 2, "[]") == 0) {
    text[key_length - 2] = '\0';
    const hpt_option_t *existing = hpt_options_find(settings, text);
    if (existing == NULL)
      return hpt_options_add_list(settings, text, &value, 1, 0, error);
    /* Append: rebuild the list with one more item. */
    hpt_option_t *option = (hpt_option_t *)existing;
    char **grown =
        realloc(option->values, (option->n_values + 1) * sizeof *grown);
    char *copy = strdup(value);
    if (grown == NULL || copy == NULL) {
      free(copy);
      if (grown != NULL)
        option->values = grown;
      return HPT_ERR(error, HPT_ENOMEM, "out of memory");
    }
    option->values = grown;
    option->values[option->n_values++] = copy;
    return HPT_OK;
  }
  return hpt_options_add(settings, text, value, 0, error);
}

int hpt_trial_process_main(int argc, char **argv) {
  hpt_log_set_process("hpt-trial");
  /* Die with the daemon: a SIGKILLed worker must not leave a training on. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1)
    return 1;
  hpt_options_t settings = {0};
  settings.section = strdup("objective"); /* owned by settings */
  hpt_objective_param_t params[MAX_PARAMS];
  size_t n_params = 0;
  const char *params_json = "{}";
  const char *artifact_dir = NULL;
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = HPT_OK;
  for (int i = 1; i < argc && rc == HPT_OK; i++) {
    if (strcmp(argv[i], "--setting") == 0 && i + 1 < argc) {
      rc = add_setting(&settings, argv[++i], &error);
    } else if (strcmp(argv[i], "--artifact-dir") == 0 && i + 1 < argc) {
      artifact_dir = argv[++i];
    } else if (strcmp(argv[i], "--params-json") == 0 && i + 1 < argc) {
      params_json = argv[++i];
    } else if (strcmp(argv[i], "--param") == 0 && i + 1 < argc) {
      char *text = argv[++i];
      char *equals = strchr(text, '=');
      if (equals == NULL || n_params == MAX_PARAMS) {
        rc = HPT_ERR(&error, HPT_EINVAL, "--param %s: expected NAME=VALUE",
                     text);
        break;
      }
      *equals = '\0';
      params[n_params].name = text;
      params[n_params].value = equals + 1;
      n_params++;
    } else {
      rc = HPT_ERR(&error, HPT_EINVAL, "run-trial: unexpected argument '%s'",
                   argv[i]);
    }
  }
  const char *type = NULL;
  if (rc == HPT_OK)
    rc = hpt_options_get_string(&settings, "type", NULL, &type, &error);
  if (rc == HPT_OK && type == NULL)
    rc = HPT_ERR(&error, HPT_EINVAL, "run-trial: no objective type");
  hpt_objective_result_t result;
  memset(&result, 0, sizeof result);
  if (rc == HPT_OK) {
    hpt_objective_call_t call = {.settings = &settings,
                                 .params = params,
                                 .n_params = n_params,
                                 .params_json = params_json,
                                 .artifact_dir = artifact_dir,
                                 .report = print_step,
                                 .user = NULL};
    if (strcmp(type, "ngram") == 0)
      rc = hpt_objective_ngram_run(&call, &result, &error);
    else if (strcmp(type, "transformer") == 0)
      rc = hpt_objective_transformer_run(&call, &result, &error);
    else if (strcmp(type, "command") == 0)
      rc = hpt_objective_command_run(&call, &result, &error);
    else if (strcmp(type, "noop") == 0)
      rc = hpt_objective_noop_run(&call, &result, &error);
    else
      rc = HPT_ERR(&error, HPT_EUNSUPPORTED, "unknown objective type '%s'",
                   type);
  }
  if (rc < 0) {
    printf("error %s\n", error.message);
    fflush(stdout);
    hpt_options_free(&settings);
    return 1;
  }
  for (size_t i = 0; i < result.n_metrics; i++)
    printf("metric %s %.17g\n", result.metric_names[i],
           result.metric_values[i]);
  printf("value %.17g\n", result.value);
  fflush(stdout);
  hpt_options_free(&settings);
  return 0;
}
