/* test_token_batch.c — the training loop's length-bucketed batch plan
 * (hpt_token_batch_plan) and the evaluation order
 * (hpt_token_batch_sort_by_length), worker/engine/token_batch.c: every
 * example once, batch sizes, windows sorted by length, batches shuffled,
 * the same rng state giving the same plan, and less padding than plain
 * shuffled batches. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "token_batch.h"

/* n sequences whose lengths are a seeded function of their index (ids
 * are not looked at: only counts matter to a plan). */
static hpt_token_ids_t *make_seqs(size_t n, uint64_t seed) {
  hpt_token_ids_t *seqs = calloc(n, sizeof *seqs);
  cr_assert_not_null(seqs);
  hpt_rng_t rng;
  hpt_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++)
    seqs[i].count = 2 + (size_t)hpt_rng_below(&rng, 126);
  return seqs;
}

typedef struct plan {
  size_t *order, *starts, n_batches;
} plan_t;

static plan_t plan_make(const hpt_token_ids_t *seqs, size_t n, size_t B,
                        size_t window, uint64_t seed) {
  plan_t p = {malloc(n * sizeof(size_t)),
              malloc(((n + B - 1) / B + 1) * sizeof(size_t)), 0};
  hpt_rng_t rng;
  hpt_rng_seed(&rng, seed);
  hpt_error_t e = {0};
  cr_assert_eq(hpt_token_batch_plan(seqs, n, B, window, &rng, p.order, p.starts,
                                    &p.n_batches, &e),
               0, "%s", e.message);
  return p;
}

static void plan_free(plan_t *p) {
  free(p->order);
  free(p->starts);
}

/* Padded tokens: sum over batches of (rows x longest - real tokens). */
static size_t padding(const hpt_token_ids_t *seqs, const plan_t *p) {
  size_t pad = 0;
  for (size_t b = 0; b < p->n_batches; b++) {
    size_t longest = 0, real = 0;
    for (size_t i = p->starts[b]; i < p->starts[b + 1]; i++) {
      size_t len = seqs[p->order[i]].count;
      longest = len > longest ? len : longest;
      real += len;
    }
    pad += (p->starts[b + 1] - p->starts[b]) * longest - real;
  }
  return pad;
}

Test(token_batch_plan, covers_every_example_once_in_full_batches) {
  size_t n = 1003, B = 16;
  hpt_token_ids_t *seqs = make_seqs(n, 1);
  plan_t p = plan_make(seqs, n, B, 50, 42);
  cr_assert_eq(p.n_batches, (n + B - 1) / B);
  cr_assert_eq(p.starts[0], 0);
  cr_assert_eq(p.starts[p.n_batches], n);
  size_t short_batches = 0;
  for (size_t b = 0; b < p.n_batches; b++) {
    size_t size = p.starts[b + 1] - p.starts[b];
    cr_expect(size >= 1 && size <= B, "batch %zu has %zu rows", b, size);
    short_batches += size < B;
  }
  cr_expect_eq(short_batches, 1, "only the last cut may be short");
  char *seen = calloc(n, 1);
  for (size_t i = 0; i < n; i++) {
    cr_assert_lt(p.order[i], n);
    cr_expect_eq(seen[p.order[i]], 0, "index %zu twice", p.order[i]);
    seen[p.order[i]] = 1;
  }
  free(seen);
  plan_free(&p);
  free(seqs);
}

Test(token_batch_plan, batches_are_sorted_windows_in_shuffled_order) {
  size_t n = 640, B = 8, window = 4; /* windows of 32 examples */
  hpt_token_ids_t *seqs = make_seqs(n, 2);
  plan_t p = plan_make(seqs, n, B, window, 7);
  /* Inside a batch: longest first. */
  for (size_t b = 0; b < p.n_batches; b++)
    for (size_t i = p.starts[b] + 1; i < p.starts[b + 1]; i++)
      cr_expect_geq(seqs[p.order[i - 1]].count, seqs[p.order[i]].count,
                    "batch %zu not sorted", b);
  /* Batches were shuffled: their longest rows do not simply decrease
   * window by window in plan order. */
  size_t rises = 0;
  for (size_t b = 1; b < p.n_batches; b++)
    rises +=
        seqs[p.order[p.starts[b]]].count > seqs[p.order[p.starts[b - 1]]].count;
  cr_expect_gt(rises, p.n_batches / 4, "batch order looks unshuffled");
  plan_free(&p);
  free(seqs);
}

Test(token_batch_plan, same_seed_same_plan_other_seed_other_plan) {
  size_t n = 500, B = 16;
  hpt_token_ids_t *seqs = make_seqs(n, 3);
  plan_t a = plan_make(seqs, n, B, 50, 11), b = plan_make(seqs, n, B, 50, 11);
  plan_t c = plan_make(seqs, n, B, 50, 12);
  cr_expect(memcmp(a.order, b.order, n * sizeof(size_t)) == 0);
  cr_expect(memcmp(a.starts, b.starts, (a.n_batches + 1) * sizeof(size_t)) ==
            0);
  cr_expect(memcmp(a.order, c.order, n * sizeof(size_t)) != 0);
  plan_free(&a);
  plan_free(&b);
  plan_free(&c);
  free(seqs);
}

Test(token_batch_plan, bucketing_cuts_padding_against_plain_shuffling) {
  size_t n = 2000, B = 16;
  hpt_token_ids_t *seqs = make_seqs(n, 4);
  /* window 1: each window is one batch, so sorting changes nothing but
   * the order inside a batch: plain shuffled batches. */
  plan_t plain = plan_make(seqs, n, B, 1, 5),
         bucketed = plan_make(seqs, n, B, 50, 5);
  size_t pad_plain = padding(seqs, &plain),
         pad_bucketed = padding(seqs, &bucketed);
  cr_log_info("padding: plain %zu, bucketed %zu tokens", pad_plain,
              pad_bucketed);
  cr_expect_lt(pad_bucketed * 5, pad_plain, "plain %zu bucketed %zu", pad_plain,
               pad_bucketed);
  plan_free(&plain);
  plan_free(&bucketed);
  free(seqs);
}

Test(token_batch_plan, one_example_and_batches_larger_than_the_data) {
  hpt_token_ids_t *seqs = make_seqs(3, 5);
  plan_t one = plan_make(seqs, 1, 4, 50, 1);
  cr_expect_eq(one.n_batches, 1);
  cr_expect_eq(one.order[0], 0);
  plan_t all = plan_make(seqs, 3, 64, 50, 1);
  cr_expect_eq(all.n_batches, 1);
  cr_expect_eq(all.starts[1], 3);
  plan_free(&one);
  plan_free(&all);
  free(seqs);
}

Test(token_batch_sort, orders_longest_first_ties_by_index) {
  hpt_token_ids_t seqs[6] = {0};
  size_t lengths[6] = {5, 9, 5, 2, 9, 7}, want[6] = {1, 4, 5, 0, 2, 3};
  for (int i = 0; i < 6; i++)
    seqs[i].count = lengths[i];
  size_t rows[6];
  hpt_error_t e = {0};
  cr_assert_eq(hpt_token_batch_sort_by_length(seqs, 6, rows, &e), 0);
  for (int i = 0; i < 6; i++)
    cr_expect_eq(rows[i], want[i], "rows[%d] = %zu, want %zu", i, rows[i],
                 want[i]);
}
