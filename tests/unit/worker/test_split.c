/* test_split.c — stratified seeded train/validation split
 * (worker/engine/split.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"

#define N 1000

static int labels[N];

/* 600 of class 0, 400 of class 1, interleaved. */
static void setup(void) {
  for (int i = 0; i < N; i++)
    labels[i] = (i % 5) < 2;
}

TestSuite(split, .init = setup);

Test(split, stratified_proportions) {
  hpt_split_t split;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_split_stratified(labels, N, 0.1, 42, &split, &error), 0);
  cr_expect_eq(split.n_val, 100);
  cr_expect_eq(split.n_train, 900);
  size_t val_pos = 0, train_pos = 0;
  for (size_t i = 0; i < split.n_val; i++)
    val_pos += labels[split.val[i]] == 1;
  for (size_t i = 0; i < split.n_train; i++)
    train_pos += labels[split.train[i]] == 1;
  cr_expect_eq(val_pos, 40);
  cr_expect_eq(train_pos, 360);
  hpt_split_close(&split);
}

Test(split, rounds_per_class) {
  /* 7 of class 0, 3 of class 1: round(0.25 * 7) = 2, round(0.25 * 3) = 1. */
  int small[10] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
  hpt_split_t split;
  cr_assert_eq(hpt_split_stratified(small, 10, 0.25, 1, &split, NULL), 0);
  cr_expect_eq(split.n_val, 3);
  cr_expect_eq(split.n_train, 7);
  hpt_split_close(&split);
}

Test(split, disjoint_and_covering_and_sorted) {
  hpt_split_t split;
  cr_assert_eq(hpt_split_stratified(labels, N, 0.3, 7, &split, NULL), 0);
  int seen[N] = {0};
  for (size_t i = 0; i < split.n_train; i++) {
    seen[split.train[i]]++;
    if (i > 0)
      cr_expect_lt(split.train[i - 1], split.train[i]);
  }
  for (size_t i = 0; i < split.n_val; i++) {
    seen[split.val[i]]++;
    if (i > 0)
      cr_expect_lt(split.val[i - 1], split.val[i]);
  }
  for (int i = 0; i < N; i++)
    cr_expect_eq(seen[i], 1, "row %d seen %d times", i, seen[i]);
  hpt_split_close(&split);
}

Test(split, deterministic_by_seed) {
  hpt_split_t a, b, c;
  cr_assert_eq(hpt_split_stratified(labels, N, 0.1, 42, &a, NULL), 0);
  cr_assert_eq(hpt_split_stratified(labels, N, 0.1, 42, &b, NULL), 0);
  cr_assert_eq(hpt_split_stratified(labels, N, 0.1, 43, &c, NULL), 0);
  cr_assert_eq(a.n_val, b.n_val);
  cr_expect_eq(memcmp(a.val, b.val, a.n_val * sizeof *a.val), 0);
  cr_expect_eq(memcmp(a.train, b.train, a.n_train * sizeof *a.train), 0);
  cr_assert_eq(a.n_val, c.n_val);
  cr_expect_neq(memcmp(a.val, c.val, a.n_val * sizeof *a.val), 0,
                "another seed gives another split");
  hpt_split_close(&a);
  hpt_split_close(&b);
  hpt_split_close(&c);
  cr_expect_null(a.val);
  hpt_split_close(NULL);
}

Test(split, rejects_bad_fraction_and_labels) {
  hpt_split_t split;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_split_stratified(labels, N, 0.0, 1, &split, &error),
               HPT_EINVAL);
  cr_expect_eq(hpt_split_stratified(labels, N, 1.0, 1, &split, &error),
               HPT_EINVAL);
  cr_expect_eq(hpt_split_stratified(labels, N, NAN, 1, &split, &error),
               HPT_EINVAL);
  int bad[3] = {0, -1, 1};
  cr_expect_eq(hpt_split_stratified(bad, 3, 0.5, 1, &split, &error),
               HPT_EINVAL);
  cr_expect_null(split.val);
}
