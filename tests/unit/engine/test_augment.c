/* test_augment.c — WordNet synonym replacement and word swap
 * (worker/engine/augment.c). Skips when the WordNet data is absent. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"

static hpt_augment_t *aug;

static void setup(void) {
  hpt_error_t e = {0};
  int rc = hpt_augment_new(NULL, &aug, &e);
  if (rc == HPT_ENOTFOUND)
    cr_skip_test("no WordNet data: %s", e.message);
  cr_assert_eq(rc, 0, "%s", e.message);
}

static void teardown(void) { hpt_augment_destroy(&aug); }

TestSuite(augment, .init = setup, .fini = teardown);

/* Words of a text, split on spaces, into words[] (at most max). */
static size_t split(char *text, char **words, size_t max) {
  size_t n = 0;
  for (char *w = strtok(text, " "); w && n < max; w = strtok(NULL, " "))
    words[n++] = w;
  return n;
}

Test(augment, wordnet_gives_synonyms_and_skips_stop_words) {
  const char *const *syn;
  size_t n;
  hpt_error_t e = {0};
  cr_assert_eq(hpt_augment_synonyms_of(aug, "happy", &syn, &n, &e), 0);
  cr_assert_gt(n, 0);
  bool glad = false;
  for (size_t i = 0; i < n; i++) {
    cr_expect_neq(strcmp(syn[i], "happy"), 0);
    cr_expect_null(strchr(syn[i], ' '));
    cr_expect_null(strchr(syn[i], '_'));
    glad = glad || strcmp(syn[i], "glad") == 0;
  }
  cr_expect(glad, "'glad' is a WordNet synonym of 'happy'");
  /* Inflected forms go through morphstr: "burning" -> "burn". */
  cr_assert_eq(hpt_augment_synonyms_of(aug, "burning", &syn, &n, &e), 0);
  cr_expect_gt(n, 0);
  cr_assert_eq(hpt_augment_synonyms_of(aug, "the", &syn, &n, &e), 0);
  cr_expect_eq(n, 0);
  cr_assert_eq(hpt_augment_synonyms_of(aug, "qzxv", &syn, &n, &e), 0);
  cr_expect_eq(n, 0);
}

Test(augment, synonym_rate_follows_p) {
  /* Every word here has WordNet synonyms. */
  const char *base = "happy big fast strong kill burn hate destroy attack "
                     "country people anger house car ";
  size_t reps = 80;
  char *text = malloc(strlen(base) * reps + 1);
  text[0] = '\0';
  for (size_t i = 0; i < reps; i++)
    strcat(text, base);
  size_t n_words = 14 * reps;
  double ps[] = {0.0, 0.1, 0.3, 1.0};
  for (size_t k = 0; k < 4; k++) {
    hpt_rng_t rng;
    hpt_rng_seed(&rng, 7);
    char *out = NULL;
    size_t changed = 0;
    hpt_error_t e = {0};
    cr_assert_eq(
        hpt_augment_synonyms(aug, text, ps[k], &rng, &out, &changed, &e), 0);
    /* Count words that differ, position by position. */
    char *a = strdup(text), *b = strdup(out);
    char **wa = calloc(n_words + 1, sizeof *wa);
    char **wb = calloc(n_words + 1, sizeof *wb);
    cr_assert_eq(split(a, wa, n_words + 1), n_words);
    cr_assert_eq(split(b, wb, n_words + 1), n_words);
    size_t differ = 0;
    for (size_t i = 0; i < n_words; i++)
      differ += strcmp(wa[i], wb[i]) != 0;
    cr_expect_eq(differ, changed);
    double rate = (double)differ / (double)n_words;
    printf("synonyms: p=%.1f changed %.3f of words\n", ps[k], rate);
    cr_expect(rate >= ps[k] - 0.04 && rate <= ps[k] + 0.04, "p=%.2f rate=%.3f",
              ps[k], rate);
    free(a);
    free(b);
    free(wa);
    free(wb);
    free(out);
  }
  free(text);
}

Test(augment, is_deterministic_by_rng_state) {
  const char *text = "They should burn the old factories to the ground, "
                     "Every single one!";
  char *a = NULL, *b = NULL, *c = NULL;
  hpt_error_t e = {0};
  hpt_rng_t r1, r2, r3;
  hpt_rng_seed(&r1, 11);
  hpt_rng_seed(&r2, 11);
  hpt_rng_seed(&r3, 12);
  bool differs = false;
  for (int i = 0; i < 20; i++) {
    cr_assert_eq(hpt_augment_text(aug, text, 0.5, &r1, &a, &e), 0);
    cr_assert_eq(hpt_augment_text(aug, text, 0.5, &r2, &b, &e), 0);
    cr_assert_eq(hpt_augment_text(aug, text, 0.5, &r3, &c, &e), 0);
    cr_expect_str_eq(a, b);
    differs = differs || strcmp(a, c) != 0;
    free(a);
    free(b);
    free(c);
  }
  cr_expect(differs, "another seed never gave another text");
}

Test(augment, keeps_punctuation_and_capitals) {
  hpt_rng_t rng;
  hpt_rng_seed(&rng, 3);
  char *out = NULL;
  size_t changed = 0;
  hpt_error_t e = {0};
  cr_assert_eq(
      hpt_augment_synonyms(aug, "Happy!", 1.0, &rng, &out, &changed, &e), 0);
  cr_expect_eq(changed, 1);
  cr_expect(out[0] >= 'A' && out[0] <= 'Z', "%s", out);
  cr_expect_eq(out[strlen(out) - 1], '!', "%s", out);
  cr_expect_neq(strcmp(out, "Happy!"), 0);
  free(out);
}

Test(augment, swap_moves_about_p_of_the_words) {
  char text[8192] = "";
  for (int i = 0; i < 1000; i++) {
    char w[16];
    snprintf(w, sizeof w, "%sw%d", i ? " " : "", i);
    strcat(text, w);
  }
  hpt_rng_t rng;
  hpt_rng_seed(&rng, 5);
  char *out = NULL;
  size_t moved = 0;
  hpt_error_t e = {0};
  cr_assert_eq(hpt_augment_swap(text, 0.2, &rng, &out, &moved, &e), 0);
  cr_expect_eq(strlen(out), strlen(text)); /* same words, other order */
  printf("swap: p=0.2 moved %zu of 1000 words\n", moved);
  cr_expect(moved >= 150 && moved <= 250, "moved %zu", moved);
  free(out);
  cr_expect_eq(hpt_augment_swap(text, 1.5, &rng, &out, NULL, &e), HPT_EINVAL);
  cr_expect_null(out);
}
