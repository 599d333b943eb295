/* test_options.c — flat option maps and their typed getters
 * (shared/options.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "options.h"

static hpt_options_t options;

static void setup(void) {
  memset(&options, 0, sizeof options);
  options.section = strdup("sampler");
  options.source = strdup("study.yaml");
  static const char *const list[] = {"a", "b"};
  cr_assert_eq(hpt_options_add(&options, "type", "random", 5, NULL), HPT_OK);
  cr_assert_eq(hpt_options_add(&options, "seed", "42", 6, NULL), HPT_OK);
  cr_assert_eq(hpt_options_add(&options, "rate", "0.25", 7, NULL), HPT_OK);
  cr_assert_eq(hpt_options_add(&options, "flag", "yes", 8, NULL), HPT_OK);
  cr_assert_eq(hpt_options_add(&options, "bad", "many", 9, NULL), HPT_OK);
  cr_assert_eq(hpt_options_add_list(&options, "names", list, 2, 10, NULL),
               HPT_OK);
}

static void teardown(void) { hpt_options_free(&options); }

TestSuite(options, .init = setup, .fini = teardown);

Test(options, find_and_list) {
  cr_expect_eq(options.count, 6);
  const hpt_option_t *names = hpt_options_find(&options, "names");
  cr_assert_not_null(names);
  cr_expect(names->is_list);
  cr_expect_null(names->value);
  cr_expect_eq(names->n_values, 2);
  cr_expect_str_eq(names->values[1], "b");
  cr_expect_eq(names->line, 10);
  cr_expect_null(hpt_options_find(&options, "nope"));
}

Test(options, typed_getters) {
  const char *s;
  int64_t i;
  double d;
  bool b;
  cr_expect_eq(hpt_options_get_string(&options, "type", "x", &s, NULL), 0);
  cr_expect_str_eq(s, "random");
  cr_expect_eq(hpt_options_get_int(&options, "seed", 0, &i, NULL), 0);
  cr_expect_eq(i, 42);
  cr_expect_eq(hpt_options_get_double(&options, "rate", 0, &d, NULL), 0);
  cr_expect_eq(d, 0.25);
  cr_expect_eq(hpt_options_get_double(&options, "seed", 0, &d, NULL), 0);
  cr_expect_eq(d, 42);
  cr_expect_eq(hpt_options_get_bool(&options, "flag", false, &b, NULL), 0);
  cr_expect(b);
}

Test(options, absent_keys_give_fallbacks) {
  const char *s;
  int64_t i;
  double d;
  bool b;
  cr_expect_eq(hpt_options_get_string(&options, "x", "dflt", &s, NULL), 0);
  cr_expect_str_eq(s, "dflt");
  cr_expect_eq(hpt_options_get_int(&options, "x", -7, &i, NULL), 0);
  cr_expect_eq(i, -7);
  cr_expect_eq(hpt_options_get_double(&options, "x", 1.5, &d, NULL), 0);
  cr_expect_eq(d, 1.5);
  cr_expect_eq(hpt_options_get_bool(&options, "x", true, &b, NULL), 0);
  cr_expect(b);
}

Test(options, malformed_values_name_file_line_and_key) {
  hpt_error_t error;
  int64_t i;
  double d;
  bool b;
  const char *s;
  cr_expect_eq(hpt_options_get_int(&options, "bad", 0, &i, &error), HPT_EINVAL);
  cr_expect(strstr(error.message, "study.yaml:9: sampler.bad: must be an "
                                  "integer") != NULL,
            "%s", error.message);
  cr_expect_eq(hpt_options_get_int(&options, "rate", 0, &i, &error),
               HPT_EINVAL);
  cr_expect_eq(hpt_options_get_double(&options, "bad", 0, &d, &error),
               HPT_EINVAL);
  cr_expect(strstr(error.message, "study.yaml:9: sampler.bad: must be a "
                                  "number") != NULL,
            "%s", error.message);
  cr_expect_eq(hpt_options_get_bool(&options, "bad", 0, &b, &error),
               HPT_EINVAL);
  cr_expect(strstr(error.message, "must be true or false") != NULL);
  cr_expect_eq(hpt_options_get_string(&options, "names", NULL, &s, &error),
               HPT_EINVAL);
  cr_expect(strstr(error.message, "study.yaml:10: sampler.names") != NULL, "%s",
            error.message);
}

Test(options, check_keys) {
  static const char *const all[] = {"type", "seed",  "rate", "flag",
                                    "bad",  "names", NULL};
  static const char *const few[] = {"type", "seed", NULL};
  hpt_error_t error;
  cr_expect_eq(hpt_options_check_keys(&options, all, &error), HPT_OK);
  cr_expect_eq(hpt_options_check_keys(&options, few, &error), HPT_EINVAL);
  cr_expect_str_eq(error.message, "study.yaml:7: sampler.rate: unknown key "
                                  "(expected one of: type, seed)");
}

Test(options, messages_without_source) {
  hpt_options_t bare = {0};
  hpt_options_add(&bare, "n", "x", 0, NULL);
  hpt_error_t error;
  int64_t i;
  cr_expect_eq(hpt_options_get_int(&bare, "n", 0, &i, &error), HPT_EINVAL);
  cr_expect_str_eq(error.message, "n: must be an integer, not 'x'");
  hpt_options_free(&bare);
}

Test(options, describe) {
  char text[128];
  cr_expect_str_eq(hpt_options_describe(&options, "seed", text, sizeof text),
                   "study.yaml:6: sampler.seed");
  cr_expect_str_eq(hpt_options_describe(&options, "zzz", text, sizeof text),
                   "study.yaml: sampler.zzz");
}

Test(options, copy_is_deep) {
  hpt_options_t copy;
  cr_assert_eq(hpt_options_copy(&options, &copy, NULL), HPT_OK);
  cr_expect_eq(copy.count, options.count);
  cr_expect_str_eq(copy.section, "sampler");
  cr_expect_str_eq(copy.source, "study.yaml");
  cr_expect_neq(copy.items[0].value, options.items[0].value);
  cr_expect_str_eq(copy.items[5].values[0], "a");
  cr_expect_eq(copy.items[5].line, 10);
  hpt_options_free(&copy);
  cr_expect_eq(copy.count, 0);
  hpt_options_free(NULL);
}
