/* classifier.h — a fine-tuned text classifier as a Hugging Face model
 * folder: written by the `transformer` objective when the study keeps its
 * models, read back by `hpt predict` / `hpt ensemble build`, and loadable by
 * transformers' AutoModelForSequenceClassification + AutoTokenizer
 * (tests/fixtures/hf_load_check.py checks that).
 *
 * The folder:
 *
 *   config.json        the pretrained model's config.json with
 *                      architectures [<Arch>ForSequenceClassification],
 *                      num_labels, id2label, label2id (the training labels)
 *                      and hpt_max_length (the tokens per text it was
 *                      trained with; transformers keeps unknown keys)
 *   model.safetensors  every parameter in fp32 under its HF name
 *                      (model.h), written by safetensors_write.h
 *   tokenizer files    copied from the pretrained folder, those that
 *                      exist: vocab.txt, tokenizer.json,
 *                      tokenizer_config.json, special_tokens_map.json,
 *                      vocab.json, merges.txt
 *
 * The tokenizer of a folder is chosen as the objective always did: RoBERTa
 * uses vocab.json + merges.txt (byte-level BPE); the others tokenizer.json
 * when present, else vocab.txt (lowercasing from tokenizer_config.json's
 * do_lower_case, default true).
 *
 * Texts are used as given: callers clean them (text_clean.h) as training
 * did. Not thread-safe per object; the model is driven by one thread
 * (OpenBLAS may use its own threads inside a pass).
 */
#ifndef HPT_CLASSIFIER_H
#define HPT_CLASSIFIER_H

#include <stddef.h>

#include "error.h"
#include "model.h"
#include "tokenizer_bpe.h"
#include "tokenizer_wordpiece.h"
#include "train.h"

/* ---- the tokenizer of a model folder ------------------------------------ */

/* Caller storage: one of wp / bpe is set; encoder points at it (its
 * max_length is left 0 for the caller to set). */
typedef struct hpt_classifier_tokenizer {
  hpt_wordpiece_t *wp;
  hpt_bpe_t *bpe;
  hpt_train_encoder_t encoder;
} hpt_classifier_tokenizer_t;

/* Loads the tokenizer of folder `dir` for a model of `config`'s type into
 * *tok (zeroed first). On failure *tok holds nothing and the code is the
 * tokenizer loader's, or HPT_ENOTFOUND when the folder has none (the
 * message names the folder). Release with hpt_classifier_tokenizer_close. */
int hpt_classifier_tokenizer_load(const char *dir,
                                  const hpt_model_config_t *config,
                                  hpt_classifier_tokenizer_t *tok,
                                  hpt_error_t *error);

/* Frees what *tok holds and zeroes it. Accepts a zeroed struct. */
void hpt_classifier_tokenizer_close(hpt_classifier_tokenizer_t *tok);

/* ---- saving ---------------------------------------------------------------
 */

/* Writes `model` (borrowed) as the folder described above into the
 * existing directory `dir`: config.json from `pretrained_dir`'s with
 * labels[0..num_labels) as id2label, model.safetensors, and the tokenizer
 * files of `pretrained_dir`. Every file is written under a temporary name
 * and renamed when complete. HPT_EIO / HPT_EPARSE / HPT_ENOMEM naming the
 * file; files already renamed stay (the caller removes the folder). */
int hpt_classifier_save(const hpt_model_t *model, const char *pretrained_dir,
                        const char *const *labels, size_t max_length,
                        const char *dir, hpt_error_t *error);

/* ---- loading and predicting ------------------------------------------------
 */

typedef struct hpt_classifier hpt_classifier_t;

/* Loads a folder written by hpt_classifier_save (or any HF folder the
 * engine reads; max_length is then 128). On success *out is owned by the
 * caller (hpt_classifier_destroy); on failure it is NULL and the code is
 * the loader's (model.h, model_config.h, the tokenizers). */
int hpt_classifier_load(const char *dir, hpt_classifier_t **out,
                        hpt_error_t *error);

/* Frees everything; sets *c to NULL. Accepts NULL. Cannot fail. */
void hpt_classifier_destroy(hpt_classifier_t **c);

/* The model's config (labels in id2label), borrowed. Cannot fail. */
const hpt_model_config_t *hpt_classifier_config(const hpt_classifier_t *c);

/* Index of label `name` in id2label, or -1. Cannot fail. */
int hpt_classifier_label_index(const hpt_classifier_t *c, const char *name);

/* Tokens per text used by predict (hpt_max_length of config.json). */
size_t hpt_classifier_max_length(const hpt_classifier_t *c);

/* Called after each batch with the rows done so far. */
typedef void (*hpt_classifier_progress_fn)(void *user, size_t done,
                                           size_t total);

/* Softmax probabilities of texts[0..n) into probs (n, num_labels), in
 * input order, in eval mode, in batches of `batch_size` texts of similar
 * length (>= 1); progress may be NULL. `threads`: OpenBLAS threads, 0 =
 * every core. HPT_EPARSE (a text the tokenizer refuses, naming its index),
 * HPT_EINVAL or HPT_ENOMEM; probs is then partly written. */
int hpt_classifier_predict(hpt_classifier_t *c, const char *const *texts,
                           size_t n, int batch_size, int threads,
                           hpt_classifier_progress_fn progress, void *user,
                           float *probs, hpt_error_t *error);

#endif
