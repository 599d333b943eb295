/* functions.h — the benchmark objectives of bench/sampler, all minimised,
 * with their search spaces as hpt spec YAML and their known optima. The
 * same definitions are in optuna_bench.py; keep the two in step. */
#ifndef HPT_BENCH_FUNCTIONS_H
#define HPT_BENCH_FUNCTIONS_H

#include <math.h>
#include <stddef.h>

typedef struct bench_function {
  const char *name;
  const char *space_yaml; /* the `params:` section */
  double optimum;         /* known global minimum */
  double (*f)(const double *x);
} bench_function_t;

/* Branin-Hoo on [-5, 10] x [0, 15]. */
static inline double branin(const double *x) {
  double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10,
         t = 1 / (8 * M_PI);
  double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
  return a * u * u + s * (1 - t) * cos(x[0]) + s;
}

/* Hartmann 6-D on [0, 1]^6. */
static inline double hartmann6(const double *x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                 {2329, 4135, 8307, 3736, 1004, 9991},
                                 {2348, 1451, 3522, 2883, 3047, 6650},
                                 {4047, 8828, 8732, 5743, 1091, 381}};
  double total = 0;
  for (int i = 0; i < 4; i++) {
    double inner = 0;
    for (int j = 0; j < 6; j++) {
      double d = x[j] - P[i][j] * 1e-4;
      inner += A[i][j] * d * d;
    }
    total += alpha[i] * exp(-inner);
  }
  return -total;
}

/* Rosenbrock 5-D on [-5, 10]^5. */
static inline double rosenbrock5(const double *x) {
  double total = 0;
  for (int i = 0; i < 4; i++) {
    double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    total += 100 * a * a + b * b;
  }
  return total;
}

/* Ackley 5-D on [-32.768, 32.768]^5. */
static inline double ackley5(const double *x) {
  double s1 = 0, s2 = 0;
  for (int i = 0; i < 5; i++) {
    s1 += x[i] * x[i];
    s2 += cos(2 * M_PI * x[i]);
  }
  return -20 * exp(-0.2 * sqrt(s1 / 5)) - exp(s2 / 5) + 20 + M_E;
}

/* Styblinski-Tang 5-D on [-5, 5]^5. */
static inline double styblinski_tang5(const double *x) {
  double total = 0;
  for (int i = 0; i < 5; i++)
    total += pow(x[i], 4) - 16 * x[i] * x[i] + 5 * x[i];
  return total / 2;
}

/* Mixed: x, y float in [-5, 5], lr log-float in [1e-4, 1], n int in
 * [1, 20], c categorical {a, b, c, d} (internal index 0..3). A positive
 * definite quadratic in (x - 1, log10 lr + 2.5) plus separable terms and a
 * per-choice offset; 0 at x = 1, y = -2, lr = 10^-2.5, n = 7, c = b. */
static inline double mixed(const double *v) {
  static const double offset[4] = {0.5, 0.0, 1.0, 2.0};
  double dx = v[0] - 1, dy = v[1] + 2, dl = log10(v[2]) + 2.5,
         dn = (v[3] - 7) / 3;
  return dx * dx + dl * dl + dx * dl + 0.5 * dy * dy + dn * dn +
         offset[(int)v[4]];
}

#define P5(lo, hi)                                                             \
  "  x0: {type: float, low: " #lo ", high: " #hi "}\n"                         \
  "  x1: {type: float, low: " #lo ", high: " #hi "}\n"                         \
  "  x2: {type: float, low: " #lo ", high: " #hi "}\n"                         \
  "  x3: {type: float, low: " #lo ", high: " #hi "}\n"                         \
  "  x4: {type: float, low: " #lo ", high: " #hi "}\n"

static const bench_function_t bench_functions[] = {
    {"branin",
     "  x0: {type: float, low: -5, high: 10}\n"
     "  x1: {type: float, low: 0, high: 15}\n",
     0.39788735772973816, branin},
    {"hartmann6", P5(0, 1) "  x5: {type: float, low: 0, high: 1}\n",
     -3.322368011415515, hartmann6},
    {"rosenbrock5", P5(-5, 10), 0.0, rosenbrock5},
    {"ackley5", P5(-32.768, 32.768), 0.0, ackley5},
    {"styblinski_tang5", P5(-5, 5), -195.83082851885705, styblinski_tang5},
    {"mixed",
     "  x: {type: float, low: -5, high: 5}\n"
     "  y: {type: float, low: -5, high: 5}\n"
     "  lr: {type: float, low: 1.0e-4, high: 1.0, log: true}\n"
     "  n: {type: int, low: 1, high: 20}\n"
     "  c: {type: categorical, choices: [a, b, c, d]}\n",
     0.0, mixed},
};
#define N_BENCH_FUNCTIONS (sizeof bench_functions / sizeof bench_functions[0])

#endif
