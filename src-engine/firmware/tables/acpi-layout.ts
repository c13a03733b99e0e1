/**
 * Lays the ACPI tables of a Domus PC out in guest memory and writes them: where each table goes,
 * which addresses the pointers hold, and which memory ranges the E820 map must keep from the OS.
 *
 * Layout (defaults; every address can be given):
 *   0xE0000           RSDP (revision 2; OSes search 0xE0000-0xFFFFF on 16-byte boundaries)
 *   next 64-aligned   FACS
 *   then, 16-aligned  DSDT, FACP (FADT), APIC (MADT), HPET, RSDT, XSDT
 * The 0xE0000 segment is outside the direct-boot E820 map's RAM (boot/e820.ts) and unused by the
 * high-level BIOS (firmware/bios/layout.ts uses 0xF0000-0xFFFFF); the returned range should be
 * reported as E820 type 3 (ACPI) so the OS keeps it until it has read the tables.
 *
 * The platform facts come from the devices themselves (ports of machine/acpi-pm.ts, addresses of
 * the IOAPIC, HPET and local APICs), so the tables cannot disagree with the machine.
 */
import { BootError } from '../../base/errors';
import { E820_ACPI } from '../../boot/e820';
import type { GuestPhysMemory } from '../../machine/guest-memory';
import {
  ACPI_GPE0_BLK, ACPI_GPE0_BLK_LEN, ACPI_PM1A_CNT_BLK, ACPI_PM1A_EVT_BLK, ACPI_PM1_CNT_LEN, ACPI_PM1_EVT_LEN,
  ACPI_PM_TMR_BLK, ACPI_PM_TMR_LEN, ACPI_SCI_IRQ,
} from '../../machine/acpi-pm';
import { REG_CENTURY } from '../../machine/cmos-rtc';
import { HPET_CAPABILITIES_LOW, HPET_DEFAULT_BASE } from '../../machine/hpet';
import { IOAPIC_DEFAULT_BASE } from '../../machine/ioapic';
import { APIC_DEFAULT_BASE } from '../../machine/lapic-regs';
import { PCI_RESET_CONTROL, PCI_RESET_VALUE } from '../../machine/pci-host';
import { alignUp } from './byte-builder';
import { buildDsdt } from './acpi-dsdt';
import {
  buildFacs, buildFadt, buildHpetTable, buildMadt, buildRsdp, buildRsdt, buildXsdt, FACS_ALIGN,
  MPS_INTI_ACTIVE_HIGH, MPS_INTI_CONFORMS, MPS_INTI_LEVEL, RSDP_BYTES,
} from './acpi-tables';

/** Default address of the RSDP (the tables follow it). */
export const ACPI_DEFAULT_RSDP = 0xe0000;
/** Start of the window OSes search for the RSDP. */
export const RSDP_SEARCH_START = 0xe0000;
/** End (exclusive) of the window OSes search for the RSDP. */
export const RSDP_SEARCH_END = 0x100000;
const RSDP_ALIGN = 16;
/** Alignment of the description tables. */
const TABLE_ALIGN = 16;
/** LAPIC input NMIs arrive on (LINT1), as the MP table and BIOSes say. */
const NMI_LINT = 1;
/** ISA IRQ of the PIT, and the GSI it arrives on. */
const PIT_IRQ = 0;
const PIT_GSI = 2;

/** A range of guest memory firmware tables occupy. */
export interface FirmwareRange {
  base: number;
  length: number;
  /** E820 type to report it as. */
  e820Type: number;
  what: string;
}

/** What the ACPI tables describe and where they go. */
export interface AcpiLayoutConfig {
  /** Processors the machine may have (maxvcpus). */
  vcpus: number;
  /**
   * Processors plugged in at boot (vcpus=; default all): UIDs 0 .. onlineVcpus-1 are Enabled in
   * the MADT, the others are hot-pluggable (machine/acpi-cpu-hotplug.ts).
   */
  onlineVcpus?: number;
  /** APIC ID of each VCPU (default: the VCPU index). */
  apicIds?: readonly number[];
  /** The IOAPIC's ID (must match the device's). */
  ioApicId: number;
  ioApicAddress?: number;
  lapicAddress?: number;
  /** Describe the HPET (default true). */
  hpet?: boolean;
  hpetAddress?: number;
  /** A VGA adapter is present (default false: "VGA Not Present" in the FADT). */
  vga?: boolean;
  /** RSDP address: 16-byte aligned inside 0xE0000-0xFFFFF. */
  rsdpAddress?: number;
  /** Start of the other tables (default: right after the RSDP). */
  tablesAddress?: number;
}

/** One table placed in memory. */
export interface PlacedTable {
  signature: string;
  address: number;
  bytes: Uint8Array;
}

/** The laid-out tables. */
export interface AcpiTables {
  rsdpAddress: number;
  /** Every table including the RSDP ("RSD PTR "), in address order. */
  tables: PlacedTable[];
  /** Ranges to keep out of the OS's RAM. */
  ranges: FirmwareRange[];
}

/** Computes the tables and their addresses (pure: nothing is written). */
export function layoutAcpiTables(cfg: AcpiLayoutConfig): AcpiTables {
  if (!Number.isInteger(cfg.vcpus) || cfg.vcpus < 1 || cfg.vcpus > 255) {
    throw new BootError('firmware.acpi-vcpus', `ACPI tables describe 1 to 255 processors; the domain has ${cfg.vcpus}.`);
  }
  const rsdpAddress = cfg.rsdpAddress ?? ACPI_DEFAULT_RSDP;
  if (rsdpAddress % RSDP_ALIGN !== 0 || rsdpAddress < RSDP_SEARCH_START || rsdpAddress + RSDP_BYTES > RSDP_SEARCH_END) {
    throw new BootError(
      'firmware.rsdp-placement',
      `The ACPI RSDP at 0x${rsdpAddress.toString(16)} would not be found: it must sit on a 16-byte boundary inside 0xe0000-0xfffff.`,
    );
  }
  let at = cfg.tablesAddress ?? rsdpAddress + RSDP_BYTES;
  const placed: PlacedTable[] = [];
  const place = (signature: string, bytes: Uint8Array, align: number): number => {
    at = alignUp(at, align);
    placed.push({ signature, address: at, bytes });
    const address = at;
    at += bytes.length;
    return address;
  };
  const online = cfg.onlineVcpus ?? cfg.vcpus;
  if (!Number.isInteger(online) || online < 1 || online > cfg.vcpus) {
    throw new BootError('firmware.acpi-online', `A domain with ${cfg.vcpus} processors (maxvcpus) can start 1 to ${cfg.vcpus} of them (vcpus), not ${online}.`);
  }
  const apicIds = cfg.apicIds ?? Array.from({ length: cfg.vcpus }, (_, v) => v);
  const facs = place('FACS', buildFacs(), FACS_ALIGN);
  const dsdt = place('DSDT', buildDsdt(cfg.vcpus, online, apicIds), TABLE_ALIGN);
  const fadt = place('FACP', buildFadt({
    facs, dsdt, sciIrq: ACPI_SCI_IRQ,
    pm1aEvtBlk: ACPI_PM1A_EVT_BLK, pm1EvtLen: ACPI_PM1_EVT_LEN,
    pm1aCntBlk: ACPI_PM1A_CNT_BLK, pm1CntLen: ACPI_PM1_CNT_LEN,
    pmTmrBlk: ACPI_PM_TMR_BLK, pmTmrLen: ACPI_PM_TMR_LEN,
    gpe0Blk: ACPI_GPE0_BLK, gpe0BlkLen: ACPI_GPE0_BLK_LEN,
    resetPort: PCI_RESET_CONTROL, resetValue: PCI_RESET_VALUE,
    century: REG_CENTURY, vga: cfg.vga ?? false,
  }), TABLE_ALIGN);
  const madt = place('APIC', buildMadt({
    lapicAddress: cfg.lapicAddress ?? APIC_DEFAULT_BASE,
    apicIds,
    enabled: online,
    ioApic: { id: cfg.ioApicId, address: cfg.ioApicAddress ?? IOAPIC_DEFAULT_BASE, gsiBase: 0 },
    overrides: [
      { irq: PIT_IRQ, gsi: PIT_GSI, flags: MPS_INTI_CONFORMS },
      { irq: ACPI_SCI_IRQ, gsi: ACPI_SCI_IRQ, flags: MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL },
    ],
    nmiLint: NMI_LINT,
  }), TABLE_ALIGN);
  const described = [fadt, madt];
  if (cfg.hpet ?? true) described.push(place('HPET', buildHpetTable(cfg.hpetAddress ?? HPET_DEFAULT_BASE, HPET_CAPABILITIES_LOW), TABLE_ALIGN));
  const rsdt = place('RSDT', buildRsdt(described), TABLE_ALIGN);
  const xsdt = place('XSDT', buildXsdt(described), TABLE_ALIGN);
  placed.push({ signature: 'RSD PTR ', address: rsdpAddress, bytes: buildRsdp(rsdt, xsdt) });
  placed.sort((a, b) => a.address - b.address);
  for (let i = 1; i < placed.length; i++) {
    const prev = placed[i - 1];
    if (prev.address + prev.bytes.length > placed[i].address) {
      throw new BootError('firmware.acpi-overlap', `ACPI tables ${prev.signature} and ${placed[i].signature} overlap; give the tables another address.`);
    }
  }
  const first = placed[0].address;
  const last = placed[placed.length - 1];
  return {
    rsdpAddress,
    tables: placed,
    ranges: [{ base: first, length: last.address + last.bytes.length - first, e820Type: E820_ACPI, what: 'ACPI tables' }],
  };
}

/** Lays out the tables and writes them into guest RAM; returns the layout. */
export function writeAcpiTables(memory: GuestPhysMemory, cfg: AcpiLayoutConfig): AcpiTables {
  const layout = layoutAcpiTables(cfg);
  for (const t of layout.tables) {
    if (!memory.isRam(t.address, t.bytes.length)) {
      throw new BootError('firmware.acpi-not-ram', `The ACPI ${t.signature} table at 0x${t.address.toString(16)} does not lie in the guest's RAM.`);
    }
    memory.write(t.address, t.bytes);
  }
  return layout;
}
