/*
 * Domus demo guest: copies what the boot loader left in memory (multiboot_info, command line,
 * loader name, memory map) into the kernel, so nothing later depends on where it was.
 *
 * Reference: Multiboot Specification 0.6.96 section 3.3 (EAX = 0x2BADB002; multiboot_info flags
 * bit 0 mem_lower/mem_upper at offsets 4/8, bit 2 cmdline at 16, bit 3 mods_count/mods_addr at
 * 20/24 with 16-byte module entries (start, end, string, reserved), bit 6 mmap_length/mmap_addr
 * at 44/48 with entries {size, base_addr (64), length (64), type} where `size` excludes itself,
 * bit 9 boot_loader_name at 64). Memory types: 1 available, 2 reserved, 3 ACPI reclaimable,
 * 4 ACPI NVS, 5 defective (ACPI Specification 6.5, 15.1 "E820 address range types").
 */
#include "kernel.h"

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MBI_FLAG_MEMORY (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MODULES (1u << 3)
#define MBI_FLAG_MMAP (1u << 6)
#define MBI_FLAG_LOADER_NAME (1u << 9)
#define MMAP_TYPE_AVAILABLE 1
#define KIB_PER_MIB 1024
/* The marker on the command line after which commands to run at boot follow. */
#define AUTORUN_MARKER "--"

struct multiboot_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct multiboot_module {
    uint32_t start, end, string, reserved;
} __attribute__((packed));

struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t base, length;
    uint32_t type;
} __attribute__((packed));

struct boot_info boot;

void boot_info_capture(uint32_t magic, uint32_t info_address) {
    memset(&boot, 0, sizeof boot);
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC || info_address == 0) return;
    const struct multiboot_info *mbi = (const struct multiboot_info *)info_address;
    boot.multiboot = true;
    boot.flags = mbi->flags;
    if (mbi->flags & MBI_FLAG_MEMORY) {
        boot.mem_lower_kib = mbi->mem_lower;
        boot.mem_upper_kib = mbi->mem_upper;
    }
    if ((mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline) strlcpy_demo(boot.cmdline, (const char *)mbi->cmdline, sizeof boot.cmdline);
    if ((mbi->flags & MBI_FLAG_LOADER_NAME) && mbi->boot_loader_name) {
        strlcpy_demo(boot.loader, (const char *)mbi->boot_loader_name, sizeof boot.loader);
    }
    if ((mbi->flags & MBI_FLAG_MODULES) && mbi->mods_addr) {
        const struct multiboot_module *mods = (const struct multiboot_module *)mbi->mods_addr;
        for (uint32_t i = 0; i < mbi->mods_count; i++) {
            if (mods[i].end > boot.modules_end) boot.modules_end = mods[i].end;
        }
    }
    if (mbi->flags & MBI_FLAG_MMAP) {
        uint32_t at = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
        while (at < end && boot.mmap_count < MMAP_MAX) {
            const struct multiboot_mmap_entry *e = (const struct multiboot_mmap_entry *)at;
            boot.mmap[boot.mmap_count++] = (struct mmap_range){ e->base, e->length, e->type };
            at += e->size + sizeof e->size;
        }
    }
}

uint32_t boot_ram_mib(void) {
    /* Everything up to the end of the highest available range: what the domain was given. */
    uint64_t top = 0;
    for (uint32_t i = 0; i < boot.mmap_count; i++) {
        const struct mmap_range *r = &boot.mmap[i];
        if (r->type == MMAP_TYPE_AVAILABLE && r->base + r->length > top) top = r->base + r->length;
    }
    if (top == 0) top = ((uint64_t)boot.mem_upper_kib + KIB_PER_MIB) * 1024;
    return (uint32_t)udiv64(top + (1u << 19), 1u << 20, NULL);
}

const char *mmap_type_name(uint32_t type) {
    switch (type) {
    case 1: return "available";
    case 2: return "reserved";
    case 3: return "ACPI reclaimable";
    case 4: return "ACPI NVS";
    case 5: return "defective";
    default: return "unknown";
    }
}

const char *boot_autorun(void) {
    /* "... -- cmd1; cmd2": the marker must be a word of its own. */
    const char *s = boot.cmdline;
    size_t n = strlen(AUTORUN_MARKER);
    for (const char *p = s; *p; p++) {
        bool starts_word = p == s || p[-1] == ' ';
        if (starts_word && memcmp(p, AUTORUN_MARKER, n) == 0 && (p[n] == ' ' || p[n] == 0)) {
            p += n;
            while (*p == ' ') p++;
            return p;
        }
    }
    return "";
}
