/* test_dataset.c — loading labelled/unlabelled CSVs (shared/dataset.c):
 * the real extremism files and one small temporary file per error case. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"

static char tmpdir[64];

static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/hpt-dataset-XXXXXX");
  cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void) {
  char command[128];
  snprintf(command, sizeof command, "rm -rf '%s'", tmpdir);
  cr_expect_eq(system(command), 0);
}

TestSuite(dataset, .init = setup, .fini = teardown);

/* Writes `text` to tmpdir/name; returns the path (static buffer). */
static const char *write_csv(const char *name, const char *text) {
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *file = fopen(path, "wb");
  cr_assert_not_null(file);
  cr_assert_eq(fwrite(text, 1, strlen(text), file), strlen(text));
  fclose(file);
  return path;
}

static const char *data_path(const char *name) {
  static char path[512];
  const char *dir = getenv("HPT_DATA_DIR");
  cr_assert_not_null(dir, "HPT_DATA_DIR is not set (run through ctest)");
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

Test(dataset, loads_real_train_csv) {
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_dataset_load(data_path("train.csv"), true, &ds, &error), 0,
               "%s", error.message);
  cr_expect_eq(ds->n_rows, 2250);
  cr_assert_not_null(ds->labels);
  cr_expect_eq(ds->n_positive, 1149);
  size_t positive = 0, empty = 0;
  for (size_t i = 0; i < ds->n_rows; i++) {
    positive += ds->labels[i] == 1;
    empty += ds->texts[i][0] == '\0';
  }
  cr_expect_eq(positive, 1149);
  cr_expect_eq(empty, 1, "README: one empty message");
  cr_expect_str_eq(ds->ids[0], "1");
  cr_expect_str_eq(ds->texts[0], "sixth forms should burn to the ground");
  cr_expect_eq(ds->labels[0], HPT_DATASET_LABEL_EXTREMIST);
  hpt_dataset_destroy(&ds);
  cr_expect_null(ds);
}

Test(dataset, loads_unlabelled_test_csv) {
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_dataset_load(data_path("test.csv"), false, &ds, &error), 0,
               "%s", error.message);
  cr_expect_eq(ds->n_rows, 750);
  cr_expect_null(ds->labels);
  cr_expect_str_eq(ds->ids[0], "2251");
  hpt_dataset_destroy(&ds);
  /* Requiring labels on the unlabelled file names the missing column. */
  cr_expect_eq(hpt_dataset_load(data_path("test.csv"), true, &ds, &error),
               HPT_EPARSE);
  cr_expect_null(ds);
  cr_expect(strstr(error.message, "missing column 'Extremism_Label'"), "%s",
            error.message);
}

Test(dataset, check_header) {
  hpt_error_t error = {0};
  cr_expect_eq(hpt_dataset_check_header(data_path("train.csv"), true, &error),
               0, "%s", error.message);
  cr_expect_eq(hpt_dataset_check_header(data_path("test.csv"), false, &error),
               0, "%s", error.message);
  cr_expect_eq(hpt_dataset_check_header(data_path("test.csv"), true, &error),
               HPT_EPARSE);
  /* Only the header is read: a bad row further down goes unnoticed. */
  const char *path = write_csv("late.csv", "ID,Original_Message,Extremism_"
                                           "Label\n1,hello there,MAYBE\n");
  cr_expect_eq(hpt_dataset_check_header(path, true, &error), 0);
  cr_expect_eq(hpt_dataset_check_header("/nonexistent/x.csv", true, &error),
               HPT_ENOTFOUND);
}

Test(dataset, quoted_fields_any_column_order_extra_columns) {
  const char *path =
      write_csv("quoted.csv",
                "Extremism_Label,Extra,Original_Message,ID\r\n"
                "EXTREMIST,x,\"hello, world\",7\r\n"
                "NON_EXTREMIST,y,\"she said \"\"hi\"\"\nacross lines\",8\r\n"
                "NON_EXTREMIST,z,caf\xC3\xA9,9"); /* no final newline */
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_assert_eq(hpt_dataset_load(path, true, &ds, &error), 0, "%s",
               error.message);
  cr_assert_eq(ds->n_rows, 3);
  cr_expect_str_eq(ds->texts[0], "hello, world");
  cr_expect_str_eq(ds->ids[0], "7");
  cr_expect_eq(ds->labels[0], 1);
  cr_expect_str_eq(ds->texts[1], "she said \"hi\"\nacross lines");
  cr_expect_eq(ds->labels[1], 0);
  cr_expect_str_eq(ds->texts[2], "caf\xC3\xA9");
  cr_expect_eq(ds->n_positive, 1);
  hpt_dataset_destroy(&ds);
}

Test(dataset, missing_file) {
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_dataset_load("/nonexistent/train.csv", true, &ds, &error),
               HPT_ENOTFOUND);
  cr_expect_null(ds);
  cr_expect_str_eq(error.message, "/nonexistent/train.csv: no such file");
}

Test(dataset, missing_column) {
  const char *path = write_csv("train.csv", "ID,Text\n1,hello\n");
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_dataset_load(path, false, &ds, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "missing column 'Original_Message' "
                                  "(header: ID,Text)"),
            "%s", error.message);
  path = write_csv("train.csv", "ID,Original_Message\n1,hello\n");
  cr_expect_eq(hpt_dataset_load(path, true, &ds, &error), HPT_EPARSE);
  char want[256];
  snprintf(want, sizeof want,
           "%s/train.csv: missing column 'Extremism_Label' (header: "
           "ID,Original_Message)",
           tmpdir);
  cr_expect_str_eq(error.message, want);
  cr_expect_null(ds);
}

Test(dataset, unknown_label_names_line) {
  const char *path =
      write_csv("bad.csv", "ID,Original_Message,Extremism_Label\n"
                           "1,fine text,EXTREMIST\n"
                           "\n" /* blank lines are skipped but counted */
                           "2,other text,MAYBE\n");
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_dataset_load(path, true, &ds, &error), HPT_EPARSE);
  cr_expect_null(ds);
  char want[256];
  snprintf(want, sizeof want,
           "%s/bad.csv:4: unknown Extremism_Label 'MAYBE' (expected "
           "EXTREMIST or NON_EXTREMIST)",
           tmpdir);
  cr_expect_str_eq(error.message, want);
}

Test(dataset, wrong_field_count) {
  const char *path =
      write_csv("fields.csv", "ID,Original_Message,Extremism_Label\n"
                              "1,a text,EXTREMIST\n"
                              "2,a, comma,NON_EXTREMIST\n");
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_dataset_load(path, true, &ds, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "fields.csv:3: expected 3 fields"), "%s",
            error.message);
  cr_expect(strstr(error.message, "found 4"), "%s", error.message);
}

Test(dataset, invalid_utf8) {
  const char *path =
      write_csv("utf8.csv", "ID,Original_Message,Extremism_Label\n"
                            "1,ok,EXTREMIST\n"
                            "2,bad \xC3\x28 byte,NON_EXTREMIST\n"
                            "3,overlong \xC0\xAF,NON_EXTREMIST\n");
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_dataset_load(path, true, &ds, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "utf8.csv:3: Original_Message: invalid "
                                  "UTF-8 at byte 5"),
            "%s", error.message);
}

Test(dataset, malformed_quotes) {
  const char *path =
      write_csv("quotes.csv", "ID,Original_Message,Extremism_Label\n"
                              "1,\"unterminated,EXTREMIST\n");
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  cr_expect_eq(hpt_dataset_load(path, true, &ds, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "quotes.csv:"), "%s", error.message);
}

Test(dataset, empty_file_and_header_only) {
  hpt_dataset_t *ds = NULL;
  hpt_error_t error = {0};
  const char *path = write_csv("empty.csv", "");
  cr_expect_eq(hpt_dataset_load(path, true, &ds, &error), HPT_EPARSE);
  cr_expect(strstr(error.message, "empty file"), "%s", error.message);
  path = write_csv("header.csv", "\xEF\xBB\xBFID,Original_Message,"
                                 "Extremism_Label\n");
  cr_assert_eq(hpt_dataset_load(path, true, &ds, &error), 0, "%s",
               error.message);
  cr_expect_eq(ds->n_rows, 0);
  cr_expect_not_null(ds->labels);
  hpt_dataset_destroy(&ds);
  hpt_dataset_destroy(&ds); /* NULL-safe */
}

Test(dataset, label_names) {
  cr_expect_str_eq(hpt_dataset_label_name(1), "EXTREMIST");
  cr_expect_str_eq(hpt_dataset_label_name(0), "NON_EXTREMIST");
  cr_expect_null(hpt_dataset_label_name(2));
}
