/* emulation_internal.h — what the emulated CUDA runtime (runtime_emulation.cc)
 * offers the emulated kernel launches (kernel_emulation.cc) and cuBLASLt
 * (cublaslt_emulation.cc). Private to worker/engine/cuda/emulation/.
 *
 * The emulated device is the host: device pointers are host pointers
 * (cudaMalloc is a tracked malloc), kernels run one block at a time on the
 * calling thread, and a stream is a queue that runs work at once, except
 * while it is being captured into a CUDA graph, when the work is recorded
 * and runs on each cudaGraphLaunch. So work must capture its arguments by
 * value, as a real launch does.
 */
#ifndef HPT_EMULATION_INTERNAL_H
#define HPT_EMULATION_INTERNAL_H

#include <cuda_runtime.h>
#include <stddef.h>

#include <functional>

/* Runs work on stream now, or appends it to the graph being captured on
 * stream. Returns cudaSuccess, or the device's sticky error (a lost device:
 * cudaErrorDevicesUnavailable) without running it. */
cudaError_t hpt_emulation_enqueue(cudaStream_t stream,
                                  std::function<void()> work);

/* Checks that [p, p + bytes) lies inside one live cudaMalloc allocation;
 * when it does not, prints "cuda emulation: <what>: ..." naming the
 * nearest allocation and aborts, as a device would fault. Called by
 * emulated library calls before they touch memory. */
void hpt_emulation_check_range(const void *p, size_t bytes, const char *what);

/* Threads a block may have, as on every GPU since compute capability 2. */
#define HPT_EMULATION_MAX_THREADS 1024

/* Records status (unless cudaSuccess) for cudaGetLastError; returns it. */
cudaError_t hpt_emulation_fail(cudaError_t status);

/* The device's sticky error: cudaSuccess while it is usable. */
cudaError_t hpt_emulation_device_status(void);

#endif
