/* dataset.c — see dataset.h.
 *
 * The file is fed to libcsv one physical line at a time, so that the field
 * callbacks know which line they are on (libcsv itself keeps no line
 * count). A record's line is the line on which its first field ended; for
 * the usual one-line rows that is simply the row's line.
 */
#include "dataset.h"

#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COL_ID "ID"
#define COL_TEXT "Original_Message"
#define COL_LABEL "Extremism_Label"

typedef struct loader {
  const char *path;
  bool require_labels;
  bool header_only;
  hpt_error_t *error;
  int rc; /* first error; callbacks do nothing once it is set */

  size_t line;        /* physical line being fed, from 1 */
  size_t record_line; /* line of the current record's first field */
  size_t field;       /* index of the next field in the current record */

  bool have_header;
  size_t n_columns;
  char *header; /* "ID,Text,..." for messages; grows while reading it */
  long col_id, col_text, col_label; /* -1 when absent */

  char *cur_id; /* fields of the row being read; owned until stored */
  char *cur_text;
  char *cur_label; /* label text, parsed once the field count is known */

  hpt_dataset_t *ds;
  size_t capacity;
} loader_t;

static void set_oom(loader_t *ld) {
  ld->rc = HPT_ERR(ld->error, HPT_ENOMEM, "%s: out of memory", ld->path);
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
 * Returns the offset of the first bad byte, or len when valid. */
static size_t utf8_check(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + n >= len)
      return i;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += n + 1;
  }
  return len;
}

static char *copy_field(const void *s, size_t len) {
  char *copy = malloc(len + 1);
  if (copy == NULL)
    return NULL;
  if (len > 0)
    memcpy(copy, s, len);
  copy[len] = '\0';
  return copy;
}

static void header_field(loader_t *ld, const char *s, size_t len) {
  /* A UTF-8 byte-order mark before the first name is not part of it. */
  if (ld->field == 0 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
    s += 3;
    len -= 3;
  }
  size_t old = ld->header ? strlen(ld->header) : 0;
  char *grown = realloc(ld->header, old + len + 2);
  if (grown == NULL) {
    set_oom(ld);
    return;
  }
  ld->header = grown;
  if (old > 0)
    grown[old++] = ',';
  memcpy(grown + old, s, len);
  grown[old + len] = '\0';

  long index = (long)ld->field;
  if (len == strlen(COL_ID) && memcmp(s, COL_ID, len) == 0 && ld->col_id < 0)
    ld->col_id = index;
  else if (len == strlen(COL_TEXT) && memcmp(s, COL_TEXT, len) == 0 &&
           ld->col_text < 0)
    ld->col_text = index;
  else if (len == strlen(COL_LABEL) && memcmp(s, COL_LABEL, len) == 0 &&
           ld->col_label < 0)
    ld->col_label = index;
}

static void check_utf8(loader_t *ld, const char *column, const void *s,
                       size_t len) {
  size_t bad = utf8_check(s, len);
  if (bad < len)
    ld->rc =
        HPT_ERR(ld->error, HPT_EPARSE, "%s:%zu: %s: invalid UTF-8 at byte %zu",
                ld->path, ld->record_line, column, bad + 1);
}

static int parse_label(loader_t *ld, const char *s, size_t len) {
  /* Surrounding blanks are tolerated; the value itself is exact. */
  while (len > 0 && (*s == ' ' || *s == '\t')) {
    s++;
    len--;
  }
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
    len--;
  if (len == 9 && memcmp(s, "EXTREMIST", 9) == 0)
    return HPT_DATASET_LABEL_EXTREMIST;
  if (len == 13 && memcmp(s, "NON_EXTREMIST", 13) == 0)
    return HPT_DATASET_LABEL_NON_EXTREMIST;
  ld->rc = HPT_ERR(ld->error, HPT_EPARSE,
                   "%s:%zu: unknown %s '%.*s' (expected EXTREMIST or "
                   "NON_EXTREMIST)",
                   ld->path, ld->record_line, COL_LABEL,
                   (int)(len > 64 ? 64 : len), s);
  return -1;
}

static void on_field(void *data, size_t len, void *userdata) {
  loader_t *ld = userdata;
  const char *s = data ? data : "";
  if (ld->rc != 0 || (ld->header_only && ld->have_header))
    return;
  if (ld->field == 0)
    ld->record_line = ld->line;
  if (!ld->have_header) {
    header_field(ld, s, len);
  } else if ((long)ld->field == ld->col_id) {
    check_utf8(ld, COL_ID, s, len);
    if (ld->rc == 0 && (ld->cur_id = copy_field(s, len)) == NULL)
      set_oom(ld);
  } else if ((long)ld->field == ld->col_text) {
    check_utf8(ld, COL_TEXT, s, len);
    if (ld->rc == 0 && (ld->cur_text = copy_field(s, len)) == NULL)
      set_oom(ld);
  } else if ((long)ld->field == ld->col_label) {
    if ((ld->cur_label = copy_field(s, len)) == NULL)
      set_oom(ld);
  }
  ld->field++;
}

static void finish_header(loader_t *ld) {
  const char *missing = NULL;
  if (ld->col_id < 0)
    missing = COL_ID;
  else if (ld->col_text < 0)
    missing = COL_TEXT;
  else if (ld->col_label < 0 && ld->require_labels)
    missing = COL_LABEL;
  if (missing != NULL) {
    ld->rc =
        HPT_ERR(ld->error, HPT_EPARSE, "%s: missing column '%s' (header: %s)",
                ld->path, missing, ld->header ? ld->header : "");
    return;
  }
  ld->n_columns = ld->field;
  ld->have_header = true;
}

static void store_row(loader_t *ld) {
  hpt_dataset_t *ds = ld->ds;
  int label = -1;
  if (ld->col_label >= 0) {
    label = parse_label(ld, ld->cur_label, strlen(ld->cur_label));
    if (label < 0)
      return;
  }
  if (ds->n_rows == ld->capacity) {
    size_t cap = ld->capacity ? 2 * ld->capacity : 1024;
    char **ids = realloc(ds->ids, cap * sizeof *ids);
    if (ids != NULL)
      ds->ids = ids;
    char **texts = realloc(ds->texts, cap * sizeof *texts);
    if (texts != NULL)
      ds->texts = texts;
    bool labels_ok = true;
    if (ld->col_label >= 0) {
      int *labels = realloc(ds->labels, cap * sizeof *labels);
      if (labels != NULL)
        ds->labels = labels;
      labels_ok = labels != NULL;
    }
    if (ids == NULL || texts == NULL || !labels_ok) {
      set_oom(ld);
      return;
    }
    ld->capacity = cap;
  }
  ds->ids[ds->n_rows] = ld->cur_id;
  ds->texts[ds->n_rows] = ld->cur_text;
  if (ds->labels != NULL) {
    ds->labels[ds->n_rows] = label;
    ds->n_positive += label == HPT_DATASET_LABEL_EXTREMIST;
  }
  ld->cur_id = ld->cur_text = NULL;
  ds->n_rows++;
}

static void on_record(int terminator, void *userdata) {
  loader_t *ld = userdata;
  (void)terminator;
  if (ld->rc != 0 || (ld->header_only && ld->have_header))
    return;
  if (!ld->have_header) {
    finish_header(ld);
  } else if (ld->field != ld->n_columns) {
    ld->rc = HPT_ERR(ld->error, HPT_EPARSE,
                     "%s:%zu: expected %zu fields (as in the header), found "
                     "%zu",
                     ld->path, ld->record_line, ld->n_columns, ld->field);
  } else {
    store_row(ld);
  }
  free(ld->cur_id);
  free(ld->cur_text);
  free(ld->cur_label);
  ld->cur_id = ld->cur_text = ld->cur_label = NULL;
  ld->field = 0;
}

static int open_file(const char *path, FILE **out, hpt_error_t *error) {
  *out = fopen(path, "rb");
  if (*out != NULL)
    return 0;
  if (errno == ENOENT)
    return HPT_ERR(error, HPT_ENOTFOUND, "%s: no such file", path);
  return HPT_ERR(error, HPT_EIO, "%s: cannot open: %s", path, strerror(errno));
}

/* Reads `path` through libcsv into ld (ld->ds may be NULL in header-only
 * mode). Returns 0 or ld->rc. */
static int run_loader(loader_t *ld) {
  FILE *file = NULL;
  char *buffer = NULL;
  size_t buffer_size = 0;
  struct csv_parser parser;
  bool parser_ready = false;
  int rc = open_file(ld->path, &file, ld->error);
  if (rc != 0)
    return rc;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    rc = HPT_ERR(ld->error, HPT_ENOMEM, "%s: out of memory", ld->path);
    goto out;
  }
  parser_ready = true;

  ssize_t got;
  errno = 0;
  while ((got = getline(&buffer, &buffer_size, file)) > 0) {
    ld->line++;
    size_t used =
        csv_parse(&parser, buffer, (size_t)got, on_field, on_record, ld);
    if (ld->rc != 0) {
      rc = ld->rc;
      goto out;
    }
    if (used != (size_t)got) {
      rc = HPT_ERR(ld->error, HPT_EPARSE, "%s:%zu: malformed CSV: %s", ld->path,
                   ld->line, csv_strerror(csv_error(&parser)));
      goto out;
    }
    if (ld->header_only && ld->have_header)
      goto out;
  }
  if (ferror(file)) {
    rc = HPT_ERR(ld->error, HPT_EIO, "%s: read error: %s", ld->path,
                 strerror(errno ? errno : EIO));
    goto out;
  }
  if (csv_fini(&parser, on_field, on_record, ld) != 0 && ld->rc == 0) {
    rc = HPT_ERR(ld->error, HPT_EPARSE, "%s:%zu: malformed CSV: %s", ld->path,
                 ld->line, csv_strerror(csv_error(&parser)));
    goto out;
  }
  if (ld->rc != 0) {
    rc = ld->rc;
    goto out;
  }
  if (!ld->have_header)
    rc = HPT_ERR(ld->error, HPT_EPARSE,
                 "%s: empty file (expected a header with columns %s, %s%s)",
                 ld->path, COL_ID, COL_TEXT,
                 ld->require_labels ? ", " COL_LABEL : "");
out:
  if (parser_ready)
    csv_free(&parser);
  free(buffer);
  fclose(file);
  return rc;
}

static void loader_init(loader_t *ld, const char *path, bool require_labels,
                        hpt_error_t *error) {
  memset(ld, 0, sizeof *ld);
  ld->path = path;
  ld->require_labels = require_labels;
  ld->error = error;
  ld->col_id = ld->col_text = ld->col_label = -1;
}

static void loader_close(loader_t *ld) {
  free(ld->header);
  free(ld->cur_id);
  free(ld->cur_text);
  free(ld->cur_label);
}

int hpt_dataset_load(const char *path, bool require_labels, hpt_dataset_t **out,
                     hpt_error_t *error) {
  loader_t ld;
  int rc;
  *out = NULL;
  if (path == NULL)
    return HPT_ERR(error, HPT_EINVAL, "dataset: no path given");
  loader_init(&ld, path, require_labels, error);
  ld.ds = calloc(1, sizeof *ld.ds);
  if (ld.ds == NULL) {
    rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
    goto out;
  }
  rc = run_loader(&ld);
  if (rc == 0 && ld.col_label >= 0 && ld.ds->labels == NULL) {
    /* A labelled file with no rows still reports labels. */
    ld.ds->labels = malloc(sizeof *ld.ds->labels);
    if (ld.ds->labels == NULL)
      rc = HPT_ERR(error, HPT_ENOMEM, "%s: out of memory", path);
  }
out:
  loader_close(&ld);
  if (rc != 0)
    hpt_dataset_destroy(&ld.ds);
  *out = ld.ds;
  return rc;
}

int hpt_dataset_check_header(const char *path, bool require_labels,
                             hpt_error_t *error) {
  loader_t ld;
  if (path == NULL)
    return HPT_ERR(error, HPT_EINVAL, "dataset: no path given");
  loader_init(&ld, path, require_labels, error);
  ld.header_only = true;
  int rc = run_loader(&ld);
  loader_close(&ld);
  return rc;
}

void hpt_dataset_destroy(hpt_dataset_t **dataset) {
  if (dataset == NULL || *dataset == NULL)
    return;
  hpt_dataset_t *ds = *dataset;
  for (size_t i = 0; i < ds->n_rows; i++) {
    free(ds->ids[i]);
    free(ds->texts[i]);
  }
  free(ds->ids);
  free(ds->texts);
  free(ds->labels);
  free(ds);
  *dataset = NULL;
}

const char *hpt_dataset_label_name(int label) {
  if (label == HPT_DATASET_LABEL_EXTREMIST)
    return "EXTREMIST";
  if (label == HPT_DATASET_LABEL_NON_EXTREMIST)
    return "NON_EXTREMIST";
  return NULL;
}
