/* wire.c — see wire.h. */
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "log.h"

int hpt_wire_socket(void *context, int type, const char *identity,
                    void **socket, hpt_error_t *error) {
  *socket = NULL;
  void *created = zmq_socket(context, type);
  if (created == NULL)
    return HPT_ERR(error, HPT_ESYSTEM, "zmq_socket: %s",
                   zmq_strerror(zmq_errno()));
  int64_t max_size = HPT_WIRE_MAX_MESSAGE_BYTES;
  int linger = 0;
  /* A ROUTER reports unroutable peers instead of dropping silently. */
  int mandatory = 1;
  if (zmq_setsockopt(created, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size) ||
      zmq_setsockopt(created, ZMQ_LINGER, &linger, sizeof linger) ||
      (type == ZMQ_ROUTER && zmq_setsockopt(created, ZMQ_ROUTER_MANDATORY,
                                            &mandatory, sizeof mandatory)) ||
      (identity != NULL &&
       zmq_setsockopt(created, ZMQ_ROUTING_ID, identity, strlen(identity)))) {
    int rc = HPT_ERR(error, HPT_ESYSTEM, "zmq_setsockopt: %s",
                     zmq_strerror(zmq_errno()));
    zmq_close(created);
    return rc;
  }
  *socket = created;
  return HPT_OK;
}

int hpt_wire_send(void *socket, const hpt_wire_peer_t *peer,
                  const Hpt__Envelope *envelope, hpt_error_t *error) {
  size_t size = hpt__envelope__get_packed_size(envelope);
  if (size > HPT_WIRE_MAX_MESSAGE_BYTES)
    return HPT_ERR(error, HPT_EINVAL, "message of %zu bytes exceeds %d", size,
                   HPT_WIRE_MAX_MESSAGE_BYTES);
  uint8_t stack_buffer[4096];
  uint8_t *buffer = size <= sizeof stack_buffer ? stack_buffer : malloc(size);
  if (buffer == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory packing a message");
  hpt__envelope__pack(envelope, buffer);
  int rc = hpt_wire_send_packed(socket, peer, buffer, size, error);
  if (buffer != stack_buffer)
    free(buffer);
  return rc;
}

int hpt_wire_send_packed(void *socket, const hpt_wire_peer_t *peer,
                         const uint8_t *bytes, size_t length,
                         hpt_error_t *error) {
  if (peer != NULL && peer->length > 0 &&
      zmq_send(socket, peer->bytes, peer->length, ZMQ_SNDMORE | ZMQ_DONTWAIT) <
          0)
    return HPT_ERR(error, HPT_EIO, "zmq_send: %s", zmq_strerror(zmq_errno()));
  if (zmq_send(socket, bytes, length, ZMQ_DONTWAIT) < 0)
    return HPT_ERR(error, HPT_EIO, "zmq_send: %s", zmq_strerror(zmq_errno()));
  return HPT_OK;
}

/* Reads and discards the remaining frames of a multipart message. */
static void drain_frames(void *socket) {
  int more = 1;
  size_t more_size = sizeof more;
  while (zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &more_size) == 0 && more) {
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, socket, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&frame);
      return;
    }
    zmq_msg_close(&frame);
  }
}

static int has_more(void *socket) {
  int more = 0;
  size_t more_size = sizeof more;
  zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &more_size);
  return more;
}

int hpt_wire_receive(void *socket, hpt_wire_peer_t *peer,
                     Hpt__Envelope **envelope, hpt_error_t *error) {
  *envelope = NULL;
  int type = 0;
  size_t type_size = sizeof type;
  zmq_getsockopt(socket, ZMQ_TYPE, &type, &type_size);
  zmq_msg_t frame;
  zmq_msg_init(&frame);
  if (zmq_msg_recv(&frame, socket, ZMQ_DONTWAIT) < 0) {
    int code = zmq_errno();
    zmq_msg_close(&frame);
    if (code == EAGAIN || code == EINTR)
      return 0;
    return HPT_ERR(error, HPT_EIO, "zmq_msg_recv: %s", zmq_strerror(code));
  }
  if (type == ZMQ_ROUTER) {
    if (peer != NULL) {
      size_t length = zmq_msg_size(&frame);
      if (length > HPT_WIRE_MAX_IDENTITY)
        length = HPT_WIRE_MAX_IDENTITY;
      memcpy(peer->bytes, zmq_msg_data(&frame), length);
      peer->length = length;
    }
    int more = has_more(socket);
    zmq_msg_close(&frame);
    if (!more)
      return HPT_ERR(error, HPT_EWIRE, "message without a payload frame");
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, socket, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&frame);
      return HPT_ERR(error, HPT_EWIRE, "truncated message");
    }
  } else if (peer != NULL) {
    peer->length = 0;
  }
  if (has_more(socket)) {
    zmq_msg_close(&frame);
    drain_frames(socket);
    return HPT_ERR(error, HPT_EWIRE, "message with extra frames");
  }
  size_t size = zmq_msg_size(&frame);
  Hpt__Envelope *decoded =
      hpt__envelope__unpack(NULL, size, (const uint8_t *)zmq_msg_data(&frame));
  zmq_msg_close(&frame);
  if (decoded == NULL)
    return HPT_ERR(error, HPT_EWIRE, "undecodable message of %zu bytes", size);
  if (decoded->body_case == HPT__ENVELOPE__BODY__NOT_SET) {
    hpt__envelope__free_unpacked(decoded, NULL);
    return HPT_ERR(error, HPT_EWIRE, "message without a body (%zu bytes)",
                   size);
  }
  *envelope = decoded;
  return 1;
}

void hpt_wire_free(Hpt__Envelope *envelope) {
  if (envelope != NULL)
    hpt__envelope__free_unpacked(envelope, NULL);
}

void hpt_wire_peer_text(const hpt_wire_peer_t *peer, char *buffer,
                        size_t size) {
  if (size == 0)
    return;
  size_t used = 0;
  int printable = peer->length > 0;
  for (size_t i = 0; i < peer->length; i++)
    if (peer->bytes[i] < 0x21 || peer->bytes[i] > 0x7e)
      printable = 0;
  buffer[0] = '\0';
  for (size_t i = 0; i < peer->length && used + 3 < size; i++) {
    if (printable)
      buffer[used++] = (char)peer->bytes[i];
    else
      used +=
          (size_t)snprintf(buffer + used, size - used, "%02x", peer->bytes[i]);
  }
  buffer[used < size ? used : size - 1] = '\0';
}

const char *hpt_wire_body_name(const Hpt__Envelope *envelope) {
  switch (envelope->body_case) {
  case HPT__ENVELOPE__BODY_HELLO:
    return "hello";
  case HPT__ENVELOPE__BODY_WELCOME:
    return "welcome";
  case HPT__ENVELOPE__BODY_REFUSED:
    return "refused";
  case HPT__ENVELOPE__BODY_WHO_ARE_YOU:
    return "who_are_you";
  case HPT__ENVELOPE__BODY_ASSIGN:
    return "assign";
  case HPT__ENVELOPE__BODY_REPORT:
    return "report";
  case HPT__ENVELOPE__BODY_VERDICT:
    return "verdict";
  case HPT__ENVELOPE__BODY_COMPLETE:
    return "complete";
  case HPT__ENVELOPE__BODY_FAILED:
    return "failed";
  case HPT__ENVELOPE__BODY_HEARTBEAT:
    return "heartbeat";
  case HPT__ENVELOPE__BODY_ARTIFACT:
    return "artifact";
  case HPT__ENVELOPE__BODY_LEAVING:
    return "leaving";
  default:
    return "unknown";
  }
}

/* ---- security: ZeroMQ CURVE ---------------------------------------------- */

int hpt_wire_key_valid(const char *text) {
  uint8_t bytes[32];
  return text != NULL && strlen(text) == 40 &&
         zmq_z85_decode(bytes, text) != NULL;
}

/* Copies the first line of `path` that is neither blank nor a # comment,
 * without surrounding blanks, into key (HPT_WIRE_KEY_TEXT bytes) and checks
 * that it is a z85 key. */
static int read_key_file(FILE *file, const char *path, char *key,
                         hpt_error_t *error) {
  char line[256];
  int number = 0;
  key[0] = '\0';
  while (fgets(line, sizeof line, file) != NULL) {
    number++;
    char *start = line;
    while (*start == ' ' || *start == '\t')
      start++;
    size_t length = strcspn(start, " \t\r\n");
    start[length] = '\0';
    /* z85 has '#' too: a line is a comment only if it is not a key. */
    if (length == 0 || (start[0] == '#' && !hpt_wire_key_valid(start)))
      continue;
    if (!hpt_wire_key_valid(start))
      return HPT_ERR(error, HPT_EPARSE,
                     "%s:%d: not a z85 CURVE key (40 characters, as written "
                     "by hpt keygen)",
                     path, number);
    memcpy(key, start, HPT_WIRE_KEY_TEXT);
    return HPT_OK;
  }
  return HPT_ERR(error, HPT_EPARSE, "%s: no key in the file", path);
}

int hpt_wire_key_load_secret(const char *path, hpt_wire_curve_t *curve,
                             hpt_error_t *error) {
  curve->secret_key[0] = curve->public_key[0] = '\0';
  FILE *file = fopen(path, "r");
  if (file == NULL)
    return HPT_ERR(error, HPT_EIO, "cannot read the key file %s: %s", path,
                   strerror(errno));
  struct stat st;
  if (fstat(fileno(file), &st) == 0 && (st.st_mode & 077) != 0)
    hpt_log(HPT_LOG_WARN, "key_file_exposed",
            "file=%s mode=%03o note=\"a secret key should be readable by its "
            "owner only: chmod 600\"",
            path, (unsigned)(st.st_mode & 0777));
  int rc = read_key_file(file, path, curve->secret_key, error);
  fclose(file);
  if (rc == HPT_OK &&
      zmq_curve_public(curve->public_key, curve->secret_key) != 0)
    rc = HPT_ERR(error, HPT_EPARSE, "%s: cannot derive a public key: %s", path,
                 zmq_strerror(zmq_errno()));
  if (rc != HPT_OK)
    curve->secret_key[0] = curve->public_key[0] = '\0';
  return rc;
}

int hpt_wire_key_load_public(const char *source, char *key,
                             hpt_error_t *error) {
  key[0] = '\0';
  FILE *file = fopen(source, "r");
  if (file == NULL && errno == ENOENT && hpt_wire_key_valid(source)) {
    memcpy(key, source, HPT_WIRE_KEY_TEXT);
    return HPT_OK;
  }
  if (file == NULL)
    return HPT_ERR(error, HPT_EIO,
                   "%s is neither a readable key file (%s) nor a z85 key",
                   source, strerror(errno));
  int rc = read_key_file(file, source, key, error);
  fclose(file);
  return rc;
}

int hpt_wire_socket_secure(void *socket, const hpt_wire_curve_t *curve,
                           hpt_error_t *error) {
  if (!zmq_has("curve"))
    return HPT_ERR(error, HPT_EUNSUPPORTED,
                   "this libzmq was built without CURVE (libsodium)");
  int server = curve->server_key[0] == '\0';
  int rc;
  if (server) {
    /* The domain makes libzmq ask the ZAP handler about every client. */
    rc = zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &server, sizeof server) ||
         zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, curve->secret_key, 40) ||
         zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, "hpt", 3);
  } else {
    rc = zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, curve->server_key, 40) ||
         zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, curve->public_key, 40) ||
         zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, curve->secret_key, 40);
  }
  if (rc != 0)
    return HPT_ERR(error, HPT_ESYSTEM, "CURVE socket options: %s",
                   zmq_strerror(zmq_errno()));
  return HPT_OK;
}

int hpt_wire_endpoint_is_tcp(const char *endpoint) {
  return strncmp(endpoint, "tcp://", 6) == 0;
}

int hpt_wire_endpoint_is_loopback(const char *endpoint) {
  if (!hpt_wire_endpoint_is_tcp(endpoint))
    return 0;
  const char *host = endpoint + 6;
  /* A connect endpoint may name a source first: "tcp://src;dest:port". */
  const char *semicolon = strchr(host, ';');
  if (semicolon != NULL)
    host = semicolon + 1;
  static const char *const loopback[] = {"127.", "localhost:", "[::1]:", "lo:"};
  for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
    if (strncmp(host, loopback[i], strlen(loopback[i])) == 0)
      return 1;
  return 0;
}

int hpt_wire_plain_check(const char *endpoint, int insecure, int loopback_ok,
                         const char *key_options, hpt_error_t *error) {
  if (!hpt_wire_endpoint_is_tcp(endpoint))
    return HPT_OK;
  int loopback = hpt_wire_endpoint_is_loopback(endpoint);
  if (insecure) {
    if (!loopback)
      hpt_log(HPT_LOG_WARN, "insecure_endpoint",
              "endpoint=%s note=\"plain TCP without CURVE: whoever reaches "
              "this address can read, forge and take trials\"",
              endpoint);
    return HPT_OK;
  }
  if (loopback && loopback_ok)
    return HPT_OK;
  return HPT_ERR(error, HPT_EINVAL,
                 "%s is plain TCP: give keys (%s; make them with `hpt "
                 "keygen`) or pass --insecure",
                 endpoint, key_options);
}
