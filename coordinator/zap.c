/* zap.c — see zap.h. The ZAP protocol is ZeroMQ RFC 27: a request is
 * [version "1.0"][request id][domain][address][identity][mechanism]
 * [credentials...] (CURVE: one frame, the client's 32-byte public key); the
 * reply is [version][request id][status code][status text][user id]
 * [metadata]. */
#include "zap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "log.h"
#include "wire.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAX_FRAMES 8
/* A refused client reconnects every 100 ms or so: its key is logged the
 * first time and then at most every REFUSAL_LOG_MS, with the count. */
#define REFUSAL_LOG_MS 10000
#define RECENT_REFUSALS 32

typedef struct refusal {
  uint8_t key[32];
  uint64_t logged_ms; /* 0: slot unused */
  unsigned since_logged;
} refusal_t;

struct hpt_zap {
  void *socket; /* REP on ZAP_ENDPOINT; owned by the thread once started */
  uint8_t (*keys)[32]; /* allowed public keys, binary */
  size_t n_keys;
  size_t capacity;
  pthread_t thread;
  bool started;
  atomic_bool stop;
  refusal_t recent[RECENT_REFUSALS]; /* the thread's only */
};

int hpt_zap_new(void *zmq_context, hpt_zap_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_zap_t *zap = calloc(1, sizeof *zap);
  if (zap == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  zap->socket = zmq_socket(zmq_context, ZMQ_REP);
  int linger = 0;
  if (zap->socket == NULL ||
      zmq_setsockopt(zap->socket, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
      zmq_bind(zap->socket, ZAP_ENDPOINT) != 0) {
    int rc = HPT_ERR(error, HPT_ESYSTEM, "ZAP handler %s: %s", ZAP_ENDPOINT,
                     zmq_strerror(zmq_errno()));
    if (zap->socket != NULL)
      zmq_close(zap->socket);
    free(zap);
    return rc;
  }
  atomic_init(&zap->stop, false);
  *out = zap;
  return HPT_OK;
}

static int add_key(hpt_zap_t *zap, const uint8_t key[32]) {
  for (size_t i = 0; i < zap->n_keys; i++)
    if (memcmp(zap->keys[i], key, 32) == 0)
      return HPT_OK;
  if (zap->n_keys == zap->capacity) {
    size_t capacity = zap->capacity ? zap->capacity * 2 : 16;
    uint8_t(*grown)[32] = realloc(zap->keys, capacity * sizeof *grown);
    if (grown == NULL)
      return HPT_ENOMEM;
    zap->keys = grown;
    zap->capacity = capacity;
  }
  memcpy(zap->keys[zap->n_keys++], key, 32);
  return HPT_OK;
}

int hpt_zap_allow_key(hpt_zap_t *zap, const char *z85, hpt_error_t *error) {
  if (zap->started)
    return HPT_ERR(error, HPT_ESTATE, "ZAP handler already started");
  uint8_t key[32];
  if (!hpt_wire_key_valid(z85) || zmq_z85_decode(key, z85) == NULL)
    return HPT_ERR(error, HPT_EPARSE, "not a z85 CURVE public key");
  if (add_key(zap, key) != HPT_OK)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  return HPT_OK;
}

int hpt_zap_allow_file(hpt_zap_t *zap, const char *path, hpt_error_t *error) {
  if (zap->started)
    return HPT_ERR(error, HPT_ESTATE, "ZAP handler already started");
  FILE *file = fopen(path, "r");
  if (file == NULL)
    return HPT_ERR(error, HPT_EIO, "cannot read the allow file %s: %s", path,
                   strerror(errno));
  size_t n_before = zap->n_keys;
  char line[512];
  int number = 0, rc = HPT_OK;
  while (rc == HPT_OK && fgets(line, sizeof line, file) != NULL) {
    number++;
    char *start = line;
    while (*start == ' ' || *start == '\t')
      start++;
    size_t length = strcspn(start, " \t\r\n");
    start[length] = '\0';
    /* z85 has '#' too: a line is a comment only if it is not a key. */
    if (length == 0 || (start[0] == '#' && !hpt_wire_key_valid(start)))
      continue;
    uint8_t key[32];
    if (!hpt_wire_key_valid(start) || zmq_z85_decode(key, start) == NULL)
      rc = HPT_ERR(error, HPT_EPARSE,
                   "%s:%d: not a z85 CURVE public key (40 characters, as in "
                   "the NAME.pub of hpt keygen)",
                   path, number);
    else if (add_key(zap, key) != HPT_OK)
      rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  fclose(file);
  if (rc != HPT_OK)
    zap->n_keys = n_before;
  return rc;
}

size_t hpt_zap_allowed_count(const hpt_zap_t *zap) { return zap->n_keys; }

static uint64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Logs a refusal unless the same key was logged less than REFUSAL_LOG_MS
 * ago (then it is counted, and the count goes into the next line). */
static void log_refusal(hpt_zap_t *zap, const char *mechanism,
                        const uint8_t *key, const char *address) {
  char z85[HPT_WIRE_KEY_TEXT] = "-";
  if (key != NULL)
    zmq_z85_encode(z85, key, 32);
  uint64_t now = now_ms();
  refusal_t *slot = NULL;
  if (key != NULL) {
    refusal_t *oldest = &zap->recent[0];
    for (size_t i = 0; i < RECENT_REFUSALS && slot == NULL; i++) {
      refusal_t *r = &zap->recent[i];
      if (r->logged_ms != 0 && memcmp(r->key, key, 32) == 0)
        slot = r;
      else if (r->logged_ms < oldest->logged_ms)
        oldest = r;
    }
    if (slot != NULL && now - slot->logged_ms < REFUSAL_LOG_MS) {
      slot->since_logged++;
      return;
    }
    if (slot == NULL) {
      slot = oldest;
      memcpy(slot->key, key, 32);
      slot->since_logged = 0;
    }
  }
  hpt_log(HPT_LOG_WARN, "curve_refused",
          "key=%s address=%s mechanism=%s repeats=%u "
          "note=\"not in the --allow list\"",
          z85, address, mechanism, slot ? slot->since_logged : 0);
  if (slot != NULL) {
    slot->logged_ms = now;
    slot->since_logged = 0;
  }
}

/* Answers one request whose frames are in frames[0..n). */
static void answer(hpt_zap_t *zap, zmq_msg_t *frames, int n) {
  char mechanism[32] = "", address[64] = "";
  const uint8_t *key = NULL;
  if (n >= 6) {
    snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&frames[3]),
             (const char *)zmq_msg_data(&frames[3]));
    snprintf(mechanism, sizeof mechanism, "%.*s", (int)zmq_msg_size(&frames[5]),
             (const char *)zmq_msg_data(&frames[5]));
  }
  if (n >= 7 && strcmp(mechanism, "CURVE") == 0 &&
      zmq_msg_size(&frames[6]) == 32)
    key = zmq_msg_data(&frames[6]);
  bool allowed = false;
  for (size_t i = 0; key != NULL && i < zap->n_keys && !allowed; i++)
    allowed = memcmp(zap->keys[i], key, 32) == 0;
  if (!allowed)
    log_refusal(zap, mechanism[0] ? mechanism : "?", key,
                address[0] ? address : "?");
  const char *status = allowed ? "200" : "400";
  const char *text = allowed ? "OK" : "key not allowed";
  zmq_send(zap->socket, "1.0", 3, ZMQ_SNDMORE);
  if (n >= 2)
    zmq_send(zap->socket, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]),
             ZMQ_SNDMORE);
  else
    zmq_send(zap->socket, "", 0, ZMQ_SNDMORE);
  zmq_send(zap->socket, status, 3, ZMQ_SNDMORE);
  zmq_send(zap->socket, text, strlen(text), ZMQ_SNDMORE);
  zmq_send(zap->socket, "", 0, ZMQ_SNDMORE); /* user id */
  zmq_send(zap->socket, "", 0, 0);           /* metadata */
}

static void *zap_main(void *arg) {
  hpt_zap_t *zap = arg;
  while (!atomic_load(&zap->stop)) {
    zmq_pollitem_t item = {.socket = zap->socket, .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, 100) <= 0)
      continue;
    zmq_msg_t frames[MAX_FRAMES];
    int n = 0, more = 1;
    while (more) {
      zmq_msg_t frame;
      zmq_msg_init(&frame);
      if (zmq_msg_recv(&frame, zap->socket, 0) < 0) {
        zmq_msg_close(&frame);
        break;
      }
      more = zmq_msg_more(&frame);
      if (n < MAX_FRAMES)
        frames[n++] = frame;
      else
        zmq_msg_close(&frame);
    }
    answer(zap, frames, n);
    for (int i = 0; i < n; i++)
      zmq_msg_close(&frames[i]);
  }
  return NULL;
}

int hpt_zap_start(hpt_zap_t *zap, hpt_error_t *error) {
  if (zap->started)
    return HPT_ERR(error, HPT_ESTATE, "ZAP handler already started");
  int rc = pthread_create(&zap->thread, NULL, zap_main, zap);
  if (rc != 0)
    return HPT_ERR(error, HPT_ESYSTEM, "cannot start the ZAP thread: %s",
                   strerror(rc));
  zap->started = true;
  hpt_log(HPT_LOG_INFO, "curve_enabled", "allowed_keys=%zu", zap->n_keys);
  return HPT_OK;
}

void hpt_zap_destroy(hpt_zap_t **zap_p) {
  if (zap_p == NULL || *zap_p == NULL)
    return;
  hpt_zap_t *zap = *zap_p;
  if (zap->started) {
    atomic_store(&zap->stop, true);
    pthread_join(zap->thread, NULL);
  }
  zmq_close(zap->socket);
  free(zap->keys);
  free(zap);
  *zap_p = NULL;
}
