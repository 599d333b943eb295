/* gpu_parse.c — the parts of gpu_model.h that need no GPU and no CUDA
 * toolkit (built in every configuration): the amp and device parsers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpu_model.h"

int hpt_gpu_amp_parse(const char *text, hpt_gpu_amp_t *out,
                      hpt_error_t *error) {
  if (strcasecmp(text, "off") == 0 || strcasecmp(text, "fp32") == 0 ||
      strcasecmp(text, "no") == 0)
    *out = HPT_GPU_AMP_OFF;
  else if (strcasecmp(text, "bf16") == 0)
    *out = HPT_GPU_AMP_BF16;
  else if (strcasecmp(text, "fp16") == 0)
    *out = HPT_GPU_AMP_FP16;
  else
    return HPT_ERR(error, HPT_EINVAL, "amp '%s': expected off, bf16 or fp16",
                   text);
  return 0;
}

const char *hpt_gpu_amp_name(hpt_gpu_amp_t amp) {
  return amp == HPT_GPU_AMP_BF16   ? "bf16"
         : amp == HPT_GPU_AMP_FP16 ? "fp16"
                                   : "off";
}

int hpt_gpu_device_parse(const char *text, int *ordinal, hpt_error_t *error) {
  if (strcmp(text, "cpu") == 0) {
    *ordinal = -1;
    return 0;
  }
  if (strcmp(text, "cuda") == 0) {
    *ordinal = 0;
    return 0;
  }
  if (strncmp(text, "cuda:", 5) == 0 && text[5] >= '0' && text[5] <= '9') {
    char *end = NULL;
    long n = strtol(text + 5, &end, 10);
    if (*end == '\0' && n >= 0 && n < 64) {
      *ordinal = (int)n;
      return 0;
    }
  }
  return HPT_ERR(error, HPT_EINVAL, "device '%s': expected cpu, cuda or cuda:N",
                 text);
}
