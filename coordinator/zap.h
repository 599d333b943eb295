/* zap.h — the coordinator's ZeroMQ authentication handler (ZAP, RFC 27).
 *
 * A CURVE server socket (hpt_wire_socket_secure) asks the context's ZAP
 * handler, at inproc://zeromq.zap.01, about every client that completes a
 * CURVE handshake. This one answers from an allow list of worker public
 * keys: a listed key is accepted (200), anything else — an unknown key,
 * another mechanism — is refused (400) and logged as one `curve_refused`
 * line with the client's public key and address. A refused client never
 * gets a message through to the dispatcher.
 *
 * The handler runs in its own thread, so handshakes go on while the
 * coordinator's loop is busy (e.g. waiting for the database). The allow
 * list is fixed before hpt_zap_start and only read afterwards.
 *
 * Lifecycle: hpt_zap_new → hpt_zap_allow_file / hpt_zap_allow_key →
 * hpt_zap_start → (bind the CURVE socket, run) → hpt_zap_destroy (stops the
 * thread and closes the socket; before zmq_ctx_term).
 */
#ifndef HPT_ZAP_H
#define HPT_ZAP_H

#include <stddef.h>

#include "error.h"

typedef struct hpt_zap hpt_zap_t;

/* Creates a handler on `zmq_context` (borrowed; must outlive it) and binds
 * inproc://zeromq.zap.01, so that no CURVE handshake on that context can
 * slip past it. HPT_ESYSTEM if the bind fails (another handler is bound);
 * *zap is NULL on failure. Caller owns *zap: free with hpt_zap_destroy. */
int hpt_zap_new(void *zmq_context, hpt_zap_t **zap, hpt_error_t *error);

/* Adds every key of an allow file: one z85 public key per line (as written
 * by `hpt keygen` in NAME.pub), blank lines and # comments ignored.
 * HPT_EIO if unreadable, HPT_EPARSE naming the line that is not a key (no
 * key of the file is added then). Before hpt_zap_start only. */
int hpt_zap_allow_file(hpt_zap_t *zap, const char *path, hpt_error_t *error);

/* Adds one z85 public key. HPT_EPARSE if it is not one. Before
 * hpt_zap_start only. */
int hpt_zap_allow_key(hpt_zap_t *zap, const char *z85, hpt_error_t *error);

/* Keys allowed so far. Cannot fail. */
size_t hpt_zap_allowed_count(const hpt_zap_t *zap);

/* Starts answering in a thread. HPT_ESYSTEM if the thread cannot start. */
int hpt_zap_start(hpt_zap_t *zap, hpt_error_t *error);

/* Stops the thread (within about 100 ms), closes the socket and frees the
 * handler. Accepts NULL; sets *zap to NULL. */
void hpt_zap_destroy(hpt_zap_t **zap);

#endif
