/* member_model.c — see member_model.h. */
#include "member_model.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classifier.h"
#include "ngram_artifact.h"
#include "store_artifacts.h"
#include "text_clean.h"

#define PREDICTIONS "val_predictions.csv"
#define BATCH 32

struct hpt_member_model {
  /* ngram */
  hpt_ngram_vocab_t *vocab;
  hpt_ngram_model_t *ngram;
  /* transformer */
  hpt_classifier_t *classifier;
  int extremist; /* index of EXTREMIST in the head's outputs */
};

/* Every artifact but the predictions into a fresh folder, loaded there;
 * the folder is removed before returning. */
static int load_transformer(hpt_store_t *store, int64_t trial_id,
                            hpt_member_model_t *m, hpt_error_t *error) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096], path[4400];
  snprintf(dir, sizeof dir, "%s/hpt-member-XXXXXX",
           tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL)
    return HPT_ERR(error, HPT_EIO, "%s: cannot create a temporary folder", dir);
  char **names = NULL;
  size_t n = 0;
  int rc = hpt_store_artifact_names(store, trial_id, &names, &n, error);
  for (size_t i = 0; rc == HPT_OK && i < n; i++) {
    if (strcmp(names[i], PREDICTIONS) == 0 || strchr(names[i], '/') != NULL ||
        names[i][0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    rc = hpt_store_artifact_save(store, trial_id, names[i], path, error);
  }
  if (rc == HPT_OK)
    rc = hpt_classifier_load(dir, &m->classifier, error);
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
    free(names[i]);
  }
  free(names);
  rmdir(dir);
  if (rc != HPT_OK) {
    hpt_error_prefix(error, "trial (id %lld)", (long long)trial_id);
    return rc;
  }
  const hpt_model_config_t *config = hpt_classifier_config(m->classifier);
  m->extremist = hpt_classifier_label_index(m->classifier, "EXTREMIST");
  if (config->num_labels != 2 || m->extremist < 0 ||
      hpt_classifier_label_index(m->classifier, "NON_EXTREMIST") < 0) {
    char labels[256] = "";
    for (int i = 0; i < config->num_labels && i < 8; i++)
      snprintf(labels + strlen(labels), sizeof labels - strlen(labels), "%s%s",
               i ? ", " : "", config->id2label[i]);
    return HPT_ERR(error, HPT_EINVAL,
                   "trial (id %lld) was trained on the labels %s, not "
                   "EXTREMIST and NON_EXTREMIST: it cannot vote with them",
                   (long long)trial_id, labels);
  }
  return HPT_OK;
}

int hpt_member_model_load(hpt_store_t *store, int64_t trial_id,
                          hpt_member_model_t **out, hpt_error_t *error) {
  *out = NULL;
  hpt_member_model_t *m = calloc(1, sizeof *m);
  if (m == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  uint8_t *bytes = NULL;
  size_t length = 0;
  int rc = hpt_store_artifact_get(store, trial_id, "model.ngram", &bytes,
                                  &length, error);
  if (rc == HPT_OK)
    rc = hpt_ngram_artifact_parse(bytes, length, &m->vocab, &m->ngram, error);
  else if (rc == HPT_ENOTFOUND)
    rc = load_transformer(store, trial_id, m, error);
  free(bytes);
  if (rc != HPT_OK) {
    hpt_member_model_destroy(&m);
    return rc;
  }
  *out = m;
  return HPT_OK;
}

const char *hpt_member_model_kind(const hpt_member_model_t *model) {
  return model->classifier != NULL ? "transformer" : "ngram";
}

typedef struct progress {
  hpt_member_progress_fn fn;
  void *user;
  size_t offset, total;
} progress_t;

static void on_batch(void *user, size_t done, size_t total) {
  progress_t *p = user;
  (void)total;
  if (p->fn != NULL)
    p->fn(p->user, p->offset + done, p->total);
}

/* Cleans and runs texts in slices, so that memory stays bounded. */
static int predict_transformer(hpt_member_model_t *m, const char *const *texts,
                               size_t n, hpt_member_progress_fn fn, void *user,
                               double *out, hpt_error_t *error) {
  enum { SLICE = 1024 };
  char *clean[SLICE];
  float *probs = malloc(SLICE * 2 * sizeof *probs);
  if (probs == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "out of memory");
  int rc = HPT_OK;
  progress_t progress = {fn, user, 0, n};
  for (size_t from = 0; from < n && rc == HPT_OK; from += SLICE) {
    size_t count = n - from < SLICE ? n - from : SLICE, made = 0;
    for (; made < count && rc == HPT_OK; made++)
      if ((rc = hpt_text_clean(texts[from + made], &clean[made], error)) !=
          HPT_OK)
        break;
    progress.offset = from;
    if (rc == HPT_OK)
      rc = hpt_classifier_predict(m->classifier, (const char *const *)clean,
                                  count, BATCH, 0, on_batch, &progress, probs,
                                  error);
    if (rc != HPT_OK)
      hpt_error_prefix(error, "input row %zu..%zu", from + 1, from + count);
    for (size_t i = 0; rc == HPT_OK && i < count; i++)
      out[from + i] = probs[2 * i + (size_t)m->extremist];
    for (size_t i = 0; i < made; i++)
      free(clean[i]);
  }
  free(probs);
  return rc;
}

int hpt_member_model_predict(hpt_member_model_t *model,
                             const char *const *texts, size_t n,
                             hpt_member_progress_fn progress, void *user,
                             double *out, hpt_error_t *error) {
  if (model->classifier != NULL)
    return predict_transformer(model, texts, n, progress, user, out, error);
  for (size_t r = 0; r < n; r++) {
    int rc = hpt_ngram_model_predict_text(model->ngram, model->vocab, texts[r],
                                          &out[r], error);
    if (rc != HPT_OK)
      return rc;
    if (progress != NULL && (r % 256 == 0 || r + 1 == n))
      progress(user, r + 1, n);
  }
  return HPT_OK;
}

void hpt_member_model_destroy(hpt_member_model_t **model) {
  if (model == NULL || *model == NULL)
    return;
  hpt_ngram_vocab_destroy(&(*model)->vocab);
  hpt_ngram_model_destroy(&(*model)->ngram);
  hpt_classifier_destroy(&(*model)->classifier);
  free(*model);
  *model = NULL;
}
