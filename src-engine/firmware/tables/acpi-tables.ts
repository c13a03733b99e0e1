/**
 * Builders of the individual ACPI tables of a Domus PC: RSDP, RSDT, XSDT, FADT, FACS, MADT and
 * HPET (the DSDT is in acpi-dsdt.ts; placement in guest memory in acpi-layout.ts).
 *
 * References: ACPI Specification 6.5 chapter 5: 5.2.5 RSDP (revision 2, 36 bytes, checksum over
 * the first 20 bytes and an extended checksum over all), 5.2.6 system description table header
 * (36 bytes, checksum at offset 9), 5.2.7 RSDT, 5.2.8 XSDT, 5.2.9 FADT (the ACPI 2.0-4.0 layout
 * of 244 bytes, revision 4), 5.2.10 FACS (64 bytes, 64-byte aligned), 5.2.12 MADT (Processor
 * Local APIC, I/O APIC, Interrupt Source Override, Local APIC NMI structures); IA-PC HPET
 * Specification 1.0a 3.2.4 (the HPET description table, 56 bytes).
 */
import {
  ByteBuilder, fixChecksum, GAS_ACCESS_BYTE, GAS_ACCESS_DWORD, GAS_ACCESS_UNDEFINED, GAS_ACCESS_WORD, GAS_SPACE_IO,
  GAS_SPACE_MEMORY,
} from './byte-builder';

/** OEM ID of every Domus table (6 characters). */
export const ACPI_OEM_ID = 'DOMUS ';
/** OEM table ID of every Domus table (8 characters). */
export const ACPI_OEM_TABLE_ID = 'DOMUSPC ';
/** OEM revision of every Domus table. */
export const ACPI_OEM_REVISION = 1;
/** Creator ID of every Domus table (4 characters). */
export const ACPI_CREATOR_ID = 'DOMU';
/** Creator revision of every Domus table. */
export const ACPI_CREATOR_REVISION = 1;
/** Bytes of the common table header, and where its checksum sits. */
export const ACPI_HEADER_BYTES = 36;
const HEADER_CHECKSUM = 9;
const HEADER_LENGTH = 4;
/** RSDP: 20 bytes covered by the first checksum, 36 in all, checksums at 8 and 32. */
export const RSDP_BYTES = 36;
const RSDP_V1_BYTES = 20;
const RSDP_CHECKSUM = 8;
const RSDP_EXT_CHECKSUM = 32;
const RSDP_REVISION = 2;
/** FADT revision and length (ACPI 2.0-4.0 layout, with the X_ blocks). */
const FADT_REVISION = 4;
/** Length of the FADT (ACPI 2.0-4.0 layout with the X_ blocks). */
export const FADT_BYTES = 244;
/** Length of the FACS. */
export const FACS_BYTES = 64;
/** Alignment the FACS needs. */
export const FACS_ALIGN = 64;
const FACS_VERSION = 2;

/** FADT Flags (ACPI 6.5 Table 5.10). */
const FADT_WBINVD = 1 << 0;
const FADT_PROC_C1 = 1 << 2;
/** No sleep button (the power button is a fixed feature: PWR_BUTTON = 0). */
const FADT_SLP_BUTTON = 1 << 5;
/** RTC wake status is not in the fixed registers. */
const FADT_FIX_RTC = 1 << 6;
const FADT_RESET_REG_SUP = 1 << 10;
/** IA-PC boot architecture flags: LEGACY_DEVICES, 8042, VGA Not Present. */
const BOOT_ARCH_LEGACY_DEVICES = 1 << 0;
const BOOT_ARCH_8042 = 1 << 1;
const BOOT_ARCH_NO_VGA = 1 << 2;
/** P_LVL2_LAT above 100 and P_LVL3_LAT above 1000 say C2 and C3 are not supported. */
const C2_NOT_SUPPORTED = 101;
const C3_NOT_SUPPORTED = 1001;
/** Bits per byte, for GAS register widths. */
const BYTE_BITS = 8;

/** MADT flags: PCAT_COMPAT (dual 8259s present). */
const MADT_PCAT_COMPAT = 1;
/**
 * MADT revision 1. Keep it below 5: from revision 5 on, Linux treats a Local APIC entry without
 * Enabled as usable only if it also has Online Capable, which ACPI 6.3 added; our hot-pluggable
 * processors rely on the older rule.
 */
const MADT_REVISION = 1;
/** MADT structure types and lengths. */
const MADT_LOCAL_APIC = 0;
const MADT_LOCAL_APIC_BYTES = 8;
const MADT_IO_APIC = 1;
const MADT_IO_APIC_BYTES = 12;
const MADT_SOURCE_OVERRIDE = 2;
const MADT_SOURCE_OVERRIDE_BYTES = 10;
const MADT_LOCAL_APIC_NMI = 4;
const MADT_LOCAL_APIC_NMI_BYTES = 6;
/** Processor Local APIC flags bit 0: Enabled (the processor is usable now). */
export const MADT_LAPIC_ENABLED = 1;
/** "All processors" in a Local APIC NMI structure. */
const ALL_PROCESSORS = 0xff;
// MPS INTI flags (MADT Table 5.26): polarity bits 1-0, trigger mode bits 3-2.
/** MPS INTI flags 0: polarity and trigger mode conform to the bus (ISA: edge, active high). */
export const MPS_INTI_CONFORMS = 0x0;
/** MPS INTI polarity 01: active high. */
export const MPS_INTI_ACTIVE_HIGH = 0x1;
/** MPS INTI polarity 11: active low. */
export const MPS_INTI_ACTIVE_LOW = 0x3;
/** MPS INTI trigger mode 01: edge. */
export const MPS_INTI_EDGE = 0x1 << 2;
/** MPS INTI trigger mode 11: level. */
export const MPS_INTI_LEVEL = 0x3 << 2;
/** ISA is bus 0 in interrupt source overrides. */
const BUS_ISA = 0;

/** HPET table revision, minimum clock tick in periodic mode, page protection (none). */
const HPET_TABLE_REVISION = 1;
const HPET_MIN_TICK = 0x80;
const HPET_NO_PAGE_PROTECTION = 0;
const HPET_ADDRESS_BITS = 64;

/** Wraps `body` in a table header with `signature` and `revision`, checksum fixed. */
export function acpiTable(signature: string, revision: number, body: Uint8Array): Uint8Array {
  const b = new ByteBuilder()
    .ascii(signature, 4)
    .u32(ACPI_HEADER_BYTES + body.length)
    .u8(revision)
    .u8(0)
    .ascii(ACPI_OEM_ID, 6)
    .ascii(ACPI_OEM_TABLE_ID, 8)
    .u32(ACPI_OEM_REVISION)
    .ascii(ACPI_CREATOR_ID, 4)
    .u32(ACPI_CREATOR_REVISION)
    .bytes(body);
  const table = b.build();
  fixChecksum(table, HEADER_CHECKSUM);
  return table;
}

/** The length field of a table (header offset 4). */
export function acpiTableLength(table: Uint8Array): number {
  return new DataView(table.buffer, table.byteOffset).getUint32(HEADER_LENGTH, true);
}

/** Where the FADT points. */
export interface FadtConfig {
  facs: number;
  dsdt: number;
  sciIrq: number;
  pm1aEvtBlk: number;
  pm1EvtLen: number;
  pm1aCntBlk: number;
  pm1CntLen: number;
  pmTmrBlk: number;
  pmTmrLen: number;
  gpe0Blk: number;
  gpe0BlkLen: number;
  /** The ACPI reset register: an I/O port and the byte to write. */
  resetPort: number;
  resetValue: number;
  /** CMOS index of the century byte. */
  century: number;
  /** A VGA device is present (else IAPC_BOOT_ARCH says "VGA Not Present"). */
  vga: boolean;
}

/** The FADT ("FACP"), revision 4, 244 bytes. SMI_CMD is 0: the platform is always in ACPI mode. */
export function buildFadt(c: FadtConfig): Uint8Array {
  const io = (b: ByteBuilder, port: number, len: number, access: number) =>
    b.gas(GAS_SPACE_IO, len * BYTE_BITS, 0, port === 0 ? GAS_ACCESS_UNDEFINED : access, port);
  const b = new ByteBuilder()
    .u32(c.facs).u32(c.dsdt)
    .u8(0) // reserved (INT_MODEL in ACPI 1.0)
    .u8(0) // Preferred_PM_Profile: unspecified
    .u16(c.sciIrq)
    .u32(0).u8(0).u8(0).u8(0).u8(0) // SMI_CMD, ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
    .u32(c.pm1aEvtBlk).u32(0).u32(c.pm1aCntBlk).u32(0).u32(0).u32(c.pmTmrBlk).u32(c.gpe0Blk).u32(0)
    .u8(c.pm1EvtLen).u8(c.pm1CntLen).u8(0).u8(c.pmTmrLen).u8(c.gpe0BlkLen).u8(0).u8(0) // ... GPE1_BASE
    .u8(0) // CST_CNT
    .u16(C2_NOT_SUPPORTED).u16(C3_NOT_SUPPORTED)
    .u16(0).u16(0) // FLUSH_SIZE, FLUSH_STRIDE
    .u8(0).u8(0) // DUTY_OFFSET, DUTY_WIDTH
    .u8(0).u8(0).u8(c.century) // DAY_ALRM, MON_ALRM, CENTURY
    .u16(BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | (c.vga ? 0 : BOOT_ARCH_NO_VGA))
    .u8(0)
    .u32(FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_RESET_REG_SUP)
    .gas(GAS_SPACE_IO, BYTE_BITS, 0, GAS_ACCESS_BYTE, c.resetPort)
    .u8(c.resetValue)
    .u16(0).u8(0) // ARM_BOOT_ARCH, FADT minor version
    .u64(c.facs).u64(c.dsdt);
  io(b, c.pm1aEvtBlk, c.pm1EvtLen, GAS_ACCESS_DWORD);
  io(b, 0, 0, 0); // X_PM1b_EVT_BLK
  io(b, c.pm1aCntBlk, c.pm1CntLen, GAS_ACCESS_WORD);
  io(b, 0, 0, 0); // X_PM1b_CNT_BLK
  io(b, 0, 0, 0); // X_PM2_CNT_BLK
  io(b, c.pmTmrBlk, c.pmTmrLen, GAS_ACCESS_DWORD);
  io(b, c.gpe0Blk, c.gpe0BlkLen, GAS_ACCESS_BYTE);
  io(b, 0, 0, 0); // X_GPE1_BLK
  return acpiTable('FACP', FADT_REVISION, b.build());
}

/** The FACS: no checksum, no waking vector (no S3), no global lock. */
export function buildFacs(): Uint8Array {
  return new ByteBuilder()
    .ascii('FACS', 4).u32(FACS_BYTES)
    .u32(0) // hardware signature
    .u32(0) // firmware waking vector
    .u32(0) // global lock
    .u32(0) // flags
    .u64(0) // X firmware waking vector
    .u8(FACS_VERSION).zeros(3)
    .u32(0) // OSPM flags
    .zeros(24)
    .build();
}

/** An ISA interrupt that does not arrive on the IOAPIC pin of its number, or not edge/high. */
export interface SourceOverride {
  irq: number;
  gsi: number;
  /** MPS INTI flags. */
  flags: number;
}

/**
 * A Processor Local APIC structure (MADT type 0, 8 bytes): ACPI processor UID, APIC ID, flags
 * (Enabled or not). A processor not enabled may be hot-added later: with a MADT revision below 5
 * (no Online Capable flag), Linux counts such entries as possible CPUs (arch/x86/kernel/acpi/boot.c
 * acpi_is_processor_usable); the processor's _MAT returns the structure with Enabled set once it
 * is plugged in.
 */
export function madtLocalApic(uid: number, apicId: number, enabled: boolean): number[] {
  const flags = enabled ? MADT_LAPIC_ENABLED : 0;
  return [MADT_LOCAL_APIC, MADT_LOCAL_APIC_BYTES, uid, apicId, flags, 0, 0, 0];
}

/** What the MADT describes. */
export interface MadtConfig {
  lapicAddress: number;
  /** APIC ID of each processor, by ACPI processor UID (= VCPU index). */
  apicIds: readonly number[];
  /** Processors enabled at boot: UIDs 0 .. enabled-1 (default all); the rest are hot-pluggable. */
  enabled?: number;
  ioApic: { id: number; address: number; gsiBase: number };
  overrides: readonly SourceOverride[];
  /** LAPIC input the NMI is wired to on every processor. */
  nmiLint: number;
}

/** The MADT ("APIC"). */
export function buildMadt(c: MadtConfig): Uint8Array {
  const b = new ByteBuilder().u32(c.lapicAddress).u32(MADT_PCAT_COMPAT);
  const enabled = c.enabled ?? c.apicIds.length;
  c.apicIds.forEach((apicId, uid) => b.bytes(madtLocalApic(uid, apicId, uid < enabled)));
  b.u8(MADT_IO_APIC).u8(MADT_IO_APIC_BYTES).u8(c.ioApic.id).u8(0).u32(c.ioApic.address).u32(c.ioApic.gsiBase);
  for (const o of c.overrides) b.u8(MADT_SOURCE_OVERRIDE).u8(MADT_SOURCE_OVERRIDE_BYTES).u8(BUS_ISA).u8(o.irq).u32(o.gsi).u16(o.flags);
  b.u8(MADT_LOCAL_APIC_NMI).u8(MADT_LOCAL_APIC_NMI_BYTES).u8(ALL_PROCESSORS).u16(MPS_INTI_CONFORMS).u8(c.nmiLint);
  return acpiTable('APIC', MADT_REVISION, b.build());
}

/** The HPET description table for the timer block at `address` with capabilities `blockId`. */
export function buildHpetTable(address: number, blockId: number): Uint8Array {
  const b = new ByteBuilder()
    .u32(blockId)
    .gas(GAS_SPACE_MEMORY, HPET_ADDRESS_BITS, 0, GAS_ACCESS_UNDEFINED, address)
    .u8(0) // HPET number
    .u16(HPET_MIN_TICK)
    .u8(HPET_NO_PAGE_PROTECTION);
  return acpiTable('HPET', HPET_TABLE_REVISION, b.build());
}

/** The RSDT: 32-bit pointers to the tables. */
export function buildRsdt(tables: readonly number[]): Uint8Array {
  const b = new ByteBuilder();
  for (const t of tables) b.u32(t);
  return acpiTable('RSDT', 1, b.build());
}

/** The XSDT: 64-bit pointers to the same tables. */
export function buildXsdt(tables: readonly number[]): Uint8Array {
  const b = new ByteBuilder();
  for (const t of tables) b.u64(t);
  return acpiTable('XSDT', 1, b.build());
}

/** The RSDP (revision 2) pointing at the RSDT and the XSDT. */
export function buildRsdp(rsdt: number, xsdt: number): Uint8Array {
  const rsdp = new ByteBuilder()
    .ascii('RSD PTR ', 8)
    .u8(0)
    .ascii(ACPI_OEM_ID, 6)
    .u8(RSDP_REVISION)
    .u32(rsdt)
    .u32(RSDP_BYTES)
    .u64(xsdt)
    .u8(0)
    .zeros(3)
    .build();
  fixChecksum(rsdp, RSDP_CHECKSUM, 0, RSDP_V1_BYTES);
  fixChecksum(rsdp, RSDP_EXT_CHECKSUM);
  return rsdp;
}
