/* cli_db.c — `hpt db start|stop|url|migrate`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "embedded_db.h"

static const char usage[] =
    "usage: hpt db start | stop | url | migrate\n"
    "\n"
    "  start    initialise (first use) and start the embedded PostgreSQL\n"
    "           under $HPT_HOME (default ./.hpt)\n"
    "  stop     stop it\n"
    "  url      print the libpq connection string: psql \"$(hpt db url)\"\n"
    "  migrate  apply pending schema migrations (idempotent)\n"
    "\n"
    "With --db URL or HPT_DB, hpt uses that server: start and stop do\n"
    "nothing, url prints it, migrate migrates it.\n";

int hpt_cli_db(hpt_cli_t *cli, int argc, char **argv) {
  if (argc < 2 || hpt_cli_is_help(argv[1])) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? HPT_EXIT_USAGE : HPT_EXIT_OK;
  }
  const char *verb = argv[1];
  if (argc > 2) {
    fprintf(stderr, "hpt db %s: unexpected argument '%s'\n", verb, argv[2]);
    return HPT_EXIT_USAGE;
  }
  hpt_error_t error;
  hpt_error_clear(&error);
  char home[4096];
  bool embedded = cli->db_url == NULL;
  if (embedded && hpt_embedded_db_home(home, sizeof home, &error) < 0)
    return hpt_cli_fail(&error);
  if (strcmp(verb, "start") == 0 || strcmp(verb, "stop") == 0) {
    if (!embedded) {
      fprintf(stderr,
              "hpt: using the database given by --db/HPT_DB; "
              "there is no embedded server to %s\n",
              verb);
      return HPT_EXIT_OK;
    }
    int rc = verb[2] == 'a' ? hpt_embedded_db_start(home, &error)
                            : hpt_embedded_db_stop(home, &error);
    if (rc < 0)
      return hpt_cli_fail(&error);
    printf("embedded PostgreSQL %s (%s)\n",
           verb[2] == 'a' ? "running" : "stopped", home);
    return HPT_EXIT_OK;
  }
  if (strcmp(verb, "url") == 0) {
    if (!embedded) {
      printf("%s\n", cli->db_url);
      return HPT_EXIT_OK;
    }
    char url[4096];
    if (hpt_embedded_db_url(home, url, sizeof url, &error) < 0)
      return hpt_cli_fail(&error);
    printf("%s\n", url);
    return HPT_EXIT_OK;
  }
  if (strcmp(verb, "migrate") == 0) {
    char url[4096];
    const char *conninfo = cli->db_url;
    if (embedded) {
      if (hpt_embedded_db_start(home, &error) < 0 ||
          hpt_embedded_db_url(home, url, sizeof url, &error) < 0)
        return hpt_cli_fail(&error);
      conninfo = url;
    }
    hpt_store_t *store = NULL;
    int applied = 0, version = 0;
    if (hpt_store_open(conninfo, &store, &error) < 0 ||
        hpt_store_migrate(store, &applied, &error) < 0 ||
        hpt_store_schema_version(store, &version, &error) < 0) {
      hpt_store_close(&store);
      hpt_cli_fail(&error);
      return HPT_EXIT_DATABASE;
    }
    hpt_store_close(&store);
    printf("applied %d migration%s; schema version %d\n", applied,
           applied == 1 ? "" : "s", version);
    return HPT_EXIT_OK;
  }
  fprintf(stderr, "hpt db: unknown command '%s'\n%s", verb, usage);
  return HPT_EXIT_USAGE;
}
