/* fuzz_dataset.c — the CSV loader (shared/dataset.c, libcsv) on arbitrary
 * bytes. hpt_dataset_load takes a path, so each input is written to one
 * memfd and read back through /proc/self/fd/N: no API for the fuzzer's
 * sake, and no file left behind. Both modes (labels required or not) and
 * the header-only check run on every input; what loads must keep the
 * loader's promises (UTF-8 texts, labels 0/1, n_positive their count). */
#include <sys/mman.h>
#include <unistd.h>

#include "dataset.h"
#include "fuzz_util.h"

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  memfd = memfd_create("hpt-fuzz-dataset", 0);
  if (memfd < 0) {
    perror("memfd_create");
    abort();
  }
  snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
  return 0;
}

/* Whether s is valid UTF-8 (shortest forms, no surrogates, <= U+10FFFF). */
static bool valid_utf8(const unsigned char *s) {
  while (*s) {
    unsigned c = *s;
    size_t n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1
                          : c >= 0xe0 && c <= 0xef   ? 2
                          : c >= 0xf0 && c <= 0xf4   ? 3
                                                     : 9;
    if (n == 9)
      return false;
    unsigned cp = n == 0 ? c : c & (0x3f >> n);
    for (size_t i = 1; i <= n; i++) {
      if ((s[i] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    s += n + 1;
  }
  return true;
}

static void load(bool require_labels) {
  hpt_dataset_t *dataset = NULL;
  hpt_error_t error;
  hpt_error_clear(&error);
  int rc = hpt_dataset_load(path, require_labels, &dataset, &error);
  if (rc < 0) {
    FUZZ_CHECK(dataset == NULL && error.code == rc);
    FUZZ_CHECK(rc == HPT_EPARSE || rc == HPT_EIO || rc == HPT_ENOMEM);
    return;
  }
  FUZZ_CHECK(dataset != NULL);
  FUZZ_CHECK(!require_labels || dataset->labels != NULL);
  size_t positive = 0;
  for (size_t i = 0; i < dataset->n_rows; i++) {
    FUZZ_CHECK(dataset->ids[i] != NULL && dataset->texts[i] != NULL);
    FUZZ_CHECK(valid_utf8((const unsigned char *)dataset->texts[i]));
    if (dataset->labels != NULL) {
      FUZZ_CHECK(dataset->labels[i] == 0 || dataset->labels[i] == 1);
      positive += (size_t)dataset->labels[i];
      FUZZ_CHECK(hpt_dataset_label_name(dataset->labels[i]) != NULL);
    }
  }
  FUZZ_CHECK(positive == dataset->n_positive);
  /* A file that loads has a header that checks. */
  FUZZ_CHECK(hpt_dataset_check_header(path, require_labels, &error) == 0);
  hpt_dataset_destroy(&dataset);
  FUZZ_CHECK(dataset == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (ftruncate(memfd, 0) < 0 ||
      (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
    abort();
  load(true);
  load(false);
  hpt_error_t error;
  (void)hpt_dataset_check_header(path, false, &error);
  return 0;
}
