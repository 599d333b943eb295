/* artifact_upload.h — sends the files a trial left in its artifact
 * directory (the kept model, its validation predictions; any regular file
 * there) to the coordinator as ArtifactChunk messages (proto/hpt.proto),
 * streamed from disk: one chunk in memory at a time, the SHA-256 computed
 * incrementally and carried by each file's last chunk.
 *
 * Pacing: hpt_artifact_upload_pump sends only while the socket reports
 * ZMQ_POLLOUT (its queue is below the send high-water mark), so a large
 * model never overruns the queue and no chunk is dropped; the daemon
 * calls it from a timer until it reports done. With HWM messages of
 * HPT_ARTIFACT_CHUNK_BYTES at most, the queue holds about 64 MB. A chunk
 * that libzmq still refuses stays pending and is sent again on the next
 * pump, never skipped.
 *
 * Files go in name order. A file that cannot be read (vanished, short
 * read) is skipped with a warning: the coordinator keeps only files whose
 * last chunk arrived with a matching hash. Names with '/' or a leading '.'
 * are never sent. Single-threaded: the daemon's loop thread only.
 */
#ifndef HPT_WORKER_ARTIFACT_UPLOAD_H
#define HPT_WORKER_ARTIFACT_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HPT_ARTIFACT_CHUNK_BYTES (64 * 1024)

typedef struct hpt_artifact_upload hpt_artifact_upload_t;

/* Lists the regular files of `dir` for trial (study_id, number). On
 * success *out is owned by the caller (hpt_artifact_upload_destroy); on
 * failure it is NULL and HPT_EIO (unreadable dir) or HPT_ENOMEM. */
int hpt_artifact_upload_new(const char *dir, int64_t study_id, int number,
                            hpt_artifact_upload_t **out, hpt_error_t *error);

/* Sends up to `max_chunks` chunks on the DEALER `socket` while it can
 * take them. Returns 1 when every file has been sent, 0 when more
 * remains (call again later). Cannot fail otherwise: unreadable files
 * are skipped and logged. */
int hpt_artifact_upload_pump(hpt_artifact_upload_t *up, void *socket,
                             int max_chunks);

/* Files and bytes sent so far (for the log). Cannot fail. */
size_t hpt_artifact_upload_files(const hpt_artifact_upload_t *up);
uint64_t hpt_artifact_upload_bytes(const hpt_artifact_upload_t *up);

/* Closes the current file and frees everything; sets *up to NULL.
 * Accepts NULL. The directory itself is left alone. Cannot fail. */
void hpt_artifact_upload_destroy(hpt_artifact_upload_t **up);

/* Removes every entry of `dir`, then `dir`. Best effort; cannot fail. */
void hpt_artifact_dir_remove(const char *dir);

#endif
