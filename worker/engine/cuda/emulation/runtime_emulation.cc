/* runtime_emulation.cc — the part of the CUDA runtime the backend calls,
 * run on the CPU (see cuda_emulation.h for why and for what is modelled).
 *
 * Device memory: cudaMalloc is a malloc that is tracked, so that
 * cudaMemGetInfo sees a device of HPT_GPU_EMULATION_MEMORY_MIB (default
 * 4096) MiB that fills up and answers cudaErrorMemoryAllocation, and so
 * that library calls can check the ranges they touch
 * (hpt_emulation_check_range).
 *
 * Streams run their work at once, in order, on the calling thread. A
 * stream being captured records its work instead (a std::function per
 * launch, copy or GEMM) and a graph launch replays the record; as with
 * cudaStreamCaptureModeThreadLocal, an unsafe call during a capture
 * (cudaMalloc, cudaMemcpy, cudaStreamSynchronize) fails with
 * cudaErrorStreamCaptureUnsupported and invalidates the capture.
 *
 * Kernels run in kernel_emulation.cc, enqueued like any other work.
 *
 * A lost device, for the worker's tests: when HPT_GPU_EMULATION_LOST_FILE
 * names a file that exists, the device is gone: cudaGetDeviceCount fails
 * with cudaErrorNoDevice and every later call of a process that was using
 * it fails with cudaErrorDevicesUnavailable, which sticks, as after a GPU
 * falls off the bus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <map>

#include "cuda_emulation.h"
#include "emulation_internal.h"

/* ---- device state -------------------------------------------------------- */

static cudaError_t last_error = cudaSuccess;    /* cudaGetLastError's */
static cudaError_t sticky_error = cudaSuccess;  /* a lost device */
static std::map<uintptr_t, size_t> allocations; /* start -> bytes */
static size_t allocated_bytes;

static size_t device_capacity(void) {
  static size_t capacity;
  if (capacity == 0) {
    const char *mib = getenv("HPT_GPU_EMULATION_MEMORY_MIB");
    long value = mib ? atol(mib) : 0;
    capacity = (size_t)(value > 0 ? value : 4096) << 20;
  }
  return capacity;
}

static bool device_lost_now(void) {
  const char *path = getenv("HPT_GPU_EMULATION_LOST_FILE");
  struct stat st;
  return path != NULL && path[0] != '\0' && stat(path, &st) == 0;
}

cudaError_t hpt_emulation_device_status(void) {
  if (sticky_error == cudaSuccess && device_lost_now())
    sticky_error = cudaErrorDevicesUnavailable;
  return sticky_error;
}

cudaError_t hpt_emulation_fail(cudaError_t status) {
  if (status != cudaSuccess)
    last_error = status;
  return status;
}

static cudaError_t fail(cudaError_t status) {
  return hpt_emulation_fail(status);
}

void hpt_emulation_check_range(const void *p, size_t bytes, const char *what) {
  if (bytes == 0)
    return;
  uintptr_t start = (uintptr_t)p;
  auto it = allocations.upper_bound(start);
  if (it != allocations.begin()) {
    --it;
    if (start >= it->first && start - it->first <= it->second &&
        bytes <= it->second - (start - it->first))
      return;
    fprintf(stderr,
            "cuda emulation: %s: [%p, +%zu bytes) is outside the allocation "
            "at %p of %zu bytes (offset %td)\n",
            what, p, bytes, (void *)it->first, it->second,
            (ptrdiff_t)(start - it->first));
  } else {
    fprintf(stderr,
            "cuda emulation: %s: %p (+%zu bytes) is not device memory\n", what,
            p, bytes);
  }
  abort();
}

static bool is_device_pointer(const void *p) {
  uintptr_t start = (uintptr_t)p;
  auto it = allocations.upper_bound(start);
  if (it == allocations.begin())
    return false;
  --it;
  return start - it->first < it->second;
}

/* ---- streams and graphs -------------------------------------------------- */

struct CUgraph_st {
  std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};
/* An event holds the host time at which the stream reached it. */
struct CUevent_st {
  double seconds;
  bool recorded;
};
struct CUstream_st {
  CUgraph_st *capture;  /* the graph being captured, or NULL */
  bool capture_invalid; /* an unsafe call happened during it */
};

static CUstream_st default_stream;
static CUstream_st *capturing; /* the one stream capturing, if any */

static CUstream_st *stream_of(cudaStream_t s) {
  return s ? (CUstream_st *)s : &default_stream;
}

/* An unsafe call while a capture is on: invalidates it, as
 * cudaStreamCaptureModeThreadLocal does. */
static cudaError_t capture_forbids(void) {
  if (capturing == NULL)
    return cudaSuccess;
  capturing->capture_invalid = true;
  return fail(cudaErrorStreamCaptureUnsupported);
}

cudaError_t hpt_emulation_enqueue(cudaStream_t stream,
                                  std::function<void()> work) {
  cudaError_t status = hpt_emulation_device_status();
  if (status != cudaSuccess)
    return fail(status);
  CUstream_st *s = stream_of(stream);
  if (s->capture) {
    s->capture->work.push_back(std::move(work));
    return cudaSuccess;
  }
  if (capturing != NULL) /* other streams may not run while one captures */
    return capture_forbids();
  work();
  return cudaSuccess;
}

/* ---- the runtime API ------------------------------------------------------
 */

extern "C" {

cudaError_t cudaGetLastError(void) {
  cudaError_t status = last_error;
  last_error = sticky_error;
  return status;
}

cudaError_t cudaPeekAtLastError(void) { return last_error; }

static const struct {
  cudaError_t status;
  const char *name, *text;
} error_texts[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorNoDevice, "cudaErrorNoDevice",
     "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice",
     "invalid device ordinal"},
    {cudaErrorDevicesUnavailable, "cudaErrorDevicesUnavailable",
     "CUDA-capable device(s) is/are busy or unavailable"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported",
     "operation not permitted when stream is capturing"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated",
     "operation failed due to a previous error during capture"},
    {cudaErrorIllegalState, "cudaErrorIllegalState",
     "the operation is not permitted in this state"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle",
     "invalid resource handle"},
    {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};

const char *cudaGetErrorName(cudaError_t status) {
  for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
    if (error_texts[i].status == status)
      return error_texts[i].name;
  return "cudaErrorUnrecognized";
}

const char *cudaGetErrorString(cudaError_t status) {
  for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
    if (error_texts[i].status == status)
      return error_texts[i].text;
  return "unrecognized error code";
}

cudaError_t cudaGetDeviceCount(int *count) {
  *count = 0;
  if (device_lost_now())
    return fail(cudaErrorNoDevice);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (hpt_emulation_device_status() != cudaSuccess)
    return fail(sticky_error);
  return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device) {
  if (hpt_emulation_device_status() != cudaSuccess)
    return fail(sticky_error);
  if (device != 0)
    return fail(cudaErrorInvalidDevice);
  memset(prop, 0, sizeof *prop);
  snprintf(prop->name, sizeof prop->name, "hpt CUDA emulation (CPU)");
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  prop->totalGlobalMem = device_capacity();
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = HPT_EMULATION_MAX_THREADS;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  if (capture_forbids() != cudaSuccess)
    return last_error;
  return hpt_emulation_device_status() == cudaSuccess ? cudaSuccess
                                                      : fail(sticky_error);
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
  if (hpt_emulation_device_status() != cudaSuccess)
    return fail(sticky_error);
  *total_bytes = device_capacity();
  *free_bytes = device_capacity() - allocated_bytes;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void **pointer, size_t bytes) {
  *pointer = NULL;
  if (capture_forbids() != cudaSuccess)
    return last_error;
  if (hpt_emulation_device_status() != cudaSuccess)
    return fail(sticky_error);
  if (bytes > device_capacity() - allocated_bytes)
    return fail(cudaErrorMemoryAllocation);
  /* 256-byte aligned, as cudaMalloc's pointers are, and exactly `bytes`
   * long, so that ASan reports a kernel reading past the end */
  void *p = NULL;
  if (posix_memalign(&p, 256, bytes ? bytes : 1) != 0)
    return fail(cudaErrorMemoryAllocation);
  memset(p, 0xa5, bytes); /* device memory starts as garbage */
  allocations[(uintptr_t)p] = bytes;
  allocated_bytes += bytes;
  *pointer = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void *pointer) {
  if (pointer == NULL)
    return cudaSuccess;
  auto it = allocations.find((uintptr_t)pointer);
  if (it == allocations.end())
    return fail(cudaErrorInvalidValue);
  allocated_bytes -= it->second;
  allocations.erase(it);
  free(pointer);
  return cudaSuccess;
}

/* Checks the device side(s) of a copy of bytes for its kind. */
static cudaError_t check_copy(void *dst, const void *src, size_t bytes,
                              enum cudaMemcpyKind kind) {
  bool dst_device = kind == cudaMemcpyHostToDevice ||
                    kind == cudaMemcpyDeviceToDevice ||
                    (kind == cudaMemcpyDefault && is_device_pointer(dst));
  bool src_device = kind == cudaMemcpyDeviceToHost ||
                    kind == cudaMemcpyDeviceToDevice ||
                    (kind == cudaMemcpyDefault && is_device_pointer(src));
  if (kind != cudaMemcpyHostToDevice && kind != cudaMemcpyDeviceToHost &&
      kind != cudaMemcpyDeviceToDevice && kind != cudaMemcpyDefault &&
      kind != cudaMemcpyHostToHost)
    return fail(cudaErrorInvalidValue);
  if (dst_device)
    hpt_emulation_check_range(dst, bytes, "cudaMemcpy destination");
  if (src_device)
    hpt_emulation_check_range(src, bytes, "cudaMemcpy source");
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes,
                       enum cudaMemcpyKind kind) {
  if (capture_forbids() != cudaSuccess)
    return last_error;
  if (hpt_emulation_device_status() != cudaSuccess)
    return fail(sticky_error);
  if (check_copy(dst, src, bytes, kind) != cudaSuccess)
    return last_error;
  memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                            enum cudaMemcpyKind kind, cudaStream_t stream) {
  if (check_copy(dst, src, bytes, kind) != cudaSuccess)
    return last_error;
  return hpt_emulation_enqueue(stream, [=]() { memmove(dst, src, bytes); });
}

cudaError_t cudaMemset(void *pointer, int value, size_t bytes) {
  if (capture_forbids() != cudaSuccess)
    return last_error;
  if (hpt_emulation_device_status() != cudaSuccess)
    return fail(sticky_error);
  hpt_emulation_check_range(pointer, bytes, "cudaMemset");
  memset(pointer, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *pointer, int value, size_t bytes,
                            cudaStream_t stream) {
  hpt_emulation_check_range(pointer, bytes, "cudaMemsetAsync");
  return hpt_emulation_enqueue(stream,
                               [=]() { memset(pointer, value, bytes); });
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned flags) {
  (void)flags;
  if (hpt_emulation_device_status() != cudaSuccess)
    return fail(sticky_error);
  *stream = (cudaStream_t) new CUstream_st();
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  CUstream_st *s = (CUstream_st *)stream;
  if (s == NULL)
    return fail(cudaErrorInvalidValue);
  if (s == capturing)
    capturing = NULL;
  delete s->capture;
  delete s;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (stream_of(stream)->capture) {
    stream_of(stream)->capture_invalid = true;
    return fail(cudaErrorStreamCaptureUnsupported);
  }
  return hpt_emulation_device_status() == cudaSuccess ? cudaSuccess
                                                      : fail(sticky_error);
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream,
                                   enum cudaStreamCaptureMode mode) {
  (void)mode;
  CUstream_st *s = stream_of(stream);
  if (stream == NULL) /* the legacy stream cannot be captured */
    return fail(cudaErrorStreamCaptureUnsupported);
  if (s->capture || capturing)
    return fail(cudaErrorIllegalState);
  s->capture = new CUgraph_st();
  s->capture_invalid = false;
  capturing = s;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t *graph) {
  CUstream_st *s = stream_of(stream);
  *graph = NULL;
  if (s->capture == NULL)
    return fail(cudaErrorIllegalState);
  CUgraph_st *g = s->capture;
  bool invalid = s->capture_invalid;
  s->capture = NULL;
  capturing = NULL;
  if (invalid) {
    delete g;
    return fail(cudaErrorStreamCaptureInvalidated);
  }
  *graph = g;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph,
                                 unsigned long long flags) {
  (void)flags;
  if (graph == NULL)
    return fail(cudaErrorInvalidValue);
  CUgraphExec_st *e = new CUgraphExec_st();
  e->work = graph->work;
  *exec = e;
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == NULL)
    return fail(cudaErrorInvalidValue);
  CUgraphExec_st *e = exec;
  return hpt_emulation_enqueue(stream, [e]() {
    for (const auto &work : e->work)
      work();
  });
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

static double host_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

cudaError_t cudaEventCreate(cudaEvent_t *event) {
  *event = new CUevent_st();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (event == NULL)
    return fail(cudaErrorInvalidValue);
  return hpt_emulation_enqueue(stream, [event]() {
    event->seconds = host_seconds();
    event->recorded = true;
  });
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (event == NULL)
    return fail(cudaErrorInvalidValue);
  return hpt_emulation_device_status() == cudaSuccess ? cudaSuccess
                                                      : fail(sticky_error);
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start,
                                 cudaEvent_t end) {
  if (start == NULL || end == NULL || !start->recorded || !end->recorded)
    return fail(cudaErrorInvalidResourceHandle);
  *ms = (float)((end->seconds - start->seconds) * 1e3);
  return cudaSuccess;
}

} /* extern "C" */
