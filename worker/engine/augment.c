/* augment.c — see augment.h. WordNet through its C library (wn.h:
 * wninit, morphstr, findtheinfo_ds); synonym lists are cached per word in
 * a token_vocab map, since the library reads its data files for every
 * lookup. */
#include "augment.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <wn.h>

#include "token_vocab.h"

#define DEFAULT_DICT_DIR "/usr/share/wordnet"
#define MAX_WORD 64 /* longer words are never candidates */

typedef struct synonyms {
  char **words; /* n one-word lemmas, lowercase, distinct */
  size_t n;
} synonyms_t;

struct hpt_augment {
  hpt_token_vocab_t *index; /* word -> entries index */
  synonyms_t *entries;
  size_t n_entries, cap_entries;
};

/* NLTK's English stop words (the usual list), as function words have
 * misleading WordNet senses ("a" -> "angstrom", "it" -> "information
 * technology"). */
static const char *const stop_words[] = {
    "i",          "me",        "my",      "myself", "we",         "our",
    "ours",       "ourselves", "you",     "your",   "yours",      "yourself",
    "yourselves", "he",        "him",     "his",    "himself",    "she",
    "her",        "hers",      "herself", "it",     "its",        "itself",
    "they",       "them",      "their",   "theirs", "themselves", "what",
    "which",      "who",       "whom",    "this",   "that",       "these",
    "those",      "am",        "is",      "are",    "was",        "were",
    "be",         "been",      "being",   "have",   "has",        "had",
    "having",     "do",        "does",    "did",    "doing",      "a",
    "an",         "the",       "and",     "but",    "if",         "or",
    "because",    "as",        "until",   "while",  "of",         "at",
    "by",         "for",       "with",    "about",  "against",    "between",
    "into",       "through",   "during",  "before", "after",      "above",
    "below",      "to",        "from",    "up",     "down",       "in",
    "out",        "on",        "off",     "over",   "under",      "again",
    "further",    "then",      "once",    "here",   "there",      "when",
    "where",      "why",       "how",     "all",    "any",        "both",
    "each",       "few",       "more",    "most",   "other",      "some",
    "such",       "no",        "nor",     "not",    "only",       "own",
    "same",       "so",        "than",    "too",    "very",       "s",
    "t",          "can",       "will",    "just",   "don",        "should",
    "now",        "d",         "ll",      "m",      "o",          "re",
    "ve",         "y",         "ain",     "aren",   "couldn",     "didn",
    "doesn",      "hadn",      "hasn",    "haven",  "isn",        "ma",
    "mightn",     "mustn",     "needn",   "shan",   "shouldn",    "wasn",
    "weren",      "won",       "wouldn",  "im",     "u",          "ur",
};

static bool is_stop_word(const char *word) {
  for (size_t i = 0; i < sizeof stop_words / sizeof stop_words[0]; i++)
    if (strcmp(stop_words[i], word) == 0)
      return true;
  return false;
}

int hpt_augment_new(const char *dict_dir, hpt_augment_t **out,
                    hpt_error_t *error) {
  *out = NULL;
  /* The library reads WNSEARCHDIR in wninit; pin it so a stray WNHOME
   * cannot point it elsewhere. */
  const char *dir = dict_dir ? dict_dir : getenv("WNSEARCHDIR");
  if (dir == NULL || dir[0] == '\0')
    dir = DEFAULT_DICT_DIR;
  if (setenv("WNSEARCHDIR", dir, 1) != 0)
    return HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
  if (wninit() != 0) /* opens the files once per process */
    return HPT_ERR(error, HPT_ENOTFOUND,
                   "augment: no WordNet data in %s (install Debian's "
                   "wordnet-base, or set WNSEARCHDIR)",
                   dir);
  hpt_augment_t *aug = calloc(1, sizeof *aug);
  if (aug == NULL)
    return HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
  int rc = hpt_token_vocab_new(&aug->index, error);
  if (rc != 0) {
    free(aug);
    return rc;
  }
  *out = aug;
  return 0;
}

void hpt_augment_destroy(hpt_augment_t **aug) {
  if (aug == NULL || *aug == NULL)
    return;
  hpt_augment_t *a = *aug;
  for (size_t i = 0; i < a->n_entries; i++) {
    for (size_t j = 0; j < a->entries[i].n; j++)
      free(a->entries[i].words[j]);
    free(a->entries[i].words);
  }
  free(a->entries);
  hpt_token_vocab_destroy(&a->index);
  free(a);
  *aug = NULL;
}

/* ---- synonym lookup ----------------------------------------------------- */

/* Adds `lemma`, lowercased and less any "(a)" marker, to *s unless it is
 * multi-word or not ASCII letters, or equals `word` or one already there. */
static int add_synonym(synonyms_t *s, const char *word, const char *lemma) {
  size_t len = strcspn(lemma, "(");
  if (len == 0 || len >= MAX_WORD)
    return 0;
  char lower[MAX_WORD];
  for (size_t i = 0; i < len; i++) {
    if (!isalpha((unsigned char)lemma[i]))
      return 0;
    lower[i] = (char)tolower((unsigned char)lemma[i]);
  }
  lower[len] = '\0';
  if (strcmp(word, lower) == 0)
    return 0;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->words[i], lower) == 0)
      return 0;
  char **grown = realloc(s->words, (s->n + 1) * sizeof *grown);
  if (grown == NULL)
    return HPT_ENOMEM;
  s->words = grown;
  if ((s->words[s->n] = strdup(lower)) == NULL)
    return HPT_ENOMEM;
  s->n++;
  return 0;
}

/* The synsets of `base` as part of speech `pos`, their lemmas into *s. */
static int add_synsets(synonyms_t *s, const char *word, const char *base,
                       int pos) {
  char buf[MAX_WORD];
  snprintf(buf, sizeof buf, "%s", base);
  SynsetPtr list = findtheinfo_ds(buf, pos, SYNS, ALLSENSES);
  int rc = 0;
  for (SynsetPtr ss = list; ss != NULL && rc == 0; ss = ss->nextss)
    for (int i = 0; i < ss->wcount && rc == 0; i++)
      rc = add_synonym(s, word, ss->words[i]);
  if (list != NULL)
    free_syns(list);
  return rc;
}

/* Every synonym of `word` over the four parts of speech, the word itself
 * and its base forms (morphstr: "burning" -> "burn"). */
static int lookup(const char *word, synonyms_t *s) {
  static const int parts[] = {NOUN, VERB, ADJ, ADV};
  int rc = 0;
  for (size_t p = 0; p < 4 && rc == 0; p++) {
    rc = add_synsets(s, word, word, parts[p]);
    char buf[MAX_WORD];
    snprintf(buf, sizeof buf, "%s", word);
    /* morphstr keeps state between calls (NULL continues). */
    char bases[4][MAX_WORD];
    int n_bases = 0;
    for (char *base = morphstr(buf, parts[p]); base != NULL && n_bases < 4;
         base = morphstr(NULL, parts[p]))
      snprintf(bases[n_bases++], MAX_WORD, "%s", base);
    for (int b = 0; b < n_bases && rc == 0; b++)
      if (strcmp(bases[b], word) != 0)
        rc = add_synsets(s, word, bases[b], parts[p]);
  }
  return rc;
}

int hpt_augment_synonyms_of(hpt_augment_t *aug, const char *word,
                            const char *const **synonyms, size_t *n,
                            hpt_error_t *error) {
  *synonyms = NULL;
  *n = 0;
  size_t len = strlen(word);
  if (len == 0 || len >= MAX_WORD || is_stop_word(word))
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!islower((unsigned char)word[i]))
      return 0;
  int32_t at = hpt_token_vocab_get(aug->index, word, len);
  if (at < 0) {
    if (aug->n_entries == aug->cap_entries) {
      size_t cap = aug->cap_entries ? 2 * aug->cap_entries : 256;
      synonyms_t *grown = realloc(aug->entries, cap * sizeof *grown);
      if (grown == NULL)
        return HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
      aug->entries = grown;
      aug->cap_entries = cap;
    }
    synonyms_t s = {0};
    int rc = lookup(word, &s);
    if (rc == 0)
      rc = hpt_token_vocab_put(aug->index, word, len, (int32_t)aug->n_entries,
                               error);
    if (rc != 0) {
      for (size_t j = 0; j < s.n; j++)
        free(s.words[j]);
      free(s.words);
      return HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
    }
    at = (int32_t)aug->n_entries;
    aug->entries[aug->n_entries++] = s;
  }
  *synonyms = (const char *const *)aug->entries[at].words;
  *n = aug->entries[at].n;
  return 0;
}

/* ---- words in, words out ------------------------------------------------ */

typedef struct words {
  char **items; /* n owned strings */
  size_t n;
} words_t;

static void words_free(words_t *w) {
  for (size_t i = 0; i < w->n; i++)
    free(w->items[i]);
  free(w->items);
  w->items = NULL;
  w->n = 0;
}

static int words_split(const char *text, words_t *w) {
  w->items = NULL;
  w->n = 0;
  size_t cap = 0;
  const char *p = text ? text : "";
  for (;;) {
    while (*p && isspace((unsigned char)*p))
      p++;
    if (*p == '\0')
      return 0;
    const char *start = p;
    while (*p && !isspace((unsigned char)*p))
      p++;
    if (w->n == cap) {
      cap = cap ? 2 * cap : 16;
      char **grown = realloc(w->items, cap * sizeof *grown);
      if (grown == NULL)
        return HPT_ENOMEM;
      w->items = grown;
    }
    if ((w->items[w->n] = strndup(start, (size_t)(p - start))) == NULL)
      return HPT_ENOMEM;
    w->n++;
  }
}

static char *words_join(const words_t *w) {
  size_t total = 1;
  for (size_t i = 0; i < w->n; i++)
    total += strlen(w->items[i]) + 1;
  char *out = malloc(total), *o = out;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < w->n; i++) {
    if (i > 0)
      *o++ = ' ';
    size_t len = strlen(w->items[i]);
    memcpy(o, w->items[i], len);
    o += len;
  }
  *o = '\0';
  return out;
}

static int finish(words_t *w, char **out, hpt_error_t *error) {
  *out = words_join(w);
  words_free(w);
  return *out ? 0 : HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
}

static int check_p(double p, hpt_error_t *error) {
  if (!(p >= 0.0 && p <= 1.0))
    return HPT_ERR(error, HPT_EINVAL, "augment: p = %g is not in [0, 1]", p);
  return 0;
}

/* ---- the two augmentations ---------------------------------------------- */

int hpt_augment_synonyms(hpt_augment_t *aug, const char *text, double p,
                         hpt_rng_t *rng, char **out, size_t *n_changed,
                         hpt_error_t *error) {
  *out = NULL;
  if (n_changed)
    *n_changed = 0;
  int rc = check_p(p, error);
  if (rc != 0)
    return rc;
  words_t w;
  if (words_split(text, &w) != 0) {
    words_free(&w);
    return HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
  }
  for (size_t i = 0; i < w.n; i++) {
    /* core = the word less leading and trailing ASCII punctuation */
    const char *word = w.items[i];
    size_t len = strlen(word), lead = 0, trail = 0;
    while (lead < len && ispunct((unsigned char)word[lead]))
      lead++;
    while (trail < len - lead && ispunct((unsigned char)word[len - 1 - trail]))
      trail++;
    size_t core_len = len - lead - trail;
    if (core_len == 0 || core_len >= MAX_WORD)
      continue;
    char core[MAX_WORD];
    bool letters = true;
    for (size_t j = 0; j < core_len; j++) {
      unsigned char c = (unsigned char)word[lead + j];
      letters = letters && isalpha(c);
      core[j] = (char)tolower(c);
    }
    core[core_len] = '\0';
    if (!letters)
      continue;
    const char *const *synonyms;
    size_t n;
    if ((rc = hpt_augment_synonyms_of(aug, core, &synonyms, &n, error)) != 0) {
      words_free(&w);
      return rc;
    }
    if (n == 0 || !(hpt_rng_uniform(rng) < p))
      continue;
    const char *pick = synonyms[hpt_rng_below(rng, n)];
    size_t pick_len = strlen(pick);
    char *next = malloc(lead + pick_len + trail + 1);
    if (next == NULL) {
      words_free(&w);
      return HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
    }
    memcpy(next, word, lead);
    memcpy(next + lead, pick, pick_len);
    if (isupper((unsigned char)word[lead]))
      next[lead] = (char)toupper((unsigned char)next[lead]);
    memcpy(next + lead + pick_len, word + len - trail, trail);
    next[lead + pick_len + trail] = '\0';
    free(w.items[i]);
    w.items[i] = next;
    if (n_changed)
      (*n_changed)++;
  }
  return finish(&w, out, error);
}

int hpt_augment_swap(const char *text, double p, hpt_rng_t *rng, char **out,
                     size_t *n_changed, hpt_error_t *error) {
  *out = NULL;
  if (n_changed)
    *n_changed = 0;
  int rc = check_p(p, error);
  if (rc != 0)
    return rc;
  words_t w;
  if (words_split(text, &w) != 0) {
    words_free(&w);
    return HPT_ERR(error, HPT_ENOMEM, "augment: out of memory");
  }
  for (size_t i = 0; w.n >= 2 && i < w.n; i++) {
    if (!(hpt_rng_uniform(rng) < p / 2))
      continue;
    size_t j = i + 1 < w.n ? i + 1 : i - 1;
    char *t = w.items[i];
    w.items[i] = w.items[j];
    w.items[j] = t;
    if (n_changed)
      *n_changed += 2;
  }
  return finish(&w, out, error);
}

int hpt_augment_text(hpt_augment_t *aug, const char *text, double p,
                     hpt_rng_t *rng, char **out, hpt_error_t *error) {
  if (hpt_rng_uniform(rng) < 0.5)
    return hpt_augment_synonyms(aug, text, p, rng, out, NULL, error);
  return hpt_augment_swap(text, p, rng, out, NULL, error);
}
