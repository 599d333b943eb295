/* cli_study.c — `hpt study create|status|best` and `hpt trials`.
 * (`hpt study run` lives in cli_run.c.) */
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
    "                            [--artifacts DIR]\n"
    "       hpt study import FILE [--name NEW] [--artifacts DIR]\n"
    "\n"
    "  create  check a study spec and store it (nothing is stored if any\n"
    "          part of the spec is wrong, or the name exists); --name\n"
    "          overrides the spec's name\n"
    "  run     run the study to the end (see hpt study run --help)\n"
    "  status  trial counts by state, best value so far\n"
    "  best    the best trial: number, value, params (JSON)\n"
    "  stop    drain: running trials finish, no new ones start\n"
    "  resume  start trials again after stop\n"
    "  delete  remove the study and all its trials\n"
    "  export  write the study and its trials as JSON (or CSV), with\n"
    "          --artifacts its kept models too (see hpt study export --help)\n"
    "  import  create a study from an export (see hpt study import --help)\n";

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

static int study_create(hpt_cli_t *cli, int argc, char **argv) {
  const char *path = NULL, *name = NULL;
  for (int i = 2; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(study_usage, true);
    } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      name = argv[++i];
    } else if (argv[i][0] != '-' && path == NULL) {
      path = argv[i];
    } else {
      return hpt_cli_unexpected("study create", argv[i], study_usage);
    }
  }
  if (path == NULL)
    return hpt_cli_usage(study_usage, false);
  if (name != NULL && !hpt_cli_check_name(name))
    return HPT_EXIT_USAGE;
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

/* A `hpt study VERB NAME` command (hpt_cli_store_job_t context). */
typedef struct study_job {
  const char *verb, *name;
} study_job_t;

/* status, or best (only the best trial). */
static int study_status(hpt_store_t *store, void *context, hpt_error_t *error) {
  const char *name = ((const study_job_t *)context)->name;
  bool best_only = ((const study_job_t *)context)->verb[0] == 'b';
  hpt_study_summary_t summary;
  memset(&summary, 0, sizeof summary);
  int rc = hpt_store_study_summary(store, name, &summary, error);
  if (rc < 0)
    return rc;
  if (best_only) {
    if (!summary.has_best) {
      rc = HPT_ERR(error, HPT_ENOTFOUND, "study '%s' has no COMPLETE trial yet",
                   name);
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
  return rc;
}

/* stop: drain (running trials finish, no new ones start); resume; delete
 * (the study and everything it owns). A coordinator serving the study
 * notices within a few seconds. */
static int study_set_state(hpt_store_t *store, void *context,
                           hpt_error_t *error) {
  const char *verb = ((const study_job_t *)context)->verb;
  const char *name = ((const study_job_t *)context)->name;
  hpt_study_row_t row;
  memset(&row, 0, sizeof row);
  int rc = hpt_store_study_find(store, name, &row, error);
  if (rc == HPT_OK && strcmp(verb, "delete") == 0) {
    rc = hpt_store_study_delete(store, name, error);
    if (rc == HPT_OK)
      printf("deleted study '%s'\n", name);
  } else if (rc == HPT_OK && row.state == HPT_STUDY_COMPLETE) {
    rc = HPT_ERR(error, HPT_ESTATE, "study '%s' is already COMPLETE", name);
  } else if (rc == HPT_OK) {
    bool stop = strcmp(verb, "stop") == 0;
    rc = hpt_store_study_set_state(
        store, row.id, stop ? HPT_STUDY_STOPPED : HPT_STUDY_RUNNING, error);
    if (rc == HPT_OK)
      printf("study '%s' %s\n", name,
             stop ? "stopped: running trials finish, no new ones start"
                  : "resumed");
  }
  hpt_study_row_free(&row);
  return rc;
}

static int print_workers(hpt_store_t *store, void *context,
                         hpt_error_t *error) {
  (void)context;
  return hpt_store_print_workers(store, stdout, error);
}

int hpt_cli_workers(hpt_cli_t *cli, int argc, char **argv) {
  if (argc > 1)
    return hpt_cli_usage("usage: hpt workers\nLists the workers this database "
                         "has seen: host, devices, current trial, last "
                         "heartbeat, and why a worker left (its GPU was "
                         "lost).\n",
                         hpt_cli_is_help(argv[1]));
  return hpt_cli_with_store(cli, print_workers, NULL);
}

int hpt_cli_study(hpt_cli_t *cli, int argc, char **argv) {
  if (argc < 2 || hpt_cli_is_help(argv[1]))
    return hpt_cli_usage(study_usage, argc >= 2);
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
    if (argc != 3 || hpt_cli_is_help(argv[2]))
      return hpt_cli_usage(study_usage, argc == 3);
    return hpt_cli_with_store(cli, study_set_state,
                              &(study_job_t){verb, argv[2]});
  }
  if (strcmp(verb, "status") == 0 || strcmp(verb, "best") == 0) {
    if (argc != 3 || hpt_cli_is_help(argv[2]))
      return hpt_cli_usage(study_usage, argc == 3);
    return hpt_cli_with_store(cli, study_status, &(study_job_t){verb, argv[2]});
  }
  fprintf(stderr, "hpt study: unknown command '%s'\n%s", verb, study_usage);
  return HPT_EXIT_USAGE;
}

static const char trials_usage[] =
    "usage: hpt trials NAME [--format table|csv|json] [--top K]\n"
    "\n"
    "Lists a study's trials from the trial_history view: all of them by\n"
    "number, or with --top K the best K COMPLETE trials.\n";

typedef struct trials_job {
  const char *name;
  hpt_format_t format;
  int top;
} trials_job_t;

static int print_trials(hpt_store_t *store, void *context, hpt_error_t *error) {
  const trials_job_t *job = context;
  return hpt_store_print_trials(store, job->name, job->format, job->top, stdout,
                                error);
}

int hpt_cli_trials(hpt_cli_t *cli, int argc, char **argv) {
  const char *name = NULL;
  hpt_format_t format = HPT_FORMAT_TABLE;
  int top = 0;
  for (int i = 1; i < argc; i++) {
    if (hpt_cli_is_help(argv[i])) {
      return hpt_cli_usage(trials_usage, true);
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
      return hpt_cli_unexpected("trials", argv[i], trials_usage);
    }
  }
  if (name == NULL)
    return hpt_cli_usage(trials_usage, false);
  trials_job_t job = {name, format, top};
  return hpt_cli_with_store(cli, print_trials, &job);
}
