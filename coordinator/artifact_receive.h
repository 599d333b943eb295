/* artifact_receive.h — one worker's artifact files as they arrive
 * (ArtifactChunk, proto/hpt.proto), streamed into PostgreSQL large objects
 * (store_artifacts.h) with bounded memory: chunks are gathered into a
 * buffer of HPT_ARTIFACT_RECEIVE_BUFFER bytes, which is written out when
 * full; the SHA-256 is computed as the bytes arrive and compared with the
 * one the worker sends with the file's last chunk. Only then is the file
 * recorded as the trial's artifact; a file cut short, out of order, too
 * large or with a wrong hash is dropped (its object unlinked) with one log
 * line, never stored.
 *
 * Names are file names only: 1..255 bytes, no '/', no control characters,
 * not "." or ".." nor starting with '.'; any other is refused with a log
 * line (event=artifact_refused). Files up to HPT_ARTIFACT_MAX_BYTES.
 *
 * Owned by the dispatcher's worker entry; its loop thread only.
 */
#ifndef HPT_ARTIFACT_RECEIVE_H
#define HPT_ARTIFACT_RECEIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "hpt.pb-c.h"
#include "store.h"

#define HPT_ARTIFACT_RECEIVE_BUFFER (1 << 20)
#define HPT_ARTIFACT_MAX_BYTES ((uint64_t)4 << 30)

typedef struct hpt_artifact_receive hpt_artifact_receive_t;

/* Whether `name` is an acceptable artifact name (see above). */
bool hpt_artifact_name_valid(const char *name);

/* Handles one chunk from worker `worker_id` for its current trial
 * (study_id, number); *rx is created on first use (NULL: nothing in
 * progress). Cannot fail: every problem is logged and drops the file. */
void hpt_artifact_receive_chunk(hpt_artifact_receive_t **rx, hpt_store_t *store,
                                const char *worker_id,
                                const Hpt__ArtifactChunk *chunk);

/* Drops a file in progress (unlinking its object), frees *rx and sets it
 * to NULL. Accepts NULL and *rx == NULL. `store` may be NULL when the
 * store is gone (the object then stays). Cannot fail. */
void hpt_artifact_receive_destroy(hpt_artifact_receive_t **rx,
                                  hpt_store_t *store);

#endif
