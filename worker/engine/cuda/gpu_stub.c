/* gpu_stub.c — gpu_model.h without the CUDA backend: in a build without
 * the CUDA toolkit (CMake found no nvcc, or HPT_CUDA=OFF), and in every
 * binary but hpt-trial (CMakeLists.txt: the coordinator and the worker
 * daemon never load CUDA). No devices, and every call that would need one
 * fails with HPT_EUNSUPPORTED, so callers need no #ifdef. */
#include "gpu_model.h"

#define NO_CUDA(error)                                                         \
  HPT_ERR(error, HPT_EUNSUPPORTED,                                             \
          "gpu: this binary was built without CUDA (HPT_CUDA=OFF, no nvcc, "   \
          "or not hpt-trial)")

bool hpt_gpu_built(void) { return false; }

int hpt_gpu_device_count(void) { return 0; }

int hpt_gpu_device_info(int ordinal, hpt_gpu_device_info_t *info,
                        hpt_error_t *error) {
  (void)ordinal;
  (void)info;
  return NO_CUDA(error);
}

int hpt_gpu_model_new(const hpt_model_t *model, const hpt_gpu_options_t *opts,
                      hpt_gpu_model_t **out, hpt_error_t *error) {
  (void)model;
  (void)opts;
  *out = NULL;
  return NO_CUDA(error);
}

void hpt_gpu_model_destroy(hpt_gpu_model_t **g) {
  if (g)
    *g = NULL;
}

int hpt_gpu_model_reserve(hpt_gpu_model_t *g, int max_B, int max_T,
                          hpt_error_t *error) {
  (void)g, (void)max_B, (void)max_T;
  return NO_CUDA(error);
}

int hpt_gpu_model_forward(hpt_gpu_model_t *g, const hpt_model_batch_t *batch,
                          const hpt_gpu_mode_t *mode, hpt_error_t *error) {
  (void)g, (void)batch, (void)mode;
  return NO_CUDA(error);
}

void hpt_gpu_model_set_dropout(hpt_gpu_model_t *g, double p) {
  (void)g, (void)p;
}

int hpt_gpu_model_backward(hpt_gpu_model_t *g, float weight,
                           hpt_error_t *error) {
  (void)g, (void)weight;
  return NO_CUDA(error);
}

int hpt_gpu_model_zero_grad(hpt_gpu_model_t *g, hpt_error_t *error) {
  (void)g;
  return NO_CUDA(error);
}

int hpt_gpu_model_read_outputs(hpt_gpu_model_t *g, float *logits, float *loss,
                               hpt_error_t *error) {
  (void)g, (void)logits, (void)loss;
  return NO_CUDA(error);
}

int hpt_gpu_model_take_loss_sum(hpt_gpu_model_t *g, double *sum,
                                hpt_error_t *error) {
  (void)g, (void)sum;
  return NO_CUDA(error);
}

int hpt_gpu_model_read_params(hpt_gpu_model_t *g, hpt_model_t *model,
                              bool values, hpt_error_t *error) {
  (void)g, (void)model, (void)values;
  return NO_CUDA(error);
}

int hpt_gpu_model_optimizer_init(hpt_gpu_model_t *g,
                                 const hpt_optimizer_options_t *options,
                                 hpt_error_t *error) {
  (void)g, (void)options;
  return NO_CUDA(error);
}

int hpt_gpu_model_step(hpt_gpu_model_t *g, hpt_error_t *error) {
  (void)g;
  return NO_CUDA(error);
}

int hpt_gpu_model_step_info(hpt_gpu_model_t *g, hpt_gpu_step_info_t *info,
                            hpt_error_t *error) {
  (void)g, (void)info;
  return NO_CUDA(error);
}

int hpt_gpu_model_sync(hpt_gpu_model_t *g, hpt_error_t *error) {
  (void)g;
  return NO_CUDA(error);
}

size_t hpt_gpu_model_peak_bytes(const hpt_gpu_model_t *g) {
  (void)g;
  return 0;
}

int hpt_gpu_model_debug_set_grad(hpt_gpu_model_t *g, size_t param, size_t elem,
                                 float value, hpt_error_t *error) {
  (void)g, (void)param, (void)elem, (void)value;
  return NO_CUDA(error);
}

int hpt_gpu_model_debug_write_grads(hpt_gpu_model_t *g,
                                    const hpt_model_t *model,
                                    hpt_error_t *error) {
  (void)g, (void)model;
  return NO_CUDA(error);
}

int hpt_gpu_model_profile_write(hpt_gpu_model_t *g, FILE *out, int steps,
                                hpt_error_t *error) {
  (void)g, (void)out, (void)steps;
  return NO_CUDA(error);
}

void hpt_gpu_model_graph_stats(const hpt_gpu_model_t *g, long *captured,
                               long *replayed) {
  (void)g;
  *captured = *replayed = 0;
}
