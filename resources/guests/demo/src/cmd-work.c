/*
 * Domus demo guest: the commands that make the CPU work or wait: load, bench, ticks, mem.
 *
 * `bench` runs a fixed integer loop whose result depends only on the loop count, so the same
 * count gives the same checksum on any x86 CPU (test/unit/demo-guest checks it against the same
 * algorithm in TypeScript). Per loop: a 32-bit linear congruential step (Numerical Recipes'
 * a = 1664525, c = 1013904223), a xorshift32 step (Marsaglia 2003: shifts 13, 17, 5), a shift,
 * a rotate and a division.
 */
#include "kernel.h"

#define LOAD_DEFAULT_S 10
#define LOAD_MAX_S 3600
#define BENCH_DEFAULT_MLOOPS 2 /* about 1 s on Domus at 50-60 MIPS */
#define BENCH_MAX_MLOOPS 1000
#define LOOPS_PER_MLOOP 1000000u
#define LCG_MULTIPLIER 1664525u
#define LCG_INCREMENT 1013904223u
#define BENCH_SEED_A 0x12345678u
#define BENCH_SEED_B 0x9E3779B9u
#define TICKS_SECONDS 5
#define MEM_DEFAULT_MIB 16
#define MIB (1u << 20)
#define MEM_PATTERN_STEP 0x9E3779B9u /* 2^32 / golden ratio: consecutive words differ widely */
#define MEM_PATTERN_SEED 0xA5A5A5A5u
#define MMAP_TYPE_AVAILABLE 1
/* Work done between checks for a key and the clock in `load` (keeps key response well under 10 ms). */
#define LOAD_SPIN 20000

static volatile uint32_t sink;

/* The benchmark loop (kept out of line so its code is the same wherever it is called). */
__attribute__((noinline)) static uint32_t bench_run(uint32_t loops) {
    uint32_t a = BENCH_SEED_A, b = BENCH_SEED_B, sum = 0;
    for (uint32_t i = 0; i < loops; i++) {
        a = a * LCG_MULTIPLIER + LCG_INCREMENT;
        b ^= b << 13;
        b ^= b >> 17;
        b ^= b << 5;
        sum += (a ^ b) >> (i & 7);
        sum = (sum << 3) | (sum >> 29);
        sum ^= a / ((b & 0xFF) | 1);
    }
    return sum ^ a ^ b;
}

/* Parses an optional count argument; prints why and returns false if it is not one. */
static bool count_arg(const char *cmd, const char *args, uint32_t fallback, uint32_t max, uint32_t *out) {
    if (!*args) {
        *out = fallback;
        return true;
    }
    if (!parse_u32(args, out) || *out == 0 || *out > max) {
        kprintf("%s: give a whole number from 1 to %u (not \"%s\")\n", cmd, max, args);
        return false;
    }
    return true;
}

/* Elapsed microseconds from TSC values, or from PIT ticks when the TSC is unknown. */
static uint64_t elapsed_us(uint64_t tsc0, uint64_t tsc1, uint32_t tick0, uint32_t tick1) {
    if (tsc_hz()) return tsc_to_us(tsc1 - tsc0);
    return ticks_to_ms(tick1 - tick0) * 1000;
}

/* Prints scaled / unit with two decimals. */
static void print_scaled(uint64_t scaled, uint32_t unit) {
    uint32_t rem;
    uint64_t whole = udiv64(scaled, unit, &rem);
    kprintf("%llu.%02u", whole, (uint32_t)udiv64((uint64_t)rem * 100, unit, NULL));
}

void cmd_load(const char *args) {
    uint32_t seconds;
    if (!count_arg("load", args, LOAD_DEFAULT_S, LOAD_MAX_S, &seconds)) return;
    kprintf("load: keeping the CPU busy for %u s (press any key to stop) ", seconds);
    uint32_t start = timer_ticks(), dots = 0, work = 1;
    bool stopped = false;
    for (;;) {
        uint32_t elapsed = timer_ticks() - start;
        if (elapsed >= seconds * TIMER_HZ) break;
        if (serial_has_input()) {
            stopped = true;
            break;
        }
        if (elapsed / TIMER_HZ > dots) {
            dots++;
            console_write(".");
        }
        for (int i = 0; i < LOAD_SPIN; i++) work = work * LCG_MULTIPLIER + LCG_INCREMENT;
        sink = work;
    }
    uint64_t ms = ticks_to_ms(timer_ticks() - start);
    if (stopped) {
        serial_flush_input();
        kprintf("\nload: stopped by a key after %llu ms\n", ms);
    } else {
        kprintf("\nload: done after %llu ms\n", ms);
    }
}

void cmd_bench(const char *args) {
    uint32_t mloops;
    if (!count_arg("bench", args, BENCH_DEFAULT_MLOOPS, BENCH_MAX_MLOOPS, &mloops)) return;
    uint32_t loops = mloops * LOOPS_PER_MLOOP;
    kprintf("bench: %u loops of LCG + xorshift32 + divide...\n", loops);
    uint32_t tick0 = timer_ticks();
    uint64_t tsc0 = rdtsc();
    uint32_t checksum = bench_run(loops);
    uint64_t tsc1 = rdtsc();
    uint32_t tick1 = timer_ticks();
    uint64_t us = elapsed_us(tsc0, tsc1, tick0, tick1);
    if (us == 0) us = 1;
    kprintf("bench: %u loops in ", loops);
    print_scaled(us, 1000000);
    kprintf(" s = ");
    /* million loops per second = loops / us */
    print_scaled(loops, (uint32_t)(us < UINT32_MAX ? us : UINT32_MAX));
    kprintf(" million loops/s, checksum %08x\n", checksum);
}

void cmd_ticks(const char *args) {
    (void)args;
    uint32_t start = timer_ticks(), last = start;
    kprintf("ticks: %u timer interrupts so far; counting for %u s (idle in HLT, any key stops)\n", start, TICKS_SECONDS);
    for (uint32_t s = 1; s <= TICKS_SECONDS; s++) {
        uint32_t target = start + s * TIMER_HZ;
        uint32_t now = timer_ticks();
        if (now - start < s * TIMER_HZ && !sleep_ticks(target - now, true)) {
            serial_flush_input();
            kprintf("ticks: stopped by a key\n");
            return;
        }
        now = timer_ticks();
        kprintf("ticks: %u (+%u)\n", now, now - last);
        last = now;
    }
}

/* The RAM `mem` may use: the available range above the kernel (and modules), from a MiB boundary. */
static bool mem_region(uint32_t *base, uint32_t *bytes) {
    uint32_t floor = (uint32_t)__kernel_end > boot.modules_end ? (uint32_t)__kernel_end : boot.modules_end;
    floor = (floor + MIB - 1) & ~(MIB - 1);
    uint64_t best_base = 0, best_len = 0;
    for (uint32_t i = 0; i < boot.mmap_count; i++) {
        const struct mmap_range *m = &boot.mmap[i];
        if (m->type != MMAP_TYPE_AVAILABLE) continue;
        uint64_t lo = m->base > floor ? m->base : floor, hi = m->base + m->length;
        if (hi > 0x100000000ull) hi = 0x100000000ull; /* no paging: 4 GiB of address space */
        lo = (lo + MIB - 1) & ~(uint64_t)(MIB - 1);
        if (hi > lo && hi - lo > best_len) best_base = lo, best_len = (hi - lo) & ~(uint64_t)(MIB - 1);
    }
    if (boot.mmap_count == 0 && boot.mem_upper_kib) {
        uint64_t hi = 0x100000ull + (uint64_t)boot.mem_upper_kib * 1024;
        if (hi > floor) best_base = floor, best_len = (hi - floor) & ~(uint64_t)(MIB - 1);
    }
    *base = (uint32_t)best_base;
    *bytes = (uint32_t)(best_len > 0xFFF00000ull ? 0xFFF00000ull : best_len);
    return best_len >= MIB;
}

void cmd_mem(const char *args) {
    uint32_t mib, base, avail;
    if (!mem_region(&base, &avail)) {
        kprintf("mem: the boot loader reported no free RAM above the kernel\n");
        return;
    }
    if (!count_arg("mem", args, MEM_DEFAULT_MIB, avail / MIB, &mib)) return;
    uint32_t words = mib * (MIB / 4);
    volatile uint32_t *p = (volatile uint32_t *)base;
    kprintf("mem: %u MiB at %08x-%08x\n", mib, base, base + mib * MIB - 1);
    uint64_t t0 = rdtsc();
    uint32_t k0 = timer_ticks();
    uint32_t v = MEM_PATTERN_SEED;
    for (uint32_t i = 0; i < words; i++, v += MEM_PATTERN_STEP) p[i] = v;
    uint64_t t1 = rdtsc();
    uint32_t k1 = timer_ticks();
    uint32_t sum = 0, errors = 0;
    v = MEM_PATTERN_SEED;
    for (uint32_t i = 0; i < words; i++, v += MEM_PATTERN_STEP) {
        uint32_t w = p[i];
        sum = ((sum << 5) | (sum >> 27)) ^ w;
        if (w != v) errors++;
    }
    uint64_t t2 = rdtsc();
    uint32_t k2 = timer_ticks();
    uint64_t bytes = (uint64_t)mib * MIB;
    uint64_t w_us = elapsed_us(t0, t1, k0, k1), r_us = elapsed_us(t1, t2, k1, k2);
    kprintf("mem: write ");
    print_scaled(bytes, (uint32_t)(w_us ? w_us : 1));
    kprintf(" MB/s, read and check ");
    print_scaled(bytes, (uint32_t)(r_us ? r_us : 1));
    kprintf(" MB/s, checksum %08x, %u %s\n", sum, errors, errors == 1 ? "error" : "errors");
}
