/* tokenizer_wordpiece.h — the BERT tokenizer, id for id as Hugging Face
 * tokenizers runs it (BertNormalizer + BertPreTokenizer + WordPiece +
 * [CLS] ... [SEP]); the reference is tokenizers' Rust code
 * (normalizers/bert.rs, pre_tokenizers/bert.rs, models/wordpiece,
 * tokenizer/added_vocabulary.rs). For one text:
 *
 *   0. added tokens ([CLS], [SEP], [PAD], [UNK], [MASK]) are matched
 *      verbatim in the raw text, leftmost-longest; the text between them
 *      goes through 1-4 segment by segment;
 *   1. clean_text: drop U+0000, U+FFFD and category C* except \t \n \r;
 *      White_Space -> ' ';
 *   2. handle_chinese_chars: ' ' around each CJK ideograph (BERT's ranges);
 *   3. strip_accents (default: same as lowercase): NFD, then drop Mn;
 *      lowercase: per code point, full mapping (U+0130 -> "i\u0307");
 *      in this order, as tokenizers does;
 *   4. split on White_Space (dropped) and punctuation (kept, one per word):
 *      ASCII 0x21-0x2F 0x3A-0x40 0x5B-0x60 0x7B-0x7E and categories P*;
 *   5. WordPiece per word: a word of more than max_input_chars_per_word
 *      (100) code points, or one that cannot be covered greedily
 *      longest-match-first with "##" continuations, becomes [UNK];
 *   6. [CLS] ids [SEP]; with max_length > 0, the word-piece ids are cut to
 *      max_length - 2 first (tokenizers' truncation of one sequence).
 *
 * Unicode tables come from utf8proc. Input must be valid UTF-8 (checked;
 * invalid input is an error, never replaced).
 *
 * A hpt_wordpiece_t is immutable after loading: any number of threads may
 * encode with it at once.
 */
#ifndef HPT_TOKENIZER_WORDPIECE_H
#define HPT_TOKENIZER_WORDPIECE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "token_batch.h"

typedef struct hpt_wordpiece hpt_wordpiece_t;

/* Settings for loading a bare vocab.txt (tokenizer.json carries its own).
 * Strings are borrowed during the load call only. */
typedef struct hpt_wordpiece_options {
  bool clean_text;
  bool handle_chinese_chars;
  bool lowercase;
  int strip_accents; /* -1: same as lowercase (HF null), 0: no, 1: yes */
  size_t max_input_chars_per_word;
  const char *continuing_subword_prefix;
  const char *unk_token, *cls_token, *sep_token, *pad_token, *mask_token;
} hpt_wordpiece_options_t;

/* Fills *options with bert-base-uncased's settings: clean, CJK, lowercase,
 * strip_accents -1, 100 chars, "##", [UNK] [CLS] [SEP] [PAD] [MASK].
 * Cannot fail. */
void hpt_wordpiece_options_default(hpt_wordpiece_options_t *options);

/* Loads a vocab.txt (one token per line, id = line number from 0, "\n" or
 * "\r\n" ends) with `options` (NULL: defaults). unk, cls, sep and pad must
 * be in the vocab; mask may be missing. On success *out is owned by the
 * caller (hpt_wordpiece_destroy). On failure *out is NULL and
 * HPT_ENOTFOUND, HPT_EIO, HPT_EPARSE (empty vocab, missing special token,
 * invalid UTF-8), HPT_EINVAL (bad options) or HPT_ENOMEM is returned. */
int hpt_wordpiece_load_vocab(const char *path,
                             const hpt_wordpiece_options_t *options,
                             hpt_wordpiece_t **out, hpt_error_t *error);

/* Loads a tokenizers tokenizer.json whose normalizer is BertNormalizer,
 * pre_tokenizer BertPreTokenizer, model WordPiece and post_processor
 * TemplateProcessing "[CLS] $A [SEP]" or BertProcessing; its added_tokens
 * must be normalized=false and single_word=false. Truncation and padding
 * settings in the file are ignored (the caller passes max_length). Same
 * ownership and errors as hpt_wordpiece_load_vocab, plus
 * HPT_EUNSUPPORTED for any other component. */
int hpt_wordpiece_load_json(const char *path, hpt_wordpiece_t **out,
                            hpt_error_t *error);

/* Frees the tokenizer and sets *wp to NULL. Accepts NULL. Cannot fail. */
void hpt_wordpiece_destroy(hpt_wordpiece_t **wp);

/* Encodes the NUL-terminated UTF-8 `text` as [CLS] ... [SEP] into *out
 * (caller storage, initialised; its content is replaced). max_length 0
 * means no limit, otherwise at least 2. Returns 0, HPT_EPARSE (invalid
 * UTF-8; the message gives the byte offset), HPT_EINVAL (max_length 1) or
 * HPT_ENOMEM; on failure out->count is 0. Thread-safe. */
int hpt_wordpiece_encode(const hpt_wordpiece_t *wp, const char *text,
                         size_t max_length, hpt_token_ids_t *out,
                         hpt_error_t *error);

/* Encodes texts[0..n_texts) into a batch padded with the pad id to its
 * longest row (see hpt_token_batch_encode for ownership and errors). */
int hpt_wordpiece_encode_batch(const hpt_wordpiece_t *wp,
                               const char *const *texts, size_t n_texts,
                               size_t max_length, hpt_token_batch_t *batch,
                               hpt_error_t *error);

/* The id of `token`, or -1. Cannot fail. */
int32_t hpt_wordpiece_token_id(const hpt_wordpiece_t *wp, const char *token);

/* The token of `id` (borrowed from wp), or NULL. Cannot fail. */
const char *hpt_wordpiece_id_token(const hpt_wordpiece_t *wp, int32_t id);

/* Vocabulary size (largest id + 1). Cannot fail. */
size_t hpt_wordpiece_vocab_size(const hpt_wordpiece_t *wp);

/* The ids of [PAD], [UNK], [CLS], [SEP]. Cannot fail. */
int32_t hpt_wordpiece_pad_id(const hpt_wordpiece_t *wp);
int32_t hpt_wordpiece_unk_id(const hpt_wordpiece_t *wp);
int32_t hpt_wordpiece_cls_id(const hpt_wordpiece_t *wp);
int32_t hpt_wordpiece_sep_id(const hpt_wordpiece_t *wp);

#endif
