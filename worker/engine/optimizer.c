/* optimizer.c — AdamW with clipping, layer-wise lr decay and a warm-up +
 * cosine schedule (see optimizer.h for the formulas it mirrors). */
#include "optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hpt_optimizer {
  hpt_model_t *model; /* borrowed */
  hpt_optimizer_options_t o;
  double *base_lr; /* per param tensor */
  double *decay;   /* per param tensor: weight decay or 0 */
  float *m, *v;    /* moments, one per parameter float, model layout */
  long steps;
};

void hpt_optimizer_defaults(hpt_optimizer_options_t *options) {
  *options = (hpt_optimizer_options_t){.lr_backbone = 2e-5,
                                       .lr_head = 2e-5,
                                       .layer_decay = 1.0,
                                       .weight_decay = 0.01,
                                       .beta1 = 0.9,
                                       .beta2 = 0.999,
                                       .eps = 1e-8,
                                       .max_grad_norm = 1.0,
                                       .warmup_steps = 0,
                                       .total_steps = 1};
}

static int check_options(const hpt_optimizer_options_t *o, hpt_error_t *error) {
  const char *bad = NULL;
  if (!(o->lr_backbone > 0.0) || !isfinite(o->lr_backbone))
    bad = "lr_backbone must be > 0";
  else if (!(o->lr_head > 0.0) || !isfinite(o->lr_head))
    bad = "lr_head must be > 0";
  else if (!(o->layer_decay > 0.0 && o->layer_decay <= 1.0))
    bad = "layer_decay must be in (0, 1]";
  else if (!(o->weight_decay >= 0.0) || !isfinite(o->weight_decay))
    bad = "weight_decay must be >= 0";
  else if (!(o->beta1 >= 0.0 && o->beta1 < 1.0))
    bad = "beta1 must be in [0, 1)";
  else if (!(o->beta2 >= 0.0 && o->beta2 < 1.0))
    bad = "beta2 must be in [0, 1)";
  else if (!(o->eps > 0.0))
    bad = "eps must be > 0";
  else if (isnan(o->max_grad_norm))
    bad = "max_grad_norm is NaN";
  else if (o->warmup_steps < 0)
    bad = "warmup_steps must be >= 0";
  else if (o->total_steps <= o->warmup_steps)
    bad = "total_steps must be > warmup_steps";
  if (bad)
    return HPT_ERR(error, HPT_EINVAL, "optimizer: %s", bad);
  return 0;
}

int hpt_optimizer_new(hpt_model_t *model,
                      const hpt_optimizer_options_t *options,
                      hpt_optimizer_t **out, hpt_error_t *error) {
  *out = NULL;
  int rc = check_options(options, error);
  if (rc != 0)
    return rc;
  hpt_optimizer_t *opt = calloc(1, sizeof *opt);
  size_t n_params = hpt_model_param_count(model);
  size_t n = hpt_model_num_floats(model);
  if (opt) {
    opt->base_lr = calloc(n_params, sizeof(double));
    opt->decay = calloc(n_params, sizeof(double));
    opt->m = calloc(n, sizeof(float));
    opt->v = calloc(n, sizeof(float));
  }
  if (!opt || !opt->base_lr || !opt->decay || !opt->m || !opt->v) {
    hpt_optimizer_destroy(&opt);
    return HPT_ERR(error, HPT_ENOMEM, "optimizer: out of memory");
  }
  opt->model = model;
  opt->o = *options;
  int L = hpt_model_config(model)->num_layers;
  for (size_t i = 0; i < n_params; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    opt->base_lr[i] = p->head ? options->lr_head
                              : options->lr_backbone *
                                    pow(options->layer_decay, L - p->depth);
    bool decays = p->kind == HPT_MODEL_PARAM_WEIGHT ||
                  p->kind == HPT_MODEL_PARAM_EMBEDDING;
    opt->decay[i] = decays ? options->weight_decay : 0.0;
  }
  *out = opt;
  return 0;
}

void hpt_optimizer_destroy(hpt_optimizer_t **opt) {
  if (!opt || !*opt)
    return;
  free((*opt)->base_lr);
  free((*opt)->decay);
  free((*opt)->m);
  free((*opt)->v);
  free(*opt);
  *opt = NULL;
}

long hpt_optimizer_steps(const hpt_optimizer_t *opt) { return opt->steps; }

double hpt_optimizer_schedule(const hpt_optimizer_t *opt, long step) {
  long warm = opt->o.warmup_steps, total = opt->o.total_steps;
  if (step < warm)
    return (double)step / (double)warm;
  double progress = (double)(step - warm) / (double)(total - warm);
  if (progress > 1.0)
    progress = 1.0; /* transformers' curve rises again past total */
  double f = 0.5 * (1.0 + cos(M_PI * progress));
  return f > 0.0 ? f : 0.0;
}

double hpt_optimizer_lr(const hpt_optimizer_t *opt, size_t index, long step) {
  if (index >= hpt_model_param_count(opt->model))
    return 0.0;
  return opt->base_lr[index] * hpt_optimizer_schedule(opt, step);
}

int hpt_optimizer_step(hpt_optimizer_t *opt, double *grad_norm,
                       hpt_error_t *error) {
  hpt_model_t *model = opt->model;
  size_t n_params = hpt_model_param_count(model);
  /* global L2 norm of all gradients (clip_grad_norm_) */
  double sq = 0.0;
  for (size_t i = 0; i < n_params; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    for (size_t j = 0; j < p->numel; j++)
      sq += (double)p->grad[j] * p->grad[j];
  }
  double norm = sqrt(sq);
  if (grad_norm)
    *grad_norm = norm;
  if (!isfinite(norm))
    return HPT_ERR(error, HPT_ESTATE,
                   "optimizer: gradient norm is %g; step skipped", norm);
  float clip = 1.0f;
  if (opt->o.max_grad_norm > 0.0) {
    double coef = opt->o.max_grad_norm / (norm + 1e-6);
    if (coef < 1.0)
      clip = (float)coef;
  }

  const hpt_optimizer_options_t *o = &opt->o;
  long t = opt->steps + 1;
  double bc1 = 1.0 - pow(o->beta1, (double)t);
  double bc2_sqrt = sqrt(1.0 - pow(o->beta2, (double)t));
  float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
  size_t off = 0;
  for (size_t i = 0; i < n_params; i++) {
    const hpt_model_param_t *p = hpt_model_param_at(model, i);
    double lr = hpt_optimizer_lr(opt, i, opt->steps);
    float keep = (float)(1.0 - lr * opt->decay[i]);
    float step_size = (float)(lr / bc1);
    float *m = opt->m + off, *v = opt->v + off;
    for (size_t j = 0; j < p->numel; j++) {
      float g = p->grad[j] * clip;
      p->grad[j] = g;
      p->value[j] *= keep;
      m[j] = b1 * m[j] + (1.0f - b1) * g;
      v[j] = b2 * v[j] + (1.0f - b2) * g * g;
      float denom = sqrtf(v[j]) / (float)bc2_sqrt + eps;
      p->value[j] -= step_size * m[j] / denom;
    }
    off += p->numel;
  }
  opt->steps++;
  return 0;
}
