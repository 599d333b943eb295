/* test_space.c — parameter values: text, JSON, parsing, validity, activity
 * (shared/space.c). Spaces are built by hand here; test_spec.c covers
 * building them from YAML. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "space.h"

static hpt_param_t numeric(const char *name, hpt_param_type_t type, double low,
                           double high, double step, bool log) {
  hpt_param_t p = {.name = strdup(name),
                   .type = type,
                   .low = low,
                   .high = high,
                   .step = step,
                   .log = log,
                   .parent = -1};
  return p;
}

static hpt_param_t categorical(const char *name, size_t n,
                               const char *const *choices,
                               const hpt_choice_kind_t *kinds) {
  hpt_param_t p = {.name = strdup(name),
                   .type = HPT_PARAM_CATEGORICAL,
                   .n_choices = n,
                   .parent = -1};
  p.choices = calloc(n, sizeof *p.choices);
  p.choice_kinds = calloc(n, sizeof *p.choice_kinds);
  for (size_t i = 0; i < n; i++) {
    p.choices[i] = strdup(choices[i]);
    p.choice_kinds[i] = kinds[i];
  }
  return p;
}

/* lr float log, epochs int, ngram cat, head float when ngram == "1-3",
 * mixed cat with a number, a bool and a string needing escapes. */
static hpt_space_t space;

static void setup(void) {
  space.n_params = 5;
  space.params = calloc(5, sizeof *space.params);
  space.params[0] = numeric("lr", HPT_PARAM_FLOAT, 1e-3, 1.0, 0, true);
  space.params[1] = numeric("epochs", HPT_PARAM_INT, 2, 20, 2, false);
  static const char *const ngram[] = {"1-2", "1-3"};
  static const hpt_choice_kind_t s2[] = {HPT_CHOICE_STRING, HPT_CHOICE_STRING};
  space.params[2] = categorical("ngram", 2, ngram, s2);
  space.params[3] = numeric("head", HPT_PARAM_FLOAT, 0, 1, 0.25, false);
  space.params[3].parent = 2;
  space.params[3].n_when = 1;
  space.params[3].when_choices = malloc(sizeof(int));
  space.params[3].when_choices[0] = 1;
  static const char *const mixed[] = {"1e-3", "true", "a\"b\\c\n", ".5"};
  static const hpt_choice_kind_t kinds[] = {
      HPT_CHOICE_NUMBER, HPT_CHOICE_BOOL, HPT_CHOICE_STRING, HPT_CHOICE_NUMBER};
  space.params[4] = categorical("mixed", 4, mixed, kinds);
}

static void teardown(void) { hpt_space_free(&space); }

TestSuite(space, .init = setup, .fini = teardown);

Test(space, find) {
  cr_expect_eq(hpt_space_find(&space, "lr"), 0);
  cr_expect_eq(hpt_space_find(&space, "head"), 3);
  cr_expect_eq(hpt_space_find(&space, "nope"), -1);
}

Test(space, format_float_round_trips_shortest) {
  char text[64];
  cr_assert_eq(
      hpt_space_format_value(&space.params[0], 0.0123, text, sizeof text),
      HPT_OK);
  cr_expect_str_eq(text, "0.0123");
  double value = 0.1 + 0.2;
  hpt_space_format_value(&space.params[0], value, text, sizeof text);
  cr_expect_eq(strtod(text, NULL), value);
  cr_expect_str_eq(text, "0.30000000000000004");
}

Test(space, format_int_and_categorical) {
  char text[64];
  hpt_space_format_value(&space.params[1], 8, text, sizeof text);
  cr_expect_str_eq(text, "8");
  hpt_space_format_value(&space.params[2], 1, text, sizeof text);
  cr_expect_str_eq(text, "1-3");
}

Test(space, format_rejects_nan_bad_index_and_small_buffer) {
  char text[4];
  cr_expect_eq(hpt_space_format_value(&space.params[0], NAN, text, sizeof text),
               HPT_EINVAL);
  cr_expect_eq(hpt_space_format_value(&space.params[2], 2, text, sizeof text),
               HPT_EINVAL);
  cr_expect_eq(hpt_space_format_value(&space.params[2], 0.5, text, sizeof text),
               HPT_EINVAL);
  cr_expect_eq(
      hpt_space_format_value(&space.params[0], 0.0123, text, sizeof text),
      HPT_EINVAL);
}

Test(space, json_numbers_null_and_strings) {
  char json[64];
  hpt_space_value_json(&space.params[0], 0.5, json, sizeof json);
  cr_expect_str_eq(json, "0.5");
  hpt_space_value_json(&space.params[1], 12, json, sizeof json);
  cr_expect_str_eq(json, "12");
  hpt_space_value_json(&space.params[3], NAN, json, sizeof json);
  cr_expect_str_eq(json, "null");
  hpt_space_value_json(&space.params[2], 0, json, sizeof json);
  cr_expect_str_eq(json, "\"1-2\"");
}

Test(space, json_keeps_choice_kinds_and_escapes) {
  char json[64];
  const hpt_param_t *mixed = &space.params[4];
  hpt_space_value_json(mixed, 0, json, sizeof json);
  cr_expect_str_eq(json, "1e-3");
  hpt_space_value_json(mixed, 1, json, sizeof json);
  cr_expect_str_eq(json, "true");
  hpt_space_value_json(mixed, 2, json, sizeof json);
  cr_expect_str_eq(json, "\"a\\\"b\\\\c\\n\"");
  hpt_space_value_json(mixed, 3, json, sizeof json);
  cr_expect_str_eq(json, "0.5");
  cr_expect_eq(hpt_space_value_json(mixed, 2, json, 5), HPT_EINVAL);
}

Test(space, parse_inverts_format) {
  char text[64];
  double values[] = {0.001, 0.123456789012345678, 1.0};
  for (size_t i = 0; i < 3; i++) {
    double back = 0;
    hpt_space_format_value(&space.params[0], values[i], text, sizeof text);
    cr_assert_eq(hpt_space_parse_value(&space.params[0], text, &back, NULL),
                 HPT_OK);
    cr_expect_eq(back, values[i]);
  }
  double v = 0;
  cr_expect_eq(hpt_space_parse_value(&space.params[1], "14", &v, NULL), HPT_OK);
  cr_expect_eq(v, 14);
  cr_expect_eq(hpt_space_parse_value(&space.params[2], "1-3", &v, NULL),
               HPT_OK);
  cr_expect_eq(v, 1);
}

Test(space, parse_errors) {
  hpt_error_t error;
  double v = 0;
  cr_expect_eq(hpt_space_parse_value(&space.params[2], "1-4", &v, &error),
               HPT_EINVAL);
  cr_expect(isnan(v));
  cr_expect(strstr(error.message, "ngram") != NULL, "%s", error.message);
  cr_expect_eq(hpt_space_parse_value(&space.params[1], "3.5", &v, &error),
               HPT_EINVAL);
  cr_expect_eq(hpt_space_parse_value(&space.params[1], "3", &v, &error),
               HPT_EINVAL, "off the step grid");
  cr_expect_eq(hpt_space_parse_value(&space.params[0], "abc", &v, &error),
               HPT_EINVAL);
  cr_expect_eq(hpt_space_parse_value(&space.params[0], "2", &v, &error),
               HPT_EINVAL);
  cr_expect(strstr(error.message, "lr") != NULL, "%s", error.message);
}

Test(space, value_valid) {
  cr_expect(hpt_space_value_valid(&space.params[0], 0.5));
  cr_expect(hpt_space_value_valid(&space.params[0], 1e-3));
  cr_expect_not(hpt_space_value_valid(&space.params[0], 1e-4));
  cr_expect_not(hpt_space_value_valid(&space.params[0], NAN));
  cr_expect(hpt_space_value_valid(&space.params[1], 20));
  cr_expect_not(hpt_space_value_valid(&space.params[1], 5));
  cr_expect_not(hpt_space_value_valid(&space.params[1], 4.5));
  cr_expect(hpt_space_value_valid(&space.params[3], 0.75));
  cr_expect_not(hpt_space_value_valid(&space.params[3], 0.7));
  cr_expect(hpt_space_value_valid(&space.params[2], 1));
  cr_expect_not(hpt_space_value_valid(&space.params[2], 2));
  cr_expect_not(hpt_space_value_valid(&space.params[2], -1));
}

Test(space, is_active_follows_parent_choice) {
  double values[5] = {0.1, 4, 0, 0.5, 0};
  cr_expect(hpt_space_is_active(&space, 0, values));
  cr_expect_not(hpt_space_is_active(&space, 3, values));
  values[2] = 1;
  cr_expect(hpt_space_is_active(&space, 3, values));
  values[2] = NAN;
  cr_expect_not(hpt_space_is_active(&space, 3, values));
}

Test(space, copy_is_deep) {
  hpt_space_t copy;
  cr_assert_eq(hpt_space_copy(&space, &copy, NULL), HPT_OK);
  cr_assert_eq(copy.n_params, 5);
  cr_expect_neq(copy.params[2].choices[1], space.params[2].choices[1]);
  cr_expect_str_eq(copy.params[2].choices[1], "1-3");
  cr_expect_eq(copy.params[3].when_choices[0], 1);
  cr_expect_eq(copy.params[3].parent, 2);
  cr_expect_eq(copy.params[4].choice_kinds[1], HPT_CHOICE_BOOL);
  hpt_space_free(&copy);
  cr_expect_eq(copy.n_params, 0);
  cr_expect_null(copy.params);
  hpt_space_free(NULL);
}
