/* layers_cpu.c — the encoder's layer passes on the CPU (see layers_cpu.h
 * for the shape key and the accumulate-into-gradients convention). */
#include "layers_cpu.h"

#include <assert.h>
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* ---- embeddings --------------------------------------------------------- */

void hpt__embeddings_forward(float *out, const int32_t *ids, const int32_t *pos,
                             const int32_t *types, const float *wte,
                             const float *wpe, const float *wtt, int B, int T,
                             int E) {
  for (int bt = 0; bt < B * T; bt++) {
    float *o = out + (size_t)bt * E;
    const float *we = wte + (size_t)ids[bt] * E;
    const float *pe = wpe + (size_t)pos[bt] * E;
    for (int i = 0; i < E; i++)
      o[i] = we[i] + pe[i];
    if (wtt) {
      const float *te = wtt + (size_t)(types ? types[bt] : 0) * E;
      for (int i = 0; i < E; i++)
        o[i] += te[i];
    }
  }
}

void hpt__embeddings_backward(float *dwte, float *dwpe, float *dwtt,
                              const float *dout, const int32_t *ids,
                              const int32_t *pos, const int32_t *types, int B,
                              int T, int E, int word_pad, int pos_pad) {
  for (int bt = 0; bt < B * T; bt++) {
    const float *d = dout + (size_t)bt * E;
    if (ids[bt] != word_pad) {
      float *g = dwte + (size_t)ids[bt] * E;
      for (int i = 0; i < E; i++)
        g[i] += d[i];
    }
    if (pos[bt] != pos_pad) {
      float *g = dwpe + (size_t)pos[bt] * E;
      for (int i = 0; i < E; i++)
        g[i] += d[i];
    }
    if (dwtt) {
      float *g = dwtt + (size_t)(types ? types[bt] : 0) * E;
      for (int i = 0; i < E; i++)
        g[i] += d[i];
    }
  }
}

/* ---- LayerNorm ---------------------------------------------------------- */

void hpt__layernorm_forward(float *out, float *mean, float *rstd,
                            const float *inp, const float *w, const float *b,
                            int N, int C, float eps) {
  for (int n = 0; n < N; n++) {
    const float *x = inp + (size_t)n * C;
    double m = 0.0;
    for (int i = 0; i < C; i++)
      m += x[i];
    m /= C;
    double v = 0.0;
    for (int i = 0; i < C; i++) {
      double d = x[i] - m;
      v += d * d;
    }
    v /= C;
    double s = 1.0 / sqrt(v + eps);
    float *o = out + (size_t)n * C;
    for (int i = 0; i < C; i++)
      o[i] = (float)((x[i] - m) * s) * w[i] + b[i];
    mean[n] = (float)m;
    rstd[n] = (float)s;
  }
}

void hpt__layernorm_backward(float *dinp, float *dw, float *db,
                             const float *dout, const float *inp,
                             const float *w, const float *mean,
                             const float *rstd, int N, int C) {
  for (int n = 0; n < N; n++) {
    const float *x = inp + (size_t)n * C;
    const float *dy = dout + (size_t)n * C;
    float *dx = dinp + (size_t)n * C;
    float m = mean[n], s = rstd[n];
    /* dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)) */
    double dnorm_mean = 0.0, dnorm_norm_mean = 0.0;
    for (int i = 0; i < C; i++) {
      float norm = (x[i] - m) * s;
      float dnorm = w[i] * dy[i];
      dnorm_mean += dnorm;
      dnorm_norm_mean += (double)dnorm * norm;
    }
    dnorm_mean /= C;
    dnorm_norm_mean /= C;
    for (int i = 0; i < C; i++) {
      float norm = (x[i] - m) * s;
      float dnorm = w[i] * dy[i];
      db[i] += dy[i];
      dw[i] += norm * dy[i];
      dx[i] += (float)(s * (dnorm - dnorm_mean - norm * dnorm_norm_mean));
    }
  }
}

/* ---- linear ------------------------------------------------------------- */

void hpt__matmul_forward(float *out, const float *inp, const float *w,
                         const float *b, int N, int IC, int OC) {
  float beta = 0.0f;
  if (b) {
    for (int n = 0; n < N; n++)
      memcpy(out + (size_t)n * OC, b, sizeof(float) * (size_t)OC);
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, IC,
              w, IC, beta, out, OC);
}

void hpt__matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                          const float *inp, const float *w, int N, int IC,
                          int OC) {
  if (dinp)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0f,
                dout, OC, w, IC, 1.0f, dinp, IC);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1.0f, dout,
              OC, inp, IC, 1.0f, dw, IC);
  if (db)
    for (int n = 0; n < N; n++) {
      const float *d = dout + (size_t)n * OC;
      for (int o = 0; o < OC; o++)
        db[o] += d[o];
    }
}

/* ---- attention ---------------------------------------------------------- */

void hpt__attention_forward(float *ctx, float *att, const float *q,
                            const float *k, const float *v, const int32_t *mask,
                            const uint8_t *keep, float p, float *scratch, int B,
                            int T, int C, int H) {
  assert(C % H == 0);
  int D = C / H;
  float alpha = 1.0f / sqrtf((float)D);
  float drop_scale = keep ? 1.0f / (1.0f - p) : 1.0f;
  for (int b = 0; b < B; b++) {
    const int32_t *mb = mask + (size_t)b * T;
    for (int h = 0; h < H; h++) {
      size_t off = (size_t)b * T * C + (size_t)h * D;
      float *a = att + ((size_t)b * H + h) * T * T;
      /* S (T,T) = alpha * Q_bh (T,D) @ K_bh^T, rows strided by C */
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, alpha,
                  q + off, C, k + off, C, 0.0f, a, T);
      for (int t = 0; t < T; t++) {
        float *row = a + (size_t)t * T;
        float max = -INFINITY;
        for (int s = 0; s < T; s++) {
          /* HF's extended mask: (1 - mask) * finfo.min, added. A fully
           * padded row thus comes out uniform, as in PyTorch. */
          if (!mb[s])
            row[s] += -FLT_MAX;
          if (row[s] > max)
            max = row[s];
        }
        float sum = 0.0f;
        for (int s = 0; s < T; s++) {
          row[s] = expf(row[s] - max);
          sum += row[s];
        }
        float inv = 1.0f / sum;
        for (int s = 0; s < T; s++)
          row[s] *= inv;
      }
      const float *pd = a;
      if (keep) {
        const uint8_t *kb = keep + ((size_t)b * H + h) * T * T;
        for (size_t i = 0; i < (size_t)T * T; i++)
          scratch[i] = kb[i] ? a[i] * drop_scale : 0.0f;
        pd = scratch;
      }
      /* ctx_bh (T,D) = P (T,T) @ V_bh (T,D) */
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, 1.0f, pd,
                  T, v + off, C, 0.0f, ctx + off, C);
    }
  }
}

void hpt__attention_backward(float *dq, float *dk, float *dv, const float *dctx,
                             const float *q, const float *k, const float *v,
                             const float *att, const uint8_t *keep, float p,
                             float *scratch, int B, int T, int C, int H) {
  int D = C / H;
  float alpha = 1.0f / sqrtf((float)D);
  float drop_scale = keep ? 1.0f / (1.0f - p) : 1.0f;
  float *dp = scratch;                 /* (T,T) */
  float *pd = scratch + (size_t)T * T; /* (T,T), dropped probabilities */
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      size_t off = (size_t)b * T * C + (size_t)h * D;
      const float *a = att + ((size_t)b * H + h) * T * T;
      const uint8_t *kb = keep ? keep + ((size_t)b * H + h) * T * T : NULL;
      const float *pused = a;
      if (kb) {
        for (size_t i = 0; i < (size_t)T * T; i++)
          pd[i] = kb[i] ? a[i] * drop_scale : 0.0f;
        pused = pd;
      }
      /* dPd (T,T) = dctx_bh (T,D) @ V_bh^T; dV_bh (T,D) = Pd^T @ dctx_bh */
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, 1.0f,
                  dctx + off, C, v + off, C, 0.0f, dp, T);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, 1.0f, pused,
                  T, dctx + off, C, 0.0f, dv + off, C);
      /* through dropout, then softmax: dS = P * (dP - sum(dP * P)) */
      for (int t = 0; t < T; t++) {
        float *dprow = dp + (size_t)t * T;
        const float *arow = a + (size_t)t * T;
        if (kb) {
          const uint8_t *krow = kb + (size_t)t * T;
          for (int s = 0; s < T; s++)
            dprow[s] = krow[s] ? dprow[s] * drop_scale : 0.0f;
        }
        float dot = 0.0f;
        for (int s = 0; s < T; s++)
          dot += dprow[s] * arow[s];
        for (int s = 0; s < T; s++)
          dprow[s] = arow[s] * (dprow[s] - dot);
      }
      /* dQ_bh = alpha dS @ K_bh; dK_bh = alpha dS^T @ Q_bh */
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, alpha, dp,
                  T, k + off, C, 0.0f, dq + off, C);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, alpha, dp,
                  T, q + off, C, 0.0f, dk + off, C);
    }
  }
}

/* ---- activations -------------------------------------------------------- */

#define GELU_TANH_SCALE 0.7978845608028654f /* sqrt(2 / pi) */
#define INV_SQRT2 0.7071067811865476
#define INV_SQRT_2PI 0.3989422804014327

void hpt__act_forward(float *out, const float *inp, size_t n, hpt__act_t act) {
  switch (act) {
  case HPT__ACT_GELU:
    for (size_t i = 0; i < n; i++) {
      double x = inp[i];
      out[i] = (float)(0.5 * x * (1.0 + erf(x * INV_SQRT2)));
    }
    break;
  case HPT__ACT_GELU_TANH:
    for (size_t i = 0; i < n; i++) {
      float x = inp[i];
      float u = GELU_TANH_SCALE * (x + 0.044715f * x * x * x);
      out[i] = 0.5f * x * (1.0f + tanhf(u));
    }
    break;
  case HPT__ACT_RELU:
    for (size_t i = 0; i < n; i++)
      out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
    break;
  case HPT__ACT_TANH:
    for (size_t i = 0; i < n; i++)
      out[i] = tanhf(inp[i]);
    break;
  }
}

void hpt__act_backward(float *dinp, const float *dout, const float *inp,
                       const float *out, size_t n, hpt__act_t act) {
  switch (act) {
  case HPT__ACT_GELU:
    for (size_t i = 0; i < n; i++) {
      double x = inp[i];
      double cdf = 0.5 * (1.0 + erf(x * INV_SQRT2));
      double pdf = INV_SQRT_2PI * exp(-0.5 * x * x);
      dinp[i] += (float)(dout[i] * (cdf + x * pdf));
    }
    break;
  case HPT__ACT_GELU_TANH:
    for (size_t i = 0; i < n; i++) {
      float x = inp[i];
      float u = GELU_TANH_SCALE * (x + 0.044715f * x * x * x);
      float th = tanhf(u);
      float du = GELU_TANH_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
      float g = 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
      dinp[i] += dout[i] * g;
    }
    break;
  case HPT__ACT_RELU:
    for (size_t i = 0; i < n; i++)
      dinp[i] += inp[i] > 0.0f ? dout[i] : 0.0f;
    break;
  case HPT__ACT_TANH:
    for (size_t i = 0; i < n; i++)
      dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
    break;
  }
}

/* ---- dropout ------------------------------------------------------------ */

void hpt__dropout_mask(uint8_t *keep, size_t n, float p, hpt_rng_t *rng) {
  for (size_t i = 0; i < n; i++)
    keep[i] = hpt_rng_uniform(rng) >= (double)p;
}

void hpt__dropout_apply(float *x, const uint8_t *keep, size_t n, float p) {
  float scale = 1.0f / (1.0f - p);
  for (size_t i = 0; i < n; i++)
    x[i] = keep[i] ? x[i] * scale : 0.0f;
}

/* ---- loss --------------------------------------------------------------- */

float hpt__crossentropy_forward(float *probs, const float *logits,
                                const int32_t *labels, int B, int K,
                                float eps) {
  double total = 0.0;
  for (int b = 0; b < B; b++) {
    const float *z = logits + (size_t)b * K;
    float *pr = probs + (size_t)b * K;
    float max = z[0];
    for (int i = 1; i < K; i++)
      if (z[i] > max)
        max = z[i];
    double sum = 0.0;
    for (int i = 0; i < K; i++)
      sum += exp((double)z[i] - max);
    double lse = max + log(sum);
    double smooth = 0.0;
    for (int i = 0; i < K; i++) {
      pr[i] = (float)exp((double)z[i] - lse);
      smooth += lse - z[i];
    }
    assert(labels[b] >= 0 && labels[b] < K);
    total += (1.0 - eps) * (lse - z[labels[b]]) + eps / K * smooth;
  }
  return (float)(total / B);
}

void hpt__crossentropy_backward(float *dlogits, const float *probs,
                                const int32_t *labels, int B, int K,
                                float eps) {
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < K; i++) {
      float target = eps / K + (i == labels[b] ? 1.0f - eps : 0.0f);
      dlogits[(size_t)b * K + i] = (probs[(size_t)b * K + i] - target) / B;
    }
  }
}
