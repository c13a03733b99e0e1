/*
 * Domus demo guest: the 8254 PIT's channel 0 as a 100 Hz tick on IRQ 0, and the TSC measured
 * against it.
 *
 * Reference: Intel 8254 datasheet (input clock 1.193182 MHz; control word at 0x43: bits 7-6
 * channel, 5-4 access lobyte/hibyte, 3-1 mode, 0 BCD; mode 2 rate generator: one pulse every
 * `divisor` input clocks). Intel SDM Vol. 3B 18.17 (the TSC counts at a constant rate; CPUID.1:EDX
 * bit 4 says it exists).
 */
#include "kernel.h"

#define PIT_CHANNEL0 0x40
#define PIT_COMMAND 0x43
#define PIT_INPUT_HZ 1193182u
/* Channel 0, lobyte then hibyte, mode 2 (rate generator), binary. */
#define PIT_CH0_LOHI_MODE2 0x34
/* Input clocks per tick: 1193182 / 11932 = 99.998 Hz. */
#define PIT_DIVISOR ((PIT_INPUT_HZ + TIMER_HZ / 2) / TIMER_HZ)
/* Ticks the TSC is measured over at boot (100 ms). */
#define CALIBRATION_TICKS 10
#define CPUID_1_EDX_TSC (1u << 4)

static volatile uint32_t ticks;
static uint64_t tsc_frequency, tsc_start;

void timer_init(void) {
    outb(PIT_COMMAND, PIT_CH0_LOHI_MODE2);
    outb(PIT_CHANNEL0, PIT_DIVISOR & 0xFF);
    outb(PIT_CHANNEL0, PIT_DIVISOR >> 8);
    irq_unmask(IRQ_PIT);
}

void timer_irq(void) { ticks++; }

uint32_t timer_ticks(void) { return ticks; }

bool sleep_ticks(uint32_t n, bool stop_on_key) {
    uint32_t start = ticks;
    for (;;) {
        cli();
        if (ticks - start >= n) break;
        if (stop_on_key && serial_has_input()) {
            sti();
            return false;
        }
        sti_hlt();
    }
    sti();
    return true;
}

void timer_calibrate_tsc(void) {
    uint32_t regs[4];
    cpuid(0, regs);
    if (regs[0] < 1) return;
    cpuid(1, regs);
    if (!(regs[3] & CPUID_1_EDX_TSC)) return;
    sleep_ticks(1, false); /* start on a tick edge */
    uint64_t t0 = rdtsc();
    sleep_ticks(CALIBRATION_TICKS, false);
    uint64_t t1 = rdtsc();
    /* Hz = cycles / (CALIBRATION_TICKS * PIT_DIVISOR / PIT_INPUT_HZ) */
    tsc_frequency = muldiv64(t1 - t0, PIT_INPUT_HZ, CALIBRATION_TICKS * PIT_DIVISOR);
    /* t0 was read at tick 1: one tick period earlier the PIT started, the origin of timer_ticks(). */
    tsc_start = t0 - muldiv64(tsc_frequency, PIT_DIVISOR, PIT_INPUT_HZ);
}

uint64_t tsc_hz(void) { return tsc_frequency; }

uint64_t tsc_origin(void) { return tsc_start; }

uint64_t tsc_to_us(uint64_t delta) {
    if (tsc_frequency == 0) return 0;
    /* delta * 1e6 / hz, in kHz units to keep the factors below 2^32 */
    uint32_t khz = (uint32_t)udiv64(tsc_frequency, 1000, NULL);
    return khz ? muldiv64(delta, 1000, khz) : 0;
}

/* Milliseconds of PIT time in `n` ticks (the tick is 11932 / 1193182 s, not exactly 10 ms). */
uint64_t ticks_to_ms(uint32_t n) {
    return muldiv64(n, PIT_DIVISOR * 1000u, PIT_INPUT_HZ);
}
