/* artifact_upload.c — see artifact_upload.h. */
#include "artifact_upload.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "sha256.h"
#include "wire.h"

struct hpt_artifact_upload {
  char *dir;
  int64_t study_id;
  int number;
  char **names; /* sorted */
  size_t n_names;
  size_t next_name; /* index of the next file to open */
  /* The file being sent. */
  FILE *file;
  const char *name; /* borrowed from names */
  uint64_t size, offset;
  hpt_sha256_ctx_t *hash;
  /* The chunk read and not yet accepted by libzmq (when chunk_ready). */
  uint8_t *chunk;
  size_t chunk_length;
  bool chunk_ready;
  uint8_t digest[HPT_SHA256_BYTES]; /* the file's, once its last chunk is
                                       read */
  /* Totals. */
  size_t files_sent;
  uint64_t bytes_sent;
};

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int hpt_artifact_upload_new(const char *dir, int64_t study_id, int number,
                            hpt_artifact_upload_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_artifact_upload_t *up = calloc(1, sizeof *up);
  if (up == NULL || (up->dir = strdup(dir)) == NULL ||
      (up->chunk = malloc(HPT_ARTIFACT_CHUNK_BYTES)) == NULL ||
      (up->hash = hpt_sha256_new()) == NULL) {
    hpt_artifact_upload_destroy(&up);
    return HPT_ERR(error, HPT_ENOMEM, "artifact upload: out of memory");
  }
  up->study_id = study_id;
  up->number = number;
  DIR *d = opendir(dir);
  if (d == NULL) {
    hpt_artifact_upload_destroy(&up);
    return HPT_ERR(error, HPT_EIO, "%s: cannot list", dir);
  }
  struct dirent *entry;
  int rc = HPT_OK;
  while ((entry = readdir(d)) != NULL && rc == HPT_OK) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
    if (entry->d_name[0] == '.' || strchr(entry->d_name, '/') != NULL ||
        lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    char **grown = realloc(up->names, (up->n_names + 1) * sizeof *grown);
    if (grown == NULL || (grown[up->n_names] = strdup(entry->d_name)) == NULL) {
      if (grown != NULL)
        up->names = grown;
      rc = HPT_ERR(error, HPT_ENOMEM, "artifact upload: out of memory");
      break;
    }
    up->names = grown;
    up->n_names++;
  }
  closedir(d);
  if (rc != HPT_OK) {
    hpt_artifact_upload_destroy(&up);
    return rc;
  }
  qsort(up->names, up->n_names, sizeof *up->names, by_name);
  *out = up;
  return HPT_OK;
}

static void close_file(hpt_artifact_upload_t *up) {
  if (up->file != NULL)
    fclose(up->file);
  up->file = NULL;
  up->name = NULL;
  up->chunk_length = 0;
  up->chunk_ready = false;
}

/* Opens the next file; false when none is left. */
static bool open_next(hpt_artifact_upload_t *up) {
  while (up->next_name < up->n_names) {
    const char *name = up->names[up->next_name++];
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", up->dir, name);
    FILE *file = fopen(path, "rb");
    if (file == NULL || fstat(fileno(file), &st) != 0) {
      hpt_log(HPT_LOG_WARN, "artifact_skipped",
              "trial=%d name=%s reason=\"cannot open\"", up->number, name);
      if (file != NULL)
        fclose(file);
      continue;
    }
    up->file = file;
    up->name = name;
    up->size = (uint64_t)st.st_size;
    up->offset = 0;
    uint8_t discard[HPT_SHA256_BYTES];
    hpt_sha256_final(up->hash, discard); /* a fresh hash */
    return true;
  }
  return false;
}

/* Reads the next chunk of the current file; false on a short read. */
static bool read_chunk(hpt_artifact_upload_t *up) {
  uint64_t left = up->size - up->offset;
  size_t want =
      left < HPT_ARTIFACT_CHUNK_BYTES ? (size_t)left : HPT_ARTIFACT_CHUNK_BYTES;
  size_t got = want ? fread(up->chunk, 1, want, up->file) : 0;
  if (got != want) {
    hpt_log(HPT_LOG_WARN, "artifact_skipped",
            "trial=%d name=%s reason=\"short read at %llu of %llu\"",
            up->number, up->name, (unsigned long long)up->offset,
            (unsigned long long)up->size);
    return false;
  }
  hpt_sha256_update(up->hash, up->chunk, got);
  if (up->offset + got == up->size)
    hpt_sha256_final(up->hash, up->digest); /* also resets the hash */
  up->chunk_length = got;
  up->chunk_ready = true;
  return true;
}

static bool writable(void *socket) {
  int events = 0;
  size_t size = sizeof events;
  return zmq_getsockopt(socket, ZMQ_EVENTS, &events, &size) == 0 &&
         (events & ZMQ_POLLOUT) != 0;
}

/* Sends the ready chunk; false when libzmq did not take it (it stays
 * ready). */
static bool send_chunk(hpt_artifact_upload_t *up, void *socket) {
  bool last = up->offset + up->chunk_length == up->size;
  Hpt__ArtifactChunk chunk = HPT__ARTIFACT_CHUNK__INIT;
  chunk.study_id = up->study_id;
  chunk.number = up->number;
  chunk.name = (char *)up->name;
  chunk.offset = up->offset;
  chunk.data.data = up->chunk;
  chunk.data.len = up->chunk_length;
  chunk.total_size = up->size;
  chunk.last = last;
  if (last) {
    chunk.sha256.data = up->digest;
    chunk.sha256.len = sizeof up->digest;
  }
  Hpt__Envelope envelope = HPT__ENVELOPE__INIT;
  envelope.body_case = HPT__ENVELOPE__BODY_ARTIFACT;
  envelope.artifact = &chunk;
  hpt_error_t error;
  if (hpt_wire_send(socket, NULL, &envelope, &error) < 0)
    return false;
  up->offset += up->chunk_length;
  up->bytes_sent += up->chunk_length;
  up->chunk_length = 0;
  up->chunk_ready = false;
  if (last) {
    up->files_sent++;
    close_file(up);
  }
  return true;
}

int hpt_artifact_upload_pump(hpt_artifact_upload_t *up, void *socket,
                             int max_chunks) {
  for (int sent = 0; sent < max_chunks;) {
    if (up->file == NULL && !open_next(up))
      return 1;
    if (!up->chunk_ready && !read_chunk(up)) {
      close_file(up);
      continue;
    }
    if (!writable(socket) || !send_chunk(up, socket))
      return 0; /* the queue is at its high-water mark: later */
    sent++;
  }
  return up->file == NULL && up->next_name >= up->n_names ? 1 : 0;
}

size_t hpt_artifact_upload_files(const hpt_artifact_upload_t *up) {
  return up->files_sent;
}

uint64_t hpt_artifact_upload_bytes(const hpt_artifact_upload_t *up) {
  return up->bytes_sent;
}

void hpt_artifact_upload_destroy(hpt_artifact_upload_t **up) {
  if (up == NULL || *up == NULL)
    return;
  hpt_artifact_upload_t *u = *up;
  close_file(u);
  for (size_t i = 0; i < u->n_names; i++)
    free(u->names[i]);
  free(u->names);
  free(u->chunk);
  hpt_sha256_destroy(&u->hash);
  free(u->dir);
  free(u);
  *up = NULL;
}

void hpt_artifact_dir_remove(const char *dir) {
  if (dir == NULL || dir[0] == '\0')
    return;
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
      if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
        continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}
