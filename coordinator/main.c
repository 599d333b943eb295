/* main.c — `hpt`: the coordinator and its command line. Reads the global
 * options, then hands over to one command (cli_*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static const char usage[] =
    "usage: hpt [--db URL] [--log-level LEVEL] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  study create SPEC.yaml       check and store a study\n"
    "  study run NAME [--local-workers N]\n"
    "                               run it to the end with live progress\n"
    "  study status NAME            counts by state, best so far\n"
    "  study best NAME              the best trial\n"
    "  study stop|resume|delete NAME\n"
    "                               drain, restart or remove a study\n"
    "  workers                      workers seen, their current trials\n"
    "  ensemble build NAME --from STUDY[:K] ...\n"
    "                               soft-vote the best kept models\n"
    "  predict --ensemble NAME --input CSV --output CSV\n"
    "                               ID,Extremism_Label for every input row\n"
    "  trials NAME [--format table|csv|json] [--top K]\n"
    "                               list trials (from the trial_history view)\n"
    "  serve [--bind ENDPOINT]      coordinator daemon for remote workers\n"
    "  ask STUDY                    start a trial, print it as JSON "
    "(ask/tell)\n"
    "  tell STUDY TRIAL VALUE|--pruned|--failed\n"
    "                               end a trial started by ask\n"
    "  report STUDY TRIAL STEP VALUE\n"
    "                               intermediate value; prints prune|continue\n"
    "  report NAME --output FILE    HTML page of a study or an ensemble\n"
    "  db start|stop|url|migrate    the database\n"
    "  keygen --output DIR [--name NAME]\n"
    "                               a CURVE key pair for secure workers\n"
    "\n"
    "Every command takes --help.\n"
    "\n"
    "database: --db URL (libpq URL or key=value string), else $HPT_DB, else\n"
    "an embedded PostgreSQL cluster under $HPT_HOME (default ./.hpt), started\n"
    "on first use.\n"
    "\n"
    "exit status: 0 success, 1 error (bad input, failed command), 2 usage,\n"
    "3 database unreachable, 4 no such study, 130 interrupted\n";

int main(int argc, char **argv) {
  hpt_log_set_process("hpt");
  /* A command line stays quiet unless asked: results go to stdout, errors
   * are one line on stderr. `serve` and `study run` pick their own level. */
  if (getenv("HPT_LOG_LEVEL") == NULL)
    hpt_log_set_level(HPT_LOG_WARN);
  hpt_cli_t cli = {.db_url = getenv("HPT_DB")};
  if (cli.db_url != NULL && cli.db_url[0] == '\0')
    cli.db_url = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (hpt_cli_is_help(argv[i])) {
      fputs(usage, stdout);
      return HPT_EXIT_OK;
    } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
      cli.db_url = argv[++i];
    } else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
      int level = hpt_log_level_parse(argv[++i]);
      if (level < 0) {
        fprintf(stderr, "hpt: --log-level: unknown level '%s'\n", argv[i]);
        return HPT_EXIT_USAGE;
      }
      hpt_log_set_level((hpt_log_level_t)level);
      setenv("HPT_LOG_LEVEL", argv[i], 1);
    } else {
      fprintf(stderr, "hpt: unknown option '%s'\n%s", argv[i], usage);
      return HPT_EXIT_USAGE;
    }
  }
  if (i >= argc) {
    fputs(usage, stderr);
    return HPT_EXIT_USAGE;
  }
  const char *command = argv[i];
  int sub_argc = argc - i;
  char **sub_argv = argv + i;
  if (strcmp(command, "study") == 0)
    return hpt_cli_study(&cli, sub_argc, sub_argv);
  if (strcmp(command, "trials") == 0)
    return hpt_cli_trials(&cli, sub_argc, sub_argv);
  if (strcmp(command, "serve") == 0)
    return hpt_cli_serve(&cli, sub_argc, sub_argv);
  if (strcmp(command, "ensemble") == 0)
    return hpt_cli_ensemble(&cli, sub_argc, sub_argv);
  if (strcmp(command, "predict") == 0)
    return hpt_cli_predict(&cli, sub_argc, sub_argv);
  if (strcmp(command, "workers") == 0)
    return hpt_cli_workers(&cli, sub_argc, sub_argv);
  if (strcmp(command, "ask") == 0)
    return hpt_cli_ask(&cli, sub_argc, sub_argv);
  if (strcmp(command, "tell") == 0)
    return hpt_cli_tell(&cli, sub_argc, sub_argv);
  if (strcmp(command, "report") == 0)
    return hpt_cli_report(&cli, sub_argc, sub_argv);
  if (strcmp(command, "db") == 0)
    return hpt_cli_db(&cli, sub_argc, sub_argv);
  if (strcmp(command, "keygen") == 0)
    return hpt_cli_keygen(&cli, sub_argc, sub_argv);
  fprintf(stderr, "hpt: unknown command '%s'\n%s", command, usage);
  return HPT_EXIT_USAGE;
}
