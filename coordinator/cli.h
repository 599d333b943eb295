/* cli.h — the `hpt` command line: shared plumbing for the command files
 * (cli_db.c, cli_study.c, cli_run.c, cli_asktell.c).
 *
 * Each command is `int hpt_cli_<command>(hpt_cli_t *cli, int argc, char
 * **argv)` and returns the process exit status:
 */
#ifndef HPT_CLI_H
#define HPT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "store.h"

enum {
  HPT_EXIT_OK = 0,
  HPT_EXIT_ERROR = 1,     /* the command failed: bad input, runtime error */
  HPT_EXIT_USAGE = 2,     /* wrong arguments */
  HPT_EXIT_DATABASE = 3,  /* the database is unreachable */
  HPT_EXIT_NOT_FOUND = 4, /* no such study */
};

typedef struct hpt_cli {
  const char *db_url; /* --db, else HPT_DB, else NULL: embedded */
} hpt_cli_t;

/* Opens the store the user chose (starting the embedded server when needed)
 * and applies pending migrations. On failure prints the error and returns
 * HPT_EXIT_DATABASE; *store is NULL. */
int hpt_cli_open_store(hpt_cli_t *cli, hpt_store_t **store);

/* A command's work on an open store: returns HPT_OK or a negative error
 * code with *error set. */
typedef int (*hpt_cli_store_job_t)(hpt_store_t *store, void *context,
                                   hpt_error_t *error);

/* Opens the store (hpt_cli_open_store), runs `job`, closes the store.
 * Returns HPT_EXIT_OK, the open failure's status, or hpt_cli_fail's for a
 * failed job. */
int hpt_cli_with_store(hpt_cli_t *cli, hpt_cli_store_job_t job, void *context);

/* Prints "hpt: <message>" to stderr and returns the exit status that fits
 * the error's code. */
int hpt_cli_fail(const hpt_error_t *error);

/* Whether argv[i] is -h/--help. */
bool hpt_cli_is_help(const char *arg);

/* Prints `usage` to stdout and returns HPT_EXIT_OK when the user asked for
 * it (`help`), else to stderr and returns HPT_EXIT_USAGE. */
int hpt_cli_usage(const char *usage, bool help);

/* Prints "hpt COMMAND: unexpected argument 'ARG'" and `usage` to stderr;
 * returns HPT_EXIT_USAGE. */
int hpt_cli_unexpected(const char *command, const char *arg, const char *usage);

/* Whether a study name is acceptable: [A-Za-z0-9_.-]{1,128}. */
bool hpt_cli_valid_name(const char *name);

/* hpt_cli_valid_name for a --name value; prints why when it is not. */
bool hpt_cli_check_name(const char *name);

/* Parses a non-negative int option value; prints and returns false when
 * malformed. */
bool hpt_cli_parse_int(const char *option, const char *text, int *out);

int hpt_cli_db(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_study(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_trials(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_study_run(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_serve(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_workers(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_ensemble(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_predict(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_ask(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_tell(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_report(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_report_html(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_keygen(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_study_export(hpt_cli_t *cli, int argc, char **argv);
int hpt_cli_study_import(hpt_cli_t *cli, int argc, char **argv);

/* Writes `path` through `writer(out, context, error)` into a temporary file
 * beside it, then renames it into place: on any failure nothing is left
 * (no partial file, the old one untouched) and error says "cannot write
 * 'path': reason" (HPT_EIO). Implemented in cli_report.c. */
typedef int (*hpt_cli_writer_t)(FILE *out, void *context, hpt_error_t *error);
int hpt_cli_write_file(const char *path, hpt_cli_writer_t writer, void *context,
                       hpt_error_t *error);

#endif
