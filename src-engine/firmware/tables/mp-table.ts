/**
 * The Intel MultiProcessor Specification 1.4 tables of a Domus PC: the MP floating pointer
 * structure and the MP configuration table (processors, the ISA bus, the IOAPIC, I/O and local
 * interrupt assignments). Older kernels and `acpi=off` Linux find the CPUs and the IOAPIC here.
 *
 * Reference: MultiProcessor Specification 1.4 (Intel 242016-006):
 * - 4.1 floating pointer: "_MP_", physical address of the configuration table, length 1 (in
 *   16-byte units), revision 4, checksum, feature byte 1 = 0 (a configuration table is present),
 *   feature byte 2 bit 7 IMCRP = 0 (virtual wire mode, no IMCR); searched in the first KiB of the
 *   EBDA, the last KiB of base memory, and 0xF0000-0xFFFFF;
 * - 4.2 configuration table header (44 bytes, "PCMP", base table length, revision 4, checksum,
 *   OEM and product IDs, entry count, local APIC address);
 * - 4.3 entries: processor (type 0, 20 bytes: APIC ID, APIC version, EN/BP flags, CPU signature,
 *   feature flags), bus (type 1, 8 bytes, "ISA   "), I/O APIC (type 2, 8 bytes), I/O interrupt
 *   assignment (type 3) and local interrupt assignment (type 4), 8 bytes each: interrupt type
 *   (INT 0, NMI 1, SMI 2, ExtINT 3), polarity/trigger flags (bits 1-0, 3-2), source bus and IRQ,
 *   destination APIC ID and input pin.
 * Interrupt routing matches the ACPI MADT: ISA IRQ n on IOAPIC pin n, except IRQ0 on pin 2 and
 * IRQ 2 (the 8259 cascade) not connected; the SCI (IRQ 9) level/active high; LINT0 ExtINT and
 * LINT1 NMI on every local APIC.
 */
import { BootError } from '../../base/errors';
import { BIOS_AREA_START, E820_RESERVED, EBDA_START, HIGH_MEMORY_START, LOW_MEMORY_END } from '../../boot/e820';
import { DEFAULT_FEATURES, leaf1Edx } from '../../cpu/cpuid';
import { RESET_SIGNATURE } from '../../cpu/reset';
import type { GuestPhysMemory } from '../../machine/guest-memory';
import { ACPI_SCI_IRQ } from '../../machine/acpi-pm';
import { IOAPIC_DEFAULT_BASE, IOAPIC_VERSION } from '../../machine/ioapic';
import { ioApicPinForIsaIrq, ISA_IRQ_COUNT, PIC_CASCADE_INPUT } from '../../machine/isa-irq-router';
import { APIC_DEFAULT_BASE, APIC_VERSION_VALUE } from '../../machine/lapic-regs';
import { ByteBuilder, fixChecksum } from './byte-builder';
import { MPS_INTI_ACTIVE_HIGH, MPS_INTI_CONFORMS, MPS_INTI_LEVEL } from './acpi-tables';
import type { FirmwareRange } from './acpi-layout';

/** Default floating pointer address: the last 16 bytes of base memory (inside the EBDA). */
export const MP_DEFAULT_FLOATING = 0x9fff0;
/** Default configuration table address (after the ACPI tables in the 0xE0000 segment). */
export const MP_DEFAULT_CONFIG = 0xe8000;
/** Floating pointer: 16 bytes, checksum at 10. */
export const MP_FLOATING_BYTES = 16;
const MP_FLOATING_CHECKSUM = 10;
const MP_FLOATING_ALIGN = 16;
/** Specification revision 1.4. */
const MP_SPEC_REV = 4;
/** Configuration table header bytes and where its checksum sits. */
const MP_HEADER_BYTES = 44;
const MP_HEADER_CHECKSUM = 7;
const MP_HEADER_LENGTH = 4;
const MP_HEADER_ENTRY_COUNT = 34;
const MP_OEM_ID = 'DOMUS';
const MP_PRODUCT_ID = 'DOMUS PC';
/** Entry types. */
const ENTRY_PROCESSOR = 0;
const ENTRY_BUS = 1;
const ENTRY_IOAPIC = 2;
const ENTRY_IO_INTERRUPT = 3;
const ENTRY_LOCAL_INTERRUPT = 4;
/** Processor flags: enabled, bootstrap processor. */
const CPU_ENABLED = 1;
const CPU_BSP = 2;
/** I/O APIC flags: usable. */
const IOAPIC_USABLE = 1;
/** Interrupt types. */
const INT_TYPE_INT = 0;
const INT_TYPE_NMI = 1;
const INT_TYPE_EXTINT = 3;
/** The ISA bus's ID. */
const BUS_ID_ISA = 0;
/** Every local APIC. */
const ALL_LAPICS = 0xff;
/** The local APIC version byte (the version register's bits 7-0). */
const LAPIC_VERSION = APIC_VERSION_VALUE & 0xff;

/** What the MP tables describe and where they go. */
export interface MpTableConfig {
  vcpus: number;
  /**
   * Processors usable at boot (default all): the others are listed without EN, as the MP
   * specification says for unusable processors (an MP-table OS never uses them; hot-adding them
   * needs ACPI).
   */
  onlineVcpus?: number;
  /** APIC ID of each VCPU (default: the index); VCPU 0 is the BSP. */
  apicIds?: readonly number[];
  ioApicId: number;
  ioApicAddress?: number;
  lapicAddress?: number;
  /** CPUID.1 EAX signature and EDX feature flags reported for each processor. */
  cpuSignature?: number;
  featureFlags?: number;
  floatingAddress?: number;
  configAddress?: number;
}

/** The MP configuration table bytes for `cfg`. */
export function buildMpConfigTable(cfg: MpTableConfig): Uint8Array {
  const apicIds = cfg.apicIds ?? Array.from({ length: cfg.vcpus }, (_, v) => v);
  const signature = cfg.cpuSignature ?? RESET_SIGNATURE;
  const features = cfg.featureFlags ?? leaf1Edx({ ...DEFAULT_FEATURES, apic: true });
  const entries = new ByteBuilder();
  let count = 0;
  const online = cfg.onlineVcpus ?? apicIds.length;
  apicIds.forEach((id, v) => {
    const flags = (v < online ? CPU_ENABLED : 0) | (v === 0 ? CPU_BSP : 0);
    entries.u8(ENTRY_PROCESSOR).u8(id).u8(LAPIC_VERSION).u8(flags).u32(signature).u32(features).zeros(8);
    count++;
  });
  entries.u8(ENTRY_BUS).u8(BUS_ID_ISA).ascii('ISA', 6);
  count++;
  entries.u8(ENTRY_IOAPIC).u8(cfg.ioApicId).u8(IOAPIC_VERSION).u8(IOAPIC_USABLE).u32(cfg.ioApicAddress ?? IOAPIC_DEFAULT_BASE);
  count++;
  for (let irq = 0; irq < ISA_IRQ_COUNT; irq++) {
    if (irq === PIC_CASCADE_INPUT) continue;
    const flags = irq === ACPI_SCI_IRQ ? MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL : MPS_INTI_CONFORMS;
    entries.u8(ENTRY_IO_INTERRUPT).u8(INT_TYPE_INT).u16(flags).u8(BUS_ID_ISA).u8(irq).u8(cfg.ioApicId).u8(ioApicPinForIsaIrq(irq));
    count++;
  }
  entries.u8(ENTRY_LOCAL_INTERRUPT).u8(INT_TYPE_EXTINT).u16(MPS_INTI_CONFORMS).u8(BUS_ID_ISA).u8(0).u8(ALL_LAPICS).u8(0);
  entries.u8(ENTRY_LOCAL_INTERRUPT).u8(INT_TYPE_NMI).u16(MPS_INTI_CONFORMS).u8(BUS_ID_ISA).u8(0).u8(ALL_LAPICS).u8(1);
  count += 2;
  const body = entries.build();
  const table = new ByteBuilder()
    .ascii('PCMP', 4)
    .u16(MP_HEADER_BYTES + body.length)
    .u8(MP_SPEC_REV)
    .u8(0)
    .ascii(MP_OEM_ID, 8)
    .ascii(MP_PRODUCT_ID, 12)
    .u32(0).u16(0) // OEM table pointer and size
    .u16(count)
    .u32(cfg.lapicAddress ?? APIC_DEFAULT_BASE)
    .u16(0).u8(0).u8(0) // extended table length and checksum, reserved
    .bytes(body)
    .build();
  fixChecksum(table, MP_HEADER_CHECKSUM);
  return table;
}

/** The floating pointer structure pointing at a configuration table at `configAddress`. */
export function buildMpFloating(configAddress: number): Uint8Array {
  const fp = new ByteBuilder()
    .ascii('_MP_', 4)
    .u32(configAddress)
    .u8(MP_FLOATING_BYTES / MP_FLOATING_ALIGN)
    .u8(MP_SPEC_REV)
    .u8(0)
    .zeros(5) // feature bytes: configuration table present, virtual wire mode
    .build();
  fixChecksum(fp, MP_FLOATING_CHECKSUM);
  return fp;
}

/** True if `[base, base+len)` lies where the MP specification says to search. */
function inSearchArea(base: number, len: number): boolean {
  const inside = (lo: number, hi: number) => base >= lo && base + len <= hi;
  return inside(EBDA_START, LOW_MEMORY_END) || inside(BIOS_AREA_START, HIGH_MEMORY_START);
}

/** Where the MP tables went. */
export interface MpTables {
  floatingAddress: number;
  configAddress: number;
  /** Ranges to reserve in the E820 map (ranges the standard map already reserves are left out). */
  ranges: FirmwareRange[];
}

/** Builds both structures and writes them into guest RAM. */
export function writeMpTables(memory: GuestPhysMemory, cfg: MpTableConfig): MpTables {
  const floatingAddress = cfg.floatingAddress ?? MP_DEFAULT_FLOATING;
  const configAddress = cfg.configAddress ?? MP_DEFAULT_CONFIG;
  if (floatingAddress % MP_FLOATING_ALIGN !== 0 || !inSearchArea(floatingAddress, MP_FLOATING_BYTES)) {
    throw new BootError(
      'firmware.mp-placement',
      `The MP floating pointer at 0x${floatingAddress.toString(16)} would not be found: put it on a 16-byte boundary in 0x9fc00-0x9ffff or 0xf0000-0xfffff.`,
    );
  }
  const config = buildMpConfigTable(cfg);
  const floating = buildMpFloating(configAddress);
  for (const [addr, bytes] of [[configAddress, config], [floatingAddress, floating]] as const) {
    if (!memory.isRam(addr, bytes.length)) {
      throw new BootError('firmware.mp-not-ram', `The MP table at 0x${addr.toString(16)} does not lie in the guest's RAM.`);
    }
    memory.write(addr, bytes);
  }
  const ranges: FirmwareRange[] = [];
  if (!inSearchArea(configAddress, config.length)) {
    ranges.push({ base: configAddress, length: config.length, e820Type: E820_RESERVED, what: 'MP configuration table' });
  }
  return { floatingAddress, configAddress, ranges };
}

/** Header fields for readers of the table (tests, debug dumps). */
export const MP_CONFIG_LAYOUT = { headerBytes: MP_HEADER_BYTES, lengthOffset: MP_HEADER_LENGTH, entryCountOffset: MP_HEADER_ENTRY_COUNT } as const;
