/* layers_cpu.h — the transformer encoder's layer passes on the CPU, fp32,
 * in the style of llm.c's train_gpt2.c: each pass is a plain function with
 * outputs first, every tensor's shape stated, and the PyTorch definition it
 * mirrors named. These are the CPU references that any accelerated kernel
 * must match (style rule 13). Matmuls go through OpenBLAS (cblas_sgemm).
 *
 * Shape key:
 *   B  batch size              T  sequence length (padded)
 *   C  hidden size             E  embedding size (ELECTRA; else C)
 *   H  attention heads         D  head size, C / H
 *   I  intermediate (FFN) size K  number of labels
 *   N  rows of a matmul (usually B*T)
 *
 * Conventions: activations are row-major, (B,T,C) means row b*T + t.
 * Linear weights are stored as PyTorch's nn.Linear does: (out, in).
 * Backward passes ACCUMULATE (+=) into every gradient they write, both
 * parameter gradients and input gradients, so residual branches add up
 * without copies; callers zero what must start at zero. Nothing here
 * allocates or fails; shapes are the caller's promise (assert'ed where
 * cheap). Private to the engine room (hpt__ prefix).
 */
#ifndef HPT_LAYERS_CPU_H
#define HPT_LAYERS_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

/* Which elementwise activation; mirrors model_config.h's hpt_model_act_t
 * plus tanh for the BERT pooler and RoBERTa head. */
typedef enum {
  HPT__ACT_GELU,      /* 0.5 x (1 + erf(x / sqrt 2)), torch GELU() */
  HPT__ACT_GELU_TANH, /* torch GELU(approximate="tanh") / gelu_new */
  HPT__ACT_RELU,
  HPT__ACT_TANH,
} hpt__act_t;

/* out (B,T,E) = wte[ids] + wpe[pos] + wtt[types].
 * ids, pos (B,T); types (B,T) or NULL (no token-type table: DistilBERT);
 * wte (V,E), wpe (P,E), wtt (TV,E) or NULL. (BertEmbeddings.forward,
 * before its LayerNorm.) */
void hpt__embeddings_forward(float *out, const int32_t *ids, const int32_t *pos,
                             const int32_t *types, const float *wte,
                             const float *wpe, const float *wtt, int B, int T,
                             int E);

/* Scatter-adds dout (B,T,E) into dwte (V,E), dwpe (P,E), dwtt (TV,E) or
 * NULL. Rows equal to a table's padding_idx get no gradient, as
 * nn.Embedding(padding_idx=...) does: word_pad for dwte, pos_pad for dwpe
 * (-1: none). */
void hpt__embeddings_backward(float *dwte, float *dwpe, float *dwtt,
                              const float *dout, const int32_t *ids,
                              const int32_t *pos, const int32_t *types, int B,
                              int T, int E, int word_pad, int pos_pad);

/* out (N,C) = LayerNorm(inp (N,C)) * w (C) + b (C); mean, rstd (N) are kept
 * for the backward pass. Biased variance, eps inside the sqrt
 * (nn.LayerNorm). Statistics are accumulated in double. */
void hpt__layernorm_forward(float *out, float *mean, float *rstd,
                            const float *inp, const float *w, const float *b,
                            int N, int C, float eps);

/* dinp (N,C) +=, dw (C) +=, db (C) += from dout (N,C); inp, mean, rstd as
 * saved by the forward pass. */
void hpt__layernorm_backward(float *dinp, float *dw, float *db,
                             const float *dout, const float *inp,
                             const float *w, const float *mean,
                             const float *rstd, int N, int C);

/* out (N,OC) = inp (N,IC) @ w^T + b; w (OC,IC), b (OC) or NULL
 * (nn.Linear). */
void hpt__matmul_forward(float *out, const float *inp, const float *w,
                         const float *b, int N, int IC, int OC);

/* dinp (N,IC) += dout @ w; dw (OC,IC) += dout^T @ inp; db (OC) += column
 * sums of dout (N,OC). dinp may be NULL (input needs no gradient). */
void hpt__matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                          const float *inp, const float *w, int N, int IC,
                          int OC);

/* Multi-head scaled dot-product self-attention, eager HF style
 * (BertSelfAttention.forward):
 *   S = Q K^T / sqrt(D) + (1 - mask) * finfo(float32).min, per (b,h)
 *   att = softmax(S) over keys (B,H,T,T), kept for backward
 *   ctx (B,T,C) = dropout(att) @ V, heads concatenated along C.
 * q, k, v (B,T,C) with head h in columns [h*D, (h+1)*D). mask (B,T): 1 for
 * a real token, 0 for padding. keep (B,H,T,T) is the dropout keep-mask
 * (1 keep, 0 drop) or NULL for no dropout; kept entries are scaled by
 * 1/(1-p). scratch: T*T floats. */
void hpt__attention_forward(float *ctx, float *att, const float *q,
                            const float *k, const float *v, const int32_t *mask,
                            const uint8_t *keep, float p, float *scratch, int B,
                            int T, int C, int H);

/* dq, dk, dv (B,T,C) are OVERWRITTEN (not accumulated) from dctx (B,T,C);
 * q, k, v, att, keep, p as in the forward pass. scratch: 2*T*T floats. */
void hpt__attention_backward(float *dq, float *dk, float *dv, const float *dctx,
                             const float *q, const float *k, const float *v,
                             const float *att, const uint8_t *keep, float p,
                             float *scratch, int B, int T, int C, int H);

/* out (n) = act(inp (n)); out may equal inp except for GELU backward's
 * needs (the backward pass reads inp for GELU/ReLU, out for tanh). */
void hpt__act_forward(float *out, const float *inp, size_t n, hpt__act_t act);

/* dinp (n) += dout * act'(.), reading inp (pre-activation) for GELU and
 * ReLU and out (post-activation) for tanh. */
void hpt__act_backward(float *dinp, const float *dout, const float *inp,
                       const float *out, size_t n, hpt__act_t act);

/* Draws a keep-mask (n): keep[i] = 1 with probability 1 - p, from rng
 * (one hpt_rng_uniform per element, in order: deterministic). */
void hpt__dropout_mask(uint8_t *keep, size_t n, float p, hpt_rng_t *rng);

/* x (n) *= keep / (1 - p), in place (nn.Dropout in train mode; apply the
 * same to a gradient for the backward pass). */
void hpt__dropout_apply(float *x, const uint8_t *keep, size_t n, float p);

/* Mean cross-entropy with label smoothing eps over B rows of K logits, as
 * torch.nn.CrossEntropyLoss(label_smoothing=eps): per row
 *   (1 - eps) * (-log p[y]) + eps / K * sum_k (-log p[k]).
 * probs (B,K) receives softmax(logits) for the backward pass. Returns the
 * loss. labels in [0, K). */
float hpt__crossentropy_forward(float *probs, const float *logits,
                                const int32_t *labels, int B, int K, float eps);

/* dlogits (B,K) = (probs - ((1 - eps) onehot(y) + eps / K)) / B,
 * OVERWRITTEN. */
void hpt__crossentropy_backward(float *dlogits, const float *probs,
                                const int32_t *labels, int B, int K, float eps);

#endif
