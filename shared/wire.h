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

/* Printable form of a peer identity (hex when not printable), for logs. */
void hpt_wire_peer_text(const hpt_wire_peer_t *peer, char *buffer, size_t size);

/* Name of the body case ("hello", "report", ...) for logs. */
const char *hpt_wire_body_name(const Hpt__Envelope *envelope);

#endif
