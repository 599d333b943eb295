/* metrics_http.c — see metrics_http.h.
 *
 * Each connection reads at most one request into a fixed buffer, answers it
 * with one write followed by a shutdown, and closes. A one-second timer cuts
 * off connections older than the timeout (slow or silent clients, or ones
 * that stopped reading), so a scraper cannot pin memory or handles.
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

typedef struct connection {
  uv_tcp_t handle; /* handle.data = this */
  hpt_metrics_http_t *server;
  struct connection *prev, *next; /* the server's open connections */
  uint64_t opened_ms;
  size_t length; /* bytes in request */
  bool answered;
  uv_write_t write;
  uv_shutdown_t shutdown;
  char *response; /* owned while the write is pending */
  char request[HPT_METRICS_HTTP_MAX_REQUEST + 1];
} connection_t;

struct hpt_metrics_http {
  uv_loop_t *loop;
  const hpt_dispatcher_t *dispatcher;
  uv_tcp_t listener;
  uv_timer_t sweeper;
  connection_t *connections;
  size_t n_connections;
  bool closed;
  char address[96];
};

/* ---- answers ------------------------------------------------------------- */

/* Collects a snapshot from the dispatcher and renders it. */
static int render_metrics(hpt_metrics_http_t *s, hpt_metrics_text_t *text) {
  size_t n = hpt_dispatcher_study_count(s->dispatcher);
  hpt_metrics_study_t *studies = calloc(n ? n : 1, sizeof *studies);
  if (studies == NULL)
    return HPT_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const hpt_study_t *study = hpt_dispatcher_study(s->dispatcher, i);
    studies[i].name = hpt_study_name(study);
    hpt_study_progress(study, &studies[i].progress);
  }
  hpt_dispatcher_stats_t stats;
  hpt_dispatcher_stats(s->dispatcher, &stats);
  hpt_metrics_snapshot_t snapshot = {
      .studies = studies,
      .n_studies = n,
      .workers_connected = hpt_dispatcher_worker_count(s->dispatcher),
      .dispatch_latency = stats.dispatch_latency,
      .db_write = stats.db_write,
      .db_ops = stats.db_ops,
      .n_db_ops = stats.n_db_ops,
  };
  hpt_metrics_render(&snapshot, text);
  free(studies);
  return text->failed ? HPT_ENOMEM : HPT_OK;
}

static void on_closed(uv_handle_t *handle) {
  connection_t *c = handle->data;
  hpt_metrics_http_t *s = c->server;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    s->connections = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  s->n_connections--;
  free(c->response);
  free(c);
}

static void close_connection(connection_t *c) {
  if (!uv_is_closing((uv_handle_t *)&c->handle))
    uv_close((uv_handle_t *)&c->handle, on_closed);
}

static void on_written(uv_write_t *request, int status) {
  connection_t *c = request->data;
  free(c->response);
  c->response = NULL;
  if (status < 0)
    close_connection(c);
}

static void on_shut_down(uv_shutdown_t *request, int status) {
  close_connection(request->data);
}

/* Sends `status_line` with `body` (text/plain of `content_type`), then
 * shuts the connection down. */
static void answer(connection_t *c, const char *status_line,
                   const char *content_type, const char *body,
                   size_t body_length) {
  c->answered = true;
  uv_read_stop((uv_stream_t *)&c->handle);
  char head[256];
  int head_length = snprintf(head, sizeof head,
                             "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                             status_line, content_type, body_length);
  c->response = malloc((size_t)head_length + body_length);
  if (c->response == NULL) {
    close_connection(c);
    return;
  }
  memcpy(c->response, head, (size_t)head_length);
  memcpy(c->response + head_length, body, body_length);
  uv_buf_t buffer =
      uv_buf_init(c->response, (unsigned)((size_t)head_length + body_length));
  c->write.data = c->shutdown.data = c;
  if (uv_write(&c->write, (uv_stream_t *)&c->handle, &buffer, 1, on_written) <
      0) {
    close_connection(c);
    return;
  }
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->handle, on_shut_down) < 0)
    close_connection(c);
}

static void answer_text(connection_t *c, const char *status_line,
                        const char *body) {
  answer(c, status_line, "text/plain; charset=utf-8", body, strlen(body));
}

/* ---- requests ------------------------------------------------------------ */

/* Splits "METHOD SP PATH SP HTTP/1.x" (the first line of c->request, which
 * ends at `end`) in place. False when it is not an HTTP request line. */
static bool parse_request_line(char *line, char *end, const char **method,
                               const char **path) {
  if (end > line && end[-1] == '\r')
    end--;
  *end = '\0';
  char *space = strchr(line, ' ');
  if (space == NULL || space == line)
    return false;
  for (const char *p = line; p < space; p++)
    if (*p < 'A' || *p > 'Z')
      return false;
  *space = '\0';
  *method = line;
  char *target = space + 1;
  char *space2 = strchr(target, ' ');
  if (target[0] != '/' || space2 == NULL ||
      strncmp(space2 + 1, "HTTP/1.", 7) != 0)
    return false;
  *space2 = '\0';
  for (const char *p = target; *p != '\0'; p++)
    if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
      return false;
  *path = target;
  return true;
}

static void handle_request(connection_t *c) {
  char *line_end = memchr(c->request, '\n', c->length);
  if (line_end == NULL)
    return; /* the request line is not complete yet */
  const char *method = NULL, *path = NULL;
  char line[HPT_METRICS_HTTP_MAX_REQUEST + 1];
  memcpy(line, c->request, (size_t)(line_end - c->request));
  if (!parse_request_line(line, line + (line_end - c->request), &method,
                          &path)) {
    hpt_log(HPT_LOG_DEBUG, "metrics_bad_request", "bytes=%zu", c->length);
    answer_text(c, "400 Bad Request", "bad request\n");
    return;
  }
  /* Answer once the headers are in (a blank line), so the client is not
   * reset while it is still sending them. */
  if (strstr(c->request, "\r\n\r\n") == NULL &&
      strstr(c->request, "\n\n") == NULL)
    return;
  size_t path_length = strcspn(path, "?");
  bool is_metrics =
      path_length == 8 && strncmp(path, "/metrics", path_length) == 0;
  hpt_log(HPT_LOG_DEBUG, "metrics_request", "method=%s path=\"%s\"", method,
          path);
  if (strcmp(method, "GET") != 0 || !is_metrics) {
    answer_text(c, "404 Not Found", "not found\n");
    return;
  }
  hpt_metrics_text_t text;
  hpt_metrics_text_init(&text);
  if (render_metrics(c->server, &text) < 0)
    answer_text(c, "500 Internal Server Error", "out of memory\n");
  else
    answer(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text.data,
           text.length);
  hpt_metrics_text_close(&text);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buffer) {
  connection_t *c = handle->data;
  (void)suggested;
  /* A full buffer gives a zero-length buffer: libuv reports UV_ENOBUFS. */
  *buffer = uv_buf_init(c->request + c->length,
                        (unsigned)(HPT_METRICS_HTTP_MAX_REQUEST - c->length));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  connection_t *c = stream->data;
  (void)buf;
  if (nread < 0) {
    if (nread == UV_ENOBUFS)
      hpt_log(HPT_LOG_DEBUG, "metrics_request_too_large", "bytes=%zu",
              c->length);
    close_connection(c); /* EOF, error, or too large */
    return;
  }
  c->length += (size_t)nread;
  c->request[c->length] = '\0';
  if (memchr(c->request, '\0', c->length) != NULL) {
    close_connection(c); /* NUL bytes: not HTTP */
    return;
  }
  handle_request(c);
  if (!c->answered && c->length == HPT_METRICS_HTTP_MAX_REQUEST)
    close_connection(c);
}

/* ---- the listener and the sweeper ---------------------------------------- */

static void on_connection(uv_stream_t *listener, int status) {
  hpt_metrics_http_t *s = listener->data;
  if (status < 0 || s->closed)
    return;
  connection_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return;
  c->server = s;
  c->opened_ms = uv_now(s->loop);
  uv_tcp_init(s->loop, &c->handle);
  c->handle.data = c;
  c->next = s->connections;
  if (s->connections != NULL)
    s->connections->prev = c;
  s->connections = c;
  s->n_connections++;
  if (uv_accept(listener, (uv_stream_t *)&c->handle) < 0 ||
      s->n_connections > HPT_METRICS_HTTP_MAX_CONNECTIONS) {
    close_connection(c);
    return;
  }
  if (uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read) < 0)
    close_connection(c);
}

static void on_sweep(uv_timer_t *timer) {
  hpt_metrics_http_t *s = timer->data;
  uint64_t now = uv_now(s->loop);
  for (connection_t *c = s->connections; c != NULL; c = c->next)
    if (now - c->opened_ms > HPT_METRICS_HTTP_TIMEOUT_MS)
      close_connection(c);
}

int hpt_metrics_http_parse_address(const char *text,
                                   struct sockaddr_storage *address,
                                   hpt_error_t *error) {
  const char *colon = strrchr(text, ':');
  if (colon == NULL)
    return HPT_ERR(error, HPT_EINVAL,
                   "metrics address '%s': expected HOST:PORT", text);
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
    return HPT_ERR(error, HPT_EINVAL, "metrics address '%s': bad port", text);
  char host[64];
  size_t host_length = (size_t)(colon - text);
  bool bracketed = host_length >= 2 && text[0] == '[' && colon[-1] == ']';
  if (bracketed) {
    text++;
    host_length -= 2;
  }
  if (host_length >= sizeof host)
    return HPT_ERR(error, HPT_EINVAL, "metrics address '%s': bad host", text);
  memcpy(host, text, host_length);
  host[host_length] = '\0';
  if (host_length == 0 || strcmp(host, "*") == 0)
    snprintf(host, sizeof host, "0.0.0.0");
  memset(address, 0, sizeof *address);
  int rc = bracketed
               ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)address)
               : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)address);
  if (rc != 0)
    return HPT_ERR(error, HPT_EINVAL,
                   "metrics address: '%s' is not an IPv4 address or a "
                   "bracketed IPv6 address",
                   host);
  return HPT_OK;
}

static void describe_bound(hpt_metrics_http_t *s) {
  struct sockaddr_storage bound;
  int length = sizeof bound;
  char host[64] = "?";
  int port = 0;
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &length) ==
      0) {
    if (bound.ss_family == AF_INET6) {
      struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&bound;
      uv_ip6_name(v6, host, sizeof host);
      port = ntohs(v6->sin6_port);
      snprintf(s->address, sizeof s->address, "[%s]:%d", host, port);
      return;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&bound;
    uv_ip4_name(v4, host, sizeof host);
    port = ntohs(v4->sin_port);
  }
  snprintf(s->address, sizeof s->address, "%s:%d", host, port);
}

static void free_on_close(uv_handle_t *handle) { free(handle->data); }

int hpt_metrics_http_new(uv_loop_t *loop, const char *address,
                         const hpt_dispatcher_t *dispatcher,
                         hpt_metrics_http_t **out, hpt_error_t *error) {
  *out = NULL;
  struct sockaddr_storage sockaddr;
  int rc = hpt_metrics_http_parse_address(address, &sockaddr, error);
  if (rc < 0)
    return rc;
  hpt_metrics_http_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  s->loop = loop;
  s->dispatcher = dispatcher;
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  int uv_rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&sockaddr, 0);
  if (uv_rc == 0)
    uv_rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
  if (uv_rc != 0) {
    /* The handle is initialised: it must be closed, and the struct is
     * freed when that is done, in the caller's next uv_run. */
    rc = HPT_ERR(error, HPT_EIO, "metrics: cannot listen on %s: %s", address,
                 uv_strerror(uv_rc));
    s->closed = true;
    uv_close((uv_handle_t *)&s->listener, free_on_close);
    return rc;
  }
  /* A scraper that goes away mid-answer must not kill the coordinator:
   * failed writes report EPIPE instead of raising SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  uv_timer_init(loop, &s->sweeper);
  s->sweeper.data = s;
  uv_timer_start(&s->sweeper, on_sweep, 1000, 1000);
  describe_bound(s);
  hpt_log(HPT_LOG_INFO, "metrics_listening", "address=%s", s->address);
  *out = s;
  return HPT_OK;
}

const char *hpt_metrics_http_address(const hpt_metrics_http_t *s) {
  return s->address;
}

void hpt_metrics_http_close(hpt_metrics_http_t *s) {
  if (s == NULL || s->closed)
    return;
  s->closed = true;
  uv_close((uv_handle_t *)&s->listener, NULL);
  uv_timer_stop(&s->sweeper);
  uv_close((uv_handle_t *)&s->sweeper, NULL);
  for (connection_t *c = s->connections; c != NULL; c = c->next)
    close_connection(c);
}

void hpt_metrics_http_destroy(hpt_metrics_http_t **server) {
  if (server == NULL || *server == NULL)
    return;
  free(*server);
  *server = NULL;
}
