/* rng.c — see rng.h. xoshiro256** by Blackman and Vigna (public domain
 * reference algorithm), seeded with splitmix64 as its authors recommend. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void hpt_rng_seed(hpt_rng_t *rng, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    rng->state[i] = splitmix64(&x);
}

void hpt_rng_seed2(hpt_rng_t *rng, uint64_t seed, uint64_t stream) {
  uint64_t x = seed;
  uint64_t mixed = splitmix64(&x) ^ (stream * 0xd1342543de82ef95ULL);
  hpt_rng_seed(rng, mixed);
}

uint64_t hpt_rng_next(hpt_rng_t *rng) {
  uint64_t *s = rng->state;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double hpt_rng_uniform(hpt_rng_t *rng) {
  return (double)(hpt_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t hpt_rng_below(hpt_rng_t *rng, uint64_t n) {
  /* Rejection sampling removes the modulo bias. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = hpt_rng_next(rng);
  } while (x >= limit);
  return x % n;
}

double hpt_rng_normal(hpt_rng_t *rng) {
  double u1 = hpt_rng_uniform(rng);
  double u2 = hpt_rng_uniform(rng);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void hpt_rng_shuffle_ints(hpt_rng_t *rng, int *values, uint64_t n) {
  for (uint64_t i = n; i > 1; i--) {
    uint64_t j = hpt_rng_below(rng, i);
    int tmp = values[i - 1];
    values[i - 1] = values[j];
    values[j] = tmp;
  }
}
