/* test_json.c — strict JSON loading (worker/engine/json.c, on jansson). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"

static int parse(const char *text, json_t **out, hpt_error_t *error) {
  return hpt_json_parse(text, strlen(text), "t.json", out, error);
}

Test(json, parses_values_and_escapes) {
  json_t *v = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(parse("{\"a\": [1, -2.5e3, true, false, null, \"x\"], "
                     "\"b\": {\"c\": \"\\u00e9\\ud83d\\ude00\\n\\\"\"}}  \n",
                     &v, &error),
               0, "%s", error.message);
  json_t *a = json_object_get(v, "a");
  cr_expect_eq(json_array_size(a), 6);
  cr_expect_eq(json_integer_value(json_array_get(a, 0)), 1);
  cr_expect_eq(json_real_value(json_array_get(a, 1)), -2500.0);
  cr_expect_str_eq(
      json_string_value(json_object_get(json_object_get(v, "b"), "c")),
      "\xc3\xa9\xf0\x9f\x98\x80\n\"");
  /* Keys keep file order. */
  const char *key;
  json_t *value;
  const char *order[] = {"a", "b"};
  int i = 0;
  json_object_foreach(v, key, value) cr_expect_str_eq(key, order[i++]);
  json_decref(v);
  cr_assert_eq(parse("42", &v, &error), 0); /* any top-level value */
  json_decref(v);
}

Test(json, rejects_malformed_input_with_a_located_message) {
  const char *bad[] = {
      "{\"a\": 1,}",            /* trailing comma */
      "{\"a\": 1} {}",          /* two values */
      "{\"a\": 1, \"a\": 2}",   /* duplicate key */
      "[\"\\ud83d\"]",          /* lone high surrogate */
      "[\"\\ude00\"]",          /* lone low surrogate */
      "[\"\\u0000\"]",          /* NUL in a string */
      "[\"\xff\"]",             /* invalid UTF-8 */
      "[\"\xc0\xaf\"]",         /* overlong */
      "[99999999999999999999]", /* beyond int64 */
      "[1e999]",                /* real overflow */
      "[NaN]",
      "[01]",
      "[.5]",
      "['x']",
      "{a: 1}",
      "[\"\\x41\"]",
      "",
      "[\"tab\there\"]", /* raw control character */
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    json_t *v = (json_t *)1;
    hpt_error_t error = {0};
    cr_expect_eq(parse(bad[i], &v, &error), HPT_EPARSE, "case %zu: %s", i,
                 bad[i]);
    cr_expect_null(v, "case %zu", i);
    cr_expect(strncmp(error.message, "t.json:", 7) == 0, "case %zu: %s", i,
              error.message);
  }
  json_t *v = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(parse("{\"a\": 1, \"a\": 2}", &v, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "duplicate") != NULL, "%s", error.message);
}

Test(json, nesting_is_bounded) {
  size_t depth = 100000;
  char *deep = malloc(2 * depth + 1);
  memset(deep, '[', depth);
  memset(deep + depth, ']', depth);
  deep[2 * depth] = '\0';
  json_t *v = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(parse(deep, &v, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "depth") != NULL, "%s", error.message);
  /* 1000 levels are fine. */
  memmove(deep + 1000, deep + depth, 1000);
  deep[2000] = '\0';
  cr_expect_eq(parse(deep, &v, &error), 0, "%s", error.message);
  json_decref(v);
  free(deep);
}

Test(json, member_helpers) {
  json_t *v = NULL;
  cr_assert_eq(parse("{\"i\": 7, \"r\": 0.5, \"s\": \"x\", \"b\": true, "
                     "\"n\": null, \"big\": 4000000000}",
                     &v, NULL),
               0);
  hpt_error_t error = {0};
  int64_t i = 0;
  double r = 0;
  const char *s = NULL;
  bool b = false;
  cr_expect_eq(hpt_json_member_int(v, "i", 0, 10, "c", &i, &error), 0);
  cr_expect_eq(i, 7);
  cr_expect_eq(hpt_json_member_int(v, "i", 8, 10, "c", &i, &error), HPT_EPARSE);
  cr_expect_str_eq(error.message, "c: 'i' is 7, outside [8, 10]");
  cr_expect_eq(hpt_json_member_int(v, "r", 0, 10, "c", &i, &error), HPT_EPARSE);
  cr_expect_eq(hpt_json_member_int(v, "big", 0, INT32_MAX, "c", &i, &error),
               HPT_EPARSE);
  cr_expect_eq(hpt_json_member_int(v, "n", 0, 10, "c", &i, &error),
               HPT_ENOTFOUND);
  cr_expect_eq(hpt_json_member_int(v, "zz", 0, 10, "c", &i, &error),
               HPT_ENOTFOUND);
  cr_expect_eq(hpt_json_member_number(v, "i", "c", &r, &error), 0);
  cr_expect_eq(r, 7.0);
  cr_expect_eq(hpt_json_member_number(v, "r", "c", &r, &error), 0);
  cr_expect_eq(r, 0.5);
  cr_expect_eq(hpt_json_member_number(v, "s", "c", &r, &error), HPT_EPARSE);
  cr_expect_eq(hpt_json_member_string(v, "s", "c", &s, &error), 0);
  cr_expect_str_eq(s, "x");
  cr_expect_eq(hpt_json_member_string(v, "b", "c", &s, &error), HPT_EPARSE);
  cr_expect_eq(hpt_json_member_bool(v, "b", "c", &b, &error), 0);
  cr_expect(b);
  cr_expect_eq(hpt_json_member_bool(v, "i", "c", &b, &error), HPT_EPARSE);
  json_decref(v);
}

Test(json, load_file) {
  char path[] = "/tmp/hpt-json-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "{\"k\": [1]}", 10), 10);
  close(fd);
  json_t *v = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_json_load_file(path, 0, &v, &error), 0, "%s", error.message);
  cr_expect_eq(json_array_size(json_object_get(v, "k")), 1);
  json_decref(v);
  cr_expect_eq(hpt_json_load_file(path, 5, &v, &error), HPT_EIO);
  cr_expect(strstr(error.message, "more than") != NULL, "%s", error.message);
  FILE *f = fopen(path, "w");
  fputs("[1, 2]", f);
  fclose(f);
  cr_expect_eq(hpt_json_load_file(path, 0, &v, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "not an object") != NULL, "%s",
            error.message);
  f = fopen(path, "w");
  fputs("{\"k\": \n  [1,,]}", f);
  fclose(f);
  cr_expect_eq(hpt_json_load_file(path, 0, &v, &error), HPT_EPARSE);
  char prefix[64];
  snprintf(prefix, sizeof prefix, "%s:2:", path);
  cr_expect(strncmp(error.message, prefix, strlen(prefix)) == 0, "%s",
            error.message);
  unlink(path);
  cr_expect_eq(hpt_json_load_file(path, 0, &v, &error), HPT_ENOTFOUND);
  cr_expect_null(v);
  cr_expect_eq(hpt_json_load_file("/tmp", 0, &v, &error), HPT_EIO);
}
