/* cli_keygen.c — `hpt keygen`: a CURVE key pair for the coordinator or a
 * worker (see "Security" in README.md). NAME.key holds the secret key (mode
 * 0600), NAME.pub the public key; each is one line of z85 text. Needs no
 * database. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "wire.h"

static const char keygen_usage[] =
    "usage: hpt keygen --output DIR [--name NAME]\n"
    "\n"
    "Writes a CURVE key pair: DIR/NAME.key (secret, mode 0600: keep it on\n"
    "the host that uses it) and DIR/NAME.pub (public). NAME defaults to hpt;\n"
    "DIR is created (mode 0700) when missing; existing files are kept.\n"
    "\n"
    "  coordinator: hpt serve --curve-secret DIR/NAME.key --allow WORKERS\n"
    "               (WORKERS: the workers' .pub lines, one per line)\n"
    "  worker:      hpt-worker --curve-secret DIR/NAME.key\n"
    "               --server-key COORDINATOR.pub ...\n"
    "\n"
    "exit status: 0 written, 1 cannot write, 2 usage\n";

/* Writes `key` and a newline to a new file `path` with `mode`. */
static int write_key(const char *path, const char *key, mode_t mode,
                     hpt_error_t *error) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return HPT_ERR(error, errno == EEXIST ? HPT_EEXIST : HPT_EIO,
                   "cannot write %s: %s", path, strerror(errno));
  char line[HPT_WIRE_KEY_TEXT + 1];
  int length = snprintf(line, sizeof line, "%s\n", key);
  /* The umask may only have taken bits away; make the mode exact. */
  int rc = HPT_OK;
  if (fchmod(fd, mode) != 0 || write(fd, line, (size_t)length) != length ||
      fsync(fd) != 0)
    rc = HPT_ERR(error, HPT_EIO, "cannot write %s: %s", path, strerror(errno));
  if (close(fd) != 0 && rc == HPT_OK)
    rc = HPT_ERR(error, HPT_EIO, "cannot write %s: %s", path, strerror(errno));
  if (rc != HPT_OK)
    unlink(path);
  return rc;
}

int hpt_cli_keygen(hpt_cli_t *cli, int argc, char **argv) {
  (void)cli;
  const char *dir = NULL, *name = "hpt";
  for (int i = 1; i < argc; i++) {
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (hpt_cli_is_help(argv[i])) {
      fputs(keygen_usage, stdout);
      return HPT_EXIT_OK;
    } else if (strcmp(argv[i], "--output") == 0 && next) {
      dir = argv[++i];
    } else if (strcmp(argv[i], "--name") == 0 && next) {
      name = argv[++i];
    } else {
      fprintf(stderr, "hpt keygen: unexpected argument '%s'\n%s", argv[i],
              keygen_usage);
      return HPT_EXIT_USAGE;
    }
  }
  if (dir == NULL || name[0] == '\0' || strchr(name, '/') != NULL) {
    fputs(dir == NULL ? "hpt keygen: --output DIR is required\n"
                      : "hpt keygen: --name must be a plain file name\n",
          stderr);
    return HPT_EXIT_USAGE;
  }
  hpt_error_t error;
  hpt_error_clear(&error);
  if (!zmq_has("curve")) {
    HPT_ERR(&error, HPT_EUNSUPPORTED,
            "this libzmq was built without CURVE (libsodium)");
    return hpt_cli_fail(&error);
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    HPT_ERR(&error, HPT_EIO, "cannot create %s: %s", dir, strerror(errno));
    return hpt_cli_fail(&error);
  }
  char public_key[HPT_WIRE_KEY_TEXT], secret_key[HPT_WIRE_KEY_TEXT];
  char secret_path[4096], public_path[4096];
  snprintf(secret_path, sizeof secret_path, "%s/%s.key", dir, name);
  snprintf(public_path, sizeof public_path, "%s/%s.pub", dir, name);
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    HPT_ERR(&error, HPT_ESYSTEM, "zmq_curve_keypair: %s",
            zmq_strerror(zmq_errno()));
    return hpt_cli_fail(&error);
  }
  /* The public file first: if the secret one then fails, no secret key is
   * left without its public half, and nothing secret is left at all. */
  int rc = write_key(public_path, public_key, 0644, &error);
  if (rc == HPT_OK &&
      (rc = write_key(secret_path, secret_key, 0600, &error)) < 0)
    unlink(public_path);
  explicit_bzero(secret_key, sizeof secret_key);
  if (rc < 0)
    return hpt_cli_fail(&error);
  printf("wrote %s (secret: keep it on this host) and %s (public key %s)\n",
         secret_path, public_path, public_key);
  return HPT_EXIT_OK;
}
