/* model_internal.h — the inside of hpt_model_t, shared by model.c (build,
 * load, free) and model_pass.c (forward, backward). Not for other rooms.
 *
 * Parameters live in one float array, gradients in a second with the same
 * layout; hpt__weights_t holds typed pointers into either, so the passes
 * read `m->w.layers[l].q_w` and write `m->g.layers[l].q_w`.
 *
 * Shape key as in layers_cpu.h: B, T, C, E, H, I, K, V (vocab), P
 * (positions), TV (token types), L (layers).
 */
#ifndef HPT_MODEL_INTERNAL_H
#define HPT_MODEL_INTERNAL_H

#include "layers_cpu.h"
#include "model.h"

typedef struct hpt__layer_weights {
  float *q_w, *q_b;       /* (C,C), (C) */
  float *k_w, *k_b;       /* (C,C), (C) */
  float *v_w, *v_b;       /* (C,C), (C) */
  float *o_w, *o_b;       /* (C,C), (C) attention output dense */
  float *ln1_w, *ln1_b;   /* (C) after attention */
  float *fc_w, *fc_b;     /* (I,C), (I) */
  float *proj_w, *proj_b; /* (C,I), (C) */
  float *ln2_w, *ln2_b;   /* (C) after the FFN */
} hpt__layer_weights_t;

typedef struct hpt__weights {
  float *wte;                     /* (V,E) */
  float *wpe;                     /* (P,E) */
  float *wtt;                     /* (TV,E); NULL when TV == 0 (DistilBERT) */
  float *emb_ln_w, *emb_ln_b;     /* (E) */
  float *emb_proj_w, *emb_proj_b; /* (C,E), (C); NULL unless E != C */
  hpt__layer_weights_t *layers;   /* L */
  float *head_w, *head_b; /* (C,C), (C): pooler / dense / pre_classifier */
  float *out_w, *out_b;   /* (K,C), (K): classifier / out_proj */
} hpt__weights_t;

/* Per-layer activations of one forward pass, kept for backward. */
typedef struct hpt__layer_acts {
  float *q, *k, *v;           /* (B,T,C) */
  float *att;                 /* (B,H,T,T) softmax probabilities */
  uint8_t *att_keep;          /* (B,H,T,T) dropout keep-mask or NULL */
  float *ctx;                 /* (B,T,C) heads concatenated */
  float *res1;                /* (B,T,C) dropout(ctx Wo) + x, LN1's input */
  uint8_t *res1_keep;         /* (B,T,C) or NULL */
  float *ln1_mean, *ln1_rstd; /* (B,T) */
  float *ln1;                 /* (B,T,C) */
  float *fch, *fca;           /* (B,T,I) before / after the activation */
  float *res2;                /* (B,T,C) dropout(fca Wp) + ln1, LN2's input */
  uint8_t *res2_keep;         /* (B,T,C) or NULL */
  float *ln2_mean, *ln2_rstd; /* (B,T) */
  float *ln2;                 /* (B,T,C) the layer's output */
} hpt__layer_acts_t;

typedef struct hpt__acts {
  int B, T;
  int32_t *ids, *pos, *types, *mask; /* (B,T) copies; types NULL-free */
  int32_t *labels;                   /* (B) */
  float *emb_sum;                    /* (B,T,E) before LayerNorm */
  float *emb_mean, *emb_rstd;        /* (B,T) */
  float *emb_ln;                     /* (B,T,E) after LN and dropout */
  uint8_t *emb_keep;                 /* (B,T,E) or NULL */
  float *x0;                 /* (B,T,C) encoder input (= emb_ln unless proj) */
  hpt__layer_acts_t *layers; /* L */
  float *h0;                 /* (B,C) first token (dropout applied if pre) */
  uint8_t *h0_keep;          /* (B,C) or NULL */
  float *hd, *ha;            /* (B,C) head dense output, after activation */
  float *hdrop;              /* (B,C) ha after dropout */
  uint8_t *ha_keep;          /* (B,C) or NULL */
  float *logits;             /* (B,K) */
  float *probs;              /* (B,K) softmax, for the loss's backward */
  float *scratch;            /* 2*T*T, attention */
  /* backward scratch */
  float *dx, *dres, *dln1, *dctx, *dq, *dk, *dv; /* (B,T,C) */
  float *dfa, *dfh;                              /* (B,T,I) */
  float *demb, *demb2;                           /* (B,T,E) */
  float *dh0, *dhd, *dha, *dlogits;              /* (B,C) x3, (B,K) */
} hpt__acts_t;

struct hpt_model {
  hpt_model_config_t config; /* owned */
  int type_vocab;            /* TV: 0 for DistilBERT */
  bool has_proj;             /* ELECTRA with E != C */
  bool head_pre_dropout;     /* RoBERTa, ELECTRA: dropout before dense */
  bool attn_out_dropout;     /* all but DistilBERT */
  hpt__act_t ffn_act, head_act;
  float initializer_range;

  hpt_model_param_t *params; /* n_params entries, names owned */
  size_t n_params;
  float *values, *grads; /* n_floats each */
  size_t n_floats;
  hpt__weights_t w, g; /* typed views into values, grads */

  /* activations, sized for the last (B,T); see model_pass.c */
  float *act_f;
  size_t act_f_cap;
  uint8_t *act_u8; /* dropout masks, only allocated for training */
  size_t act_u8_cap;
  int32_t *act_i;
  size_t act_i_cap;
  hpt__acts_t a;
  bool have_logits;
  bool can_backward; /* last forward succeeded with labels */
  bool train;        /* last forward ran with dropout masks */
  float loss;
  float eps; /* label smoothing of the last forward */
};

#endif
