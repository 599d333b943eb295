/* test_transfer_artifacts.c — `hpt study export --artifacts DIR` and `hpt
 * study import --artifacts DIR` end to end: a real n-gram study keeps its
 * best models in database A, travels with them as files to database B,
 * where the same ensemble predicts the same labels; a flipped byte, a
 * missing file or a path-traversal name imports nothing, not even a large
 * object. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_db.h"
#include "test_util.h"

/* Every artifact of study `name`: number:name:bytes:sha256, in order. */
static char *artifact_list(const char *url, const char *name) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "select string_agg(concat_ws(':', t.number, a.name, a.bytes,"
           " a.sha256), ',' order by t.number, a.name) from trial_artifacts a"
           " join trials t on t.id = a.trial_id join studies s"
           " on s.id = t.study_id where s.name = '%s'",
           name);
  char *text = hpt_test_sql_text(url, sql);
  cr_assert(text != NULL, "study %s kept no artifacts", name);
  return text;
}

static long large_objects(const char *url) {
  return hpt_test_sql_long(url, "select count(*) from pg_largeobject_metadata");
}

/* Whether any file under dir (one level of trial folders) is a temporary
 * one left by a write. */
static bool has_temporary_files(const char *dir) {
  DIR *top = opendir(dir);
  cr_assert(top != NULL, "%s", dir);
  bool found = false;
  for (struct dirent *trial; (trial = readdir(top)) != NULL;) {
    if (trial->d_name[0] == '.')
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, trial->d_name);
    DIR *inner = opendir(path);
    cr_assert(inner != NULL, "%s", path);
    for (struct dirent *file; (file = readdir(inner)) != NULL;)
      found |= strstr(file->d_name, ".tmp-") != NULL;
    closedir(inner);
  }
  closedir(top);
  return found;
}

static void flip_byte(const char *path, long offset) {
  FILE *file = fopen(path, "r+b");
  cr_assert(file != NULL, "%s", path);
  cr_assert_eq(fseek(file, offset, SEEK_SET), 0);
  int byte = fgetc(file);
  cr_assert(byte != EOF, "%s is shorter than %ld bytes", path, offset + 1);
  cr_assert_eq(fseek(file, offset, SEEK_SET), 0);
  fputc(byte ^ 0x01, file);
  cr_assert_eq(fclose(file), 0);
}

typedef struct setup {
  char a[1024], b[1024], dir[256], document[600], artifacts[600];
} setup_t;

/* A kept-model study "kept" in A (6 trials, best 3 kept), exported with
 * its artifacts; B is migrated and empty. */
static void export_study(setup_t *s) {
  snprintf(s->a, sizeof s->a, "%s", hpt_test_db_url());
  snprintf(s->b, sizeof s->b, "%s", hpt_test_db_url());
  snprintf(s->dir, sizeof s->dir, "%s", hpt_test_tmpdir());
  snprintf(s->document, sizeof s->document, "%s/kept.json", s->dir);
  snprintf(s->artifacts, sizeof s->artifacts, "%s/kept-artifacts", s->dir);
  hpt_test_run_ngram_study(s->a, s->dir, "kept", 6, 3);
  char *output = NULL;
  char *args[] = {"study",     "export",      "kept",       "--output",
                  s->document, "--artifacts", s->artifacts, NULL};
  int status = hpt_test_hpt(s->a, &output, args);
  cr_assert_eq(status, 0, "export (%d): %s", status, output);
  cr_assert(strstr(output, ", 6 artifacts (") != NULL, "%s", output);
  free(output);
  /* B has its tables before the first import, refused or not. */
  char *migrate[] = {"db", "migrate", NULL};
  cr_assert_eq(hpt_test_hpt(s->b, &output, migrate), 0, "%s", output);
  free(output);
}

static int import(const setup_t *s, const char *document, char **output) {
  char *args[] = {
      "study", "import", (char *)document, "--artifacts", (char *)s->artifacts,
      NULL};
  return hpt_test_hpt(s->b, output, args);
}

/* Builds ensemble "vote" over kept:3 in `url` and predicts test.csv into
 * `submission`. */
static void vote_and_predict(const char *url, const char *submission) {
  char *output = NULL;
  char *build[] = {"ensemble",  "build",     "vote",        "--from", "kept:3",
                   "--weights", "optimized", "--threshold", "tuned",  NULL};
  cr_assert_eq(hpt_test_hpt(url, &output, build), 0, "%s", output);
  free(output);
  char *predict[] = {"predict",
                     "--ensemble",
                     "vote",
                     "--input",
                     (char *)hpt_test_data("test.csv"),
                     "--output",
                     (char *)submission,
                     "--probabilities",
                     NULL};
  cr_assert_eq(hpt_test_hpt(url, &output, predict), 0, "%s", output);
  free(output);
}

Test(transfer_artifacts, kept_models_travel_and_predict_the_same,
     .timeout = 300) {
  setup_t s;
  export_study(&s);
  char *document = hpt_test_read_file(s.document);
  cr_assert(document != NULL && strstr(document, "\"artifacts\":[{\"name\":"
                                                 "\"model.ngram\",\"size\":"),
            "%.2000s", document);
  cr_assert(strstr(document, "\"version\": 1") != NULL);
  free(document);
  cr_assert(!has_temporary_files(s.artifacts));

  long objects = large_objects(s.b);
  char *output = NULL;
  int status = import(&s, s.document, &output);
  cr_assert_eq(status, 0, "import (%d): %s", status, output);
  cr_assert(strstr(output, "6 trials, 6 artifacts") != NULL, "%s", output);
  free(output);
  cr_assert_eq(large_objects(s.b), objects + 6);

  char *in_a = artifact_list(s.a, "kept"), *in_b = artifact_list(s.b, "kept");
  cr_assert_str_eq(in_a, in_b, "the artifacts differ after the trip");
  free(in_a);
  free(in_b);
  /* The bytes themselves, hashed by PostgreSQL. */
  cr_assert_eq(hpt_test_sql_long(s.b, "select count(*) from trial_artifacts"
                                      " where encode(sha256(lo_get(object)),"
                                      " 'hex') = sha256"),
               6);

  char in_a_csv[700], in_b_csv[700];
  snprintf(in_a_csv, sizeof in_a_csv, "%s/a.csv", s.dir);
  snprintf(in_b_csv, sizeof in_b_csv, "%s/b.csv", s.dir);
  vote_and_predict(s.a, in_a_csv);
  vote_and_predict(s.b, in_b_csv);
  char *predicted_a = hpt_test_read_file(in_a_csv);
  char *predicted_b = hpt_test_read_file(in_b_csv);
  cr_assert(predicted_a != NULL && predicted_b != NULL);
  cr_assert_eq(hpt_test_count_lines(predicted_a), 751);
  cr_assert_str_eq(predicted_a, predicted_b,
                   "B's ensemble predicts differently from A's");
  free(predicted_a);
  free(predicted_b);
  cr_assert_eq(hpt_test_sql_long(s.b, "select (accuracy * 1e6)::bigint from"
                                      " ensembles where name = 'vote'"),
               hpt_test_sql_long(s.a, "select (accuracy * 1e6)::bigint from"
                                      " ensembles where name = 'vote'"));
  char report[700];
  snprintf(report, sizeof report, "%s/vote.html", s.dir);
  char *args[] = {"report", "vote", "--output", report, NULL};
  cr_assert_eq(hpt_test_hpt(s.b, &output, args), 0, "%s", output);
  free(output);

  /* Without --artifacts: the trials come, the files do not, and stderr
   * says how many were left behind. */
  char *plain[] = {"study",  "import",       s.document,
                   "--name", "kept-nofiles", NULL};
  cr_assert_eq(hpt_test_hpt(s.b, &output, plain), 0, "%s", output);
  cr_assert(strstr(output, "lists 6 artifacts") != NULL, "%s", output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(s.b, "select count(*) from trial_artifacts a"
                                      " join trials t on t.id = a.trial_id"
                                      " join studies s on s.id = t.study_id"
                                      " where s.name = 'kept-nofiles'"),
               0);
  cr_assert_eq(large_objects(s.b), objects + 6);

  /* csv has no place to list them. */
  char *csv[] = {"study", "export",      "kept", "--format",
                 "csv",   "--artifacts", s.dir,  NULL};
  cr_assert_eq(hpt_test_hpt(s.a, &output, csv), 2, "%s", output);
  free(output);
}

/* The import fails with one line naming `file`, and B has no study and no
 * new large object. */
static void expect_nothing_imported(const setup_t *s, const char *document,
                                    const char *file, const char *reason,
                                    long objects) {
  char *output = NULL;
  int status = import(s, document, &output);
  cr_assert_eq(status, 1, "import (%d): %s", status, output);
  cr_assert_eq(hpt_test_count_lines(output), 1, "one line: %s", output);
  cr_assert(strstr(output, file) != NULL, "names %s: %s", file, output);
  cr_assert(strstr(output, reason) != NULL, "says %s: %s", reason, output);
  free(output);
  cr_assert_eq(hpt_test_sql_long(s->b, "select count(*) from studies"), 0);
  cr_assert_eq(hpt_test_sql_long(s->b, "select count(*) from trials"), 0);
  cr_assert_eq(large_objects(s->b), objects, "orphaned large objects");
}

Test(transfer_artifacts, a_damaged_or_missing_file_imports_nothing,
     .timeout = 300) {
  setup_t s;
  export_study(&s);
  char *output = NULL;
  long objects = large_objects(s.b);

  /* The last file listed: every other one is already in a large object of
   * the import's transaction when its hash is found wrong. */
  char last[900];
  long number = hpt_test_sql_long(
      s.a, "select max(t.number) from trial_artifacts a join trials t"
           " on t.id = a.trial_id");
  snprintf(last, sizeof last, "%s/%ld/val_predictions.csv", s.artifacts,
           number);
  flip_byte(last, 10);
  expect_nothing_imported(&s, s.document, last, "sha256 mismatch", objects);
  flip_byte(last, 10);

  char moved[950];
  snprintf(moved, sizeof moved, "%s.away", last);
  cr_assert_eq(rename(last, moved), 0);
  expect_nothing_imported(&s, s.document, last, "No such file", objects);
  cr_assert_eq(rename(moved, last), 0);

  /* Repaired, it imports. */
  cr_assert_eq(import(&s, s.document, &output), 0, "%s", output);
  free(output);
  cr_assert_eq(large_objects(s.b), objects + 6);
}

Test(transfer_artifacts, path_traversal_names_are_refused, .timeout = 300) {
  setup_t s;
  export_study(&s);
  char *document = hpt_test_read_file(s.document);
  cr_assert(document != NULL);
  const char *names[] = {"../model.ngram", "x/model.ngram", ".."};
  for (size_t i = 0; i < 3; i++) {
    /* Hand-edited: the first artifact's name replaced. */
    char *at = strstr(document, "\"name\":\"model.ngram\"");
    cr_assert(at != NULL);
    size_t head = (size_t)(at - document);
    char *edited = malloc(strlen(document) + 64);
    snprintf(edited, strlen(document) + 64, "%.*s\"name\":\"%s\"%s", (int)head,
             document, names[i], at + strlen("\"name\":\"model.ngram\""));
    char path[700];
    snprintf(path, sizeof path, "%s/edited.json", s.dir);
    hpt_test_write_file(path, edited);
    free(edited);
    expect_nothing_imported(&s, path, "edited.json", "not a plain file name",
                            large_objects(s.b));
  }
  free(document);

  /* On the way out too: a name the coordinator would never accept, put
   * into A by hand, stops the export before any file is written. */
  cr_assert_eq(
      hpt_test_sql_long(s.a, "with t as (select id from trials where id in"
                             " (select trial_id from trial_artifacts) limit 1)"
                             " insert into trial_artifacts (trial_id, name,"
                             " object, bytes, sha256) select t.id, '../evil',"
                             " lo_from_bytea(0, 'x'), 1, encode(sha256('x'),"
                             " 'hex') from t returning 1"),
      1);
  char fresh[700], out[700];
  snprintf(fresh, sizeof fresh, "%s/fresh", s.dir);
  snprintf(out, sizeof out, "%s/fresh.json", s.dir);
  char *args[] = {"study", "export",      "kept", "--output",
                  out,     "--artifacts", fresh,  NULL};
  char *output = NULL;
  cr_assert_eq(hpt_test_hpt(s.a, &output, args), 1, "%s", output);
  cr_assert_eq(hpt_test_count_lines(output), 1, "%s", output);
  cr_assert(strstr(output, "not a plain file name") != NULL, "%s", output);
  free(output);
  cr_assert_eq(access(out, F_OK), -1, "no document");
  char evil[700];
  snprintf(evil, sizeof evil, "%s/evil", s.dir);
  cr_assert_eq(access(evil, F_OK), -1, "nothing outside DIR");
}
