/* tokenizer_bpe.h — RoBERTa's byte-level BPE, id for id as Hugging Face
 * tokenizers runs it (ByteLevel pre-tokenizer with add_prefix_space=false,
 * BPE model, RobertaProcessing); the reference is tokenizers' Rust code
 * (pre_tokenizers/byte_level.rs, models/bpe/word.rs,
 * tokenizer/added_vocabulary.rs). For one text:
 *
 *   0. added tokens <s> </s> <pad> <unk> (verbatim) and <mask> (which, as
 *      in roberta-base, also swallows the White_Space before it) are
 *      matched in the raw text, leftmost-longest; the text between them
 *      goes through 1-3 segment by segment;
 *   1. GPT-2 pre-tokenisation, via PCRE2 (UTF + UCP):
 *        's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+
 *        |\s+(?!\S)|\s+
 *      where \s is spelled out as Unicode White_Space (what Oniguruma's
 *      \s matches in tokenizers), so its meaning does not hang on PCRE2's
 *      version or UCP rules;
 *   2. each piece's bytes are mapped to GPT-2's printable bytes_to_unicode
 *      characters;
 *   3. merges apply lowest rank first (leftmost on ties), rank = line
 *      number in merges.txt;
 *   4. <s> ids </s>; with max_length > 0 the BPE ids are cut to
 *      max_length - 2 first.
 *
 * Input must be valid UTF-8 (checked). A hpt_bpe_t is immutable after
 * loading: any number of threads may encode with it at once.
 */
#ifndef HPT_TOKENIZER_BPE_H
#define HPT_TOKENIZER_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "token_batch.h"

typedef struct hpt_bpe hpt_bpe_t;

/* Loads vocab.json (an object token -> id) and merges.txt (an optional
 * "#version" line, then "left right" per line). The vocab must hold the
 * 256 byte-level characters, <s>, </s> and <pad>, and every merge's parts
 * and result. On success *out is owned by the caller (hpt_bpe_destroy).
 * On failure *out is NULL and HPT_ENOTFOUND, HPT_EIO, HPT_EPARSE (the
 * message names the file and line or token) or HPT_ENOMEM is returned. */
int hpt_bpe_load(const char *vocab_json, const char *merges_txt,
                 hpt_bpe_t **out, hpt_error_t *error);

/* Frees the tokenizer and sets *bpe to NULL. Accepts NULL. Cannot fail. */
void hpt_bpe_destroy(hpt_bpe_t **bpe);

/* Encodes the NUL-terminated UTF-8 `text` as <s> ... </s> into *out
 * (caller storage, initialised; content replaced). max_length 0 means no
 * limit, otherwise at least 2. Returns 0, HPT_EPARSE (invalid UTF-8; the
 * message gives the byte offset), HPT_EINVAL (max_length 1) or
 * HPT_ENOMEM; on failure out->count is 0. Thread-safe. */
int hpt_bpe_encode(const hpt_bpe_t *bpe, const char *text, size_t max_length,
                   hpt_token_ids_t *out, hpt_error_t *error);

/* Encodes texts[0..n_texts) into a batch padded with <pad> to its longest
 * row (see hpt_token_batch_encode for ownership and errors). */
int hpt_bpe_encode_batch(const hpt_bpe_t *bpe, const char *const *texts,
                         size_t n_texts, size_t max_length,
                         hpt_token_batch_t *batch, hpt_error_t *error);

/* The id of `token` (in byte-level form, "Ġthe"), or -1. Cannot fail. */
int32_t hpt_bpe_token_id(const hpt_bpe_t *bpe, const char *token);

/* The token of `id` (borrowed from bpe), or NULL. Cannot fail. */
const char *hpt_bpe_id_token(const hpt_bpe_t *bpe, int32_t id);

/* Vocabulary size (largest id + 1); number of merges. Cannot fail. */
size_t hpt_bpe_vocab_size(const hpt_bpe_t *bpe);
size_t hpt_bpe_merge_count(const hpt_bpe_t *bpe);

/* The ids of <pad>, <s>, </s>. Cannot fail. */
int32_t hpt_bpe_pad_id(const hpt_bpe_t *bpe);
int32_t hpt_bpe_bos_id(const hpt_bpe_t *bpe);
int32_t hpt_bpe_eos_id(const hpt_bpe_t *bpe);

#endif
