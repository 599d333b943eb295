/* artifact_receive.c — see artifact_receive.h. */
#include "artifact_receive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sha256.h"
#include "store_artifacts.h"

struct hpt_artifact_receive {
  bool active; /* a file is in progress */
  char name[256];
  int64_t study_id;
  int number;
  uint32_t object;
  uint64_t total_size; /* as announced by the first chunk */
  uint64_t received;   /* bytes so far == the next offset expected */
  uint64_t flushed;    /* bytes already in the large object */
  hpt_sha256_ctx_t *hash;
  uint8_t *buffer; /* received - flushed bytes, at most BUFFER */
};

bool hpt_artifact_name_valid(const char *name) {
  size_t length = name ? strlen(name) : 0;
  if (length == 0 || length > 255 || name[0] == '.')
    return false;
  for (size_t i = 0; i < length; i++)
    if (name[i] == '/' || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return false;
  return true;
}

/* Unlinks the object of the file in progress and forgets it. */
static void drop(hpt_artifact_receive_t *rx, hpt_store_t *store,
                 const char *worker_id, const char *reason) {
  if (!rx->active)
    return;
  hpt_log(HPT_LOG_WARN, "artifact_dropped",
          "worker=%s trial=%d name=%s reason=\"%s\"", worker_id, rx->number,
          rx->name, reason);
  if (store != NULL)
    hpt_store_artifact_discard(store, rx->object);
  rx->active = false;
}

static bool flush(hpt_artifact_receive_t *rx, hpt_store_t *store,
                  const char *worker_id) {
  size_t pending = (size_t)(rx->received - rx->flushed);
  if (pending == 0)
    return true;
  hpt_error_t error;
  if (hpt_store_artifact_write(store, rx->object, rx->flushed, rx->buffer,
                               pending, &error) < 0) {
    hpt_log(HPT_LOG_ERROR, "artifact_store_failed",
            "trial=%d name=%s error=\"%s\"", rx->number, rx->name,
            error.message);
    drop(rx, store, worker_id, "store failed");
    return false;
  }
  rx->flushed = rx->received;
  return true;
}

/* Starts file chunk->name at offset 0. */
static bool begin(hpt_artifact_receive_t *rx, hpt_store_t *store,
                  const char *worker_id, const Hpt__ArtifactChunk *chunk) {
  hpt_error_t error;
  uint8_t discard[HPT_SHA256_BYTES];
  if (hpt_store_artifact_create(store, &rx->object, &error) < 0) {
    hpt_log(HPT_LOG_ERROR, "artifact_store_failed",
            "worker=%s trial=%d name=%s error=\"%s\"", worker_id, chunk->number,
            chunk->name, error.message);
    return false;
  }
  rx->active = true;
  snprintf(rx->name, sizeof rx->name, "%s", chunk->name);
  rx->study_id = chunk->study_id;
  rx->number = chunk->number;
  rx->total_size = chunk->total_size;
  rx->received = rx->flushed = 0;
  hpt_sha256_final(rx->hash, discard); /* a fresh hash */
  return true;
}

void hpt_artifact_receive_chunk(hpt_artifact_receive_t **rxp,
                                hpt_store_t *store, const char *worker_id,
                                const Hpt__ArtifactChunk *chunk) {
  if (!hpt_artifact_name_valid(chunk->name)) {
    if (chunk->offset == 0)
      hpt_log(HPT_LOG_WARN, "artifact_refused",
              "worker=%s trial=%d reason=\"not a file name\" name=\"%.80s\"",
              worker_id, chunk->number, chunk->name ? chunk->name : "");
    return;
  }
  if (chunk->total_size > HPT_ARTIFACT_MAX_BYTES) {
    if (chunk->offset == 0)
      hpt_log(HPT_LOG_WARN, "artifact_refused",
              "worker=%s trial=%d name=%s reason=\"%llu bytes is over the "
              "limit\"",
              worker_id, chunk->number, chunk->name,
              (unsigned long long)chunk->total_size);
    return;
  }
  hpt_artifact_receive_t *rx = *rxp;
  if (rx == NULL) {
    rx = calloc(1, sizeof *rx);
    if (rx == NULL || (rx->hash = hpt_sha256_new()) == NULL ||
        (rx->buffer = malloc(HPT_ARTIFACT_RECEIVE_BUFFER)) == NULL) {
      hpt_artifact_receive_destroy(&rx, store);
      hpt_log(HPT_LOG_ERROR, "artifact_dropped",
              "worker=%s name=%s reason=\"out of memory\"", worker_id,
              chunk->name);
      return;
    }
    *rxp = rx;
  }
  bool same = rx->active && rx->study_id == chunk->study_id &&
              rx->number == chunk->number && strcmp(rx->name, chunk->name) == 0;
  if (chunk->offset == 0) {
    if (rx->active)
      drop(rx, store, worker_id, "cut short by the next file");
    if (!begin(rx, store, worker_id, chunk))
      return;
  } else if (!same || chunk->offset != rx->received) {
    if (same)
      drop(rx, store, worker_id, "out of order");
    return; /* the rest of a file already dropped */
  }
  if (rx->received + chunk->data.len > rx->total_size) {
    drop(rx, store, worker_id, "more bytes than announced");
    return;
  }
  /* Into the buffer, writing it out whenever it fills up. */
  hpt_sha256_update(rx->hash, chunk->data.data, chunk->data.len);
  for (size_t done = 0; done < chunk->data.len;) {
    size_t used = (size_t)(rx->received - rx->flushed);
    size_t room = HPT_ARTIFACT_RECEIVE_BUFFER - used;
    size_t take = chunk->data.len - done < room ? chunk->data.len - done : room;
    memcpy(rx->buffer + used, chunk->data.data + done, take);
    rx->received += take;
    done += take;
    if (rx->received - rx->flushed == HPT_ARTIFACT_RECEIVE_BUFFER &&
        !flush(rx, store, worker_id))
      return;
  }
  if (!chunk->last)
    return;
  uint8_t digest[HPT_SHA256_BYTES];
  char hex[HPT_SHA256_HEX];
  hpt_sha256_final(rx->hash, digest);
  hpt_sha256_hex(digest, hex);
  if (chunk->sha256.len != HPT_SHA256_BYTES ||
      memcmp(chunk->sha256.data, digest, HPT_SHA256_BYTES) != 0 ||
      rx->received != rx->total_size) {
    drop(rx, store, worker_id, "sha256 or size mismatch");
    return;
  }
  if (!flush(rx, store, worker_id))
    return;
  hpt_error_t error;
  if (hpt_store_artifact_record(store, rx->study_id, rx->number, rx->name,
                                rx->object, rx->received, hex, &error) < 0) {
    hpt_log(HPT_LOG_ERROR, "artifact_store_failed",
            "trial=%d name=%s error=\"%s\"", rx->number, rx->name,
            error.message);
    if (error.code != HPT_ENOTFOUND) /* else already unlinked */
      hpt_store_artifact_discard(store, rx->object);
  } else {
    hpt_log(HPT_LOG_DEBUG, "artifact_stored", "trial=%d name=%s bytes=%llu",
            rx->number, rx->name, (unsigned long long)rx->received);
  }
  rx->active = false;
}

void hpt_artifact_receive_destroy(hpt_artifact_receive_t **rxp,
                                  hpt_store_t *store) {
  if (rxp == NULL || *rxp == NULL)
    return;
  hpt_artifact_receive_t *rx = *rxp;
  if (rx->active && store != NULL)
    hpt_store_artifact_discard(store, rx->object);
  hpt_sha256_destroy(&rx->hash);
  free(rx->buffer);
  free(rx);
  *rxp = NULL;
}
