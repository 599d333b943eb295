/* test_conninfo.c — passwords never leave hpt_conninfo_mask. */
#include <criterion/criterion.h>
#include <string.h>

#include "conninfo.h"

static void expect(const char *text, const char *want) {
  char buffer[512];
  hpt_conninfo_mask(text, buffer, sizeof buffer);
  cr_assert_str_eq(buffer, want, "mask(%s)", text);
}

Test(conninfo, url_user_password_is_masked) {
  expect("postgresql://alice:s3cr%40t@db.example:5432/hpt?sslmode=require",
         "postgresql://alice:***@db.example:5432/hpt?sslmode=require");
  expect("postgres://bob:pw@[::1]:5432/x", "postgres://bob:***@[::1]:5432/x");
}

Test(conninfo, libpq_error_quoting_a_url_is_masked) {
  expect("invalid percent-encoded token: \"postgresql://u:secret@h%zz/db\"",
         "invalid percent-encoded token: \"postgresql://u:***@h%zz/db\"");
  expect("end of string reached in URI: \"postgresql://u:secret@[::1\"",
         "end of string reached in URI: \"postgresql://u:***@[::1\"");
}

Test(conninfo, password_keyword_is_masked) {
  expect("host=db password=hunter2 sslmode=verify-full",
         "host=db password=*** sslmode=verify-full");
  expect("password = 'with \\' quote and space' user=x",
         "password = *** user=x");
  expect("postgresql:///hpt?host=/run&password=pw&sslmode=disable",
         "postgresql:///hpt?host=/run&password=***&sslmode=disable");
}

Test(conninfo, text_without_password_is_unchanged) {
  const char *texts[] = {
      "postgresql://alice@db/hpt?sslmode=require",
      "postgresql://db:5432/hpt",
      "host=/tmp port=5432 dbname=hpt",
      "connection to server on socket \"/tmp/.s.PGSQL.5432\" failed",
      "old_password_hint=1 mypassword=x",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    expect(texts[i], texts[i]);
}

Test(conninfo, output_is_truncated_and_terminated) {
  char buffer[12];
  hpt_conninfo_mask("password=abcdef host=x", buffer, sizeof buffer);
  cr_assert_str_eq(buffer, "password=**");
}
