/* tokenizer_wordpiece_internal.h — the WordPiece tokenizer's state,
 * shared by tokenizer_wordpiece.c (encoding) and tokenizer_wordpiece_load.c
 * (vocab.txt and tokenizer.json loading). Private to those two files. */
#ifndef HPT_TOKENIZER_WORDPIECE_INTERNAL_H
#define HPT_TOKENIZER_WORDPIECE_INTERNAL_H

#include "token_vocab.h"
#include "tokenizer_wordpiece.h"

#define MAX_VOCAB_IDS (1 << 24)

struct hpt_wordpiece {
  hpt_token_vocab_t *vocab; /* token -> id */
  char **tokens;            /* id -> token (NULL where no token has the id) */
  size_t n_tokens;          /* largest id + 1 */
  bool clean_text, handle_chinese_chars, lowercase, strip_accents;
  size_t max_chars;
  char *prefix; /* "##" */
  size_t prefix_len;
  int32_t unk_id, cls_id, sep_id, pad_id;
  hpt_token_special_t *specials; /* contents owned (strdup) */
  size_t n_specials;
};

#endif
