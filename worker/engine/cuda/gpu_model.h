/* gpu_model.h — the training engine's CUDA backend: the model of model.h
 * (same architectures, same parameter table, same passes as layers_cpu.c)
 * trained on one NVIDIA GPU, and the AdamW step of optimizer.h on it.
 *
 * Precision (hpt_gpu_amp_t):
 *   OFF   fp32 everywhere; GEMMs in plain fp32 (no TF32), so results match
 *         the CPU engine to fp32 rounding.
 *   BF16  fp32 master weights, gradients and AdamW moments; GEMMs and the
 *         stored activations in bf16 with fp32 accumulation; LayerNorm,
 *         softmax, loss and the classification head in fp32.
 *   FP16  as BF16 with fp16, plus dynamic loss scaling as PyTorch's
 *         GradScaler: scale 65536, halved (and the step skipped) when a
 *         gradient is inf/NaN, doubled after 2000 clean steps.
 *
 * Dropout draws its keep-masks from a counter-based hash (Philox 4x32-10)
 * of (seed, forward-pass counter, site, element): deterministic for a
 * seed, recomputed in backward instead of stored, but a different stream
 * from the CPU engine's hpt_rng (parity tests run without dropout).
 *
 * Shapes: a forward pass pads T up to a multiple of 8 (extra tokens are
 * padding, masked exactly as the CPU engine masks them, so logits and
 * gradients do not change) and, after the first eager run of a (B, T)
 * shape, replays the steady-state step as a CUDA graph.
 *
 * Without CUDA (hpt built without nvcc, see CMakeLists.txt) every function
 * here exists (gpu_stub.c): hpt_gpu_device_count returns 0 and the others
 * fail with HPT_EUNSUPPORTED "built without CUDA".
 *
 * Errors: 0 or a negative HPT_E*, the message naming the CUDA / cuBLASLt
 * call and its error string ("cuda: cudaMalloc(...): out of memory").
 * Out of device memory is HPT_ENOMEM with what was asked, what is free and
 * a smaller batch that would fit. After any CUDA error other than
 * HPT_EINVAL the object is unusable (the caller destroys it; a trial
 * process then exits and its daemon lives on).
 *
 * Threads: one hpt_gpu_model_t is driven by one thread at a time.
 */
#ifndef HPT_GPU_MODEL_H
#define HPT_GPU_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "model.h"
#include "optimizer.h"

typedef enum {
  HPT_GPU_AMP_OFF,  /* fp32 */
  HPT_GPU_AMP_BF16, /* bf16 compute, fp32 master weights */
  HPT_GPU_AMP_FP16, /* fp16 compute, fp32 master weights, loss scaling */
} hpt_gpu_amp_t;

/* "off" / "fp32" / "no", "bf16", "fp16" -> *out; HPT_EINVAL otherwise. */
int hpt_gpu_amp_parse(const char *text, hpt_gpu_amp_t *out, hpt_error_t *error);
const char *hpt_gpu_amp_name(hpt_gpu_amp_t amp);

/* "cpu" -> -1; "cuda" -> 0; "cuda:N" -> N (0..63). HPT_EINVAL naming the
 * text otherwise. Cannot fail for those forms; needs no GPU. */
int hpt_gpu_device_parse(const char *text, int *ordinal, hpt_error_t *error);

/* Whether this build has the CUDA backend. Cannot fail. */
bool hpt_gpu_built(void);

/* Number of usable CUDA devices; 0 without CUDA, driver or device (never
 * an error: callers skip). Initialises the CUDA driver in this process. */
int hpt_gpu_device_count(void);

typedef struct hpt_gpu_device_info {
  char name[256];   /* "NVIDIA H200" */
  int major, minor; /* compute capability */
  int multiprocessors;
  size_t total_bytes; /* device memory */
  size_t free_bytes;  /* free now (cudaMemGetInfo) */
  int driver_version; /* cudaDriverGetVersion, e.g. 13000 */
  int runtime_version;
} hpt_gpu_device_info_t;

/* Fills *info for device `ordinal`. HPT_ENOTFOUND when there is no such
 * device, HPT_EUNSUPPORTED without CUDA, HPT_ESYSTEM for other CUDA
 * errors. Creates a CUDA context on that device. */
int hpt_gpu_device_info(int ordinal, hpt_gpu_device_info_t *info,
                        hpt_error_t *error);

typedef struct hpt_gpu_options {
  int device;        /* CUDA ordinal */
  hpt_gpu_amp_t amp; /* precision */
  bool graphs;       /* replay steady-state passes as CUDA graphs */
  float loss_scale;  /* fp16's initial loss scale; 0: 65536 (GradScaler) */
  bool profile;      /* time every kernel and GEMM (passes then run without
                        graphs): hpt_gpu_model_profile_write */
} hpt_gpu_options_t;

typedef struct hpt_gpu_model hpt_gpu_model_t;

/* A device copy of `model` (its config and fp32 parameter values; borrowed
 * for the call only), with zero gradients. On success *out is new (free
 * with hpt_gpu_model_destroy); on failure *out is NULL. */
int hpt_gpu_model_new(const hpt_model_t *model, const hpt_gpu_options_t *opts,
                      hpt_gpu_model_t **out, hpt_error_t *error);

/* Frees device memory, graphs and handles; sets *g to NULL. Accepts NULL.
 * Cannot fail. */
void hpt_gpu_model_destroy(hpt_gpu_model_t **g);

/* Allocates activations for batches up to max_B x max_T (any larger batch
 * later reallocates and drops captured graphs). HPT_ENOMEM says how much
 * was needed and which batch size would fit. Optional: forward reserves
 * what it needs. */
int hpt_gpu_model_reserve(hpt_gpu_model_t *g, int max_B, int max_T,
                          hpt_error_t *error);

/* How a pass runs; NULL: eval (no dropout, no smoothing). */
typedef struct hpt_gpu_mode {
  bool train;            /* dropout with the config's probabilities */
  float label_smoothing; /* [0, 1) */
  uint64_t seed;         /* dropout stream (with the pass counter) */
} hpt_gpu_mode_t;

/* Forward pass on `batch` (as model.h's; arrays borrowed for the call).
 * With labels, the loss is computed and backward becomes possible. Checks
 * ids, types, labels and positions as hpt_model_forward does (HPT_EINVAL).
 * Asynchronous: returns once the work is queued. */
int hpt_gpu_model_forward(hpt_gpu_model_t *g, const hpt_model_batch_t *batch,
                          const hpt_gpu_mode_t *mode, hpt_error_t *error);

/* Overrides the config's dropout probabilities (all three) when p >= 0.
 * Cannot fail. */
void hpt_gpu_model_set_dropout(hpt_gpu_model_t *g, double p);

/* Backpropagates `weight` x (the last forward's mean loss), ADDING into
 * the fp32 gradients (weight 1: one batch; count/step_examples: one
 * micro-batch of a gradient-accumulation step). HPT_ESTATE without a
 * forward pass with labels. Asynchronous. */
int hpt_gpu_model_backward(hpt_gpu_model_t *g, float weight,
                           hpt_error_t *error);

/* Sets every gradient to zero. Asynchronous. */
int hpt_gpu_model_zero_grad(hpt_gpu_model_t *g, hpt_error_t *error);

/* Waits, then copies the last forward's logits (B x num_labels floats) to
 * `out` and its mean loss to *loss (NAN without labels); either may be
 * NULL. */
int hpt_gpu_model_read_outputs(hpt_gpu_model_t *g, float *logits, float *loss,
                               hpt_error_t *error);

/* Waits, then the sum over forward passes since the last call of
 * (mean loss x B), and resets it. For epoch losses without a sync per
 * step. */
int hpt_gpu_model_take_loss_sum(hpt_gpu_model_t *g, double *sum,
                                hpt_error_t *error);

/* Waits, then copies the device's parameter values (values = true) or
 * gradients (false; before a step, divided by the fp16 loss scale) into
 * `model`'s host arrays. `model` must be the one the GPU model was made from
 * (or one of the same config). */
int hpt_gpu_model_read_params(hpt_gpu_model_t *g, hpt_model_t *model,
                              bool values, hpt_error_t *error);

/* Sets up AdamW (optimizer.h's options, formulas and schedule: per-tensor
 * lr with layer-wise decay, decay on WEIGHT/EMBEDDING only, global-norm
 * clipping, warm-up + cosine over total_steps) with zero moments. */
int hpt_gpu_model_optimizer_init(hpt_gpu_model_t *g,
                                 const hpt_optimizer_options_t *options,
                                 hpt_error_t *error);

/* One AdamW step from the current gradients, all on the device in three
 * launches (norm, update, scaler). Gradients are clipped (and unscaled) in
 * place. A non-finite gradient skips the step; with fp16 it also halves
 * the loss scale (GradScaler), otherwise it is counted for
 * hpt_gpu_model_step_info. Asynchronous. */
int hpt_gpu_model_step(hpt_gpu_model_t *g, hpt_error_t *error);

typedef struct hpt_gpu_step_info {
  double grad_norm;     /* last step's norm before clipping, unscaled */
  bool skipped;         /* last step skipped (non-finite gradient) */
  float loss_scale;     /* current (1 unless fp16) */
  long steps;           /* steps requested */
  long applied;         /* steps applied (Adam's t) */
  long nonfinite_steps; /* skipped steps so far */
} hpt_gpu_step_info_t;

/* Waits, then reports the optimizer's state. */
int hpt_gpu_model_step_info(hpt_gpu_model_t *g, hpt_gpu_step_info_t *info,
                            hpt_error_t *error);

/* Waits for the device to finish queued work; turns asynchronous errors
 * (a failed kernel) into a message. */
int hpt_gpu_model_sync(hpt_gpu_model_t *g, hpt_error_t *error);

/* Largest device memory this model has held (parameters, optimizer state,
 * activations, workspaces), in bytes; excludes the CUDA context. */
size_t hpt_gpu_model_peak_bytes(const hpt_gpu_model_t *g);

/* Test hook: sets gradient element `elem` of parameter `param` to value
 * (e.g. INFINITY to exercise loss scaling). Synchronous. */
int hpt_gpu_model_debug_set_grad(hpt_gpu_model_t *g, size_t param, size_t elem,
                                 float value, hpt_error_t *error);

/* Test hook: replaces every device gradient by `model`'s host gradients
 * (times the current loss scale, which the next step divides out), so a
 * test can run the device's optimizer on exactly the CPU's gradients.
 * `model` as for hpt_gpu_model_read_params. Synchronous. */
int hpt_gpu_model_debug_write_grads(hpt_gpu_model_t *g,
                                    const hpt_model_t *model,
                                    hpt_error_t *error);

/* With opts.profile: writes a Markdown table of where the device time
 * went since the model was made, per kernel and per GEMM shape, sorted by
 * time, divided by `steps`. Waits for the device. */
int hpt_gpu_model_profile_write(hpt_gpu_model_t *g, FILE *out, int steps,
                                hpt_error_t *error);

/* How many CUDA graphs were captured / replayed, for tests and benches. */
void hpt_gpu_model_graph_stats(const hpt_gpu_model_t *g, long *captured,
                               long *replayed);

#endif
