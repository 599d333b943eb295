/* optimizer.h — AdamW for an hpt_model_t, as the usual transformers
 * fine-tuning recipe runs it: torch.optim.AdamW (decoupled weight decay)
 * over parameter groups, torch.nn.utils.clip_grad_norm_ before each step,
 * and transformers' get_cosine_schedule_with_warmup.
 *
 * Per parameter p of the model (model.h's hpt_model_param_t):
 *   base lr   lr_head when p->head, else
 *             lr_backbone * layer_decay^(L - p->depth)
 *             (top encoder layer: lr_backbone; embeddings: decay^L)
 *   decay     weight_decay for WEIGHT and EMBEDDING kinds, 0 for biases
 *             and LayerNorm weights and biases
 * Schedule, for the update numbered s = 0, 1, ... (LambdaLR's lambda(s)):
 *   s < warmup:  s / warmup
 *   else:        max(0, 0.5 (1 + cos(pi (s - warmup) / (total - warmup))))
 *   s >= total:  0 (transformers' cosine would rise again)
 * One step: g *= min(1, max_norm / (||g||_2 + 1e-6)) over all gradients
 * together (when max_norm > 0); then for each element, with t = s + 1 and
 * lr = base lr * schedule(s):
 *   p *= 1 - lr * decay
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * tests/unit/engine/test_optimizer.c checks three steps against PyTorch.
 *
 * Not thread-safe; one optimizer per model, used from the thread that
 * drives the model.
 */
#ifndef HPT_OPTIMIZER_H
#define HPT_OPTIMIZER_H

#include <stddef.h>

#include "error.h"
#include "model.h"

typedef struct hpt_optimizer_options {
  double lr_backbone;   /* peak lr of the top encoder layer, > 0 */
  double lr_head;       /* peak lr of the head (pooler, classifier), > 0 */
  double layer_decay;   /* in (0, 1]; 1: no layer-wise decay */
  double weight_decay;  /* >= 0, decoupled */
  double beta1, beta2;  /* in [0, 1); torch's defaults 0.9, 0.999 */
  double eps;           /* > 0; torch's default 1e-8 */
  double max_grad_norm; /* <= 0: no clipping */
  long warmup_steps;    /* >= 0 */
  long total_steps;     /* > warmup_steps */
} hpt_optimizer_options_t;

typedef struct hpt_optimizer hpt_optimizer_t;

/* Fills *options with torch's AdamW defaults, lr 2e-5 for both groups, no
 * layer decay, weight decay 0.01, clipping at 1.0, no warm-up and
 * total_steps 1. Cannot fail. */
void hpt_optimizer_defaults(hpt_optimizer_options_t *options);

/* An optimizer for `model` (borrowed: it must outlive the optimizer), with
 * zeroed moments. On success *out is new (free with
 * hpt_optimizer_destroy); on failure *out is NULL and HPT_EINVAL (an
 * option out of range, named) or HPT_ENOMEM is returned. */
int hpt_optimizer_new(hpt_model_t *model,
                      const hpt_optimizer_options_t *options,
                      hpt_optimizer_t **out, hpt_error_t *error);

/* Frees; sets *opt to NULL. Accepts NULL. Cannot fail. */
void hpt_optimizer_destroy(hpt_optimizer_t **opt);

/* One update from the model's current gradients, which are clipped in
 * place (so they read as what the step used). *grad_norm (may be NULL)
 * receives the norm before clipping. Returns HPT_ESTATE, changing
 * nothing, when the norm is not finite (a NaN or inf gradient). */
int hpt_optimizer_step(hpt_optimizer_t *opt, double *grad_norm,
                       hpt_error_t *error);

/* Updates taken so far. Cannot fail. */
long hpt_optimizer_steps(const hpt_optimizer_t *opt);

/* The schedule's factor for update number `step` (see the top of this
 * file), in [0, 1]. Cannot fail. */
double hpt_optimizer_schedule(const hpt_optimizer_t *opt, long step);

/* The learning rate parameter `index` of the model gets at update number
 * `step` (base lr times schedule). Cannot fail; 0 for a bad index. */
double hpt_optimizer_lr(const hpt_optimizer_t *opt, size_t index, long step);

#endif
