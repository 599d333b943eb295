/* rng.h — a small, seedable, fast pseudo-random generator (xoshiro256**
 * seeded through splitmix64). Deterministic across platforms, so seeded
 * studies and data splits are reproducible.
 *
 * Caller storage: hpt_rng_t lives wherever the caller puts it; no allocation,
 * nothing to free, nothing can fail. Not thread-safe: one generator per
 * thread.
 */
#ifndef HPT_RNG_H
#define HPT_RNG_H

#include <stdint.h>

typedef struct hpt_rng {
  uint64_t state[4]; /* private */
} hpt_rng_t;

/* Seeds from a 64-bit value. */
void hpt_rng_seed(hpt_rng_t *rng, uint64_t seed);

/* Seeds from two values (e.g. a study seed and a trial number), so that
 * independent streams can be derived without sharing state. */
void hpt_rng_seed2(hpt_rng_t *rng, uint64_t seed, uint64_t stream);

uint64_t hpt_rng_next(hpt_rng_t *rng);

/* Uniform in [0, 1) with 53 random bits. */
double hpt_rng_uniform(hpt_rng_t *rng);

/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t hpt_rng_below(hpt_rng_t *rng, uint64_t n);

/* Standard normal (Box–Muller, no cached second value). */
double hpt_rng_normal(hpt_rng_t *rng);

/* Fisher–Yates shuffle of n ints in place. */
void hpt_rng_shuffle_ints(hpt_rng_t *rng, int *values, uint64_t n);

#endif
