/* metrics_http.h — a tiny HTTP/1.x server for Prometheus scrapes, on a
 * libuv TCP handle in the coordinator's loop (no threads).
 *
 * `GET /metrics` answers 200 with the text of hpt_metrics_render, built from
 * the dispatcher's studies, workers and histograms at that moment.
 * Anything else answers 404; a request line that is not HTTP answers 400. A
 * request (line plus headers) larger than HPT_METRICS_HTTP_MAX_REQUEST, or
 * unfinished after HPT_METRICS_HTTP_TIMEOUT_MS, is cut off without an
 * answer. Every answer says `Connection: close` and the connection is shut
 * down after it. At most HPT_METRICS_HTTP_MAX_CONNECTIONS are open at once;
 * more are refused (closed at once).
 *
 * Lifecycle, like the dispatcher's: hpt_metrics_http_new → uv_run … →
 * hpt_metrics_http_close (closes the listener, every connection and the
 * timer) → run the loop until it returns → hpt_metrics_http_destroy.
 * Call everything from the loop's thread.
 */
#ifndef HPT_METRICS_HTTP_H
#define HPT_METRICS_HTTP_H

#include <uv.h>

#include "dispatcher.h"
#include "error.h"

#define HPT_METRICS_HTTP_MAX_REQUEST 4096
#define HPT_METRICS_HTTP_MAX_CONNECTIONS 64
#define HPT_METRICS_HTTP_TIMEOUT_MS 10000

typedef struct hpt_metrics_http hpt_metrics_http_t;

/* Parses "HOST:PORT" ("127.0.0.1:9464", "0.0.0.0:9464", "[::]:9464"; port
 * 0 picks a free one) into `address`. HPT_EINVAL with a message naming the
 * problem. Cannot fail otherwise. */
int hpt_metrics_http_parse_address(const char *text,
                                   struct sockaddr_storage *address,
                                   hpt_error_t *error);

/* Listens on `address` (see hpt_metrics_http_parse_address) in `loop`,
 * serving metrics of `dispatcher` (borrowed; must outlive the server).
 * HPT_EINVAL for a bad address, HPT_EIO with libuv's reason when it cannot
 * bind or listen; *server is NULL then, and the half-made server frees
 * itself during the caller's next uv_run. Sets SIGPIPE to be ignored (a
 * scraper that goes away must not kill the process). */
int hpt_metrics_http_new(uv_loop_t *loop, const char *address,
                         const hpt_dispatcher_t *dispatcher,
                         hpt_metrics_http_t **server, hpt_error_t *error);

/* The address actually bound, e.g. "127.0.0.1:9464" (resolves port 0). */
const char *hpt_metrics_http_address(const hpt_metrics_http_t *server);

/* Closes the listener, the open connections and the timer. Idempotent. */
void hpt_metrics_http_close(hpt_metrics_http_t *server);

/* Frees it; call only after hpt_metrics_http_close and a uv_run that
 * returned (every connection's close callback has run by then). Accepts
 * NULL; sets *server to NULL. */
void hpt_metrics_http_destroy(hpt_metrics_http_t **server);

#endif
