/**
 * The DSDT of a Domus PC: the smallest namespace an OS needs to power the machine off, to match
 * processors to the MADT, and to hear about processors plugged in and pulled out.
 *
 *   DefinitionBlock ("", "DSDT", 2, "DOMUS ", "DOMUSPC ", 1) {
 *     Name (\_S5, Package (4) { SLP_TYP_S5, SLP_TYP_S5, 0, 0 })
 *     Scope (\_SB) {
 *       Device (C000) { Name (_HID, "ACPI0007")  Name (_UID, 0) }   // one per VCPU
 *       ...                                                         // and the hotplug methods
 *     }
 *     Scope (\_GPE) { Method (_E02) { ... } }                       // CPU hotplug event
 *   }
 *
 * The processor objects and the hotplug methods are in acpi-cpu-hotplug-aml.ts.
 * References: ACPI Specification 6.5: 7.4.2 \_Sx system states (package of SLP_TYPa, SLP_TYPb
 * and two reserved integers; OSPM writes SLP_TYPa with SLP_EN to PM1a_CNT), 8.4 "Declaring
 * Processors" (Device with _HID ACPI0007 and a _UID equal to the MADT's ACPI Processor UID),
 * 19.6.30 DefinitionBlock (revision 2: 64-bit integers).
 * S5 is the only sleep state offered: the PM block (machine/acpi-pm.ts) turns it into power-off.
 */
import { ACPI_SLP_TYP_S5 } from '../../machine/acpi-pm';
import { integer, name, packageOf, scope } from './aml';
import { acpiTable } from './acpi-tables';
import { cpuHotplugAml } from './acpi-cpu-hotplug-aml';

export { processorDeviceName } from './acpi-cpu-hotplug-aml';

/** DSDT revision 2: integers are 64 bits. */
const DSDT_REVISION = 2;

/**
 * The DSDT for a machine with `vcpus` processors (UIDs 0..vcpus-1) of which `present` (default
 * all) are plugged in at boot; `apicIds` gives each processor's APIC ID (default: its UID).
 */
export function buildDsdt(vcpus: number, present = vcpus, apicIds?: readonly number[]): Uint8Array {
  const s5 = name('\\_S5', packageOf([integer(ACPI_SLP_TYP_S5), integer(ACPI_SLP_TYP_S5), integer(0), integer(0)]));
  const cpus = cpuHotplugAml({ cpus: vcpus, present, apicIds });
  const body = [...s5, ...scope('\\_SB', cpus.sb), ...(cpus.gpe ?? [])];
  return acpiTable('DSDT', DSDT_REVISION, Uint8Array.from(body));
}
