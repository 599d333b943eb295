/* cli.c — see cli.h. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded_db.h"
#include "log.h"

int hpt_cli_fail(const hpt_error_t *error) {
  fprintf(stderr, "hpt: %s\n",
          error->message[0] ? error->message : hpt_strerror(error->code));
  switch (error->code) {
  case HPT_ENOTFOUND:
    return HPT_EXIT_NOT_FOUND;
  case HPT_EDB:
    return HPT_EXIT_DATABASE;
  default:
    return HPT_EXIT_ERROR;
  }
}

int hpt_cli_open_store(hpt_cli_t *cli, hpt_store_t **store) {
  *store = NULL;
  hpt_error_t error;
  hpt_error_clear(&error);
  char url[4096];
  const char *conninfo = cli->db_url;
  if (conninfo == NULL) {
    char home[4096];
    if (hpt_embedded_db_home(home, sizeof home, &error) < 0 ||
        hpt_embedded_db_start(home, &error) < 0 ||
        hpt_embedded_db_url(home, url, sizeof url, &error) < 0) {
      hpt_cli_fail(&error);
      return HPT_EXIT_DATABASE;
    }
    conninfo = url;
  }
  if (hpt_store_open(conninfo, store, &error) < 0 ||
      hpt_store_migrate(*store, NULL, &error) < 0) {
    hpt_store_close(store);
    hpt_cli_fail(&error);
    return HPT_EXIT_DATABASE;
  }
  return HPT_EXIT_OK;
}

int hpt_cli_with_store(hpt_cli_t *cli, hpt_cli_store_job_t job, void *context) {
  hpt_store_t *store = NULL;
  int status = hpt_cli_open_store(cli, &store);
  if (status != HPT_EXIT_OK)
    return status;
  hpt_error_t error;
  hpt_error_clear(&error);
  if (job(store, context, &error) < 0)
    status = hpt_cli_fail(&error);
  hpt_store_close(&store);
  return status;
}

bool hpt_cli_is_help(const char *arg) {
  return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int hpt_cli_usage(const char *usage, bool help) {
  fputs(usage, help ? stdout : stderr);
  return help ? HPT_EXIT_OK : HPT_EXIT_USAGE;
}

int hpt_cli_unexpected(const char *command, const char *arg,
                       const char *usage) {
  fprintf(stderr, "hpt %s: unexpected argument '%s'\n%s", command, arg, usage);
  return HPT_EXIT_USAGE;
}

bool hpt_cli_valid_name(const char *name) {
  size_t length = strlen(name);
  if (length == 0 || length > 128)
    return false;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
      return false;
  return true;
}

bool hpt_cli_check_name(const char *name) {
  if (hpt_cli_valid_name(name))
    return true;
  fprintf(stderr,
          "hpt: --name '%s': use 1 to 128 letters, digits, '_', '.' or '-'\n",
          name);
  return false;
}

bool hpt_cli_parse_int(const char *option, const char *text, int *out) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0 ||
      value > 1000000000) {
    fprintf(stderr, "hpt: %s: expected a non-negative integer, got '%s'\n",
            option, text);
    return false;
  }
  *out = (int)value;
  return true;
}
