/* gpu_optimizer.cu — AdamW on the GPU, the twin of hpt_optimizer_step
 * (optimizer.c), in three launches that never wait for the host:
 *
 *   grad_norm   sum of squares of every gradient (fp64 atomics), into
 *               sc->norm_sq; the parameter arrays are padded between
 *               tensors with zeros, which add nothing
 *   adamw       one launch over the multi-tensor chunk table: each block
 *               takes one chunk of one tensor (its base lr and decay) and
 *               writes the new values to the bf16/fp16 compute copy too;
 *               every thread reads the norm and the loss scale, so
 *               clipping and unscaling need no host round trip; when the
 *               norm is not finite the whole launch does nothing
 *   finish      one thread: counts the step as applied or skipped and,
 *               for fp16, updates the loss scale as GradScaler does
 *               (x0.5 on inf/NaN, x2 after 2000 clean steps)
 *
 * Element formula, as optimizer.c (t = applied steps + 1, lr = base lr x
 * schedule factor, clip = min(1, max_norm / (norm + 1e-6))):
 *   g = grad / scale * clip;  p *= 1 - lr * decay
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 */
#include <math.h>

#include "gpu_internal.cuh"

#define GROWTH_INTERVAL 2000

__global__ void grad_norm_kernel(const float *grads, size_t n,
                                 hpt__gpu_scalars_t *sc) {
  __shared__ double part[256];
  double s = 0.0;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    s += (double)grads[i] * grads[i];
  part[threadIdx.x] = s;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w)
      part[threadIdx.x] += part[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    atomicAdd(&sc->norm_sq, part[0]);
}

__global__ void zero_norm_kernel(hpt__gpu_scalars_t *sc) { sc->norm_sq = 0.0; }

int hpt__gpu_grad_norm(cudaStream_t s, const float *grads, size_t n,
                       hpt__gpu_scalars_t *sc, hpt_error_t *error) {
  HPT_GPU_LAUNCH(zero_norm_kernel, 1, 1, 0, s)(sc);
  HPT_LAUNCH_CHECK(error, "zero_norm");
  size_t blocks = (n + 255) / 256;
  if (blocks > 1024)
    blocks = 1024;
  HPT_GPU_LAUNCH(grad_norm_kernel, (unsigned)(blocks ? blocks : 1), 256, 0, s)
  (grads, n, sc);
  HPT_LAUNCH_CHECK(error, "grad_norm");
  return 0;
}

template <typename T>
__global__ void adamw_kernel(float *values, T *wc, float *grads, float *m,
                             float *v, const hpt__gpu_chunk_t *chunks,
                             float lr_factor, float beta1, float beta2,
                             float eps, float max_norm,
                             const hpt__gpu_scalars_t *sc) {
  double norm = sqrt(sc->norm_sq) / sc->loss_scale; /* unscaled */
  if (!isfinite(norm))
    return; /* skipped step: nothing changes */
  float clip = 1.0f;
  if (max_norm > 0.0f) {
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0)
      clip = (float)coef;
  }
  float g_mul = clip / sc->loss_scale;
  long long t = sc->applied + 1;
  double bc1 = 1.0 - pow((double)beta1, (double)t);
  float bc2_sqrt = (float)sqrt(1.0 - pow((double)beta2, (double)t));
  hpt__gpu_chunk_t c = chunks[blockIdx.x];
  double lr = (double)c.base_lr * lr_factor;
  float keep = (float)(1.0 - lr * c.decay);
  float step_size = (float)(lr / bc1);
  for (size_t j = threadIdx.x; j < c.count; j += blockDim.x) {
    size_t i = c.start + j;
    float g = grads[i] * g_mul;
    grads[i] = g;
    float p = values[i] * keep;
    float mi = beta1 * m[i] + (1.0f - beta1) * g;
    float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    float value = p - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
    values[i] = value;
    if (wc)
      st(wc + i, value);
  }
}

__global__ void finish_kernel(hpt__gpu_scalars_t *sc, bool fp16) {
  double norm = sqrt(sc->norm_sq) / sc->loss_scale;
  bool ok = isfinite(norm);
  sc->grad_norm = norm;
  sc->skipped = !ok;
  if (ok)
    sc->applied++;
  else
    sc->nonfinite++;
  if (!fp16)
    return;
  if (!ok) {
    sc->loss_scale *= 0.5f;
    sc->growth = 0;
  } else if (++sc->growth == GROWTH_INTERVAL) {
    sc->loss_scale *= 2.0f;
    sc->growth = 0;
  }
}

int hpt__gpu_adamw(hpt_gpu_amp_t amp, cudaStream_t s, float *values, void *wc,
                   float *grads, float *m, float *v,
                   const hpt__gpu_chunk_t *chunks, int n_chunks,
                   float lr_factor, float beta1, float beta2, float eps,
                   float max_norm, hpt__gpu_scalars_t *sc, bool fp16,
                   hpt_error_t *error) {
  /* fp32: the values are the compute weights, nothing to copy */
  HPT_GPU_DISPATCH(
      amp, (HPT_GPU_LAUNCH(adamw_kernel<T>, (unsigned)n_chunks, 256, 0, s)(
               values, amp == HPT_GPU_AMP_OFF ? NULL : (T *)wc, grads, m, v,
               chunks, lr_factor, beta1, beta2, eps, max_norm, sc)));
  HPT_LAUNCH_CHECK(error, "adamw");
  HPT_GPU_LAUNCH(finish_kernel, 1, 1, 0, s)(sc, fp16);
  HPT_LAUNCH_CHECK(error, "adamw_finish");
  return 0;
}

__global__ void scale_kernel(float *x, size_t n, float factor) {
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    x[i] *= factor;
}

int hpt__gpu_scale(cudaStream_t s, float *x, size_t n, float factor,
                   hpt_error_t *error) {
  HPT_GPU_LAUNCH(scale_kernel, hpt__gpu_blocks(n, 256), 256, 0, s)
  (x, n, factor);
  HPT_LAUNCH_CHECK(error, "scale");
  return 0;
}
