/* member_model.h — an ensemble member's kept model, read back from the
 * store and run by the coordinator on the CPU for `hpt predict` (and
 * checked by `hpt ensemble build`).
 *
 * Two kinds, told apart by the trial's artifacts:
 *
 *   ngram        model.ngram (worker/engine/ngram_artifact.h)
 *   transformer  model.safetensors: every artifact but
 *                val_predictions.csv is fetched into a private temporary
 *                folder (sha256-checked, streamed), loaded as a Hugging
 *                Face folder (worker/engine/classifier.h), and the folder
 *                removed again; the model stays in memory
 *
 * Both give P(EXTREMIST) for raw texts; transformer texts are cleaned as
 * training cleaned them (text_clean.h) and run in batches of similar
 * length. A transformer whose labels (config.json id2label) are not
 * exactly EXTREMIST and NON_EXTREMIST is refused (HPT_EINVAL naming the
 * trial and its labels): the vote is over those two.
 *
 * Single-threaded per object; the CLI's thread.
 */
#ifndef HPT_MEMBER_MODEL_H
#define HPT_MEMBER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

typedef struct hpt_member_model hpt_member_model_t;

/* Loads the kept model of trial `trial_id` (trials.id). On success *out is
 * owned by the caller (hpt_member_model_destroy). On failure *out is NULL
 * and HPT_ENOTFOUND (the trial kept no model), HPT_EPARSE (a corrupted
 * artifact: "... sha256 mismatch", or a bad model file), HPT_EINVAL (other
 * labels), HPT_EIO (temporary folder), HPT_EDB or HPT_ENOMEM. */
int hpt_member_model_load(hpt_store_t *store, int64_t trial_id,
                          hpt_member_model_t **out, hpt_error_t *error);

/* "ngram" or "transformer". Cannot fail. */
const char *hpt_member_model_kind(const hpt_member_model_t *model);

/* Called now and then with the texts done so far. */
typedef void (*hpt_member_progress_fn)(void *user, size_t done, size_t total);

/* P(EXTREMIST) of texts[0..n) into out[0..n). HPT_ENOMEM, or a tokenizer's
 * HPT_EPARSE naming the text; out is then partly written. */
int hpt_member_model_predict(hpt_member_model_t *model,
                             const char *const *texts, size_t n,
                             hpt_member_progress_fn progress, void *user,
                             double *out, hpt_error_t *error);

/* Frees the model; sets *model to NULL. Accepts NULL. Cannot fail. */
void hpt_member_model_destroy(hpt_member_model_t **model);

#endif
