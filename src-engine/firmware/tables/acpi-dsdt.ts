/**
 * The DSDT of a Domus PC: the smallest namespace an OS needs to power the machine off and to
 * match processors to the MADT.
 *
 *   DefinitionBlock ("", "DSDT", 2, "DOMUS ", "DOMUSPC ", 1) {
 *     Name (\_S5, Package (4) { SLP_TYP_S5, SLP_TYP_S5, 0, 0 })
 *     Scope (\_SB) {
 *       Device (C000) { Name (_HID, "ACPI0007")  Name (_UID, 0) }   // one per VCPU
 *       ...
 *     }
 *   }
 *
 * References: ACPI Specification 6.5: 7.4.2 \_Sx system states (package of SLP_TYPa, SLP_TYPb
 * and two reserved integers; OSPM writes SLP_TYPa with SLP_EN to PM1a_CNT), 8.4 "Declaring
 * Processors" (Device with _HID ACPI0007 and a _UID equal to the MADT's ACPI Processor UID),
 * 19.6.30 DefinitionBlock (revision 2: 64-bit integers).
 * S5 is the only sleep state offered: the PM block (machine/acpi-pm.ts) turns it into power-off.
 */
import { ACPI_SLP_TYP_S5 } from '../../machine/acpi-pm';
import { device, integer, name, packageOf, scope, string } from './aml';
import { acpiTable } from './acpi-tables';

/** DSDT revision 2: integers are 64 bits. */
const DSDT_REVISION = 2;
/** _HID of a processor device. */
const PROCESSOR_HID = 'ACPI0007';
/** Hex digits in a processor device name (C000-CFFF). */
const CPU_NAME_DIGITS = 3;

/** The AML NameSeg of processor `uid`'s device: "C000", "C001", ... */
export function processorDeviceName(uid: number): string {
  return 'C' + uid.toString(16).toUpperCase().padStart(CPU_NAME_DIGITS, '0');
}

/** The DSDT for a machine with `vcpus` processors (UIDs 0..vcpus-1). */
export function buildDsdt(vcpus: number): Uint8Array {
  const s5 = name('\\_S5', packageOf([integer(ACPI_SLP_TYP_S5), integer(ACPI_SLP_TYP_S5), integer(0), integer(0)]));
  const cpus = Array.from({ length: vcpus }, (_, uid) =>
    device(processorDeviceName(uid), [name('_HID', string(PROCESSOR_HID)), name('_UID', integer(uid))]),
  );
  return acpiTable('DSDT', DSDT_REVISION, Uint8Array.from([...s5, ...scope('\\_SB', cpus)]));
}
