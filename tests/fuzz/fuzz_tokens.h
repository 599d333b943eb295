/* fuzz_tokens.h — the checks fuzz_wordpiece.c and fuzz_bpe.c share: a
 * padded batch of {text, ""} must hold the single encoding of `text` in
 * row 0, padded with pad_id, with the mask and lengths to match. */
#ifndef HPT_FUZZ_TOKENS_H
#define HPT_FUZZ_TOKENS_H

#include "fuzz_util.h"
#include "token_batch.h"

static inline void fuzz_check_batch(const hpt_token_batch_t *batch,
                                    const hpt_token_ids_t *row0,
                                    int32_t pad_id) {
  FUZZ_CHECK(batch->n_rows == 2);
  FUZZ_CHECK(batch->seq_len == row0->count && batch->lengths[0] == row0->count);
  FUZZ_CHECK(batch->lengths[1] == 2 && batch->lengths[1] <= batch->seq_len);
  for (size_t r = 0; r < 2; r++)
    for (size_t i = 0; i < batch->seq_len; i++) {
      int32_t id = batch->ids[r * batch->seq_len + i];
      int32_t mask = batch->attention_mask[r * batch->seq_len + i];
      FUZZ_CHECK(mask == (i < batch->lengths[r]));
      FUZZ_CHECK(r != 0 || id == row0->ids[i]);
      FUZZ_CHECK(mask || id == pad_id);
    }
}

#endif
