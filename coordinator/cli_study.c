/* cli_study.c — `hpt study create|status|best` and `hpt trials`.
 * (`hpt study run` lives in cli_run.c.) */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "objective_check.h"
#include "pruner.h"
#include "require.h"
#include "sampler.h"
#include "spec.h"

static const char study_usage[] =
    "usage: hpt study create SPEC.yaml [--name NAME]\n"
    "       hpt study run NAME [--local-workers N] [--bind ENDPOINT] ...\n"
    "       hpt study status NAME\n"
    "       hpt study best NAME\n"
    "       hpt study stop|resume|delete NAME\n"
    "       hpt study export NAME [--format json|csv] [--output FILE]\n"
    "       hpt study import FILE [--name NEW]\n"
    "\n"
    "  create  check a study spec and store it (nothing is stored if any\n"
    "          part of the spec is wrong, or the name exists); --name\n"
    "          overrides the spec's name\n"
    "  run     run the study to the end (see hpt study run --help)\n"
    "  status  trial counts by state, best value so far\n"
    "  best    the best trial: number, value, params (JSON)\n"
    "  stop    drain: running trials finish, no new ones start\n"
    "  resume  start trials again after stop\n"
    "  delete  remove the study and all its trials\n";

/* Checks every part of the spec that can be checked without a database. */
static int check_spec(hpt_spec_t *spec, hpt_error_t *error) {
  int rc = hpt_objective_prepare(spec, true, error);
  if (rc < 0)
    return rc;
  hpt_sampler_t *sampler = NULL;
  if ((rc = hpt_sampler_new(&spec->sampler, &spec->space, &sampler, error)) < 0)
    return hpt_error_prefix(error, "%s: sampler", spec->source);
  hpt_sampler_destroy(&sampler);
  hpt_pruner_t *pruner = NULL;
  if ((rc = hpt_pruner_new(&spec->pruner, &pruner, error)) < 0)
    return hpt_error_prefix(error, "%s: pruner", spec->source);
  hpt_pruner_destroy(&pruner);
  return hpt_require_validate(&spec->require, error);
}

/* Whether a study name is acceptable: [A-Za-z0-9_.-]{1,128}. */
static bool valid_name(const char *name) {
  size_t length = strlen(name);
  if (length == 0 || length > 128)
    return false;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
      return false;
  return true;
}

static int study_create(hpt_cli_t *cli, int argc, char **argv) {
  const char *path = NULL, *name = NULL;
  for (int i = 2; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      fputs(study_usage, stdout);
      return HPT_EXIT_OK;
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      name = argv[++i];
    } else if (argv[i][0] != '-' && path == NULL) {
      path = argv[i];
    } else {
      fprintf(stderr, "hpt study create: unexpected argument '%s'\n%s", argv[i],
              study_usage);
      return HPT_EXIT_USAGE;
    }
  }
  if (path == NULL) {
    fputs(study_usage, stderr);
    return HPT_EXIT_USAGE;
  }
  if (name != NULL && !valid_name(name)) {
    fprintf(stderr,
            "hpt: --name '%s': use 1 to 128 letters, digits, '_', "
            "'.' or '-'\n",
            name);
    return HPT_EXIT_USAGE;
  }
  hpt_error_t error;
  hpt_error_clear(&error);
  char absolute[PATH_MAX];
  if (realpath(path, absolute) == NULL) {
    fprintf(stderr, "hpt: %s: no such file\n", path);
    return HPT_EXIT_ERROR;
  }
  hpt_spec_t *spec = NULL;
  if (hpt_spec_parse_file(absolute, &spec, &error) < 0 ||
      check_spec(spec, &error) < 0) {
    hpt_spec_destroy(&spec);
    return hpt_cli_fail(&error);
  }
  if (name != NULL) {
    char *copy = strdup(name);
    if (copy == NULL) {
      hpt_spec_destroy(&spec);
      return HPT_EXIT_ERROR;
    }
    free(spec->name);
    spec->name = copy;
  }
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK) {
    hpt_spec_destroy(&spec);
    return status;
  }
  int64_t id = 0;
  if (hpt_store_study_create(store, spec, &id, &error) < 0) {
    status = hpt_cli_fail(&error);
  } else {
    printf("created study '%s' (id %lld): %d trials, %zu parameters, "
           "sampler %s, pruner %s\n",
           spec->name, (long long)id, spec->n_trials, spec->space.n_params,
           hpt_options_find(&spec->sampler, "type")->value,
           hpt_options_find(&spec->pruner, "type")->value);
  }
  hpt_store_close(&store);
  hpt_spec_destroy(&spec);
  return status;
}

static void format_duration(double seconds, char *buffer, size_t size) {
  long s = (long)(seconds + 0.5);
  if (s >= 3600)
    snprintf(buffer, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buffer, size, "%ld:%02ld", s / 60, s % 60);
}

static int study_status(hpt_cli_t *cli, const char *name, bool best_only) {
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  hpt_study_summary_t summary;
  memset(&summary, 0, sizeof summary);
  if (hpt_store_study_summary(store, name, &summary, &error) < 0) {
    hpt_store_close(&store);
    return hpt_cli_fail(&error);
  }
  if (best_only) {
    if (!summary.has_best) {
      fprintf(stderr, "hpt: study '%s' has no COMPLETE trial yet\n", name);
      status = HPT_EXIT_NOT_FOUND;
    } else {
      printf("trial %d value %.6f params %s\n", summary.best_number,
             summary.best_value, summary.best_params_json);
    }
  } else {
    int finished = summary.complete + summary.pruned + summary.failed;
    char elapsed[32] = "-";
    if (summary.first_started_at > 0 && summary.last_finished_at > 0)
      format_duration(summary.last_finished_at - summary.first_started_at,
                      elapsed, sizeof elapsed);
    printf("study      %s (id %lld)\n", name, (long long)summary.id);
    printf("state      %s\n",
           summary.state == HPT_STUDY_COMPLETE ? "COMPLETE" : "RUNNING");
    printf("direction  %s\n", hpt_direction_name(summary.direction));
    printf("trials     %d/%d finished: %d complete, %d pruned, %d failed; "
           "%d running, %d waiting\n",
           finished, summary.n_trials, summary.complete, summary.pruned,
           summary.failed, summary.running, summary.waiting);
    printf("elapsed    %s\n", elapsed);
    if (summary.has_best)
      printf("best       %.6f (trial %d) %s\n", summary.best_value,
             summary.best_number, summary.best_params_json);
    else
      printf("best       -\n");
  }
  hpt_study_summary_free(&summary);
  hpt_store_close(&store);
  return status;
}

/* stop: drain (running trials finish, no new ones start); resume; delete
 * (the study and everything it owns). A coordinator serving the study
 * notices within a few seconds. */
static int study_set_state(hpt_cli_t *cli, const char *verb, const char *name) {
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  hpt_study_row_t row;
  memset(&row, 0, sizeof row);
  int rc = hpt_store_study_find(store, name, &row, &error);
  if (rc == HPT_OK && strcmp(verb, "delete") == 0) {
    rc = hpt_store_study_delete(store, name, &error);
    if (rc == HPT_OK)
      printf("deleted study '%s'\n", name);
  } else if (rc == HPT_OK && row.state == HPT_STUDY_COMPLETE) {
    rc = HPT_ERR(&error, HPT_ESTATE, "study '%s' is already COMPLETE", name);
  } else if (rc == HPT_OK) {
    bool stop = strcmp(verb, "stop") == 0;
    rc = hpt_store_study_set_state(
        store, row.id, stop ? HPT_STUDY_STOPPED : HPT_STUDY_RUNNING, &error);
    if (rc == HPT_OK)
      printf("study '%s' %s\n", name,
             stop ? "stopped: running trials finish, no new ones start"
                  : "resumed");
  }
  if (rc < 0)
    status = hpt_cli_fail(&error);
  hpt_study_row_free(&row);
  hpt_store_close(&store);
  return status;
}

int hpt_cli_workers(hpt_cli_t *cli, int argc, char **argv) {
  if (argc > 1) {
    bool help = hpt_cli_is_help(argv[1]);
    fputs("usage: hpt workers\nLists the workers this database has seen: "
          "host, devices, current trial, last heartbeat.\n",
          help ? stdout : stderr);
    return help ? HPT_EXIT_OK : HPT_EXIT_USAGE;
  }
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  if (hpt_store_print_workers(store, stdout, &error) < 0)
    status = hpt_cli_fail(&error);
  hpt_store_close(&store);
  return status;
}

int hpt_cli_study(hpt_cli_t *cli, int argc, char **argv) {
  if (argc < 2 || hpt_cli_is_help(argv[1])) {
    fputs(study_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? HPT_EXIT_USAGE : HPT_EXIT_OK;
  }
  const char *verb = argv[1];
  if (strcmp(verb, "create") == 0)
    return study_create(cli, argc, argv);
  if (strcmp(verb, "run") == 0)
    return hpt_cli_study_run(cli, argc - 1, argv + 1);
  if (strcmp(verb, "export") == 0)
    return hpt_cli_study_export(cli, argc, argv);
  if (strcmp(verb, "import") == 0)
    return hpt_cli_study_import(cli, argc, argv);
  if (strcmp(verb, "stop") == 0 || strcmp(verb, "resume") == 0 ||
      strcmp(verb, "delete") == 0) {
    if (argc != 3 || hpt_cli_is_help(argv[2])) {
      fputs(study_usage, argc == 3 ? stdout : stderr);
      return argc == 3 ? HPT_EXIT_OK : HPT_EXIT_USAGE;
    }
    return study_set_state(cli, verb, argv[2]);
  }
  if (strcmp(verb, "status") == 0 || strcmp(verb, "best") == 0) {
    if (argc != 3 || hpt_cli_is_help(argv[2])) {
      fputs(study_usage, argc == 3 ? stdout : stderr);
      return argc == 3 ? HPT_EXIT_OK : HPT_EXIT_USAGE;
    }
    return study_status(cli, argv[2], verb[0] == 'b');
  }
  fprintf(stderr, "hpt study: unknown command '%s'\n%s", verb, study_usage);
  return HPT_EXIT_USAGE;
}

static const char trials_usage[] =
    "usage: hpt trials NAME [--format table|csv|json] [--top K]\n"
    "\n"
    "Lists a study's trials from the trial_history view: all of them by\n"
    "number, or with --top K the best K COMPLETE trials.\n";

int hpt_cli_trials(hpt_cli_t *cli, int argc, char **argv) {
  const char *name = NULL;
  hpt_format_t format = HPT_FORMAT_TABLE;
  int top = 0;
  for (int i = 1; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      fputs(trials_usage, stdout);
      return HPT_EXIT_OK;
    } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
      const char *text = argv[++i];
      if (strcmp(text, "table") == 0)
        format = HPT_FORMAT_TABLE;
      else if (strcmp(text, "csv") == 0)
        format = HPT_FORMAT_CSV;
      else if (strcmp(text, "json") == 0)
        format = HPT_FORMAT_JSON;
      else {
        fprintf(stderr,
                "hpt trials: --format: expected table, csv or json, "
                "got '%s'\n",
                text);
        return HPT_EXIT_USAGE;
      }
    } else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
      if (!hpt_cli_parse_int("--top", argv[++i], &top))
        return HPT_EXIT_USAGE;
    } else if (argv[i][0] != '-' && name == NULL) {
      name = argv[i];
    } else {
      fprintf(stderr, "hpt trials: unexpected argument '%s'\n%s", argv[i],
              trials_usage);
      return HPT_EXIT_USAGE;
    }
  }
  if (name == NULL) {
    fputs(trials_usage, stderr);
    return HPT_EXIT_USAGE;
  }
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  if (hpt_store_print_trials(store, name, format, top, stdout, &error) < 0)
    status = hpt_cli_fail(&error);
  hpt_store_close(&store);
  return status;
}
