/* gpu_device.cu — the CUDA backend's edge with the outside: CUDA and
 * cuBLAS statuses mapped to hpt's error convention (style rule 7), device
 * discovery and the tracked allocator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.cuh"

int hpt__gpu_cuda_error(hpt_error_t *error, cudaError_t status,
                        const char *what, const char *file, int line) {
  (void)cudaGetLastError(); /* clear it unless sticky */
  int code = status == cudaErrorMemoryAllocation ? HPT_ENOMEM : HPT_ESYSTEM;
  if (status == cudaErrorNoDevice || status == cudaErrorInvalidDevice)
    code = HPT_ENOTFOUND;
  return hpt__error_set_at(error, code, file, line, "cuda: %s: %s (%s)", what,
                           cudaGetErrorString(status),
                           cudaGetErrorName(status));
}

int hpt__gpu_cublas_error(hpt_error_t *error, cublasStatus_t status,
                          const char *what, const char *file, int line) {
  int code = status == CUBLAS_STATUS_ALLOC_FAILED ? HPT_ENOMEM : HPT_ESYSTEM;
  return hpt__error_set_at(error, code, file, line, "cublasLt: %s: %s (%d)",
                           what, cublasLtGetStatusString(status), (int)status);
}

int hpt__gpu_alloc(hpt_gpu_model_t *g, void **ptr, size_t bytes,
                   const char *what, hpt_error_t *error) {
  *ptr = NULL;
  if (bytes == 0)
    return 0;
  cudaError_t s = cudaMalloc(ptr, bytes);
  if (s == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    *ptr = NULL;
    char asked[HPT__GPU_SIZE_TEXT], free_t[HPT__GPU_SIZE_TEXT],
        total_t[HPT__GPU_SIZE_TEXT], held[HPT__GPU_SIZE_TEXT];
    return HPT_ERR(error, HPT_ENOMEM,
                   "gpu: out of device memory for %s: %s asked, %s free of "
                   "%s (this model already holds %s)",
                   what, hpt__gpu_size_text(bytes, asked),
                   hpt__gpu_size_text(free_b, free_t),
                   hpt__gpu_size_text(total_b, total_t),
                   hpt__gpu_size_text(g->bytes_now, held));
  }
  if (s != cudaSuccess) {
    *ptr = NULL;
    return hpt__gpu_cuda_error(error, s, "cudaMalloc", __FILE__, __LINE__);
  }
  s = cudaMemset(*ptr, 0, bytes);
  if (s != cudaSuccess) {
    cudaFree(*ptr);
    *ptr = NULL;
    return hpt__gpu_cuda_error(error, s, "cudaMemset", __FILE__, __LINE__);
  }
  g->bytes_now += bytes;
  if (g->bytes_now > g->bytes_peak)
    g->bytes_peak = g->bytes_now;
  return 0;
}

const char *hpt__gpu_size_text(size_t bytes, char *text) {
  double gib = (double)bytes / (1024.0 * 1024.0 * 1024.0);
  if (gib >= 1.0)
    snprintf(text, HPT__GPU_SIZE_TEXT, "%.2f GiB", gib);
  else
    snprintf(text, HPT__GPU_SIZE_TEXT, "%.1f MiB",
             (double)bytes / (1024.0 * 1024.0));
  return text;
}

void hpt__gpu_free(hpt_gpu_model_t *g, void **ptr, size_t bytes) {
  if (*ptr) {
    cudaFree(*ptr);
    g->bytes_now -= bytes;
  }
  *ptr = NULL;
}

/* ---- gpu_model.h: discovery ---------------------------------- */

extern "C" bool hpt_gpu_built(void) { return true; }

extern "C" int hpt_gpu_device_count(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

extern "C" int hpt_gpu_device_info(int ordinal, hpt_gpu_device_info_t *info,
                                   hpt_error_t *error) {
  memset(info, 0, sizeof *info);
  int n = hpt_gpu_device_count();
  if (ordinal < 0 || ordinal >= n)
    return HPT_ERR(error, HPT_ENOTFOUND,
                   "gpu: no CUDA device cuda:%d (%d device%s visible)", ordinal,
                   n, n == 1 ? "" : "s");
  cudaDeviceProp prop;
  HPT_CUDA_CHECK(error, cudaGetDeviceProperties(&prop, ordinal));
  HPT_CUDA_CHECK(error, cudaSetDevice(ordinal));
  HPT_CUDA_CHECK(error, cudaMemGetInfo(&info->free_bytes, &info->total_bytes));
  snprintf(info->name, sizeof info->name, "%s", prop.name);
  info->major = prop.major;
  info->minor = prop.minor;
  info->multiprocessors = prop.multiProcessorCount;
  cudaDriverGetVersion(&info->driver_version);
  cudaRuntimeGetVersion(&info->runtime_version);
  return 0;
}
