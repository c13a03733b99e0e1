/*
 * Domus demo guest: the commands that report (info, uptime, date), the small ones (echo, clear),
 * power (reboot, poweroff) and fault.
 *
 * CPUID leaf 1 layout (Intel SDM Vol. 2A, CPUID): EAX bits 3-0 stepping, 7-4 model, 11-8 family,
 * 19-16 extended model, 27-20 extended family (added when family is 15; the extended model
 * counts for families 6 and 15); EDX and ECX are feature flags, named below by bit.
 */
#include "kernel.h"

#define CPUID_EXT_MAX 0x80000000u
#define FAMILY_EXTENDED 0xF
#define FAMILY_P6 0x6
#define SELECTOR_BEYOND_GDT 0x28

struct feature {
    uint8_t bit;
    const char *name;
};

static const struct feature edx_features[] = {
    { 0, "fpu" }, { 1, "vme" }, { 2, "de" }, { 3, "pse" }, { 4, "tsc" }, { 5, "msr" }, { 6, "pae" },
    { 7, "mce" }, { 8, "cx8" }, { 9, "apic" }, { 11, "sep" }, { 12, "mtrr" }, { 13, "pge" },
    { 14, "mca" }, { 15, "cmov" }, { 16, "pat" }, { 17, "pse36" }, { 19, "clflush" }, { 23, "mmx" },
    { 24, "fxsr" }, { 25, "sse" }, { 26, "sse2" }, { 28, "htt" },
};
static const struct feature ecx_features[] = {
    { 0, "sse3" }, { 1, "pclmulqdq" }, { 9, "ssse3" }, { 12, "fma" }, { 13, "cx16" }, { 19, "sse4.1" },
    { 20, "sse4.2" }, { 21, "x2apic" }, { 22, "movbe" }, { 23, "popcnt" }, { 24, "tsc-deadline" },
    { 25, "aes" }, { 26, "xsave" }, { 28, "avx" }, { 30, "rdrand" }, { 31, "hypervisor" },
};

static void print_features(const char *label, uint32_t reg, const struct feature *list, size_t count) {
    kprintf("  %-9s", label);
    if (!reg) kprintf(" (none)");
    unsigned col = 11;
    for (size_t i = 0; i < count; i++) {
        if (!(reg & (1u << list[i].bit))) continue;
        unsigned len = (unsigned)strlen(list[i].name) + 1;
        if (col + len > 78) {
            kprintf("\n           ");
            col = 11;
        }
        kprintf(" %s", list[i].name);
        col += len;
    }
    kprintf("\n");
}

static void info_cpu(void) {
    uint32_t r[4], ext[4];
    char vendor[13], brand[49];
    cpuid(0, r);
    uint32_t max_leaf = r[0];
    cpu_vendor(vendor);
    cpuid(CPUID_EXT_MAX, ext);
    kprintf(ANSI_BOLD "CPU" ANSI_RESET "\n");
    kprintf("  vendor    %s (CPUID leaf 0: max leaf %u; max extended leaf %08x)\n", vendor, max_leaf, ext[0]);
    if (cpu_brand(brand)) kprintf("  brand     %s\n", brand);
    if (max_leaf < 1) return;
    cpuid(1, r);
    unsigned family = (r[0] >> 8) & 0xF, model = (r[0] >> 4) & 0xF, stepping = r[0] & 0xF;
    if (family == FAMILY_EXTENDED) family += (r[0] >> 20) & 0xFF;
    if (family == FAMILY_P6 || family >= FAMILY_EXTENDED) model |= ((r[0] >> 16) & 0xF) << 4;
    kprintf("  leaf 1    family %u, model %u, stepping %u (EAX %08x, EDX %08x, ECX %08x)\n", family, model, stepping, r[0], r[3], r[2]);
    print_features("EDX", r[3], edx_features, ARRAY_LEN(edx_features));
    print_features("ECX", r[2], ecx_features, ARRAY_LEN(ecx_features));
}

static void info_memory(void) {
    kprintf(ANSI_BOLD "Memory" ANSI_RESET "\n");
    if (!boot.multiboot) {
        kprintf("  unknown: the kernel was not started by a multiboot boot loader\n");
        return;
    }
    kprintf("  RAM       %u MiB (lower %u KiB, upper %u KiB)\n", boot_ram_mib(), boot.mem_lower_kib, boot.mem_upper_kib);
    for (uint32_t i = 0; i < boot.mmap_count; i++) {
        const struct mmap_range *m = &boot.mmap[i];
        kprintf("  %016llx-%016llx %-16s ", m->base, m->base + m->length - 1, mmap_type_name(m->type));
        if (m->length < 1024) kprintf("%u bytes\n", (uint32_t)m->length);
        else kprintf("%llu KiB\n", m->length >> 10);
    }
    kprintf("  kernel    %08x-%08x (%u KiB)\n", (uint32_t)__kernel_start, (uint32_t)__kernel_end - 1,
            (uint32_t)(__kernel_end - __kernel_start + 1023) / 1024);
}

void cmd_info(const char *args) {
    (void)args;
    info_cpu();
    info_memory();
    kprintf(ANSI_BOLD "Boot" ANSI_RESET "\n");
    kprintf("  command   %s\n", boot.cmdline[0] ? boot.cmdline : "(empty)");
    kprintf("  loader    %s\n", boot.loader[0] ? boot.loader : "(not given)");
}

void cmd_uptime(const char *args) {
    (void)args;
    uint32_t t = timer_ticks();
    uint64_t ms = ticks_to_ms(t);
    uint32_t cs = (uint32_t)udiv64(ms, 10, NULL);
    uint32_t s = cs / 100;
    kprintf("up %u:%02u:%02u.%02u (%u timer ticks at %u Hz)\n", s / 3600, s / 60 % 60, s % 60, cs % 100, t, TIMER_HZ);
    if (tsc_hz()) {
        uint64_t us = tsc_to_us(rdtsc() - tsc_origin());
        uint32_t rem;
        uint64_t secs = udiv64(us, 1000000, &rem);
        kprintf("TSC: %llu.%06u s since the timer started (at the measured TSC rate)\n", secs, rem);
    }
}

void cmd_date(const char *args) {
    (void)args;
    struct rtc_time t;
    if (!rtc_read(&t)) {
        kprintf(ANSI_RED "date: the CMOS clock stayed in its update cycle; no reading" ANSI_RESET "\n");
        return;
    }
    kprintf("%04u-%02u-%02u %02u:%02u:%02u (CMOS real-time clock)\n", t.year, t.month, t.day, t.hour, t.minute, t.second);
}

void cmd_echo(const char *args) { kprintf("%s\n", args); }

void cmd_clear(const char *args) {
    (void)args;
    console_clear();
}

void cmd_reboot(const char *args) {
    (void)args;
    power_reboot();
}

void cmd_poweroff(const char *args) {
    (void)args;
    power_off();
}

void cmd_fault(const char *args) {
    if (strcmp(args, "") == 0 || strcmp(args, "de") == 0) {
        kprintf("fault: dividing by zero\n");
        uint32_t zero = 0;
        __asm__ volatile("divl %2" : "+a"(zero) : "d"(0), "r"(zero));
    } else if (strcmp(args, "ud") == 0) {
        kprintf("fault: executing UD2\n");
        __asm__ volatile("ud2");
    } else if (strcmp(args, "gp") == 0) {
        kprintf("fault: loading DS with selector %x, beyond the GDT\n", SELECTOR_BEYOND_GDT);
        __asm__ volatile("mov %0, %%ds" : : "r"(SELECTOR_BEYOND_GDT));
    } else {
        kprintf("fault: say de, ud or gp\n");
    }
}
