/* ensemble_members.c — see ensemble_members.h. */
#include "ensemble_members.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_artifacts.h"

#define PREDICTIONS_ARTIFACT "val_predictions.csv"

void hpt_ensemble_predictions_free(hpt_ensemble_predictions_t *predictions) {
  if (predictions == NULL)
    return;
  for (size_t i = 0; i < predictions->n_rows; i++)
    free(predictions->ids[i]);
  free(predictions->ids);
  free(predictions->labels);
  free(predictions->probabilities);
  memset(predictions, 0, sizeof *predictions);
}

/* Makes room for one more row. */
static int grow(hpt_ensemble_predictions_t *out, size_t *capacity,
                hpt_error_t *error) {
  if (out->n_rows < *capacity)
    return HPT_OK;
  size_t wanted = *capacity ? 2 * *capacity : 256;
  char **ids = realloc(out->ids, wanted * sizeof *ids);
  if (ids != NULL)
    out->ids = ids;
  int *labels = realloc(out->labels, wanted * sizeof *labels);
  if (labels != NULL)
    out->labels = labels;
  double *probabilities =
      realloc(out->probabilities, wanted * sizeof *probabilities);
  if (probabilities != NULL)
    out->probabilities = probabilities;
  if (ids == NULL || labels == NULL || probabilities == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  *capacity = wanted;
  return HPT_OK;
}

int hpt_ensemble_predictions_parse(const uint8_t *bytes, size_t length,
                                   hpt_ensemble_predictions_t *out,
                                   hpt_error_t *error) {
  memset(out, 0, sizeof *out);
  char *text = malloc(length + 1);
  if (text == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  memcpy(text, bytes, length);
  text[length] = '\0';
  size_t capacity = 0;
  int rc = HPT_OK;
  char *save = NULL;
  bool header = true;
  for (char *line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    size_t end = strlen(line);
    if (end > 0 && line[end - 1] == '\r')
      line[--end] = '\0';
    if (header) {
      if (strcmp(line, "ID,label,probability") != 0)
        break;
      header = false;
      continue;
    }
    if (end == 0)
      continue;
    char id[256];
    int label = -1, consumed = 0;
    double probability = -1;
    if (sscanf(line, "%255[^,],%d,%lf%n", id, &label, &probability,
               &consumed) != 3 ||
        line[consumed] != '\0' || (label != 0 && label != 1) ||
        !(probability >= 0 && probability <= 1)) {
      rc = HPT_ERR(error, HPT_EPARSE, PREDICTIONS_ARTIFACT ": bad row '%.60s'",
                   line);
      goto out;
    }
    if ((rc = grow(out, &capacity, error)) != HPT_OK)
      goto out;
    if ((out->ids[out->n_rows] = strdup(id)) == NULL) {
      rc = HPT_ERR(error, HPT_ENOMEM, "out of memory");
      goto out;
    }
    out->labels[out->n_rows] = label;
    out->probabilities[out->n_rows] = probability;
    out->n_rows++;
  }
  if (header)
    rc = HPT_ERR(error, HPT_EPARSE, PREDICTIONS_ARTIFACT ": bad header");
out:
  free(text);
  if (rc != HPT_OK)
    hpt_ensemble_predictions_free(out);
  return rc;
}

int hpt_ensemble_predictions_load(hpt_store_t *store, int64_t trial_id,
                                  hpt_ensemble_predictions_t *out,
                                  hpt_error_t *error) {
  memset(out, 0, sizeof *out);
  uint8_t *bytes = NULL;
  size_t length = 0;
  int rc = hpt_store_artifact_get(store, trial_id, PREDICTIONS_ARTIFACT, &bytes,
                                  &length, error);
  if (rc == HPT_OK)
    rc = hpt_ensemble_predictions_parse(bytes, length, out, error);
  free(bytes);
  return rc;
}

void hpt_ensemble_members_free(hpt_ensemble_members_t *members) {
  if (members == NULL)
    return;
  for (size_t i = 0; i < members->n_rows; i++)
    free(members->ids[i]);
  free(members->ids);
  free(members->labels);
  free(members->probabilities);
  memset(members, 0, sizeof *members);
}

/* Whether `member` was validated on the members' rows, in order, with
 * their labels. */
static bool same_rows(const hpt_ensemble_members_t *members,
                      const hpt_ensemble_predictions_t *member) {
  if (member->n_rows != members->n_rows)
    return false;
  for (size_t r = 0; r < members->n_rows; r++)
    if (strcmp(members->ids[r], member->ids[r]) != 0 ||
        members->labels[r] != member->labels[r])
      return false;
  return true;
}

int hpt_ensemble_members_load(hpt_store_t *store, size_t n_members,
                              const int64_t *trial_ids,
                              hpt_ensemble_members_t *out, hpt_error_t *error) {
  memset(out, 0, sizeof *out);
  if (n_members == 0)
    return HPT_ERR(error, HPT_EINVAL, "an ensemble needs members");
  hpt_ensemble_predictions_t member;
  int rc = hpt_ensemble_predictions_load(store, trial_ids[0], &member, error);
  if (rc != HPT_OK) {
    hpt_error_prefix(error, "member 1 of %zu", n_members);
    return rc;
  }
  /* The first member's rows become the members' rows (its ids and labels
   * move over); the others' are checked against them. */
  size_t rows = member.n_rows, cells = n_members * rows;
  out->probabilities = malloc((cells > 0 ? cells : 1) * sizeof(double));
  if (out->probabilities == NULL) {
    hpt_ensemble_predictions_free(&member);
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  }
  out->n_members = n_members;
  out->n_rows = rows;
  out->ids = member.ids;
  out->labels = member.labels;
  memcpy(out->probabilities, member.probabilities, rows * sizeof(double));
  free(member.probabilities);
  for (size_t m = 1; m < n_members; m++) {
    if ((rc = hpt_ensemble_predictions_load(store, trial_ids[m], &member,
                                            error)) != HPT_OK) {
      hpt_error_prefix(error, "member %zu of %zu", m + 1, n_members);
      break;
    }
    if (!same_rows(out, &member))
      rc = HPT_ERR(error, HPT_EINVAL,
                   "members were validated on different rows or labels "
                   "(trial ids %" PRId64 " and %" PRId64
                   "): build ensembles from studies on the same data, "
                   "val_fraction and seed",
                   trial_ids[0], trial_ids[m]);
    else
      memcpy(out->probabilities + m * rows, member.probabilities,
             rows * sizeof(double));
    hpt_ensemble_predictions_free(&member);
    if (rc != HPT_OK)
      break;
  }
  if (rc != HPT_OK)
    hpt_ensemble_members_free(out);
  return rc;
}
