/* augment.h — text augmentation for fine-tuning, as the reference notebook
 * does it with nlpaug: WordNet synonym replacement (SynonymAug,
 * aug_src='wordnet') and random word swap (RandomWordAug, action='swap').
 *
 * A text is split on ASCII whitespace into words (output words are joined
 * by one space). For each text, one of the two is drawn with probability
 * 1/2 each:
 *
 *   synonyms  every candidate word is replaced, with probability p, by a
 *             uniformly drawn WordNet synonym. A candidate is a word whose
 *             core (the word less leading and trailing ASCII punctuation,
 *             which is kept) is ASCII letters only, not an English stop
 *             word, and has at least one synonym: a one-word lemma
 *             (ASCII letters, lowercased) of any
 *             synset of the core or of its WordNet base forms (morphstr),
 *             nouns, verbs, adjectives and adverbs, other than the core
 *             itself (lowercase compared). A capitalised word gets a
 *             capitalised synonym.
 *   swap      each word i is swapped, with probability p / 2, with word
 *             i + 1 (the last word with word i - 1), left to right; so
 *             about a fraction p of the words move.
 *
 * Every draw comes from the caller's hpt_rng, in a fixed order: the same
 * text, p and rng state give the same output. The augmenter caches
 * synonym lists, so it is mutable: one thread at a time. WordNet's C
 * library keeps global state, so there should be one augmenter per
 * process (a second one works, sharing the library's state).
 *
 * Callers augment only training texts, never validation (train.h does).
 */
#ifndef HPT_AUGMENT_H
#define HPT_AUGMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "rng.h"

typedef struct hpt_augment hpt_augment_t;

/* Opens WordNet in `dict_dir` (NULL: $WNSEARCHDIR, else
 * /usr/share/wordnet, Debian's wordnet-base). On success *out is new
 * (free with hpt_augment_destroy); on failure *out is NULL and
 * HPT_ENOTFOUND (no WordNet data there) or HPT_ENOMEM is returned. */
int hpt_augment_new(const char *dict_dir, hpt_augment_t **out,
                    hpt_error_t *error);

/* Frees; sets *aug to NULL. Accepts NULL. Cannot fail. */
void hpt_augment_destroy(hpt_augment_t **aug);

/* Augments `text` with probability p in [0, 1] (synonyms or swap, drawn
 * from rng as described above). On success *out is a new string the
 * caller frees; on failure *out is NULL and HPT_EINVAL (p) or HPT_ENOMEM
 * is returned. */
int hpt_augment_text(hpt_augment_t *aug, const char *text, double p,
                     hpt_rng_t *rng, char **out, hpt_error_t *error);

/* The two augmentations alone, same contract. *n_changed (may be NULL)
 * receives the number of words replaced (synonyms) or moved (swap). */
int hpt_augment_synonyms(hpt_augment_t *aug, const char *text, double p,
                         hpt_rng_t *rng, char **out, size_t *n_changed,
                         hpt_error_t *error);
int hpt_augment_swap(const char *text, double p, hpt_rng_t *rng, char **out,
                     size_t *n_changed, hpt_error_t *error);

/* The synonyms of `word` (lowercase ASCII letters) that synonym
 * replacement draws from, borrowed until the next call; *n receives their
 * number (0: not a candidate). Returns 0 or HPT_ENOMEM. */
int hpt_augment_synonyms_of(hpt_augment_t *aug, const char *word,
                            const char *const **synonyms, size_t *n,
                            hpt_error_t *error);

#endif
