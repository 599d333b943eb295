/* kernel_emulation.cc — kernel launches on the emulated device (see
 * cuda_emulation.h): one block at a time on the calling thread; each thread
 * of the block is a coroutine on a stack of its own (a pool reused
 * across launches; context_switch says how they switch). The scheduler runs
 * every runnable thread until it finishes or waits at a barrier, then opens the
 * barriers whose threads have all arrived: __syncthreads() for the block,
 * __syncwarp() and the warp shuffles for a warp (a shuffle's exchange is done
 * when its barrier opens). A block whose threads wait at barriers that can
 * never open aborts with a message instead of hanging. ASan is told about every
 * stack switch, so the sanitizer build checks kernels' memory accesses too.
 * When a launch's first block reaches no barrier, its other blocks run their
 * threads as plain calls (run_grid says why).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <vector>

#include "cuda_emulation.h"
#include "emulation_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define HPT_EMULATION_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HPT_EMULATION_ASAN 1
#endif
#endif
#ifdef HPT_EMULATION_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* ---- switching stacks ------------------------------------------------------
 *
 * A context is where a coroutine stopped. On x86-64 it is a stack pointer:
 * context_switch pushes the callee-saved registers on the stack it leaves
 * and pops them from the one it resumes, a dozen instructions. Elsewhere it
 * is a ucontext_t, whose swapcontext also saves and restores the signal
 * mask, a system call each way: correct, several times slower (also
 * chosen with -DHPT_EMULATION_UCONTEXT). */

#if defined(__x86_64__) && !defined(HPT_EMULATION_UCONTEXT)
typedef struct context {
  void *stack_pointer;
} context_t;

/* Saves the running context's registers on its stack and its stack pointer
 * in *save, then resumes the context whose stack pointer is `resume`. */
extern "C" void hpt_emulation_switch(void **save, void *resume);
asm(R"(
  .pushsection .text
  .globl hpt_emulation_switch
  .type hpt_emulation_switch, @function
hpt_emulation_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size hpt_emulation_switch, .-hpt_emulation_switch
  .popsection
)");

static void context_switch(context_t *from, context_t *to) {
  hpt_emulation_switch(&from->stack_pointer, to->stack_pointer);
}

/* A context that starts `entry` (which must never return) on the stack
 * [stack, stack + size): the first switch to it pops six zero registers
 * and returns into entry with the stack aligned as at a call. */
static void context_make(context_t *context, char *stack, size_t size,
                         void (*entry)(void)) {
  uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
  void **sp = (void **)top;
  *--sp = NULL;          /* entry's return address: it never returns */
  *--sp = (void *)entry; /* where the switch's `ret` goes */
  for (int i = 0; i < 6; i++)
    *--sp = NULL; /* rbp, rbx, r12-r15 */
  context->stack_pointer = sp;
}
#else
typedef struct context {
  ucontext_t ucontext;
} context_t;

static void context_switch(context_t *from, context_t *to) {
  swapcontext(&from->ucontext, &to->ucontext);
}

/* Not inlined: getcontext returns twice, which would clobber the caller's
 * locals. */
static __attribute__((noinline)) void context_make(context_t *context,
                                                   char *stack, size_t size,
                                                   void (*entry)(void)) {
  getcontext(&context->ucontext);
  context->ucontext.uc_stack.ss_sp = stack;
  context->ucontext.uc_stack.ss_size = size;
  context->ucontext.uc_link = NULL;
  makecontext(&context->ucontext, entry, 0);
}
#endif

/* ---- the block scheduler ------------------------------------------------- */

enum lane_state {
  LANE_RUNNABLE,
  LANE_AT_BLOCK_BARRIER,
  LANE_AT_WARP_BARRIER,
  LANE_DONE
};

typedef struct lane {
  context_t context;
  char *stack;
  enum lane_state state;
  hpt_emulation_thread_t coordinates;
  unsigned warp_mask;  /* lanes of the warp this barrier waits for */
  uint64_t shuffle_in; /* this lane's value at a shuffle */
  uint64_t shuffle_out;
  int shuffle_lane_mask, shuffle_width;
  bool shuffling;
#ifdef HPT_EMULATION_ASAN
  void *fake_stack;
#endif
} lane_t;

#define LANE_STACK_BYTES ((size_t)256 << 10)

const hpt_emulation_thread_t *hpt_emulation_current_thread;

static lane_t lanes[HPT_EMULATION_MAX_THREADS];
static int lane_count;       /* threads of the running block */
static lane_t *running_lane; /* the coroutine now running */
static context_t scheduler_context;
static const std::function<void()> *block_body;
static std::vector<unsigned char> dynamic_shared;
static long barriers_reached; /* in this launch so far */
static bool direct;           /* running blocks as plain calls */
#ifdef HPT_EMULATION_ASAN
static void *scheduler_fake_stack;
static const void *scheduler_stack_bottom;
static size_t scheduler_stack_size;
#endif

void *hpt_emulation_dynamic_shared(void) { return dynamic_shared.data(); }

/* Switches from the running lane back to the scheduler. */
static void lane_yield(void) {
  lane_t *self = running_lane;
#ifdef HPT_EMULATION_ASAN
  __sanitizer_start_switch_fiber(self->state == LANE_DONE ? NULL
                                                          : &self->fake_stack,
                                 scheduler_stack_bottom, scheduler_stack_size);
#endif
  context_switch(&self->context, &scheduler_context);
#ifdef HPT_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(self->fake_stack, NULL, NULL);
#endif
}

static void lane_entry(void) {
#ifdef HPT_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(NULL, &scheduler_stack_bottom,
                                  &scheduler_stack_size);
#endif
  (*block_body)();
  running_lane->state = LANE_DONE;
  lane_yield(); /* never resumed */
  abort();
}

static void run_lane(lane_t *lane) {
  running_lane = lane;
  hpt_emulation_current_thread = &lane->coordinates;
#ifdef HPT_EMULATION_ASAN
  __sanitizer_start_switch_fiber(&scheduler_fake_stack, lane->stack,
                                 LANE_STACK_BYTES);
#endif
  context_switch(&scheduler_context, &lane->context);
#ifdef HPT_EMULATION_ASAN
  __sanitizer_finish_switch_fiber(scheduler_fake_stack, NULL, NULL);
#endif
  running_lane = NULL;
}

static char *lane_stack(int index) {
  static char *stacks[HPT_EMULATION_MAX_THREADS];
  if (stacks[index] == NULL) {
    void *p = mmap(NULL, LANE_STACK_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      perror("cuda emulation: mmap of a thread stack");
      abort();
    }
    mprotect(p, 4096, PROT_NONE); /* a guard page: overflow faults */
    stacks[index] = (char *)p;
  }
  return stacks[index];
}

/* Points lane's context at lane_entry on its own stack. */
static void lane_prepare(lane_t *lane) {
  context_make(&lane->context, lane->stack, LANE_STACK_BYTES, lane_entry);
}

static void block_deadlock(const dim3 &block_index) {
  fprintf(stderr,
          "cuda emulation: block (%u,%u,%u): threads wait at barriers that "
          "can never open:",
          block_index.x, block_index.y, block_index.z);
  for (int i = 0; i < lane_count; i++)
    if (lanes[i].state != LANE_DONE)
      fprintf(stderr, " t%d:%s", i,
              lanes[i].state == LANE_AT_BLOCK_BARRIER ? "syncthreads" : "warp");
  fprintf(stderr, "\n");
  abort();
}

/* Opens the warp barriers whose lanes have all arrived, doing their
 * shuffles. Returns whether one opened. */
static bool open_warp_barriers(void) {
  bool opened = false;
  for (int warp_start = 0; warp_start < lane_count; warp_start += 32) {
    int warp_end = warp_start + 32 < lane_count ? warp_start + 32 : lane_count;
    unsigned waiting = 0, wanted = 0;
    for (int i = warp_start; i < warp_end; i++)
      if (lanes[i].state == LANE_AT_WARP_BARRIER) {
        waiting |= 1u << (i - warp_start);
        wanted |= lanes[i].warp_mask;
      }
    if (waiting == 0)
      continue;
    unsigned existing = warp_end - warp_start == 32
                            ? 0xffffffffu
                            : (1u << (warp_end - warp_start)) - 1;
    if ((wanted & existing & ~waiting) != 0)
      continue; /* some lane it waits for has not arrived */
    for (int i = warp_start; i < warp_end; i++) {
      lane_t *lane = &lanes[i];
      if (lane->state != LANE_AT_WARP_BARRIER)
        continue;
      if (lane->shuffling) {
        int me = i - warp_start;
        int width = lane->shuffle_width;
        int source = me ^ lane->shuffle_lane_mask;
        /* outside this lane's group of width lanes: its own value */
        if (source / width != me / width || source >= warp_end - warp_start ||
            lanes[warp_start + source].state != LANE_AT_WARP_BARRIER ||
            !lanes[warp_start + source].shuffling)
          lane->shuffle_out = lane->shuffle_in;
        else
          lane->shuffle_out = lanes[warp_start + source].shuffle_in;
      }
    }
    /* released only now: the exchange above reads every lane's state */
    for (int i = warp_start; i < warp_end; i++)
      if (lanes[i].state == LANE_AT_WARP_BARRIER)
        lanes[i].state = LANE_RUNNABLE;
    opened = true;
  }
  return opened;
}

static bool open_block_barrier(void) {
  int live = 0, waiting = 0;
  for (int i = 0; i < lane_count; i++) {
    if (lanes[i].state == LANE_DONE)
      continue;
    live++;
    waiting += lanes[i].state == LANE_AT_BLOCK_BARRIER;
  }
  if (live == 0 || waiting != live)
    return false;
  for (int i = 0; i < lane_count; i++)
    if (lanes[i].state == LANE_AT_BLOCK_BARRIER)
      lanes[i].state = LANE_RUNNABLE;
  return true;
}

/* Whether threads run last to first (HPT_GPU_EMULATION_ORDER=reverse):
 * a kernel whose result depends on the order its threads run in, between
 * two barriers, has a race that a GPU may or may not show; running the
 * tests both ways shows it here. */
static bool reverse_order(void) {
  static int reverse = -1;
  if (reverse < 0) {
    const char *order = getenv("HPT_GPU_EMULATION_ORDER");
    reverse = order != NULL && strcmp(order, "reverse") == 0;
  }
  return reverse != 0;
}

static void run_block(const hpt_emulation_launch_config_t *config,
                      const dim3 &block_index) {
  const dim3 &b = config->block;
  lane_count = (int)(b.x * b.y * b.z);
  if (!dynamic_shared.empty())
    memset(dynamic_shared.data(), 0xff, dynamic_shared.size());
  for (int i = 0; i < lane_count; i++) {
    lane_t *lane = &lanes[i];
    lane->stack = lane_stack(i);
    lane->state = LANE_RUNNABLE;
    lane->shuffling = false;
    lane->coordinates.thread_index =
        make_uint3((unsigned)i % b.x, ((unsigned)i / b.x) % b.y,
                   (unsigned)i / (b.x * b.y));
    lane->coordinates.block_index =
        make_uint3(block_index.x, block_index.y, block_index.z);
    lane->coordinates.block_dim = b;
    lane->coordinates.grid_dim = config->grid;
    lane_prepare(lane);
  }
  bool reverse = reverse_order();
  for (;;) {
    bool ran = false;
    for (int k = 0; k < lane_count; k++) {
      int i = reverse ? lane_count - 1 - k : k;
      if (lanes[i].state == LANE_RUNNABLE) {
        run_lane(&lanes[i]);
        ran = true;
      }
    }
    bool opened = open_warp_barriers();
    opened = open_block_barrier() || opened;
    if (opened)
      continue;
    bool all_done = true;
    for (int i = 0; i < lane_count; i++)
      all_done = all_done && lanes[i].state == LANE_DONE;
    if (all_done)
      break;
    if (!ran)
      block_deadlock(block_index);
  }
  hpt_emulation_current_thread = NULL;
}

/* Runs every thread of a block to its end, one after the other, as plain
 * calls on this stack: for kernels without barriers (see run_grid). */
static void run_block_direct(const hpt_emulation_launch_config_t *config,
                             const dim3 &block_index) {
  const dim3 &b = config->block;
  hpt_emulation_thread_t coordinates;
  coordinates.block_index =
      make_uint3(block_index.x, block_index.y, block_index.z);
  coordinates.block_dim = b;
  coordinates.grid_dim = config->grid;
  hpt_emulation_current_thread = &coordinates;
  unsigned count = b.x * b.y * b.z;
  bool reverse = reverse_order();
  for (unsigned k = 0; k < count; k++) {
    unsigned i = reverse ? count - 1 - k : k;
    coordinates.thread_index =
        make_uint3(i % b.x, (i / b.x) % b.y, i / (b.x * b.y));
    (*block_body)();
  }
  hpt_emulation_current_thread = NULL;
}

static void run_grid(const hpt_emulation_launch_config_t config,
                     const std::function<void()> &body) {
  if (hpt_emulation_current_thread != NULL) {
    fprintf(stderr, "cuda emulation: a kernel launched from device code\n");
    abort();
  }
  dynamic_shared.assign(config.shared_bytes, 0xff);
  block_body = &body;
  barriers_reached = 0;
  direct = false;
  dim3 index;
  for (index.z = 0; index.z < config.grid.z; index.z++)
    for (index.y = 0; index.y < config.grid.y; index.y++)
      for (index.x = 0; index.x < config.grid.x; index.x++) {
        if (direct)
          run_block_direct(&config, index);
        else
          run_block(&config, index);
        /* A first block that reached no barrier: the kernel has none
         * (ours synchronise unconditionally), so the rest run as plain
         * calls, a hundred times faster; a barrier there aborts. */
        direct = barriers_reached == 0;
      }
  direct = false;
  block_body = NULL;
}

void hpt_emulation_launch(const hpt_emulation_launch_config_t *config,
                          std::function<void()> thread_body) {
  const dim3 &g = config->grid, &b = config->block;
  unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
  if (g.x == 0 || g.y == 0 || g.z == 0 || threads == 0 ||
      threads > HPT_EMULATION_MAX_THREADS || b.z > 64 || g.y > 65535 ||
      g.z > 65535 || config->shared_bytes > (size_t)227 << 10) {
    hpt_emulation_fail(cudaErrorInvalidConfiguration);
    return;
  }
  hpt_emulation_launch_config_t copy = *config;
  cudaError_t status = hpt_emulation_enqueue(
      config->stream, [copy, thread_body]() { run_grid(copy, thread_body); });
  if (status != cudaSuccess)
    hpt_emulation_fail(status);
}

/* Counts a barrier; in a block run directly, none may be reached. */
static void barrier_reached(const char *which) {
  if (direct) {
    fprintf(stderr,
            "cuda emulation: %s in a later block of a kernel whose first "
            "block reached none; the emulation needs kernels that "
            "synchronise in every block\n",
            which);
    abort();
  }
  barriers_reached++;
}

void __syncthreads(void) {
  barrier_reached("__syncthreads");
  lane_t *self = running_lane;
  assert(self != NULL);
  self->state = LANE_AT_BLOCK_BARRIER;
  lane_yield();
}

static void warp_barrier(unsigned mask) {
  lane_t *self = running_lane;
  assert(self != NULL);
  int me = (int)(self - lanes) % 32;
  if ((mask & (1u << me)) == 0) {
    fprintf(stderr, "cuda emulation: lane %d is not in its own mask %#x\n", me,
            mask);
    abort();
  }
  self->warp_mask = mask;
  self->state = LANE_AT_WARP_BARRIER;
  lane_yield();
}

void __syncwarp(unsigned mask) {
  barrier_reached("__syncwarp");
  running_lane->shuffling = false;
  warp_barrier(mask);
}

uint64_t hpt_emulation_shuffle_xor(unsigned mask, uint64_t bits, int lane_mask,
                                   int width) {
  barrier_reached("__shfl_xor_sync");
  lane_t *self = running_lane;
  self->shuffling = true;
  self->shuffle_in = bits;
  self->shuffle_lane_mask = lane_mask;
  self->shuffle_width = width;
  warp_barrier(mask);
  self->shuffling = false;
  return self->shuffle_out;
}
