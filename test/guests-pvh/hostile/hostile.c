/*
 * A hostile PVH guest: issues hypercalls with random numbers and random arguments for as long as
 * it runs (command line: seed=<n>). Arguments are small numbers, DOMID_SELF, pointers into a
 * scratch area it keeps full of argument-like words, pointers anywhere, and noise. It skips only
 * what would end or stall its own run on purpose (SCHEDOP_shutdown, _shutdown_code, _block, _poll);
 * everything else it may do to itself - unmap its own pages, overwrite its code - is fair game, and
 * the harness starts a new one if it dies. Prints a progress line on console_io every PROGRESS calls.
 */
#include "guest.h"

#define SCRATCH_BYTES (256 * 1024)
#define PROGRESS 1000

static uint32_t scratch[SCRATCH_BYTES / 4] __attribute__((aligned(PAGE_SIZE), section(".bss.page")));
static uint32_t state;

static uint32_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

static uint32_t word(void) {
  uint32_t r = rnd() % 100;
  if (r < 45) return rnd() % 16;
  if (r < 60) return DOMID_SELF;
  if (r < 80) return (uint32_t)(uintptr_t)scratch + (rnd() % SCRATCH_BYTES);
  return rnd();
}

static unsigned long arg(void) {
  uint32_t r = rnd() % 100;
  if (r < 40) return (uint32_t)(uintptr_t)scratch + (rnd() % SCRATCH_BYTES & ~3u);
  if (r < 70) return rnd() % 16;
  if (r < 75) return DOMID_SELF;
  if (r < 80) return 0xfeffc000u + rnd() % 0x4000;
  return rnd();
}

/* The hypercalls a PVH guest has, most of the time; any number some of the time. */
static const unsigned numbers[] = {
  __HYPERVISOR_memory_op, __HYPERVISOR_set_timer_op, __HYPERVISOR_xen_version, __HYPERVISOR_console_io,
  __HYPERVISOR_grant_table_op, __HYPERVISOR_vcpu_op, __HYPERVISOR_sched_op, __HYPERVISOR_event_channel_op,
  __HYPERVISOR_hvm_op, __HYPERVISOR_physdev_op, __HYPERVISOR_multicall, __HYPERVISOR_domctl,
};

static long vmcall5(unsigned nr, unsigned long a1, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
  long r;
  __asm__ volatile("vmcall" : "=a"(r), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4), "+D"(a5) : "a"(nr) : "memory");
  return r;
}

/* Progress through console_io: the PV console ring may be one of the things it broke. */
static void progress(uint32_t calls) {
  char line[32] = "hostile: ", *p = line + 9, t[12];
  int n = 0;
  do { t[n++] = (char)('0' + calls % 10); calls /= 10; } while (calls);
  while (n) *p++ = t[--n];
  memcpy(p, " calls\n", 8);
  HYPERVISOR_console_io(CONSOLEIO_write, strlen(line), line);
}

int main(void) {
  const char *s = cmdline_arg("seed");
  state = s ? (uint32_t)parse_ulong(s) : 1;
  if (!state) state = 1;
  printf("hostile: domain %u seed %u\n", self_domid, state);
  for (uint32_t calls = 1;; calls++) {
    if (calls % 64 == 1) for (unsigned k = 0; k < 512; k++) scratch[rnd() % (SCRATCH_BYTES / 4)] = word();
    unsigned nr = rnd() % 100 < 85 ? numbers[rnd() % (sizeof numbers / sizeof numbers[0])] : rnd() % 100 < 50 ? rnd() % 64 : rnd();
    unsigned long a1 = rnd() % 100 < 80 ? rnd() % 16 : arg();
    unsigned long a2 = arg(), a3 = arg();
    if (nr == __HYPERVISOR_sched_op && (a1 == SCHEDOP_shutdown || a1 == SCHEDOP_shutdown_code || a1 == SCHEDOP_block || a1 == SCHEDOP_poll)) continue;
    if (nr == __HYPERVISOR_console_io && a1 == CONSOLEIO_write) a2 %= 64;
    /*
     * Keep batches short so the run covers many calls: a valid array with a count near 2^31 is
     * (as on Xen) a call that continues for hours. Counts with the top bit set are still tried.
     */
    if (nr == __HYPERVISOR_grant_table_op && a3 < 0x80000000u) a3 %= rnd() % 100 < 99 ? 64 : 20000;
    vmcall5(nr, a1, a2, a3, arg(), arg());
    if (calls % PROGRESS == 0) progress(calls);
  }
}
