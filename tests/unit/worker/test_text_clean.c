/* test_text_clean.c — the notebook's post normalisation
 * (worker/engine/text_clean.c). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "text_clean.h"

static void expect_clean(const char *in, const char *want) {
  char *out = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_text_clean(in, &out, &error), 0);
  cr_expect_str_eq(out, want, "clean(\"%s\")", in ? in : "(null)");
  free(out);
}

Test(text_clean, short_or_empty_posts_become_empty_post) {
  expect_clean("", "empty post");
  expect_clean(NULL, "empty post");
  expect_clean("   \t\n", "empty post");
  expect_clean("abcd", "empty post");
  expect_clean("  abcd  ", "empty post");    /* 4 characters after trimming */
  expect_clean("caf\xC3\xA9", "empty post"); /* 4 code points, 5 bytes */
  expect_clean("abcde", "abcde");
  expect_clean("  abcde \n", "abcde");
}

Test(text_clean, runs_of_three_or_more_collapse_to_two) {
  expect_clean("soooo good!!!!", "soo good!!");
  expect_clean("aa bb cc dd", "aa bb cc dd");
  expect_clean("aaab", "empty post"); /* short check comes first */
  expect_clean("hello     world", "hello  world");
  expect_clean("yes\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", "yes\xC3\xA9\xC3\xA9");
  expect_clean("NOOOOoooo way", "NOOoo way"); /* case is kept */
}

Test(text_clean, keeps_ordinary_text) {
  expect_clean("sixth forms should burn to the ground",
               "sixth forms should burn to the ground");
}
