/* classifier.c — a model folder's tokenizer, loading and prediction (see
 * classifier.h); saving is in classifier_save.c. */
#include "classifier.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "token_batch.h"

#define DEFAULT_MAX_LENGTH 128

struct hpt_classifier {
  hpt_model_t *model;
  hpt_classifier_tokenizer_t tok;
  size_t max_length; /* cut to the position table */
};

/* ---- the tokenizer ------------------------------------------------------- */

static int wp_encode(const void *t, const char *text, size_t max_length,
                     hpt_token_ids_t *out, hpt_error_t *error) {
  return hpt_wordpiece_encode(t, text, max_length, out, error);
}

static int bpe_encode(const void *t, const char *text, size_t max_length,
                      hpt_token_ids_t *out, hpt_error_t *error) {
  return hpt_bpe_encode(t, text, max_length, out, error);
}

static const char *in_dir(char *buf, size_t size, const char *dir,
                          const char *file) {
  snprintf(buf, size, "%s/%s", dir, file);
  return buf;
}

/* vocab.txt's lowercasing from tokenizer_config.json (default: true). */
static int load_vocab_txt(const char *dir, hpt_wordpiece_t **out,
                          hpt_error_t *error) {
  char path[4096];
  hpt_wordpiece_options_t options;
  hpt_wordpiece_options_default(&options);
  json_t *config = NULL;
  if (hpt_json_load_file(
          in_dir(path, sizeof path, dir, "tokenizer_config.json"), 0, &config,
          NULL) == 0) {
    bool lower;
    if (hpt_json_member_bool(config, "do_lower_case", "tokenizer_config.json",
                             &lower, NULL) == 0)
      options.lowercase = lower;
  }
  int rc = hpt_wordpiece_load_vocab(in_dir(path, sizeof path, dir, "vocab.txt"),
                                    &options, out, error);
  json_decref(config);
  return rc;
}

int hpt_classifier_tokenizer_load(const char *dir,
                                  const hpt_model_config_t *config,
                                  hpt_classifier_tokenizer_t *tok,
                                  hpt_error_t *error) {
  char a[4096], b[4096];
  int rc;
  memset(tok, 0, sizeof *tok);
  if (config->model_type == HPT_MODEL_ROBERTA) {
    if ((rc = hpt_bpe_load(in_dir(a, sizeof a, dir, "vocab.json"),
                           in_dir(b, sizeof b, dir, "merges.txt"), &tok->bpe,
                           error)) != 0)
      return rc;
    tok->encoder.encode = bpe_encode;
    tok->encoder.tokenizer = tok->bpe;
    tok->encoder.pad_id = hpt_bpe_pad_id(tok->bpe);
    return 0;
  }
  if (access(in_dir(a, sizeof a, dir, "tokenizer.json"), R_OK) == 0)
    rc = hpt_wordpiece_load_json(a, &tok->wp, error);
  else if (access(in_dir(a, sizeof a, dir, "vocab.txt"), R_OK) == 0)
    rc = load_vocab_txt(dir, &tok->wp, error);
  else
    return HPT_ERR(error, HPT_ENOTFOUND,
                   "%s has neither tokenizer.json nor vocab.txt", dir);
  if (rc != 0)
    return rc;
  tok->encoder.encode = wp_encode;
  tok->encoder.tokenizer = tok->wp;
  tok->encoder.pad_id = hpt_wordpiece_pad_id(tok->wp);
  return 0;
}

void hpt_classifier_tokenizer_close(hpt_classifier_tokenizer_t *tok) {
  hpt_wordpiece_destroy(&tok->wp);
  hpt_bpe_destroy(&tok->bpe);
  memset(tok, 0, sizeof *tok);
}

/* ---- loading ------------------------------------------------------------- */

/* hpt_max_length from config.json, else DEFAULT_MAX_LENGTH. */
static int read_max_length(const char *dir, size_t *out, hpt_error_t *error) {
  char path[4096];
  json_t *root = NULL;
  int rc = hpt_json_load_file(in_dir(path, sizeof path, dir, "config.json"), 0,
                              &root, error);
  if (rc != 0)
    return rc;
  int64_t value = DEFAULT_MAX_LENGTH;
  rc = hpt_json_member_int(root, "hpt_max_length", 2, 1 << 20, path, &value,
                           error);
  json_decref(root);
  if (rc != 0 && rc != HPT_ENOTFOUND)
    return rc;
  *out = (size_t)value;
  return 0;
}

int hpt_classifier_load(const char *dir, hpt_classifier_t **out,
                        hpt_error_t *error) {
  *out = NULL;
  hpt_classifier_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "classifier: out of memory");
  int rc;
  if ((rc = read_max_length(dir, &c->max_length, error)) != 0 ||
      (rc = hpt_model_load(dir, 0, &c->model, error)) != 0 ||
      (rc = hpt_classifier_tokenizer_load(dir, hpt_model_config(c->model),
                                          &c->tok, error)) != 0) {
    hpt_classifier_destroy(&c);
    return rc;
  }
  /* The position table bounds the sequence (RoBERTa's positions start
   * after the pad id), as in training. */
  const hpt_model_config_t *config = hpt_model_config(c->model);
  size_t limit = (size_t)config->max_positions;
  if (config->model_type == HPT_MODEL_ROBERTA)
    limit = (size_t)(config->max_positions - config->pad_token_id - 1);
  if (c->max_length > limit)
    c->max_length = limit;
  c->tok.encoder.max_length = c->max_length;
  *out = c;
  return 0;
}

void hpt_classifier_destroy(hpt_classifier_t **c) {
  if (c == NULL || *c == NULL)
    return;
  hpt_model_destroy(&(*c)->model);
  hpt_classifier_tokenizer_close(&(*c)->tok);
  free(*c);
  *c = NULL;
}

const hpt_model_config_t *hpt_classifier_config(const hpt_classifier_t *c) {
  return hpt_model_config(c->model);
}

int hpt_classifier_label_index(const hpt_classifier_t *c, const char *name) {
  const hpt_model_config_t *config = hpt_model_config(c->model);
  for (int i = 0; i < config->num_labels; i++)
    if (strcmp(config->id2label[i], name) == 0)
      return i;
  return -1;
}

size_t hpt_classifier_max_length(const hpt_classifier_t *c) {
  return c->max_length;
}

/* ---- predicting ---------------------------------------------------------- */

int hpt_classifier_predict(hpt_classifier_t *c, const char *const *texts,
                           size_t n, int batch_size, int threads,
                           hpt_classifier_progress_fn progress, void *user,
                           float *probs, hpt_error_t *error) {
  if (batch_size < 1)
    return HPT_ERR(error, HPT_EINVAL, "classifier: batch_size must be >= 1");
  long cores = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
  openblas_set_num_threads(cores > 0 ? (int)cores : 1);
  const hpt_train_encoder_t *enc = &c->tok.encoder;
  int K = hpt_model_config(c->model)->num_labels, rc = 0;
  size_t B = (size_t)batch_size, T_max = c->max_length;
  hpt_token_ids_t *seqs = calloc(n ? n : 1, sizeof *seqs);
  size_t *order = malloc((n ? n : 1) * sizeof *order);
  int32_t *ids = malloc(B * T_max * sizeof *ids);
  int32_t *mask = malloc(B * T_max * sizeof *mask);
  if (!seqs || !order || !ids || !mask) {
    rc = HPT_ERR(error, HPT_ENOMEM, "classifier: out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    if ((rc = enc->encode(enc->tokenizer, texts[i], T_max, &seqs[i], error)) !=
        0) {
      hpt_error_prefix(error, "text %zu", i + 1);
      goto out;
    }
  }
  /* Similar lengths share a batch: less padding, same results. */
  if ((rc = hpt_token_batch_sort_by_length(seqs, n, order, error)) != 0)
    goto out;
  for (size_t from = 0; from < n; from += B) {
    size_t count = n - from < B ? n - from : B, T = 1;
    for (size_t r = 0; r < count; r++)
      if (seqs[order[from + r]].count > T)
        T = seqs[order[from + r]].count;
    for (size_t r = 0; r < count; r++) {
      const hpt_token_ids_t *s = &seqs[order[from + r]];
      for (size_t t = 0; t < T; t++) {
        ids[r * T + t] = t < s->count ? s->ids[t] : enc->pad_id;
        mask[r * T + t] = t < s->count;
      }
    }
    hpt_model_batch_t batch = {
        .B = (int)count, .T = (int)T, .input_ids = ids, .attention_mask = mask};
    if ((rc = hpt_model_forward(c->model, &batch, NULL, error)) != 0)
      goto out;
    const float *logits = hpt_model_logits(c->model);
    for (size_t r = 0; r < count; r++) {
      const float *row = logits + r * (size_t)K;
      float *dst = probs + order[from + r] * (size_t)K;
      double max = row[0], sum = 0.0;
      for (int k = 1; k < K; k++)
        max = row[k] > max ? row[k] : max;
      for (int k = 0; k < K; k++)
        sum += exp((double)row[k] - max);
      for (int k = 0; k < K; k++)
        dst[k] = (float)(exp((double)row[k] - max) / sum);
    }
    if (progress != NULL)
      progress(user, from + count, n);
  }
out:
  for (size_t i = 0; seqs != NULL && i < n; i++)
    hpt_token_ids_close(&seqs[i]);
  free(seqs);
  free(order);
  free(ids);
  free(mask);
  return rc;
}
