/*
 * Domus demo guest: start-up. Sets up the console, the IDT and PICs, the timer and the serial
 * receive interrupt, prints the banner and hands over to the shell.
 *
 * Reference for CPUID: Intel SDM Vol. 2A, CPUID (leaf 0: maximum leaf in EAX, vendor in
 * EBX, EDX, ECX; leaf 0x80000000: maximum extended leaf; 0x80000002-0x80000004: the 48-byte
 * processor brand string).
 */
#include "kernel.h"

#define CPUID_EXT_MAX 0x80000000u
#define CPUID_BRAND_FIRST 0x80000002u
#define CPUID_BRAND_LAST 0x80000004u

void cpu_vendor(char out[13]) {
    uint32_t r[4];
    cpuid(0, r);
    memcpy(out, &r[1], 4);
    memcpy(out + 4, &r[3], 4);
    memcpy(out + 8, &r[2], 4);
    out[12] = 0;
}

bool cpu_brand(char out[49]) {
    uint32_t r[4];
    cpuid(CPUID_EXT_MAX, r);
    out[0] = 0;
    if (r[0] < CPUID_BRAND_LAST) return false;
    for (uint32_t leaf = CPUID_BRAND_FIRST; leaf <= CPUID_BRAND_LAST; leaf++) {
        cpuid(leaf, r);
        memcpy(out + 16 * (leaf - CPUID_BRAND_FIRST), r, 16);
    }
    out[48] = 0;
    /* Brand strings may be padded with leading spaces. */
    char *s = out;
    while (*s == ' ') s++;
    memmove(out, s, strlen(s) + 1);
    return out[0] != 0;
}

void print_banner(void) {
    char vendor[13], brand[49];
    cpu_vendor(vendor);
    kprintf(ANSI_BOLD ANSI_CYAN "Domus demo guest" ANSI_RESET " - a tiny multiboot kernel for the Domus hypervisor\n");
    kprintf("  CPU:      %s", vendor);
    if (cpu_brand(brand)) kprintf(", %s", brand);
    kprintf("\n");
    if (boot.multiboot) {
        kprintf("  Memory:   %u MiB (lower %u KiB, upper %u KiB)\n", boot_ram_mib(), boot.mem_lower_kib, boot.mem_upper_kib);
        kprintf("  Command:  %s\n", boot.cmdline[0] ? boot.cmdline : "(empty)");
        if (boot.loader[0]) kprintf("  Loader:   %s\n", boot.loader);
    } else {
        kprintf("  Memory:   unknown (not started by a multiboot loader)\n");
    }
    if (tsc_hz()) {
        uint32_t khz = (uint32_t)udiv64(tsc_hz(), 1000, NULL);
        kprintf("  TSC:      %u.%03u MHz (measured against the PIT)\n", khz / 1000, khz % 1000);
    }
    kprintf("Type " ANSI_BOLD "help" ANSI_RESET " for the commands.\n");
}

void kernel_main(uint32_t magic, uint32_t info_address) {
    boot_info_capture(magic, info_address);
    vga_init();
    serial_init();
    interrupts_init();
    timer_init();
    irq_unmask(IRQ_COM1);
    sti();
    timer_calibrate_tsc();
    kprintf("\n");
    print_banner();
    shell_run();
}
