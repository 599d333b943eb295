/* cli_asktell.c — `hpt ask`, `hpt tell`, `hpt report`: drive a study from
 * any program, one trial at a time, without workers.
 *
 *   $ hpt ask demo
 *   {"trial": 3, "params": {"lr": 0.0123, "layers": 4}}
 *   $ hpt report demo 3 1 0.71      -> continue | prune
 *   $ hpt tell demo 3 0.83          (or --pruned [VALUE], --failed [REASON])
 *
 * Each command is one short transaction against the store; `ask` holds the
 * study's advisory lock while it samples, so concurrent askers take turns
 * and never share a trial number or a stale history.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "study.h"

static const char ask_usage[] =
    "usage: hpt ask STUDY\n"
    "Starts a new trial of STUDY and prints it as one JSON line:\n"
    "  {\"trial\": N, \"params\": {\"name\": value, ...}}\n";

static const char tell_usage[] =
    "usage: hpt tell STUDY TRIAL VALUE\n"
    "       hpt tell STUDY TRIAL --pruned [VALUE]\n"
    "       hpt tell STUDY TRIAL --failed [REASON]\n"
    "Ends a RUNNING trial. A pruned trial without VALUE keeps its last\n"
    "reported value. Telling an unknown or finished trial changes nothing.\n";

static const char report_usage[] =
    "usage: hpt report STUDY TRIAL STEP VALUE\n"
    "Records an intermediate value and prints the pruner's verdict: 'prune'\n"
    "or 'continue'.\n"
    "(`hpt report NAME --output FILE` writes an HTML page about a study or\n"
    "an ensemble: `hpt report --output FILE --help`.)\n";

static bool parse_number(const char *what, const char *text, double *out) {
  char *end = NULL;
  errno = 0;
  double value = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE) {
    fprintf(stderr, "hpt: %s: expected a number, got '%s'\n", what, text);
    return false;
  }
  *out = value;
  return true;
}

/* Opens the store and the study, for ask/tell/report. */
static int open_study(hpt_cli_t *cli, const char *name, hpt_store_t **store,
                      hpt_study_t **study, bool lock) {
  int status = hpt_cli_open_store(cli, store);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  if (lock) {
    hpt_study_row_t row;
    memset(&row, 0, sizeof row);
    int rc = hpt_store_study_find(*store, name, &row, &error);
    int64_t id = row.id;
    hpt_study_row_free(&row);
    if (rc < 0 || hpt_store_study_lock(*store, id, &error) < 0)
      goto fail;
  }
  if (hpt_study_open(*store, name, study, &error) < 0)
    goto fail;
  return HPT_EXIT_OK;
fail:
  status = hpt_cli_fail(&error);
  hpt_store_close(store);
  return status;
}

static void print_asked(const hpt_study_t *study, int number) {
  const hpt_space_t *space = &hpt_study_spec(study)->space;
  const double *values = hpt_study_trial_params(study, number);
  printf("{\"trial\": %d, \"params\": {", number);
  bool first = true;
  for (size_t i = 0; i < space->n_params; i++) {
    if (isnan(values[i]))
      continue;
    char json[HPT_SPACE_VALUE_JSON_MAX];
    hpt_space_value_json(&space->params[i], values[i], json, sizeof json);
    printf("%s\"%s\": %s", first ? "" : ", ", space->params[i].name, json);
    first = false;
  }
  printf("}}\n");
}

int hpt_cli_ask(hpt_cli_t *cli, int argc, char **argv) {
  if (argc != 2 || hpt_cli_is_help(argv[1]))
    return hpt_cli_usage(ask_usage, argc == 2);
  hpt_store_t *store = NULL;
  hpt_study_t *study = NULL;
  int status = open_study(cli, argv[1], &store, &study, true);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  char worker[300] = "ask@", host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  strncat(worker, host, sizeof worker - strlen(worker) - 1);
  int number = -1;
  if (!hpt_study_has_budget(study)) {
    fprintf(stderr,
            "hpt: study '%s' has started all its %d trials (n_trials)\n",
            argv[1], hpt_study_spec(study)->n_trials);
    status = HPT_EXIT_ERROR;
  } else if (hpt_study_start_trial(study, worker, &number, &error) < 0) {
    status = hpt_cli_fail(&error);
  } else {
    print_asked(study, number);
  }
  /* Closing the connection releases the advisory lock too. */
  hpt_study_destroy(&study);
  hpt_store_close(&store);
  return status;
}

static bool parse_trial(const char *text, int *number) {
  return hpt_cli_parse_int("TRIAL", text, number);
}

int hpt_cli_tell(hpt_cli_t *cli, int argc, char **argv) {
  if (argc < 4 || argc > 5 || hpt_cli_is_help(argv[1]))
    return hpt_cli_usage(tell_usage, argc >= 2 && hpt_cli_is_help(argv[1]));
  int number = -1;
  if (!parse_trial(argv[2], &number))
    return HPT_EXIT_USAGE;
  hpt_trial_state_t state = HPT_TRIAL_COMPLETE;
  double value = NAN;
  const char *reason = NULL;
  if (strcmp(argv[3], "--pruned") == 0) {
    state = HPT_TRIAL_PRUNED;
    if (argc == 5 && !parse_number("VALUE", argv[4], &value))
      return HPT_EXIT_USAGE;
  } else if (strcmp(argv[3], "--failed") == 0) {
    state = HPT_TRIAL_FAIL;
    reason = argc == 5 ? argv[4] : "told failed";
  } else if (argc != 4 || !parse_number("VALUE", argv[3], &value)) {
    return hpt_cli_usage(tell_usage, false);
  }
  hpt_store_t *store = NULL;
  hpt_study_t *study = NULL;
  int status = open_study(cli, argv[1], &store, &study, false);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  hpt_trial_outcome_t outcome = {
      .state = state, .value = value, .duration_s = NAN, .fail_reason = reason};
  if (hpt_study_finish(study, number, &outcome, &error) < 0)
    status = hpt_cli_fail(&error);
  hpt_study_destroy(&study);
  hpt_store_close(&store);
  return status;
}

int hpt_cli_report(hpt_cli_t *cli, int argc, char **argv) {
  for (int i = 1; i < argc; i++) /* hpt report STUDY --output FILE */
    if (strcmp(argv[i], "--output") == 0 || strcmp(argv[i], "-o") == 0)
      return hpt_cli_report_html(cli, argc, argv);
  if (argc != 5 || hpt_cli_is_help(argv[1]))
    return hpt_cli_usage(report_usage, argc >= 2 && hpt_cli_is_help(argv[1]));
  int number = -1, step = -1;
  double value = NAN;
  if (!parse_trial(argv[2], &number) ||
      !hpt_cli_parse_int("STEP", argv[3], &step) ||
      !parse_number("VALUE", argv[4], &value))
    return HPT_EXIT_USAGE;
  hpt_store_t *store = NULL;
  hpt_study_t *study = NULL;
  int status = open_study(cli, argv[1], &store, &study, false);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  bool prune = false;
  if (hpt_study_report(study, number, step, value, &prune, &error) < 0)
    status = hpt_cli_fail(&error);
  else
    printf("%s\n", prune ? "prune" : "continue");
  hpt_study_destroy(&study);
  hpt_store_close(&store);
  return status;
}
