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
 * Kernels: one block at a time; each thread of the block is a ucontext
 * coroutine on a stack of its own (a pool reused across launches). The
 * scheduler runs every runnable thread until it finishes or waits at a
 * barrier, then opens the barriers whose threads have all arrived. ASan is
 * told about every stack switch, so the sanitizer build checks kernels'
 * memory accesses too. When a launch's first block reaches no barrier,
 * its other blocks run their threads as plain calls (run_grid says why).
 *
 * A lost device, for the worker's tests: when HPT_GPU_EMULATION_LOST_FILE
 * names a file that exists, the device is gone: cudaGetDeviceCount fails
 * with cudaErrorNoDevice and every later call of a process that was using
 * it fails with cudaErrorDevicesUnavailable, which sticks, as after a GPU
 * falls off the bus.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <ucontext.h>

#include <map>
#include <vector>

#include "cuda_emulation.h"
#include "emulation_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define HPT_EMULATION_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HPT_EMULATION_ASAN 1
#endif
#endif
#ifdef HPT_EMULATION_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

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

/* Returns a call's status, recording a failure for cudaGetLastError. */
static cudaError_t fail(cudaError_t status) {
  if (status != cudaSuccess)
    last_error = status;
  return status;
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

/* ---- the block scheduler ------------------------------------------------- */

enum lane_state {
  LANE_RUNNABLE,
  LANE_AT_BLOCK_BARRIER,
  LANE_AT_WARP_BARRIER,
  LANE_DONE
};

typedef struct lane {
  ucontext_t context;
  char *stack;
  enum lane_state state;
  hpt_emulation_thread_t coordinates;
  unsigned warp_mask;  /* lanes of the warp this barrier waits for */
  uint64_t shuffle_in; /* this lane's value at a shuffle */
  uint64_t shuffle_out;
  int shuffle_lane_mask, shuffle_width;
  bool shuffling;
#ifdef HPT_EMULATION_ASAN
  void *fake_stack;
#endif
} lane_t;

#define LANE_STACK_BYTES ((size_t)256 << 10)
#define MAX_THREADS_PER_BLOCK 1024

const hpt_emulation_thread_t *hpt_emulation_current_thread;

static lane_t lanes[MAX_THREADS_PER_BLOCK];
static int lane_count;       /* threads of the running block */
static lane_t *running_lane; /* the coroutine now running */
static ucontext_t scheduler_context;
static const std::function<void()> *block_body;
static std::vector<unsigned char> dynamic_shared;
static long barriers_reached; /* in this launch so far */
static bool direct;           /* running blocks as plain calls */
#ifdef HPT_EMULATION_ASAN
static void *scheduler_fake_stack;
static const void *scheduler_stack_bottom;
static size_t scheduler_stack_size;
#endif

void *hpt_emulation_dynamic_shared(void) { return dynamic_shared.data(); }

/* Switches from the running lane back to the scheduler. */
static void lane_yield(void) {
  lane_t *self = running_lane;
#ifdef HPT_EMULATION_ASAN
  __sanitizer_start_switch_fiber(self->state == LANE_DONE ? NULL
                                                          : &self->fake_stack,
                                 scheduler_stack_bottom, scheduler_stack_size);
#endif
  swapcontext(&self->context, &scheduler_context);
#ifdef HPT_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(self->fake_stack, NULL, NULL);
#endif
}

static void lane_entry(void) {
#ifdef HPT_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(NULL, &scheduler_stack_bottom,
                                  &scheduler_stack_size);
#endif
  (*block_body)();
  running_lane->state = LANE_DONE;
  lane_yield(); /* never resumed */
  abort();
}

static void run_lane(lane_t *lane) {
  running_lane = lane;
  hpt_emulation_current_thread = &lane->coordinates;
#ifdef HPT_EMULATION_ASAN
  __sanitizer_start_switch_fiber(&scheduler_fake_stack, lane->stack,
                                 LANE_STACK_BYTES);
#endif
  swapcontext(&scheduler_context, &lane->context);
#ifdef HPT_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(scheduler_fake_stack, NULL, NULL);
#endif
  running_lane = NULL;
}

static char *lane_stack(int index) {
  static char *stacks[MAX_THREADS_PER_BLOCK];
  if (stacks[index] == NULL) {
    void *p = mmap(NULL, LANE_STACK_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      perror("cuda emulation: mmap of a thread stack");
      abort();
    }
    mprotect(p, 4096, PROT_NONE); /* a guard page: overflow faults */
    stacks[index] = (char *)p;
  }
  return stacks[index];
}

/* Points lane's context at lane_entry on its own stack. Not inlined:
 * getcontext returns twice, which would clobber the caller's locals. */
static __attribute__((noinline)) void lane_prepare(lane_t *lane) {
  getcontext(&lane->context);
  lane->context.uc_stack.ss_sp = lane->stack;
  lane->context.uc_stack.ss_size = LANE_STACK_BYTES;
  lane->context.uc_link = NULL;
  makecontext(&lane->context, lane_entry, 0);
}

static void block_deadlock(const dim3 &block_index) {
  fprintf(stderr,
          "cuda emulation: block (%u,%u,%u): threads wait at barriers that "
          "can never open:",
          block_index.x, block_index.y, block_index.z);
  for (int i = 0; i < lane_count; i++)
    if (lanes[i].state != LANE_DONE)
      fprintf(stderr, " t%d:%s", i,
              lanes[i].state == LANE_AT_BLOCK_BARRIER ? "syncthreads" : "warp");
  fprintf(stderr, "\n");
  abort();
}

/* Opens the warp barriers whose lanes have all arrived, doing their
 * shuffles. Returns whether one opened. */
static bool open_warp_barriers(void) {
  bool opened = false;
  for (int warp_start = 0; warp_start < lane_count; warp_start += 32) {
    int warp_end = warp_start + 32 < lane_count ? warp_start + 32 : lane_count;
    unsigned waiting = 0, wanted = 0;
    for (int i = warp_start; i < warp_end; i++)
      if (lanes[i].state == LANE_AT_WARP_BARRIER) {
        waiting |= 1u << (i - warp_start);
        wanted |= lanes[i].warp_mask;
      }
    if (waiting == 0)
      continue;
    unsigned existing = warp_end - warp_start == 32
                            ? 0xffffffffu
                            : (1u << (warp_end - warp_start)) - 1;
    if ((wanted & existing & ~waiting) != 0)
      continue; /* some lane it waits for has not arrived */
    for (int i = warp_start; i < warp_end; i++) {
      lane_t *lane = &lanes[i];
      if (lane->state != LANE_AT_WARP_BARRIER)
        continue;
      if (lane->shuffling) {
        int me = i - warp_start;
        int width = lane->shuffle_width;
        int source = me ^ lane->shuffle_lane_mask;
        /* outside this lane's group of width lanes: its own value */
        if (source / width != me / width || source >= warp_end - warp_start ||
            lanes[warp_start + source].state != LANE_AT_WARP_BARRIER ||
            !lanes[warp_start + source].shuffling)
          lane->shuffle_out = lane->shuffle_in;
        else
          lane->shuffle_out = lanes[warp_start + source].shuffle_in;
      }
    }
    /* released only now: the exchange above reads every lane's state */
    for (int i = warp_start; i < warp_end; i++)
      if (lanes[i].state == LANE_AT_WARP_BARRIER)
        lanes[i].state = LANE_RUNNABLE;
    opened = true;
  }
  return opened;
}

static bool open_block_barrier(void) {
  int live = 0, waiting = 0;
  for (int i = 0; i < lane_count; i++) {
    if (lanes[i].state == LANE_DONE)
      continue;
    live++;
    waiting += lanes[i].state == LANE_AT_BLOCK_BARRIER;
  }
  if (live == 0 || waiting != live)
    return false;
  for (int i = 0; i < lane_count; i++)
    if (lanes[i].state == LANE_AT_BLOCK_BARRIER)
      lanes[i].state = LANE_RUNNABLE;
  return true;
}

static void run_block(const hpt_emulation_launch_config_t *config,
                      const dim3 &block_index) {
  const dim3 &b = config->block;
  lane_count = (int)(b.x * b.y * b.z);
  if (!dynamic_shared.empty())
    memset(dynamic_shared.data(), 0xff, dynamic_shared.size());
  for (int i = 0; i < lane_count; i++) {
    lane_t *lane = &lanes[i];
    lane->stack = lane_stack(i);
    lane->state = LANE_RUNNABLE;
    lane->shuffling = false;
    lane->coordinates.thread_index =
        make_uint3((unsigned)i % b.x, ((unsigned)i / b.x) % b.y,
                   (unsigned)i / (b.x * b.y));
    lane->coordinates.block_index =
        make_uint3(block_index.x, block_index.y, block_index.z);
    lane->coordinates.block_dim = b;
    lane->coordinates.grid_dim = config->grid;
    lane_prepare(lane);
  }
  for (;;) {
    bool ran = false;
    for (int i = 0; i < lane_count; i++)
      if (lanes[i].state == LANE_RUNNABLE) {
        run_lane(&lanes[i]);
        ran = true;
      }
    bool opened = open_warp_barriers();
    opened = open_block_barrier() || opened;
    if (opened)
      continue;
    bool all_done = true;
    for (int i = 0; i < lane_count; i++)
      all_done = all_done && lanes[i].state == LANE_DONE;
    if (all_done)
      break;
    if (!ran)
      block_deadlock(block_index);
  }
  hpt_emulation_current_thread = NULL;
}

/* Runs every thread of a block to its end, one after the other, as plain
 * calls on this stack: for kernels without barriers (see run_grid). */
static void run_block_direct(const hpt_emulation_launch_config_t *config,
                             const dim3 &block_index) {
  const dim3 &b = config->block;
  hpt_emulation_thread_t coordinates;
  coordinates.block_index =
      make_uint3(block_index.x, block_index.y, block_index.z);
  coordinates.block_dim = b;
  coordinates.grid_dim = config->grid;
  hpt_emulation_current_thread = &coordinates;
  unsigned count = b.x * b.y * b.z;
  for (unsigned i = 0; i < count; i++) {
    coordinates.thread_index =
        make_uint3(i % b.x, (i / b.x) % b.y, i / (b.x * b.y));
    (*block_body)();
  }
  hpt_emulation_current_thread = NULL;
}

static void run_grid(const hpt_emulation_launch_config_t config,
                     const std::function<void()> &body) {
  if (hpt_emulation_current_thread != NULL) {
    fprintf(stderr, "cuda emulation: a kernel launched from device code\n");
    abort();
  }
  dynamic_shared.assign(config.shared_bytes, 0xff);
  block_body = &body;
  barriers_reached = 0;
  direct = false;
  dim3 index;
  for (index.z = 0; index.z < config.grid.z; index.z++)
    for (index.y = 0; index.y < config.grid.y; index.y++)
      for (index.x = 0; index.x < config.grid.x; index.x++) {
        if (direct)
          run_block_direct(&config, index);
        else
          run_block(&config, index);
        /* A first block that reached no barrier: the kernel has none
         * (ours synchronise unconditionally), so the rest run as plain
         * calls, a hundred times faster; a barrier there aborts. */
        direct = barriers_reached == 0;
      }
  direct = false;
  block_body = NULL;
}

void hpt_emulation_launch(const hpt_emulation_launch_config_t *config,
                          std::function<void()> thread_body) {
  const dim3 &g = config->grid, &b = config->block;
  unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
  if (g.x == 0 || g.y == 0 || g.z == 0 || threads == 0 ||
      threads > MAX_THREADS_PER_BLOCK || b.z > 64 || g.y > 65535 ||
      g.z > 65535 || config->shared_bytes > (size_t)227 << 10) {
    fail(cudaErrorInvalidConfiguration);
    return;
  }
  hpt_emulation_launch_config_t copy = *config;
  cudaError_t status = hpt_emulation_enqueue(
      config->stream, [copy, thread_body]() { run_grid(copy, thread_body); });
  if (status != cudaSuccess)
    fail(status);
}

/* Counts a barrier; in a block run directly, none may be reached. */
static void barrier_reached(const char *which) {
  if (direct) {
    fprintf(stderr,
            "cuda emulation: %s in a later block of a kernel whose first "
            "block reached none; the emulation needs kernels that "
            "synchronise in every block\n",
            which);
    abort();
  }
  barriers_reached++;
}

void __syncthreads(void) {
  barrier_reached("__syncthreads");
  lane_t *self = running_lane;
  assert(self != NULL);
  self->state = LANE_AT_BLOCK_BARRIER;
  lane_yield();
}

static void warp_barrier(unsigned mask) {
  lane_t *self = running_lane;
  assert(self != NULL);
  int me = (int)(self - lanes) % 32;
  if ((mask & (1u << me)) == 0) {
    fprintf(stderr, "cuda emulation: lane %d is not in its own mask %#x\n", me,
            mask);
    abort();
  }
  self->warp_mask = mask;
  self->state = LANE_AT_WARP_BARRIER;
  lane_yield();
}

void __syncwarp(unsigned mask) {
  barrier_reached("__syncwarp");
  running_lane->shuffling = false;
  warp_barrier(mask);
}

uint64_t hpt_emulation_shuffle_xor(unsigned mask, uint64_t bits, int lane_mask,
                                   int width) {
  barrier_reached("__shfl_xor_sync");
  lane_t *self = running_lane;
  self->shuffling = true;
  self->shuffle_in = bits;
  self->shuffle_lane_mask = lane_mask;
  self->shuffle_width = width;
  warp_barrier(mask);
  self->shuffling = false;
  return self->shuffle_out;
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
  prop->maxThreadsPerBlock = MAX_THREADS_PER_BLOCK;
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
