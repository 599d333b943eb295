/* gpu_profile.cu — where a step's device time goes: with
 * hpt_gpu_options_t.profile, every kernel launch and every GEMM records a
 * CUDA event after itself, and the time between one event and the next is
 * charged to the kernel (by name) or GEMM (by shape and type) that ended
 * it. Passes then run eagerly (no graphs), so launch gaps show up too, in
 * the work that waited for them: a profile explains a step, the plain
 * bench times it.
 *
 * One profiled model per process (the launchers do not know their model,
 * so the marks go to the one active profile). Events come from a pool;
 * when it is full, the pool is collected (one wait on the device) and
 * reused, so any number of steps can be profiled. Errors of the profiler
 * itself are counted, never raised: it must not change what it measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.cuh"

#define POOL 4096
#define MAX_ENTRIES 256

typedef struct entry {
  char name[96];
  long calls;
  double ms;
} entry_t;

struct hpt__gpu_profile {
  cudaStream_t stream;
  cudaEvent_t events[POOL];
  int charged_to[POOL]; /* entry of the work ending at events[i] */
  int used;             /* events recorded; events[0] starts the span */
  entry_t entries[MAX_ENTRIES];
  int n_entries;
  long failures; /* event calls that failed: the profile is incomplete */
};

static hpt__gpu_profile_t *active;

int hpt__gpu_profile_open(hpt_gpu_model_t *g, hpt_error_t *error) {
  hpt__gpu_profile_t *p = (hpt__gpu_profile_t *)calloc(1, sizeof *p);
  if (!p)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  p->stream = g->stream;
  for (int i = 0; i < POOL; i++) {
    cudaError_t s = cudaEventCreate(&p->events[i]);
    if (s != cudaSuccess) {
      for (int j = 0; j < i; j++)
        cudaEventDestroy(p->events[j]);
      free(p);
      return hpt__gpu_cuda_error(error, s, "cudaEventCreate", __FILE__,
                                 __LINE__);
    }
  }
  if (cudaEventRecord(p->events[0], p->stream) != cudaSuccess)
    p->failures++;
  p->used = 1;
  g->profile = p;
  active = p;
  return 0;
}

void hpt__gpu_profile_close(hpt_gpu_model_t *g) {
  hpt__gpu_profile_t *p = g->profile;
  if (!p)
    return;
  for (int i = 0; i < POOL; i++)
    cudaEventDestroy(p->events[i]);
  if (active == p)
    active = NULL;
  free(p);
  g->profile = NULL;
}

/* Charges every recorded span to its entry and keeps the last event as
 * the start of the next span. */
static void collect(hpt__gpu_profile_t *p) {
  if (p->used < 2)
    return;
  if (cudaEventSynchronize(p->events[p->used - 1]) != cudaSuccess) {
    p->failures++;
    (void)cudaGetLastError();
  }
  for (int i = 1; i < p->used; i++) {
    float ms = 0.0f;
    if (cudaEventElapsedTime(&ms, p->events[i - 1], p->events[i]) ==
        cudaSuccess) {
      p->entries[p->charged_to[i]].ms += ms;
      p->entries[p->charged_to[i]].calls++;
    } else {
      p->failures++;
      (void)cudaGetLastError();
    }
  }
  cudaEvent_t last = p->events[p->used - 1];
  p->events[p->used - 1] = p->events[0];
  p->events[0] = last;
  p->used = 1;
}

static int entry_of(hpt__gpu_profile_t *p, const char *name) {
  for (int i = 0; i < p->n_entries; i++)
    if (strcmp(p->entries[i].name, name) == 0)
      return i;
  if (p->n_entries == MAX_ENTRIES)
    return MAX_ENTRIES - 1; /* the last entry takes the overflow */
  entry_t *e = &p->entries[p->n_entries];
  snprintf(e->name, sizeof e->name, "%s",
           p->n_entries == MAX_ENTRIES - 1 ? "(other)" : name);
  return p->n_entries++;
}

void hpt__gpu_profile_mark(const char *name) {
  hpt__gpu_profile_t *p = active;
  if (!p)
    return;
  if (p->used == POOL)
    collect(p);
  if (cudaEventRecord(p->events[p->used], p->stream) != cudaSuccess) {
    p->failures++;
    (void)cudaGetLastError();
    return;
  }
  p->charged_to[p->used++] = entry_of(p, name);
}

bool hpt__gpu_profiling(void) { return active != NULL; }

static int by_time(const void *a, const void *b) {
  double x = ((const entry_t *)a)->ms, y = ((const entry_t *)b)->ms;
  return x < y ? 1 : x > y ? -1 : 0;
}

extern "C" int hpt_gpu_model_profile_write(hpt_gpu_model_t *g, FILE *out,
                                           int steps, hpt_error_t *error) {
  hpt__gpu_profile_t *p = g->profile;
  if (!p)
    return HPT_ERR(error, HPT_ESTATE,
                   "gpu: the model was not made with "
                   "profile = true");
  collect(p);
  entry_t *sorted = (entry_t *)malloc(sizeof(entry_t) * (size_t)p->n_entries);
  if (!sorted)
    return HPT_ERR(error, HPT_ENOMEM, "gpu: out of host memory");
  memcpy(sorted, p->entries, sizeof(entry_t) * (size_t)p->n_entries);
  qsort(sorted, (size_t)p->n_entries, sizeof *sorted, by_time);
  double total = 0.0, gemm = 0.0;
  for (int i = 0; i < p->n_entries; i++) {
    total += sorted[i].ms;
    if (strncmp(sorted[i].name, "gemm ", 5) == 0)
      gemm += sorted[i].ms;
  }
  int per = steps > 0 ? steps : 1;
  fprintf(out, "| kernel or GEMM (m x n x k) | calls/step | ms/step | share |\n"
               "|---|---:|---:|---:|\n");
  for (int i = 0; i < p->n_entries; i++)
    fprintf(out, "| %s | %.1f | %.3f | %.1f%% |\n", sorted[i].name,
            (double)sorted[i].calls / per, sorted[i].ms / per,
            total > 0.0 ? 100.0 * sorted[i].ms / total : 0.0);
  fprintf(out, "| **all** | | **%.3f** | GEMMs %.3f ms/step (%.1f%%)%s |\n",
          total / per, gemm / per, total > 0.0 ? 100.0 * gemm / total : 0.0,
          p->failures ? " (some events failed: incomplete)" : "");
  free(sorted);
  return 0;
}
