/*
 * Domus demo guest: reboot (8042 reset pulse, then the PCI reset control register) and ACPI
 * soft-off (S5).
 *
 * Power-off, as an ACPI OS does it without an AML interpreter:
 *   1. find the RSDP: signature "RSD PTR " on a 16-byte boundary in the first KiB of the EBDA
 *      (segment at 0x40E) or in 0xE0000-0xFFFFF; checksum of its first 20 bytes is 0;
 *   2. follow RsdtAddress to the RSDT, whose entries are 32-bit table addresses; find "FACP";
 *   3. from the FADT: DSDT address (offset 40), SMI_CMD (48), ACPI_ENABLE (52), PM1a_CNT_BLK (64),
 *      PM1b_CNT_BLK (68);
 *   4. find \_S5 in the DSDT: NameOp (0x08), the name "_S5_" (maybe with a root prefix '\'),
 *      PackageOp (0x12), PkgLength, NumElements, then SLP_TYPa and SLP_TYPb as integer objects
 *      (ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0A nn);
 *   5. if SCI_EN is clear, ask the firmware for ACPI mode (write ACPI_ENABLE to SMI_CMD);
 *   6. write SLP_TYPx << 10 | SLP_EN (bit 13) to PM1a_CNT (and PM1b_CNT if there is one).
 *
 * References: ACPI Specification 6.5: 5.2.5 RSDP (and 5.2.5.1 where to find it), 5.2.7 RSDT,
 * 5.2.9 FADT field offsets, 4.8.3.2.1 PM1 control (SCI_EN bit 0, SLP_TYPx bits 12-10, SLP_EN bit
 * 13), 7.4.2 \_Sx packages, 20.2 AML grammar (NameOp, PackageOp, PkgLength encoding: bits 7-6 of
 * the lead byte give the count of following length bytes). Reset: IBM PC/AT 8042 command 0xFE
 * (pulse output port bit 0 = CPU reset); Intel ICH reset control register at 0xCF9 (bit 1
 * SYS_RST, bit 2 RST_CPU: write 0x02 then 0x06 for a hard reset).
 */
#include "kernel.h"

#define BDA_EBDA_SEGMENT 0x40E
#define EBDA_SEARCH_BYTES 1024
#define BIOS_AREA_START 0xE0000
#define BIOS_AREA_END 0x100000
#define RSDP_ALIGN 16
#define RSDP_V1_BYTES 20
#define RSDP_RSDT_ADDRESS 16
#define SDT_HEADER_BYTES 36
#define SDT_LENGTH 4
/* A table longer than this is taken to be garbage, not ACPI. */
#define SDT_MAX_BYTES (1u << 20)
#define FADT_DSDT 40
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN 0x2000
#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0A
#define AML_ROOT_CHAR '\\'
#define SLP_TYP_MASK 0x7
/* Ticks to wait for SCI_EN after asking for ACPI mode, and for the power to go (3 s each). */
#define ACPI_WAIT_TICKS (3 * TIMER_HZ)
#define KBC_STATUS 0x64
#define KBC_COMMAND 0x64
#define KBC_STATUS_INPUT_FULL 0x02
#define KBC_PULSE_RESET 0xFE
#define KBC_SPIN_LIMIT 100000
#define RESET_CONTROL 0xCF9
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
/* Ticks to wait for each reset method to take effect (0.5 s). */
#define RESET_WAIT_TICKS (TIMER_HZ / 2)

static uint32_t read32(uint32_t address) { return *(const volatile uint32_t *)address; }

static bool checksum_ok(uint32_t address, uint32_t length) {
    uint8_t sum = 0;
    for (uint32_t i = 0; i < length; i++) sum += *(const volatile uint8_t *)(address + i);
    return sum == 0;
}

static uint32_t scan_rsdp(uint32_t start, uint32_t end) {
    for (uint32_t a = start; a + RSDP_V1_BYTES <= end; a += RSDP_ALIGN) {
        if (memcmp((const void *)a, "RSD PTR ", 8) == 0 && checksum_ok(a, RSDP_V1_BYTES)) return a;
    }
    return 0;
}

static uint32_t find_rsdp(void) {
    uint32_t ebda = (uint32_t)*(const volatile uint16_t *)BDA_EBDA_SEGMENT << 4;
    uint32_t found = 0;
    if (ebda >= 0x80000 && ebda < 0xA0000) found = scan_rsdp(ebda, ebda + EBDA_SEARCH_BYTES);
    return found ? found : scan_rsdp(BIOS_AREA_START, BIOS_AREA_END);
}

static bool table_ok(uint32_t address) {
    if (address == 0) return false;
    uint32_t length = read32(address + SDT_LENGTH);
    return length >= SDT_HEADER_BYTES && length <= SDT_MAX_BYTES && checksum_ok(address, length);
}

/* The address of the table with `signature` listed in the RSDT, or 0. */
static uint32_t find_table(uint32_t rsdt, const char *signature) {
    uint32_t entries = (read32(rsdt + SDT_LENGTH) - SDT_HEADER_BYTES) / 4;
    for (uint32_t i = 0; i < entries; i++) {
        uint32_t t = read32(rsdt + SDT_HEADER_BYTES + 4 * i);
        if (t && memcmp((const void *)t, signature, 4) == 0 && table_ok(t)) return t;
    }
    return 0;
}

/* An AML integer at *p (advanced past it); false if it is not a ZeroOp, OneOp or BytePrefix. */
static bool aml_small_integer(const uint8_t **p, unsigned *value) {
    const uint8_t *q = *p;
    if (*q == AML_ZERO_OP || *q == AML_ONE_OP) {
        *value = *q;
        *p = q + 1;
        return true;
    }
    if (*q == AML_BYTE_PREFIX) {
        *value = q[1];
        *p = q + 2;
        return true;
    }
    return false;
}

/* SLP_TYPa and SLP_TYPb of \_S5 in the DSDT at `dsdt`. */
static bool find_s5(uint32_t dsdt, unsigned *typ_a, unsigned *typ_b) {
    const uint8_t *p = (const uint8_t *)dsdt + SDT_HEADER_BYTES;
    const uint8_t *end = (const uint8_t *)dsdt + read32(dsdt + SDT_LENGTH);
    for (; p + 4 < end; p++) {
        if (memcmp(p, "_S5_", 4) != 0) continue;
        bool named = p[-1] == AML_NAME_OP || (p[-1] == AML_ROOT_CHAR && p[-2] == AML_NAME_OP);
        if (!named || p[4] != AML_PACKAGE_OP) continue;
        const uint8_t *q = p + 5;
        q += 1 + (*q >> 6); /* PkgLength: lead byte plus 0-3 more */
        q++;                /* NumElements */
        if (q + 4 > end) return false;
        return aml_small_integer(&q, typ_a) && aml_small_integer(&q, typ_b);
    }
    return false;
}

void power_off(void) {
    uint32_t rsdp = find_rsdp();
    if (!rsdp) {
        kprintf(ANSI_RED "poweroff: failed: no ACPI RSDP in the EBDA or 0xE0000-0xFFFFF" ANSI_RESET "\n");
        return;
    }
    uint32_t rsdt = read32(rsdp + RSDP_RSDT_ADDRESS);
    if (!table_ok(rsdt) || memcmp((const void *)rsdt, "RSDT", 4) != 0) {
        kprintf(ANSI_RED "poweroff: failed: the RSDP at %08x points to no valid RSDT (%08x)" ANSI_RESET "\n", rsdp, rsdt);
        return;
    }
    uint32_t fadt = find_table(rsdt, "FACP");
    if (!fadt) {
        kprintf(ANSI_RED "poweroff: failed: the RSDT lists no valid FADT (FACP)" ANSI_RESET "\n");
        return;
    }
    uint32_t dsdt = read32(fadt + FADT_DSDT);
    uint16_t pm1a = (uint16_t)read32(fadt + FADT_PM1A_CNT_BLK);
    uint16_t pm1b = (uint16_t)read32(fadt + FADT_PM1B_CNT_BLK);
    unsigned typ_a, typ_b;
    if (!table_ok(dsdt) || !find_s5(dsdt, &typ_a, &typ_b)) {
        kprintf(ANSI_RED "poweroff: failed: no \\_S5 package in the DSDT at %08x" ANSI_RESET "\n", dsdt);
        return;
    }
    if (pm1a == 0) {
        kprintf(ANSI_RED "poweroff: failed: the FADT gives no PM1a control block" ANSI_RESET "\n");
        return;
    }
    kprintf("poweroff: ACPI RSDP %08x, FADT %08x, PM1a_CNT port %x, \\_S5 SLP_TYP %u\n", rsdp, fadt, pm1a, typ_a);
    uint32_t smi_cmd = read32(fadt + FADT_SMI_CMD);
    uint8_t acpi_enable = *(const volatile uint8_t *)(fadt + FADT_ACPI_ENABLE);
    if (!(inw(pm1a) & PM1_CNT_SCI_EN) && smi_cmd && acpi_enable) {
        outb((uint16_t)smi_cmd, acpi_enable);
        uint32_t start = timer_ticks();
        while (!(inw(pm1a) & PM1_CNT_SCI_EN) && timer_ticks() - start < ACPI_WAIT_TICKS) sleep_ticks(1, false);
    }
    kprintf("poweroff: entering S5 (soft off). Goodbye.\n");
    cli(); /* nothing may run between the two writes */
    if (pm1b) outw(pm1b, (uint16_t)((typ_b & SLP_TYP_MASK) << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN));
    outw(pm1a, (uint16_t)((typ_a & SLP_TYP_MASK) << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN));
    sti();
    sleep_ticks(ACPI_WAIT_TICKS, false);
    kprintf(ANSI_RED "poweroff: failed: still running 3 s after writing SLP_EN to PM1a_CNT (port %x)" ANSI_RESET "\n", pm1a);
}

void power_reboot(void) {
    kprintf("reboot: pulsing the reset line through the 8042 keyboard controller\n");
    for (int i = 0; i < KBC_SPIN_LIMIT && (inb(KBC_STATUS) & KBC_STATUS_INPUT_FULL); i++) {
    }
    outb(KBC_COMMAND, KBC_PULSE_RESET);
    sleep_ticks(RESET_WAIT_TICKS, false);
    kprintf("reboot: still running; trying the reset control register at 0xCF9\n");
    outb(RESET_CONTROL, RCR_SYS_RST);
    outb(RESET_CONTROL, RCR_SYS_RST | RCR_RST_CPU);
    sleep_ticks(RESET_WAIT_TICKS, false);
    kprintf(ANSI_RED "reboot: failed: neither the 8042 nor port 0xCF9 reset the machine" ANSI_RESET "\n");
}
