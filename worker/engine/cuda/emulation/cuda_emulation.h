/* cuda_emulation.h — lets the CUDA backend's .cu files compile as plain
 * C++ (g++) and run on the CPU, so that CI machines without a GPU execute
 * every kernel, every cuBLASLt call and every graph capture of the backend
 * against the CPU engine (tests/unit/engine_cuda/), under ASan too.
 *
 * The build force-includes this header (-include) before each .cu file and
 * links runtime_emulation.cc and cublaslt_emulation.cc in place of
 * libcudart and libcublasLt. Nothing in the .cu files knows; the only
 * accommodations they make are two macros of gpu_internal.cuh that this
 * header defines first: HPT_GPU_LAUNCH (a kernel launch, `<<<...>>>` under
 * nvcc) and HPT_GPU_DYNAMIC_SHARED (`extern __shared__` under nvcc).
 *
 * How device code runs (runtime_emulation.cc): one block at a time, every
 * thread of the block a coroutine with its own stack. __syncthreads() and
 * warp shuffles switch to the next thread; a barrier opens when every live
 * thread of the block (or lane of the warp) has reached it, and a block
 * whose threads wait at different barriers aborts with a message instead
 * of hanging. Blocks never overlap, so a `__shared__` variable becomes a
 * function-local `static`, and atomics are plain read-modify-writes.
 *
 * What it does not model: timing, memory ordering between blocks, warp
 * divergence beyond the barrier rules above, and numerical differences of
 * the GPU's fast-math intrinsics (each is the libm function here). It is a
 * correctness tool, never a performance one.
 */
#ifndef HPT_CUDA_EMULATION_H
#define HPT_CUDA_EMULATION_H

/* CUDA's host_defines.h keeps these when they are already defined. */
#define __global__
#define __device__
#define __host__
#define __shared__ static

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

/* ---- the running thread's coordinates ------------------------------------ */

typedef struct hpt_emulation_thread {
  uint3 thread_index, block_index;
  dim3 block_dim, grid_dim;
} hpt_emulation_thread_t;

/* The thread whose code runs now; set by the block scheduler. */
extern const hpt_emulation_thread_t *hpt_emulation_current_thread;

#define threadIdx (hpt_emulation_current_thread->thread_index)
#define blockIdx (hpt_emulation_current_thread->block_index)
#define blockDim (hpt_emulation_current_thread->block_dim)
#define gridDim (hpt_emulation_current_thread->grid_dim)

/* ---- barriers, shuffles, atomics ----------------------------------------- */

void __syncthreads(void);
void __syncwarp(unsigned mask = 0xffffffffu);

/* The value of lane (this lane ^ lane_mask) within groups of width, once
 * every lane of mask has arrived: runtime_emulation.cc. */
uint64_t hpt_emulation_shuffle_xor(unsigned mask, uint64_t bits, int lane_mask,
                                   int width);

template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T value, int lane_mask,
                                int width = 32) {
  static_assert(sizeof(T) <= sizeof(uint64_t), "shuffle of at most 8 bytes");
  uint64_t bits = 0;
  memcpy(&bits, &value, sizeof value);
  bits = hpt_emulation_shuffle_xor(mask, bits, lane_mask, width);
  T out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

/* One block runs at a time on one host thread: a read-modify-write is
 * atomic. Each returns the old value, as CUDA's do. */
template <typename T> static inline T hpt_emulation_atomic_add(T *p, T v) {
  T old = *p;
  *p = old + v;
  return old;
}
static inline float atomicAdd(float *p, float v) {
  return hpt_emulation_atomic_add(p, v);
}
static inline double atomicAdd(double *p, double v) {
  return hpt_emulation_atomic_add(p, v);
}
static inline int atomicAdd(int *p, int v) {
  return hpt_emulation_atomic_add(p, v);
}
static inline unsigned atomicAdd(unsigned *p, unsigned v) {
  return hpt_emulation_atomic_add(p, v);
}
static inline unsigned long long atomicAdd(unsigned long long *p,
                                           unsigned long long v) {
  return hpt_emulation_atomic_add(p, v);
}

/* ---- device math the host's libm lacks ----------------------------------- */

static inline uint32_t __umulhi(uint32_t a, uint32_t b) {
  return (uint32_t)(((uint64_t)a * b) >> 32);
}
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float __fdividef(float a, float b) { return a / b; }

/* CUDA's integer min and max overloads for device code. */
template <typename A, typename B>
static inline std::common_type_t<A, B> min(A a, B b) {
  return a < b ? a : b;
}
template <typename A, typename B>
static inline std::common_type_t<A, B> max(A a, B b) {
  return a < b ? b : a;
}

/* ---- launches and dynamic shared memory ---------------------------------- */

typedef struct hpt_emulation_launch_config {
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
} hpt_emulation_launch_config_t;

/* Checks the configuration (a bad one sets cudaGetLastError's error, as a
 * real launch does) and enqueues the grid on the stream: runs it now, or
 * records it into the graph being captured. */
void hpt_emulation_launch(const hpt_emulation_launch_config_t *config,
                          std::function<void()> thread_body);

/* This block's dynamic shared memory (config.shared_bytes), filled with
 * 0xff bytes (NaN as float) before each block: reading what was never
 * written shows up in the results instead of reading zeros. */
void *hpt_emulation_dynamic_shared(void);

/* HPT_GPU_LAUNCH(kernel, grid, block, shared, stream)(args...): the
 * arguments convert to the kernel's parameter types once, at the launch,
 * and are copied into the enqueued work, as CUDA copies a launch's
 * arguments (a graph replays the values of its capture). */
template <typename... Params> struct hpt_emulation_launcher {
  hpt_emulation_launch_config_t config;
  void (*kernel)(Params...);
  template <typename... Args> void operator()(Args &&...args) const {
    std::tuple<Params...> params(std::forward<Args>(args)...);
    void (*k)(Params...) = kernel;
    hpt_emulation_launch(&config, [k, params]() { std::apply(k, params); });
  }
};

template <typename... Params>
static inline hpt_emulation_launcher<Params...>
hpt_emulation_make_launcher(dim3 grid, dim3 block, size_t shared_bytes,
                            cudaStream_t stream, void (*kernel)(Params...)) {
  return hpt_emulation_launcher<Params...>{{grid, block, shared_bytes, stream},
                                           kernel};
}

#define HPT_GPU_LAUNCH(kernel, grid, block, shared_bytes, stream)              \
  hpt_emulation_make_launcher((grid), (block), (shared_bytes), (stream), kernel)

#define HPT_GPU_DYNAMIC_SHARED(type, name)                                     \
  type *name = (type *)hpt_emulation_dynamic_shared()

#endif
