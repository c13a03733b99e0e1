/**
 * All firmware tables of a Domus SMP PC in one call: the ACPI tables (acpi-layout.ts) and the MP
 * tables (mp-table.ts), written into guest RAM at their default or given addresses, with the
 * memory ranges the E820 map must report as not-RAM (pass them to buildE820Map's extraReserved).
 */
import type { E820ReservedRange } from '../../boot/e820';
import type { GuestPhysMemory } from '../../machine/guest-memory';
import { writeAcpiTables, type AcpiLayoutConfig, type AcpiTables, type FirmwareRange } from './acpi-layout';
import { writeMpTables, type MpTableConfig, type MpTables } from './mp-table';

/** What both table sets need. */
export interface PcTablesConfig {
  /** Processors the machine may have (maxvcpus). */
  vcpus: number;
  /** Processors plugged in at boot (vcpus=; default all); the others can be hot-added. */
  onlineVcpus?: number;
  ioApicId: number;
  /** ACPI placement and options (addresses default to acpi-layout's). */
  acpi?: Omit<AcpiLayoutConfig, 'vcpus' | 'ioApicId' | 'onlineVcpus'>;
  /** MP placement and options; `false` leaves the MP tables out. */
  mp?: Omit<MpTableConfig, 'vcpus' | 'ioApicId' | 'onlineVcpus'> | false;
}

/** Where everything went. */
export interface PcTables {
  acpi: AcpiTables;
  mp: MpTables | undefined;
  /** Every range to keep from the OS. */
  ranges: FirmwareRange[];
}

/** Writes the ACPI and MP tables; returns their places and the ranges to reserve. */
export function writePcTables(memory: GuestPhysMemory, cfg: PcTablesConfig): PcTables {
  const base = { vcpus: cfg.vcpus, onlineVcpus: cfg.onlineVcpus, ioApicId: cfg.ioApicId };
  const acpi = writeAcpiTables(memory, { ...cfg.acpi, ...base });
  const mp = cfg.mp === false ? undefined : writeMpTables(memory, { ...cfg.mp, ...base });
  return { acpi, mp, ranges: [...acpi.ranges, ...(mp?.ranges ?? [])] };
}

/** The ranges as buildE820Map's extraReserved entries. */
export function e820Reserved(ranges: readonly FirmwareRange[]): E820ReservedRange[] {
  return ranges.map((r) => ({ base: r.base, length: r.length, type: r.e820Type }));
}
