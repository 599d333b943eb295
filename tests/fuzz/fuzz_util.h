/* fuzz_util.h — what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each target is one file, fuzz_<name>.c, with LLVMFuzzerTestOneInput (and,
 * when it needs fixed state such as a vocabulary, LLVMFuzzerInitialize).
 * Built with -DHPT_FUZZ=ON and clang (see CMakeLists.txt); run with
 * ops/fuzz NAME SECONDS. A broken invariant aborts through FUZZ_CHECK, which
 * libFuzzer reports as a crash with the input that caused it.
 */
#ifndef HPT_FUZZ_UTIL_H
#define HPT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Aborts with the failed condition when `cond` is false: an invariant of
 * the code under test does not hold for this input. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* A NUL-terminated copy of data[0..size) (the text ends at the first NUL
 * byte, if any). Caller frees. Aborts when out of memory. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL)
    abort();
  if (size > 0)
    memcpy(text, data, size);
  text[size] = '\0';
  return text;
}

#endif
