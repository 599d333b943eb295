/* test_cublaslt_emulation.cc — the emulated cuBLASLt
 * (worker/engine/cuda/emulation/cublaslt_emulation.cc) used as a program
 * uses cuBLASLt (cudaMalloc, cudaMemcpy, descriptors, the heuristic,
 * cublasLtMatmul), checked against a naive triple loop written here from
 * NVIDIA's documentation, independently of the emulation's code:
 *
 *   D(i,j) = alpha * sum_l op(A)(i,l) op(B)(l,j) + beta * C(i,j) + bias(i)
 *
 * per batch, op(X) = X or X^T, each layout describing its matrix as stored
 * (COL: element (i,j) at i + j*ld; ROW: at i*ld + j; batch b adds b times
 * the batch stride), bias broadcast across the columns, and C not read
 * when beta is 0.
 *
 *   products    NN, NT, TN, TT at 7x5x3 and 33x17x65 with padded leading
 *               dimensions, alpha 1.5 and beta -0.75, C and D apart with
 *               different lds; C == D in place; beta 0 with NaN in C;
 *               the bias epilogue; bf16 and fp16 inputs with bf16, fp16
 *               and fp32 outputs; strided batches of 3 (with a reused B
 *               and a per-batch bias); ROW order; C's documented ld 0
 *   refusals    each with its documented status and D left alone: shapes
 *               that do not chain, other epilogues, type combinations
 *               outside the docs' table, ld < rows, batch counts that
 *               differ, C == D with another layout, NULL arguments,
 *               misaligned pointers, pointers less aligned than the
 *               preference behind the algo, a foreign algo, D overlapping
 *               an input or itself, bad attribute buffers
 *   graphs      a captured matmul replays the alpha, bias and shapes of
 *               its capture after the descriptors changed or died, and
 *               reads the inputs as they are at each launch
 *   ranges      every buffer is allocated to the exact extent the docs
 *               give it; one element less aborts (in a child process)
 *
 * Tolerances: an output is compared with the exact (double) product of
 * the stored inputs. fp32: 1e-5 of the magnitude |alpha| sum |a||b| +
 * |beta c| + |bias| (summation order is free). bf16 and fp16 outputs
 * also get half a unit in the last place of the result (2^-8 and 2^-11
 * relative): the one rounding into D's type.
 *
 * A plain program: prints one line per check, exits 0 when all pass, 1
 * otherwise.
 */
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

static int checks, failures;

__attribute__((format(printf, 2, 3))) static bool
check(bool ok, const char *format, ...) {
  va_list args;
  va_start(args, format);
  printf("%s - ", ok ? "ok" : "FAIL");
  vprintf(format, args);
  printf("\n");
  va_end(args);
  fflush(stdout);
  checks++;
  failures += !ok;
  return ok;
}

/* Aborts the test on a setup step that must not fail. */
static void must(bool ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "test_cublaslt_emulation: setup failed: %s\n", what);
    exit(1);
  }
}

/* ---- host copies of device matrices -------------------------------------- */

static size_t type_bytes(cudaDataType type) {
  return type == CUDA_R_32F ? 4 : 2;
}

static double read_value(const unsigned char *at, cudaDataType type) {
  if (type == CUDA_R_32F) {
    float f;
    memcpy(&f, at, 4);
    return f;
  }
  if (type == CUDA_R_16BF) {
    __nv_bfloat16 h;
    memcpy(&h, at, 2);
    return __bfloat162float(h);
  }
  __half h;
  memcpy(&h, at, 2);
  return __half2float(h);
}

static void write_value(unsigned char *at, cudaDataType type, double v) {
  if (type == CUDA_R_32F) {
    float f = (float)v;
    memcpy(at, &f, 4);
  } else if (type == CUDA_R_16BF) {
    __nv_bfloat16 h = __float2bfloat16_rn((float)v);
    memcpy(at, &h, 2);
  } else {
    __half h = __float2half_rn((float)v);
    memcpy(at, &h, 2);
  }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* A value in [-1, 1). */
static double random_value(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(rng_state >> 11) / (double)(1ull << 53) * 2.0 - 1.0;
}

/* A matrix as stored: the extent the docs give it (last element at
 * (batch-1)*stride + its offset within a matrix), every slot of it filled,
 * padding included, and a device copy of exactly that many bytes. */
typedef struct matrix {
  cudaDataType type;
  int64_t rows, cols, ld;
  cublasLtOrder_t order;
  int batch;
  int64_t stride;
  size_t count; /* elements of the extent */
  std::vector<unsigned char> host;
  void *device;
} matrix_t;

static int64_t offset_of(const matrix_t *m, int b, int64_t i, int64_t j) {
  int64_t within =
      m->order == CUBLASLT_ORDER_COL ? i + j * m->ld : i * m->ld + j;
  return (m->batch > 1 ? b * m->stride : 0) + within;
}

static double get(const matrix_t *m, int b, int64_t i, int64_t j) {
  return read_value(
      &m->host[(size_t)offset_of(m, b, i, j) * type_bytes(m->type)], m->type);
}

/* A filled matrix; stride_pad > 0 leaves a gap between batches, and
 * stride 0 (stride_pad < 0) makes every batch the same matrix. */
static matrix_t make_matrix(cudaDataType type, int64_t rows, int64_t cols,
                            int64_t ld_pad, int batch, int64_t stride_pad,
                            cublasLtOrder_t order = CUBLASLT_ORDER_COL) {
  matrix_t m;
  m.type = type;
  m.rows = rows;
  m.cols = cols;
  m.ld = (order == CUBLASLT_ORDER_COL ? rows : cols) + ld_pad;
  m.order = order;
  m.batch = batch;
  int64_t one = order == CUBLASLT_ORDER_COL ? (cols - 1) * m.ld + rows
                                            : (rows - 1) * m.ld + cols;
  m.stride = stride_pad < 0 ? 0 : one + stride_pad;
  m.count = (size_t)((batch - 1) * m.stride + one);
  m.host.resize(m.count * type_bytes(type));
  for (size_t e = 0; e < m.count; e++)
    write_value(&m.host[e * type_bytes(type)], type, random_value());
  must(cudaMalloc(&m.device, m.host.size()) == cudaSuccess, "cudaMalloc");
  must(cudaMemcpy(m.device, m.host.data(), m.host.size(),
                  cudaMemcpyHostToDevice) == cudaSuccess,
       "cudaMemcpy to the device");
  return m;
}

static void free_matrix(matrix_t *m) {
  cudaFree(m->device);
  m->device = NULL;
}

static std::vector<unsigned char> read_back(const matrix_t *m) {
  std::vector<unsigned char> bytes(m->host.size());
  must(cudaMemcpy(bytes.data(), m->device, bytes.size(),
                  cudaMemcpyDeviceToHost) == cudaSuccess,
       "cudaMemcpy from the device");
  return bytes;
}

static cublasLtMatrixLayout_t layout_of(const matrix_t *m) {
  cublasLtMatrixLayout_t l;
  must(cublasLtMatrixLayoutCreate(&l, m->type, (uint64_t)m->rows,
                                  (uint64_t)m->cols,
                                  m->ld) == CUBLAS_STATUS_SUCCESS,
       "cublasLtMatrixLayoutCreate");
  if (m->order != CUBLASLT_ORDER_COL) {
    int32_t order = m->order;
    must(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_ORDER,
                                          &order, sizeof order) ==
             CUBLAS_STATUS_SUCCESS,
         "layout order");
  }
  if (m->batch > 1) {
    int32_t count = m->batch;
    int64_t stride = m->stride;
    must(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                          &count, sizeof count) ==
                 CUBLAS_STATUS_SUCCESS &&
             cublasLtMatrixLayoutSetAttribute(
                 l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                 sizeof stride) == CUBLAS_STATUS_SUCCESS,
         "layout batches");
  }
  return l;
}

/* ---- the reference and the comparison ------------------------------------ */

typedef struct problem {
  bool trans_a, trans_b;
  float alpha, beta;
  const matrix_t *a, *b, *c, *d; /* c may be d (in place) */
  const matrix_t *bias;          /* a rows x 1 matrix per batch, or NULL */
} problem_t;

/* The exact value and its magnitude (for the tolerance) of D(i,j) of
 * batch b, from the inputs as stored before the call. */
static void reference(const problem_t *p, const matrix_t *c_before, int b,
                      int64_t i, int64_t j, double *value, double *magnitude) {
  int64_t k = p->trans_a ? p->a->rows : p->a->cols;
  double sum = 0, size = 0;
  for (int64_t l = 0; l < k; l++) {
    double x = p->trans_a ? get(p->a, b, l, i) : get(p->a, b, i, l);
    double y = p->trans_b ? get(p->b, b, j, l) : get(p->b, b, l, j);
    sum += x * y;
    size += fabs(x * y);
  }
  *value = p->alpha * sum;
  *magnitude = fabs(p->alpha) * size;
  if (p->beta != 0) {
    double c = get(c_before, b, i, j);
    *value += p->beta * c;
    *magnitude += fabs(p->beta * c);
  }
  if (p->bias != NULL) {
    double bias = get(p->bias, b, i, 0);
    *value += bias;
    *magnitude += fabs(bias);
  }
}

/* Compares D on the device with the reference, and D's padding (slots
 * outside every batch's matrix) with what was there before. Returns the
 * worst error in units of the tolerance (<= 1 passes), or a large value. */
static double compare(const problem_t *p, const matrix_t *c_before) {
  const matrix_t *d = p->d;
  std::vector<unsigned char> now = read_back(d);
  std::vector<bool> inside(d->count, false);
  double half_ulp = d->type == CUDA_R_16BF  ? ldexp(1.0, -8)
                    : d->type == CUDA_R_16F ? ldexp(1.0, -11)
                                            : 0.0;
  double worst = 0;
  for (int b = 0; b < d->batch; b++)
    for (int64_t j = 0; j < d->cols; j++)
      for (int64_t i = 0; i < d->rows; i++) {
        size_t at = (size_t)offset_of(d, b, i, j);
        inside[at] = true;
        double want, magnitude;
        reference(p, c_before, b, i, j, &want, &magnitude);
        double got = read_value(&now[at * type_bytes(d->type)], d->type);
        double tolerance = 1e-5 * magnitude + half_ulp * fabs(want) + 1e-30;
        double error = fabs(got - want) / tolerance;
        if (!(error <= worst)) /* NaN counts as the worst */
          worst = isnan(error) ? 1e30 : error;
      }
  for (size_t e = 0; e < d->count; e++)
    if (!inside[e] &&
        memcmp(&now[e * type_bytes(d->type)], &d->host[e * type_bytes(d->type)],
               type_bytes(d->type)) != 0)
      return 1e30; /* padding written */
  return worst;
}

/* Whether D on the device is still what make_matrix put there. */
static bool untouched(const matrix_t *d) { return read_back(d) == d->host; }

/* ---- running a product --------------------------------------------------- */

static cublasLtHandle_t handle;

typedef struct options {
  cublasLtEpilogue_t epilogue;
  int64_t bias_batch_stride;
  uint32_t min_alignment; /* 0: the preference's default */
  bool use_heuristic;
  const void *c_pointer; /* overrides p->c->device when set */
  cublasComputeType_t compute_type;
  cudaDataType_t scale_type;
} options_t;

static options_t default_options(void) {
  options_t o;
  o.epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  o.bias_batch_stride = 0;
  o.min_alignment = 0;
  o.use_heuristic = true;
  o.c_pointer = NULL;
  o.compute_type = CUBLAS_COMPUTE_32F;
  o.scale_type = CUDA_R_32F;
  return o;
}

static cublasLtMatmulDesc_t make_desc(const problem_t *p, const options_t *o) {
  cublasLtMatmulDesc_t desc;
  must(cublasLtMatmulDescCreate(&desc, o->compute_type, o->scale_type) ==
           CUBLAS_STATUS_SUCCESS,
       "cublasLtMatmulDescCreate");
  int32_t ta = p->trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  int32_t tb = p->trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  uint32_t epilogue = o->epilogue;
  must(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta,
                                      sizeof ta) == CUBLAS_STATUS_SUCCESS &&
           cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB,
                                          &tb,
                                          sizeof tb) == CUBLAS_STATUS_SUCCESS &&
           cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                          &epilogue, sizeof epilogue) ==
               CUBLAS_STATUS_SUCCESS,
       "matmul descriptor attributes");
  if (p->bias != NULL) {
    const void *bias = p->bias->device;
    int64_t stride = o->bias_batch_stride;
    must(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                        &bias,
                                        sizeof bias) == CUBLAS_STATUS_SUCCESS &&
             cublasLtMatmulDescSetAttribute(
                 desc, CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE, &stride,
                 sizeof stride) == CUBLAS_STATUS_SUCCESS,
         "bias attributes");
  }
  return desc;
}

/* Runs p through the heuristic (when asked) and cublasLtMatmul on the
 * legacy stream; returns the first status that is not success. */
static cublasStatus_t run(const problem_t *p, const options_t *o,
                          int *found = NULL) {
  cublasLtMatmulDesc_t desc = make_desc(p, o);
  cublasLtMatrixLayout_t la = layout_of(p->a), lb = layout_of(p->b),
                         lc = layout_of(p->c), ld = layout_of(p->d);
  cublasLtMatmulHeuristicResult_t result;
  memset(&result, 0, sizeof result);
  cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  int count = 0;
  if (o->use_heuristic) {
    cublasLtMatmulPreference_t pref;
    must(cublasLtMatmulPreferenceCreate(&pref) == CUBLAS_STATUS_SUCCESS,
         "cublasLtMatmulPreferenceCreate");
    uint64_t workspace = 1 << 20;
    must(cublasLtMatmulPreferenceSetAttribute(
             pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
             sizeof workspace) == CUBLAS_STATUS_SUCCESS,
         "workspace preference");
    if (o->min_alignment != 0) {
      const cublasLtMatmulPreferenceAttributes_t which[] = {
          CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
          CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
          CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
          CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
      for (cublasLtMatmulPreferenceAttributes_t attr : which)
        must(cublasLtMatmulPreferenceSetAttribute(pref, attr, &o->min_alignment,
                                                  sizeof o->min_alignment) ==
                 CUBLAS_STATUS_SUCCESS,
             "alignment preference");
    }
    status = cublasLtMatmulAlgoGetHeuristic(handle, desc, la, lb, lc, ld, pref,
                                            1, &result, &count);
    cublasLtMatmulPreferenceDestroy(pref);
    if (found != NULL)
      *found = count;
    if (status == CUBLAS_STATUS_SUCCESS &&
        (count != 1 || result.state != CUBLAS_STATUS_SUCCESS))
      status = CUBLAS_STATUS_INTERNAL_ERROR; /* the test's own marker */
  }
  if (status == CUBLAS_STATUS_SUCCESS)
    status = cublasLtMatmul(
        handle, desc, &p->alpha, p->a->device, la, p->b->device, lb, &p->beta,
        o->c_pointer != NULL ? o->c_pointer : p->c->device, lc, p->d->device,
        ld, o->use_heuristic ? &result.algo : NULL, NULL, 0, 0);
  cublasLtMatmulDescDestroy(desc);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatrixLayoutDestroy(ld);
  return status;
}

/* ---- products ------------------------------------------------------------ */

/* One product: A, B, C, D (and bias) of the given types and shapes, run
 * and compared. c_mode: 0 C apart from D (its own ld), 1 C == D in place,
 * 2 C apart with ld 0 (one column broadcast to all, as documented). */
typedef struct product {
  const char *name;
  int m, n, k, batch;
  bool trans_a, trans_b;
  cudaDataType ab_type, cd_type;
  float alpha, beta;
  int c_mode;
  bool bias;
  bool reuse_b; /* B's batch stride 0 */
  cublasLtOrder_t order_a, order_cd;
} product_t;

static void check_product(const product_t *t) {
  int64_t a_rows = t->trans_a ? t->k : t->m, a_cols = t->trans_a ? t->m : t->k;
  int64_t b_rows = t->trans_b ? t->n : t->k, b_cols = t->trans_b ? t->k : t->n;
  matrix_t a =
      make_matrix(t->ab_type, a_rows, a_cols, 3, t->batch, 5, t->order_a);
  matrix_t b =
      make_matrix(t->ab_type, b_rows, b_cols, 2, t->batch, t->reuse_b ? -1 : 7);
  matrix_t d = make_matrix(t->cd_type, t->m, t->n, 4, t->batch, 3, t->order_cd);
  matrix_t c;
  if (t->c_mode == 1) {
    c = d; /* the host copy: C's values before the call */
  } else if (t->c_mode == 2) {
    /* one column of m per batch, seen as m x n with ld 0 */
    c = make_matrix(t->cd_type, t->m, 1, 0, t->batch, 2);
    c.cols = t->n;
    c.ld = 0;
  } else {
    c = make_matrix(t->cd_type, t->m, t->n, 1, t->batch, 2, t->order_cd);
  }
  matrix_t bias;
  if (t->bias)
    bias = make_matrix(t->cd_type, t->m, 1, 0, t->batch, 1);
  problem_t p = {t->trans_a,
                 t->trans_b,
                 t->alpha,
                 t->beta,
                 &a,
                 &b,
                 t->c_mode == 1 ? &d : &c,
                 &d,
                 t->bias ? &bias : NULL};
  options_t o = default_options();
  if (t->bias) {
    o.epilogue = CUBLASLT_EPILOGUE_BIAS;
    o.bias_batch_stride = t->batch > 1 ? bias.stride : 0;
  }
  cublasStatus_t status = run(&p, &o);
  double error = status == CUBLAS_STATUS_SUCCESS ? compare(&p, &c) : 1e30;
  check(status == CUBLAS_STATUS_SUCCESS && error <= 1.0,
        "%s: status %s, worst error %.3g of the tolerance", t->name,
        cublasLtGetStatusString(status), error);
  free_matrix(&a);
  free_matrix(&b);
  if (t->c_mode != 1)
    free_matrix(&c);
  free_matrix(&d);
  if (t->bias)
    free_matrix(&bias);
}

static product_t product(const char *name, int m, int n, int k, bool ta,
                         bool tb) {
  product_t t;
  t.name = name;
  t.m = m, t.n = n, t.k = k, t.batch = 1;
  t.trans_a = ta, t.trans_b = tb;
  t.ab_type = t.cd_type = CUDA_R_32F;
  t.alpha = 1.5f, t.beta = -0.75f;
  t.c_mode = 0;
  t.bias = false;
  t.reuse_b = false;
  t.order_a = t.order_cd = CUBLASLT_ORDER_COL;
  return t;
}

static void check_products(void) {
  static const int sizes[2][3] = {{7, 5, 3}, {33, 17, 65}};
  char name[128];
  for (const auto &size : sizes)
    for (int trans = 0; trans < 4; trans++) {
      bool ta = trans & 2, tb = trans & 1;
      snprintf(name, sizeof name, "fp32 %c%c %dx%dx%d, padded lds, C apart",
               ta ? 'T' : 'N', tb ? 'T' : 'N', size[0], size[1], size[2]);
      product_t t = product(name, size[0], size[1], size[2], ta, tb);
      check_product(&t);
    }

  product_t t = product("fp32 TN 33x17x65 in place (C == D), alpha 0.5, "
                        "beta 2",
                        33, 17, 65, true, false);
  t.alpha = 0.5f, t.beta = 2.0f, t.c_mode = 1;
  check_product(&t);

  t = product("fp32 NN 7x5x3 with the bias epilogue", 7, 5, 3, false, false);
  t.bias = true;
  check_product(&t);

  t = product("bf16 in, bf16 out, TN 33x17x65, bias (bf16, D's type)", 33, 17,
              65, true, false);
  t.ab_type = t.cd_type = CUDA_R_16BF, t.bias = true;
  check_product(&t);

  t = product("bf16 in, fp32 out, NT 33x17x65, bias (fp32)", 33, 17, 65, false,
              true);
  t.ab_type = CUDA_R_16BF, t.bias = true;
  check_product(&t);

  t = product("bf16 in, bf16 out, NN 7x5x3 in place", 7, 5, 3, false, false);
  t.ab_type = t.cd_type = CUDA_R_16BF, t.c_mode = 1;
  check_product(&t);

  t = product("fp16 in, fp16 out, TT 33x17x65", 33, 17, 65, true, true);
  t.ab_type = t.cd_type = CUDA_R_16F;
  check_product(&t);

  t = product("fp16 in, fp32 out, NN 7x5x3, bias", 7, 5, 3, false, false);
  t.ab_type = CUDA_R_16F, t.bias = true;
  check_product(&t);

  t = product("fp32 NT 33x17x65, 3 strided batches with gaps, per-batch bias",
              33, 17, 65, false, true);
  t.batch = 3, t.bias = true;
  check_product(&t);

  t = product("bf16 TN 7x5x3, 3 batches, B reused (stride 0), bf16 out", 7, 5,
              3, true, false);
  t.ab_type = t.cd_type = CUDA_R_16BF, t.batch = 3, t.reuse_b = true;
  check_product(&t);

  t = product("fp32 NN 7x5x3, A, C and D in ROW order", 7, 5, 3, false, false);
  t.order_a = t.order_cd = CUBLASLT_ORDER_ROW;
  check_product(&t);

  t = product("fp32 NT 33x17x65, C with ld 0 (broadcast column)", 33, 17, 65,
              false, true);
  t.c_mode = 2;
  check_product(&t);

  t = product("fp32 NN 33x17x65, 3 batches, C with ld 0", 33, 17, 65, false,
              false);
  t.c_mode = 2, t.batch = 3;
  check_product(&t);
}

/* beta == 0: C is not read, so NaN there does not reach D, and C need not
 * even be a matrix's worth of memory. */
static void check_beta_zero(void) {
  matrix_t a = make_matrix(CUDA_R_32F, 7, 3, 0, 1, 0);
  matrix_t b = make_matrix(CUDA_R_32F, 3, 5, 0, 1, 0);
  matrix_t c = make_matrix(CUDA_R_32F, 7, 5, 0, 1, 0);
  matrix_t d = make_matrix(CUDA_R_32F, 7, 5, 0, 1, 0);
  std::vector<float> nans(c.count, nanf(""));
  must(cudaMemcpy(c.device, nans.data(), c.host.size(),
                  cudaMemcpyHostToDevice) == cudaSuccess,
       "cudaMemcpy");
  problem_t p = {false, false, 1.0f, 0.0f, &a, &b, &c, &d, NULL};
  options_t o = default_options();
  cublasStatus_t status = run(&p, &o);
  check(status == CUBLAS_STATUS_SUCCESS && compare(&p, &c) <= 1.0,
        "beta 0 with NaN in C: D is alpha op(A) op(B) alone");

  void *tiny;
  must(cudaMalloc(&tiny, 4) == cudaSuccess, "cudaMalloc");
  o.c_pointer = tiny;
  status = run(&p, &o);
  check(status == CUBLAS_STATUS_SUCCESS,
        "beta 0 with a 4-byte C: C's range is not touched");
  cudaFree(tiny);
  free_matrix(&a);
  free_matrix(&b);
  free_matrix(&c);
  free_matrix(&d);
}

/* ---- refusals ------------------------------------------------------------ */

/* A small problem whose pieces each refusal breaks one at a time. */
typedef struct small {
  matrix_t a, b, c, d, bias;
} small_t;

static small_t make_small(cudaDataType ab = CUDA_R_32F,
                          cudaDataType cd = CUDA_R_32F) {
  small_t s;
  s.a = make_matrix(ab, 7, 3, 1, 1, 0);
  s.b = make_matrix(ab, 3, 5, 1, 1, 0);
  s.c = make_matrix(cd, 7, 5, 1, 1, 0);
  s.d = make_matrix(cd, 7, 5, 1, 1, 0);
  s.bias = make_matrix(cd, 7, 1, 0, 1, 0);
  return s;
}

static void free_small(small_t *s) {
  free_matrix(&s->a);
  free_matrix(&s->b);
  free_matrix(&s->c);
  free_matrix(&s->d);
  free_matrix(&s->bias);
}

static problem_t small_problem(small_t *s) {
  problem_t p = {false, false, 1.0f, 1.0f, &s->a, &s->b, &s->c, &s->d, NULL};
  return p;
}

/* Runs p with and without the heuristic; both must give want, the
 * heuristic no algorithm, and D must be untouched. */
static void check_refused(const char *what, const problem_t *p,
                          const options_t *o, cublasStatus_t want) {
  options_t with = *o, without = *o;
  with.use_heuristic = true;
  without.use_heuristic = false;
  int found = -1;
  cublasStatus_t heuristic = run(p, &with, &found);
  cublasStatus_t direct = run(p, &without);
  check(heuristic == want && found == 0 && direct == want && untouched(p->d),
        "%s: heuristic %s (%d found), matmul %s, want %s; D untouched", what,
        cublasLtGetStatusString(heuristic), found,
        cublasLtGetStatusString(direct), cublasLtGetStatusString(want));
}

/* A refusal that needs the pointers, which only cublasLtMatmul sees: with
 * the heuristic's algo and without an algo, both must give want, and D
 * must be untouched. */
static void check_matmul_refused(const char *what, const problem_t *p,
                                 const options_t *o, cublasStatus_t want) {
  options_t with = *o, without = *o;
  with.use_heuristic = true;
  without.use_heuristic = false;
  cublasStatus_t with_algo = run(p, &with);
  cublasStatus_t direct = run(p, &without);
  check(with_algo == want && direct == want && untouched(p->d),
        "%s: with the algo %s, without %s, want %s; D untouched", what,
        cublasLtGetStatusString(with_algo), cublasLtGetStatusString(direct),
        cublasLtGetStatusString(want));
}

static void check_refusals(void) {
  small_t s = make_small();
  problem_t p = small_problem(&s);
  options_t o = default_options();

  /* op(B) is 3 x 5 only untransposed: transposed, k would be 5. */
  p.trans_b = true;
  check_refused("op(A) 7x3 times op(B) 5x3 (shapes do not chain)", &p, &o,
                CUBLAS_STATUS_INVALID_VALUE);
  p = small_problem(&s);
  p.d = &s.bias; /* 7 x 1 for a 7 x 5 product */
  p.c = &s.bias;
  check_refused("D 7x1 for a 7x5 product", &p, &o, CUBLAS_STATUS_INVALID_VALUE);

  p = small_problem(&s);
  o.epilogue = CUBLASLT_EPILOGUE_RELU;
  check_refused("CUBLASLT_EPILOGUE_RELU (not emulated)", &p, &o,
                CUBLAS_STATUS_NOT_SUPPORTED);
  o.epilogue = CUBLASLT_EPILOGUE_GELU_BIAS;
  p.bias = &s.bias;
  check_refused("CUBLASLT_EPILOGUE_GELU_BIAS (not emulated)", &p, &o,
                CUBLAS_STATUS_NOT_SUPPORTED);
  o = default_options();
  p = small_problem(&s);

  o.compute_type = CUBLAS_COMPUTE_16F;
  o.scale_type = CUDA_R_16F;
  check_refused("compute type CUBLAS_COMPUTE_16F", &p, &o,
                CUBLAS_STATUS_NOT_SUPPORTED);
  o.compute_type = CUBLAS_COMPUTE_32F;
  check_refused("scale type CUDA_R_16F with CUBLAS_COMPUTE_32F", &p, &o,
                CUBLAS_STATUS_NOT_SUPPORTED);
  o = default_options();
  free_small(&s);

  /* Type combinations outside the docs' table. */
  {
    small_t t = make_small(CUDA_R_32F, CUDA_R_16BF);
    problem_t q = small_problem(&t);
    check_refused("A/B fp32 with C/D bf16", &q, &o,
                  CUBLAS_STATUS_NOT_SUPPORTED);
    free_small(&t);
    t = make_small(CUDA_R_16BF, CUDA_R_32F);
    matrix_t b32 = make_matrix(CUDA_R_32F, 3, 5, 1, 1, 0);
    q = small_problem(&t);
    q.b = &b32;
    check_refused("A bf16 with B fp32", &q, &o, CUBLAS_STATUS_NOT_SUPPORTED);
    matrix_t c16 = make_matrix(CUDA_R_16BF, 7, 5, 1, 1, 0);
    q = small_problem(&t);
    q.c = &c16;
    check_refused("C bf16 with D fp32 (C and D must share a type)", &q, &o,
                  CUBLAS_STATUS_NOT_SUPPORTED);
    free_matrix(&b32);
    free_matrix(&c16);
    free_small(&t);
  }

  s = make_small();
  p = small_problem(&s);
  matrix_t narrow = s.a;
  narrow.ld = 6; /* A is 7 x 3 in COL order: ld must be >= 7 */
  p.a = &narrow;
  check_refused("A with ld 6 < rows 7", &p, &o, CUBLAS_STATUS_INVALID_VALUE);

  p = small_problem(&s);
  matrix_t batched_d = s.d;
  batched_d.batch = 2;
  batched_d.stride = 0; /* never allocated as a batch: refused first */
  p.d = &batched_d;
  check_refused("D with 2 batches, A, B and C with 1 (counts differ)", &p, &o,
                CUBLAS_STATUS_INVALID_VALUE);
  free_small(&s);

  /* D's batches on top of each other: the GPU would race. */
  {
    matrix_t a = make_matrix(CUDA_R_32F, 7, 3, 0, 3, 0);
    matrix_t b = make_matrix(CUDA_R_32F, 3, 5, 0, 3, 0);
    matrix_t d = make_matrix(CUDA_R_32F, 7, 5, 0, 1, 0);
    matrix_t d3 = d;
    d3.batch = 3;
    d3.stride = 0;
    problem_t q = {false, false, 1.0f, 0.0f, &a, &b, &d3, &d3, NULL};
    check_refused("D with 3 batches at stride 0 (batches overlap)", &q, &o,
                  CUBLAS_STATUS_INVALID_VALUE);
    free_matrix(&a);
    free_matrix(&b);
    free_matrix(&d);
  }

  /* C == D in place with a C layout that is not D's. */
  s = make_small();
  p = small_problem(&s);
  matrix_t d_as_c = s.d;
  d_as_c.ld = s.d.ld - 1; /* the same bytes described differently */
  options_t in_place = default_options();
  in_place.c_pointer = s.d.device;
  p.c = &d_as_c;
  check_matmul_refused("C == D with Cdesc != Ddesc (ld 7, not 8)", &p,
                       &in_place, CUBLAS_STATUS_INVALID_VALUE);

  /* The explicit bias type must be the table's (D's type). */
  p = small_problem(&s);
  p.bias = &s.bias;
  {
    cublasLtMatmulDesc_t desc;
    o = default_options();
    o.epilogue = CUBLASLT_EPILOGUE_BIAS;
    desc = make_desc(&p, &o);
    int32_t bias_type = CUDA_R_16BF;
    must(cublasLtMatmulDescSetAttribute(
             desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
             sizeof bias_type) == CUBLAS_STATUS_SUCCESS,
         "bias data type");
    cublasLtMatrixLayout_t la = layout_of(&s.a), lb = layout_of(&s.b),
                           lc = layout_of(&s.c), ld = layout_of(&s.d);
    float one = 1.0f;
    cublasStatus_t status =
        cublasLtMatmul(handle, desc, &one, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_NOT_SUPPORTED && untouched(&s.d),
          "BIAS_DATA_TYPE bf16 with an fp32 D: %s",
          cublasLtGetStatusString(status));

    /* the FP8 scale attributes are refused for these types */
    bias_type = -1;
    const void *scale = s.bias.device;
    must(cublasLtMatmulDescSetAttribute(
             desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type,
             sizeof bias_type) == CUBLAS_STATUS_SUCCESS &&
             cublasLtMatmulDescSetAttribute(
                 desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale,
                 sizeof scale) == CUBLAS_STATUS_SUCCESS,
         "scale pointer");
    status =
        cublasLtMatmul(handle, desc, &one, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&s.d),
          "CUBLASLT_MATMUL_DESC_A_SCALE_POINTER set for fp32: %s",
          cublasLtGetStatusString(status));
    scale = NULL;
    must(cublasLtMatmulDescSetAttribute(
             desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale,
             sizeof scale) == CUBLAS_STATUS_SUCCESS,
         "scale pointer reset");

    /* pointer mode device is not emulated */
    int32_t mode = CUBLASLT_POINTER_MODE_DEVICE;
    must(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_POINTER_MODE,
                                        &mode,
                                        sizeof mode) == CUBLAS_STATUS_SUCCESS,
         "pointer mode");
    status =
        cublasLtMatmul(handle, desc, &one, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_NOT_SUPPORTED && untouched(&s.d),
          "CUBLASLT_POINTER_MODE_DEVICE: %s", cublasLtGetStatusString(status));
    mode = CUBLASLT_POINTER_MODE_HOST;
    must(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_POINTER_MODE,
                                        &mode,
                                        sizeof mode) == CUBLAS_STATUS_SUCCESS,
         "pointer mode");

    /* NULL arguments */
    status =
        cublasLtMatmul(NULL, desc, &one, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_NOT_INITIALIZED,
          "a NULL handle: %s (want CUBLAS_STATUS_NOT_INITIALIZED)",
          cublasLtGetStatusString(status));
    status =
        cublasLtMatmul(handle, desc, NULL, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&s.d),
          "a NULL alpha: %s", cublasLtGetStatusString(status));
    status =
        cublasLtMatmul(handle, desc, &one, s.a.device, NULL, s.b.device, lb,
                       &one, s.c.device, lc, s.d.device, ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&s.d),
          "a NULL Adesc: %s", cublasLtGetStatusString(status));
    const void *no_bias = NULL;
    must(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                        &no_bias, sizeof no_bias) ==
             CUBLAS_STATUS_SUCCESS,
         "bias pointer");
    status =
        cublasLtMatmul(handle, desc, &one, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&s.d),
          "CUBLASLT_EPILOGUE_BIAS without a bias pointer: %s",
          cublasLtGetStatusString(status));
    uint32_t plain = CUBLASLT_EPILOGUE_DEFAULT;
    must(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                        &plain,
                                        sizeof plain) == CUBLAS_STATUS_SUCCESS,
         "epilogue");

    /* misaligned pointers, and the workspace */
    status = cublasLtMatmul(handle, desc, &one, (char *)s.a.device + 2, la,
                            s.b.device, lb, &one, s.c.device, lc, s.d.device,
                            ld, NULL, NULL, 0, 0);
    check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&s.d),
          "A 2 bytes off its 4-byte elements: %s",
          cublasLtGetStatusString(status));
    status =
        cublasLtMatmul(handle, desc, &one, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, NULL, NULL, 1024, 0);
    check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&s.d),
          "a 1024-byte workspace at NULL: %s", cublasLtGetStatusString(status));
    cublasLtMatmulAlgo_t foreign;
    memset(&foreign, 0, sizeof foreign);
    status =
        cublasLtMatmul(handle, desc, &one, s.a.device, la, s.b.device, lb, &one,
                       s.c.device, lc, s.d.device, ld, &foreign, NULL, 0, 0);
    check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&s.d),
          "an algo the heuristic did not return: %s",
          cublasLtGetStatusString(status));

    /* the heuristic's own argument checks */
    cublasLtMatmulPreference_t pref;
    must(cublasLtMatmulPreferenceCreate(&pref) == CUBLAS_STATUS_SUCCESS,
         "preference");
    cublasLtMatmulHeuristicResult_t result;
    int found = -1;
    status = cublasLtMatmulAlgoGetHeuristic(handle, desc, la, lb, lc, ld, pref,
                                            0, &result, &found);
    check(status == CUBLAS_STATUS_INVALID_VALUE && found == 0,
          "the heuristic asked for 0 algorithms: %s",
          cublasLtGetStatusString(status));
    status = cublasLtMatmulAlgoGetHeuristic(handle, desc, la, lb, lc, ld, pref,
                                            1, &result, &found);
    check(status == CUBLAS_STATUS_SUCCESS && found == 1 &&
              result.state == CUBLAS_STATUS_SUCCESS &&
              result.workspaceSize == 0 && result.wavesCount == 1.0f,
          "the heuristic for a supported problem: one algorithm, state "
          "success, no workspace, one wave");
    /* an algo found for fp32 does not run a bf16 problem */
    {
      small_t t = make_small(CUDA_R_16BF, CUDA_R_16BF);
      cublasLtMatrixLayout_t ta = layout_of(&t.a), tb = layout_of(&t.b),
                             tc = layout_of(&t.c), td = layout_of(&t.d);
      status = cublasLtMatmul(handle, desc, &one, t.a.device, ta, t.b.device,
                              tb, &one, t.c.device, tc, t.d.device, td,
                              &result.algo, NULL, 0, 0);
      check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&t.d),
            "an fp32 algo used for bf16 matrices: %s",
            cublasLtGetStatusString(status));
      cublasLtMatrixLayoutDestroy(ta);
      cublasLtMatrixLayoutDestroy(tb);
      cublasLtMatrixLayoutDestroy(tc);
      cublasLtMatrixLayoutDestroy(td);
      free_small(&t);
    }
    cublasLtMatmulPreferenceDestroy(pref);

    /* attribute buffers */
    int32_t trans = CUBLAS_OP_T;
    status = cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                            &trans, 8);
    check(status == CUBLAS_STATUS_INVALID_VALUE,
          "TRANSA set with 8 bytes instead of 4: %s",
          cublasLtGetStatusString(status));
    status = cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                            NULL, 4);
    check(status == CUBLAS_STATUS_INVALID_VALUE, "TRANSA set from NULL: %s",
          cublasLtGetStatusString(status));
    status = cublasLtMatmulDescSetAttribute(
        desc, (cublasLtMatmulDescAttributes_t)9, &trans, 4);
    check(status == CUBLAS_STATUS_INVALID_VALUE,
          "an unknown matmul attribute (9): %s",
          cublasLtGetStatusString(status));
    uint32_t rows = 7;
    status = cublasLtMatrixLayoutSetAttribute(la, CUBLASLT_MATRIX_LAYOUT_ROWS,
                                              &rows, sizeof rows);
    check(status == CUBLAS_STATUS_INVALID_VALUE,
          "layout ROWS set with 4 bytes instead of 8: %s",
          cublasLtGetStatusString(status));
    status = cublasLtMatmulDescSetAttribute(NULL, CUBLASLT_MATMUL_DESC_TRANSA,
                                            &trans, 4);
    check(status == CUBLAS_STATUS_INVALID_VALUE,
          "an attribute set on a NULL descriptor: %s",
          cublasLtGetStatusString(status));

    cublasLtMatmulDescDestroy(desc);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(lc);
    cublasLtMatrixLayoutDestroy(ld);
  }
  free_small(&s);

  /* an empty product: undocumented in cuBLASLt, refused */
  {
    matrix_t a = make_matrix(CUDA_R_32F, 7, 1, 0, 1, 0);
    matrix_t b = make_matrix(CUDA_R_32F, 1, 5, 0, 1, 0);
    matrix_t d = make_matrix(CUDA_R_32F, 7, 5, 0, 1, 0);
    matrix_t a0 = a, b0 = b;
    a0.cols = 0;
    b0.rows = 0;
    b0.ld = 1;
    problem_t q = {false, false, 1.0f, 0.0f, &a0, &b0, &d, &d, NULL};
    o = default_options();
    check_refused("k = 0", &q, &o, CUBLAS_STATUS_NOT_SUPPORTED);
    free_matrix(&a);
    free_matrix(&b);
    free_matrix(&d);
  }
}

/* Alignment: the algo carries the preference's MIN_ALIGNMENT; pointers
 * less aligned than that are refused, and a lower preference admits
 * them. */
static void check_alignment(void) {
  small_t s = make_small();
  /* views 4 floats (16 bytes) into each buffer */
  matrix_t a = s.a, b = s.b, d = s.d;
  a.device = (float *)s.a.device + 4;
  b.device = (float *)s.b.device + 4;
  d.device = (float *)s.d.device + 4;
  a.count = b.count = d.count = 0;
  /* keep the views inside their allocations: shrink the logical shapes */
  a.rows = 7, a.cols = 2, a.ld = 8;
  b.rows = 2, b.cols = 4, b.ld = 4;
  d.rows = 7, d.cols = 4, d.ld = 8;
  a.count = (size_t)((a.cols - 1) * a.ld + a.rows);
  b.count = (size_t)((b.cols - 1) * b.ld + b.rows);
  d.count = (size_t)((d.cols - 1) * d.ld + d.rows);
  a.host.assign(s.a.host.begin() + 16, s.a.host.begin() + 16 + a.count * 4);
  b.host.assign(s.b.host.begin() + 16, s.b.host.begin() + 16 + b.count * 4);
  d.host.assign(s.d.host.begin() + 16, s.d.host.begin() + 16 + d.count * 4);
  problem_t p = {false, false, 1.0f, 0.0f, &a, &b, &d, &d, NULL};
  options_t o = default_options();
  cublasStatus_t status = run(&p, &o);
  check(status == CUBLAS_STATUS_INVALID_VALUE && untouched(&d),
        "16-byte aligned A, B, D with the algo of the default 256-byte "
        "preference: %s",
        cublasLtGetStatusString(status));
  o.min_alignment = 16;
  status = run(&p, &o);
  check(status == CUBLAS_STATUS_SUCCESS && compare(&p, &d) <= 1.0,
        "the same with MIN_ALIGNMENT_*_BYTES 16: %s",
        cublasLtGetStatusString(status));
  o.use_heuristic = false;
  d.host = read_back(&d);
  status = run(&p, &o);
  check(status == CUBLAS_STATUS_SUCCESS,
        "the same with no algo (the implicit heuristic): %s",
        cublasLtGetStatusString(status));
  free_small(&s);
}

/* D must not share memory with an input; views that interleave inside one
 * buffer (column slices) do not. */
static void check_overlap(void) {
  /* one 7 x 10 buffer: columns 0-4 and 5-9 as two 7 x 5 matrices */
  matrix_t whole = make_matrix(CUDA_R_32F, 7, 10, 0, 1, 0);
  matrix_t left = whole;
  left.cols = 5;
  left.count = 35;
  left.host.resize(35 * 4);
  matrix_t b = make_matrix(CUDA_R_32F, 5, 5, 0, 1, 0);
  options_t o = default_options();
  o.min_alignment = 4;

  problem_t p = {false, false, 1.0f, 0.0f, &left, &b, &left, &left, NULL};
  check_matmul_refused("D == A (D overlaps an input)", &p, &o,
                       CUBLAS_STATUS_INVALID_VALUE);
  matrix_t bias = left;
  bias.cols = 1;
  bias.count = 7;
  bias.device = (float *)whole.device + 14; /* column 2 of D */
  matrix_t a = make_matrix(CUDA_R_32F, 7, 5, 0, 1, 0);
  p = {false, false, 1.0f, 0.0f, &a, &b, &left, &left, &bias};
  options_t with_bias = o;
  with_bias.epilogue = CUBLASLT_EPILOGUE_BIAS;
  check_matmul_refused("the bias inside D", &p, &with_bias,
                       CUBLAS_STATUS_INVALID_VALUE);
  free_matrix(&a);

  /* interleaved: columns 0,2,4,6,8 (ld 14) and 1,3,5,7,9 of the buffer */
  matrix_t even = whole, odd = whole;
  even.cols = odd.cols = 5;
  even.ld = odd.ld = 14;
  odd.device = (float *)whole.device + 7;
  even.count = odd.count = (size_t)(4 * 14 + 7);
  even.host.assign(whole.host.begin(), whole.host.begin() + even.count * 4);
  odd.host.assign(whole.host.begin() + 28,
                  whole.host.begin() + 28 + odd.count * 4);
  p = {false, false, 1.0f, 0.0f, &even, &b, &odd, &odd, NULL};
  cublasStatus_t status = run(&p, &o);
  check(status == CUBLAS_STATUS_SUCCESS && compare(&p, &odd) <= 1.0,
        "D the odd columns of a buffer, A the even ones (no overlap): %s",
        cublasLtGetStatusString(status));
  free_matrix(&whole);
  free_matrix(&b);
}

/* ---- graphs -------------------------------------------------------------- */

/* A captured matmul keeps alpha, beta, shapes and the bias pointer of its
 * capture (the descriptors are changed and destroyed before the launch),
 * and reads A, B and the bias as they are at each launch. */
static void check_graph(void) {
  matrix_t a = make_matrix(CUDA_R_32F, 33, 65, 2, 1, 0);
  matrix_t b = make_matrix(CUDA_R_32F, 17, 65, 1, 1, 0); /* used transposed */
  matrix_t d = make_matrix(CUDA_R_32F, 33, 17, 3, 1, 0);
  matrix_t bias = make_matrix(CUDA_R_32F, 33, 1, 0, 1, 0);
  matrix_t other_bias = make_matrix(CUDA_R_32F, 33, 1, 0, 1, 0);
  problem_t p = {false, true, 0.75f, 0.0f, &a, &b, &d, &d, &bias};
  options_t o = default_options();
  o.epilogue = CUBLASLT_EPILOGUE_BIAS;
  cublasLtMatmulDesc_t desc = make_desc(&p, &o);
  cublasLtMatrixLayout_t la = layout_of(&a), lb = layout_of(&b),
                         ld = layout_of(&d);
  cudaStream_t stream;
  must(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) == cudaSuccess,
       "cudaStreamCreateWithFlags");
  float alpha = p.alpha, beta = 0.0f;
  cudaGraph_t graph;
  must(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) ==
           cudaSuccess,
       "cudaStreamBeginCapture");
  cublasStatus_t status =
      cublasLtMatmul(handle, desc, &alpha, a.device, la, b.device, lb, &beta,
                     d.device, ld, d.device, ld, NULL, NULL, 0, stream);
  must(cudaStreamEndCapture(stream, &graph) == cudaSuccess,
       "cudaStreamEndCapture");
  check(status == CUBLAS_STATUS_SUCCESS && untouched(&d),
        "a matmul captured into a graph: %s, D not written before the "
        "launch",
        cublasLtGetStatusString(status));

  /* what must not reach the graph */
  alpha = 100.0f;
  const void *moved = other_bias.device;
  cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                 &moved, sizeof moved);
  uint64_t rows = 1;
  cublasLtMatrixLayoutSetAttribute(la, CUBLASLT_MATRIX_LAYOUT_ROWS, &rows,
                                   sizeof rows);
  cublasLtMatmulDescDestroy(desc);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(ld);

  cudaGraphExec_t exec;
  must(cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess,
       "cudaGraphInstantiate");
  must(cudaGraphLaunch(exec, stream) == cudaSuccess &&
           cudaStreamSynchronize(stream) == cudaSuccess,
       "cudaGraphLaunch");
  check(compare(&p, &d) <= 1.0,
        "the graph's launch: alpha, bias pointer and shapes of the capture");

  /* new inputs: the next launch reads them */
  matrix_t fresh = make_matrix(CUDA_R_32F, 33, 65, 2, 1, 0);
  must(cudaMemcpy(a.device, fresh.host.data(), a.host.size(),
                  cudaMemcpyHostToDevice) == cudaSuccess,
       "cudaMemcpy");
  a.host = fresh.host;
  must(cudaMemcpy(bias.device, other_bias.host.data(), bias.host.size(),
                  cudaMemcpyHostToDevice) == cudaSuccess,
       "cudaMemcpy");
  bias.host = other_bias.host;
  must(cudaGraphLaunch(exec, stream) == cudaSuccess &&
           cudaStreamSynchronize(stream) == cudaSuccess,
       "cudaGraphLaunch");
  check(compare(&p, &d) <= 1.0,
        "a second launch after new A and bias values: reads them");
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
  free_matrix(&fresh);
  free_matrix(&a);
  free_matrix(&b);
  free_matrix(&d);
  free_matrix(&bias);
  free_matrix(&other_bias);
}

/* ---- ranges -------------------------------------------------------------- */

/* Runs a matmul in a child whose buffer `which` (0 A, 1 B, 2 C, 3 D, 4
 * bias) is one element shorter than its extent; returns whether the child
 * died of SIGABRT (the range check), as a device would fault. */
static bool aborts_when_short(int which) {
  fflush(stdout);
  fflush(stderr);
  pid_t child = fork();
  if (child == 0) {
    matrix_t m[5] = {make_matrix(CUDA_R_32F, 7, 3, 2, 2, 1),
                     make_matrix(CUDA_R_32F, 5, 3, 1, 2, 1),
                     make_matrix(CUDA_R_32F, 7, 5, 1, 2, 1),
                     make_matrix(CUDA_R_32F, 7, 5, 3, 2, 1),
                     make_matrix(CUDA_R_32F, 7, 1, 0, 2, 1)};
    cudaFree(m[which].device);
    must(cudaMalloc(&m[which].device, m[which].host.size() - 4) == cudaSuccess,
         "cudaMalloc");
    problem_t p = {false, true, 1.0f, 1.0f, &m[0], &m[1], &m[2], &m[3], &m[4]};
    options_t o = default_options();
    o.epilogue = CUBLASLT_EPILOGUE_BIAS;
    o.bias_batch_stride = m[4].stride;
    run(&p, &o);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void check_ranges(void) {
  static const char *names[] = {"A", "B", "C", "D", "the bias"};
  for (int which = 0; which < 5; which++)
    check(aborts_when_short(which),
          "%s one element short of its extent (2 batches): the call aborts",
          names[which]);
}

/* ---- the rest ------------------------------------------------------------ */

static void check_handles(void) {
  check(cublasLtCreate(NULL) == CUBLAS_STATUS_INVALID_VALUE,
        "cublasLtCreate(NULL): CUBLAS_STATUS_INVALID_VALUE");
  check(cublasLtDestroy(NULL) == CUBLAS_STATUS_INVALID_VALUE,
        "cublasLtDestroy(NULL): CUBLAS_STATUS_INVALID_VALUE");
  check(cublasLtMatrixLayoutCreate(NULL, CUDA_R_32F, 1, 1, 1) ==
                CUBLAS_STATUS_INVALID_VALUE &&
            cublasLtMatmulDescCreate(NULL, CUBLAS_COMPUTE_32F, CUDA_R_32F) ==
                CUBLAS_STATUS_INVALID_VALUE &&
            cublasLtMatmulPreferenceCreate(NULL) == CUBLAS_STATUS_INVALID_VALUE,
        "the descriptor Create calls refuse a NULL output");
  check(strcmp(cublasLtGetStatusString(CUBLAS_STATUS_SUCCESS),
               "CUBLAS_STATUS_SUCCESS") == 0 &&
            strcmp(cublasLtGetStatusString(CUBLAS_STATUS_NOT_SUPPORTED),
                   "CUBLAS_STATUS_NOT_SUPPORTED") == 0 &&
            strcmp(cublasLtGetStatusString(CUBLAS_STATUS_INVALID_VALUE),
                   "CUBLAS_STATUS_INVALID_VALUE") == 0,
        "cublasLtGetStatusString names the status");
}

int main(void) {
  must(cublasLtCreate(&handle) == CUBLAS_STATUS_SUCCESS, "cublasLtCreate");
  check_handles();
  check_products();
  check_beta_zero();
  check_refusals();
  check_alignment();
  check_overlap();
  check_graph();
  check_ranges();
  check(cublasLtDestroy(handle) == CUBLAS_STATUS_SUCCESS, "cublasLtDestroy");
  printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
