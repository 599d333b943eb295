/* test_model.h — a tiny pretrained encoder on disk, for tests that run the
 * transformer objective end to end.
 *
 * The fixtures in tests/fixtures/tiny-* carry no tokenizer, so a study
 * cannot train them; this helper writes a whole model folder instead: a
 * random 2-layer BERT (hidden 32, 4 heads, intermediate 64, 64 positions)
 * with a character-level WordPiece vocabulary, its body only (no
 * classifier head, as a pretrained checkpoint has), written with the
 * engine's own safetensors writer. Training it for an epoch on train.csv
 * at max_length 24 takes about a second on one CPU core.
 */
#ifndef HPT_TEST_MODEL_H
#define HPT_TEST_MODEL_H

/* Makes `folder` (must not exist) with config.json, vocab.txt and
 * model.safetensors; `labels` is the config's id2label JSON object, e.g.
 * {"0": "A", "1": "B"}. Aborts the test on any failure. */
void hpt_test_make_tiny_bert(const char *folder, const char *labels);

#endif
