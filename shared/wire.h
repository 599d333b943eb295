/* wire.h — protobuf-c Envelopes (proto/hpt.proto) over ZeroMQ sockets.
 *
 * One ZeroMQ message carries one serialized Envelope. On a ROUTER socket the
 * message is [identity][payload]; on a DEALER it is [payload]. Receiving is
 * always non-blocking: the caller is an event loop (see zmq_watch.h).
 *
 * Anything that is not a well-formed Envelope with a body — wrong frame
 * count, undecodable bytes, an empty oneof — comes back as HPT_EWIRE with a
 * one-line reason, after every frame of that message has been consumed, so a
 * caller logs it and goes on. Oversized messages never arrive: sockets made
 * by hpt_wire_socket set ZMQ_MAXMSGSIZE and libzmq drops the peer.
 *
 * Ownership: a received envelope belongs to the caller; free it with
 * hpt_wire_free.
 */
#ifndef HPT_WIRE_H
#define HPT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hpt.pb-c.h"

#define HPT_WIRE_PROTOCOL_VERSION 1
#define HPT_WIRE_MAX_MESSAGE_BYTES (1 << 20)
#define HPT_WIRE_MAX_IDENTITY 256

typedef struct hpt_wire_peer {
  uint8_t bytes[HPT_WIRE_MAX_IDENTITY];
  size_t length; /* 0 on a DEALER */
} hpt_wire_peer_t;

/* Creates a socket of `type` (ZMQ_ROUTER or ZMQ_DEALER) on `context` with
 * hpt's options: ZMQ_MAXMSGSIZE, ZMQ_LINGER 0 (close never blocks), and for
 * DEALER an identity if `identity` is not NULL. */
int hpt_wire_socket(void *context, int type, const char *identity,
                    void **socket, hpt_error_t *error);

/* Sends an envelope. `peer` is NULL on a DEALER. Non-blocking: HPT_EIO if
 * the peer's queue is full or unroutable (the message is dropped). */
int hpt_wire_send(void *socket, const hpt_wire_peer_t *peer,
                  const Hpt__Envelope *envelope, hpt_error_t *error);

/* Sends an already packed Envelope (same contract as hpt_wire_send). */
int hpt_wire_send_packed(void *socket, const hpt_wire_peer_t *peer,
                         const uint8_t *bytes, size_t length,
                         hpt_error_t *error);

/* Receives one message if one is waiting. Returns 1 with *envelope set, 0
 * when none is waiting, HPT_EWIRE for a garbled message (consumed; *peer
 * filled when known), another negative code for socket errors. `peer` may be
 * NULL on a DEALER. */
int hpt_wire_receive(void *socket, hpt_wire_peer_t *peer,
                     Hpt__Envelope **envelope, hpt_error_t *error);

void hpt_wire_free(Hpt__Envelope *envelope);

/* ---- security: ZeroMQ CURVE ----------------------------------------------
 *
 * The coordinator's ROUTER is a CURVE server (its secret key; a ZAP handler,
 * coordinator/zap.h, decides which client keys may talk to it); each worker's
 * DEALER is a CURVE client that knows the coordinator's public key, so both
 * sides are authenticated and every frame is encrypted. Keys are z85 text
 * (40 characters), made by `hpt keygen`. Plain TCP needs an explicit
 * --insecure (hpt_wire_plain_check); ipc:// and inproc:// are guarded by the
 * file system and the process. */

#define HPT_WIRE_KEY_TEXT 41 /* a z85 key: 40 characters and a NUL */

typedef struct hpt_wire_curve {
  char secret_key[HPT_WIRE_KEY_TEXT]; /* this side's secret key */
  char public_key[HPT_WIRE_KEY_TEXT]; /* derived from secret_key */
  char server_key[HPT_WIRE_KEY_TEXT]; /* a client's view of the coordinator's
                                         public key; "" on the server */
} hpt_wire_curve_t;

/* Whether `text` is a z85 CURVE key (exactly 40 characters that decode).
 * Cannot fail. */
int hpt_wire_key_valid(const char *text);

/* Fills curve->secret_key from the key file `path` (its first line that is
 * neither blank nor a # comment) and derives curve->public_key from it;
 * server_key is left alone. Warns when the file is readable by others.
 * HPT_EIO (unreadable) or HPT_EPARSE (not a key), naming the file; *curve's
 * keys are then "". */
int hpt_wire_key_load_secret(const char *path, hpt_wire_curve_t *curve,
                             hpt_error_t *error);

/* Reads a public key into `key` (HPT_WIRE_KEY_TEXT bytes) from `source`: a
 * key file, or the z85 key itself when no such file exists. Same errors as
 * hpt_wire_key_load_secret. */
int hpt_wire_key_load_public(const char *source, char *key, hpt_error_t *error);

/* Makes `socket` a CURVE server (curve->server_key "") or a CURVE client
 * of the server with that public key. Call before zmq_bind/zmq_connect.
 * HPT_ESYSTEM with zmq's reason (e.g. libzmq built without CURVE). */
int hpt_wire_socket_secure(void *socket, const hpt_wire_curve_t *curve,
                           hpt_error_t *error);

/* Whether an endpoint is tcp://, and whether its host is loopback
 * (127.x.x.x, localhost, [::1], the interface lo). Cannot fail. */
int hpt_wire_endpoint_is_tcp(const char *endpoint);
int hpt_wire_endpoint_is_loopback(const char *endpoint);

/* The plain-TCP rule, for a socket without keys: a tcp:// endpoint needs
 * `insecure` (or `loopback_ok` with a loopback address); otherwise
 * HPT_EINVAL with a one-line hint that names `key_options` (how this
 * program takes keys). With `insecure` on a tcp address that is not
 * loopback it logs a warning. Other transports always pass. */
int hpt_wire_plain_check(const char *endpoint, int insecure, int loopback_ok,
                         const char *key_options, hpt_error_t *error);

/* Printable form of a peer identity (hex when not printable), for logs. */
void hpt_wire_peer_text(const hpt_wire_peer_t *peer, char *buffer, size_t size);

/* Name of the body case ("hello", "report", ...) for logs. */
const char *hpt_wire_body_name(const Hpt__Envelope *envelope);

#endif
