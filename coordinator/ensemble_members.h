/* ensemble_members.h — ensemble members' validation predictions: the
 * `val_predictions.csv` artifact each kept trial stores (written by the
 * objective, see worker/objective_ngram.c), parsed, and all members' read
 * back from the store on their common rows, ready for hpt_ensemble_fit /
 * hpt_ensemble_vote (ensemble.h).
 *
 * The format, our own: a header line "ID,label,probability", then one line
 * per validation row "ID,LABEL,P" with LABEL 0 or 1 and P in [0, 1]; IDs
 * have no commas (at most 255 bytes). Lines end in "\n" (a "\r" before it
 * is ignored); empty lines are skipped.
 *
 * Reading goes through hpt_store_artifact_get, so every artifact is
 * sha256-checked: a corrupted one is HPT_EPARSE "... sha256 mismatch",
 * never a silently wrong curve or vote. Meant as the one reader of this
 * format: `hpt report ENSEMBLE` (cli_report.c) and `hpt ensemble build`
 * (cli_ensemble.c).
 */
#ifndef HPT_ENSEMBLE_MEMBERS_H
#define HPT_ENSEMBLE_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* One member's validation predictions, in file order. */
typedef struct hpt_ensemble_predictions {
  size_t n_rows;
  char **ids;            /* n_rows row IDs; owned */
  int *labels;           /* n_rows of 0/1; owned */
  double *probabilities; /* n_rows in [0, 1]; owned */
} hpt_ensemble_predictions_t;

/* Parses `length` bytes of val_predictions.csv into `out` (zeroed first).
 * HPT_EPARSE ("val_predictions.csv: bad header" / "... bad row '...'"),
 * HPT_ENOMEM; on failure `out` is empty. The caller owns the result:
 * hpt_ensemble_predictions_free. */
int hpt_ensemble_predictions_parse(const uint8_t *bytes, size_t length,
                                   hpt_ensemble_predictions_t *out,
                                   hpt_error_t *error);

/* Frees what `predictions` owns and zeroes it. Accepts NULL. */
void hpt_ensemble_predictions_free(hpt_ensemble_predictions_t *predictions);

/* Reads and parses val_predictions.csv of trial `trial_id` (trials.id).
 * HPT_ENOTFOUND when the trial kept none (never sent, or pruned since by
 * keep_top_k), HPT_EPARSE when it is corrupted or malformed, HPT_EDB,
 * HPT_ENOMEM. On failure `out` is empty. */
int hpt_ensemble_predictions_load(hpt_store_t *store, int64_t trial_id,
                                  hpt_ensemble_predictions_t *out,
                                  hpt_error_t *error);

/* Every member's validation predictions on their common rows. */
typedef struct hpt_ensemble_members {
  size_t n_members;
  size_t n_rows;
  char **ids;            /* n_rows row IDs (the same for every member);
                            owned */
  int *labels;           /* n_rows of 0/1 (the same for every member);
                            owned */
  double *probabilities; /* n_members x n_rows, row-major by member: member
                            m's probability for row r at [m * n_rows + r],
                            as ensemble.h takes them; owned */
} hpt_ensemble_members_t;

/* Loads the predictions of trials `trial_ids` (n_members > 0) into `out`
 * (zeroed first). Every member must have been validated on the same rows,
 * in the same order, with the same labels: else HPT_EINVAL ("members were
 * validated on different rows or labels ..."). Errors of one member are
 * those of hpt_ensemble_predictions_load, their message prefixed "member M
 * of N: " (M counted from 1). On failure `out` is empty. The caller owns
 * the result: hpt_ensemble_members_free. */
int hpt_ensemble_members_load(hpt_store_t *store, size_t n_members,
                              const int64_t *trial_ids,
                              hpt_ensemble_members_t *out, hpt_error_t *error);

/* Frees what `members` owns and zeroes it. Accepts NULL. */
void hpt_ensemble_members_free(hpt_ensemble_members_t *members);

#endif
