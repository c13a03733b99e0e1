/**
 * The DSDT's processor objects and CPU hotplug methods, driven by the controller in
 * machine/acpi-cpu-hotplug.ts:
 *
 *   Scope (\_SB) {
 *     Device (C000) { Name (_HID, "ACPI0007")  Name (_UID, 0) }          // the boot CPU
 *     Device (C001) {                                                    // one per other CPU
 *       Name (_HID, "ACPI0007")  Name (_UID, 1)
 *       Name (CPST, 1)                          // what the OS was last told: present or not
 *       Method (_STA) { If (P001) { Return (0x0F) }  Return (Zero) }
 *       Method (_MAT) { If (P001) { Return (<LAPIC entry, Enabled>) }  Return (<not enabled>) }
 *       Method (_EJ0, 1) { Store (1, CPEJ) }     // the OS released CPU 1
 *     }
 *     ...
 *     OperationRegion (PRST, SystemIO, 0xAF00, 32)
 *     Field (PRST, ByteAcc, NoLock, Preserve) { P000, 1, P001, 1, ... }  // present bitmap
 *     OperationRegion (PREJ, SystemIO, 0xAF20, 1)
 *     Field (PREJ, ByteAcc, NoLock, WriteAsZeros) { CPEJ, 8 }            // eject register
 *     Method (CPSC) {                           // a CPU came or went: tell the OS
 *       If (LNotEqual (P001, \_SB.C001.CPST)) {
 *         Store (P001, \_SB.C001.CPST)
 *         If (P001) { Notify (\_SB.C001, 1) } Else { Notify (\_SB.C001, 3) }
 *       }
 *       ...
 *     }
 *   }
 *   Scope (\_GPE) { Method (_E02) { \_SB.CPSC () } }                     // GPE0 bit 2
 *
 * The scheme is Xen's libacpi one (tools/libacpi/mk_dsdt.c: PRST bitmap at 0xAF00, a GPE 2
 * method comparing each bit with the state the OS knows, Notify 1 = Device Check for an added
 * CPU, 3 = Eject Request for a removed one, _STA and _MAT per processor), written for Device
 * (ACPI0007) processor objects and with an eject register so the toolstack learns when the OS
 * has let a removed CPU go. References: ACPI Specification 6.5, 5.6.4 (GPE _Exx methods),
 * 5.6.6 (Notify values), 6.2.10 _MAT (a buffer of MADT structures), 6.3.3 _EJx, 6.3.7 _STA
 * (0x0F: present, enabled, shown in UI, functioning), 8.4 (processor devices).
 */
import {
  ACPI_CPU_EJECT_PORT, ACPI_CPU_EJECT_PORTS, ACPI_CPU_HOTPLUG_BASE, ACPI_CPU_PRESENT_BYTES, ACPI_GPE_CPU_HOTPLUG,
} from '../../machine/acpi-cpu-hotplug';
import {
  AML_FIELD_BYTE_ACC, AML_FIELD_PRESERVE, AML_FIELD_WRITE_AS_ZEROS, AML_NOTIFY_DEVICE_CHECK, AML_NOTIFY_EJECT_REQUEST,
  AML_REGION_SYSTEM_IO, buffer, call, device, field, ifElse, integer, lNotEqual, method, name, notify, operationRegion,
  ref, returnOf, scope, store, string, type Aml,
} from './aml';
import { madtLocalApic } from './acpi-tables';

/** _HID of a processor device. */
const PROCESSOR_HID = 'ACPI0007';
/** Hex digits in the per-CPU names (C000-CFFF, P000-PFFF). */
const CPU_NAME_DIGITS = 3;
/** _STA: present, enabled, shown in UI, functioning. */
const STA_PRESENT = 0x0f;
/** _STA: not present. */
const STA_ABSENT = 0;
/** Region and field names. */
const PRESENT_REGION = 'PRST';
const EJECT_REGION = 'PREJ';
const EJECT_FIELD = 'CPEJ';
const OS_STATE = 'CPST';
const SCAN_METHOD = 'CPSC';
const BITS_PER_BYTE = 8;

/** The AML NameSeg of processor `uid`'s device: "C000", "C001", ... */
export function processorDeviceName(uid: number): string {
  return 'C' + hex(uid);
}

/** The name of processor `uid`'s bit in the present bitmap: "P000", "P001", ... */
export function presentBitName(uid: number): string {
  return 'P' + hex(uid);
}

/** The name of the GPE method of CPU hotplug events: "_E02". */
export const CPU_HOTPLUG_GPE_METHOD = '_E' + ACPI_GPE_CPU_HOTPLUG.toString(16).toUpperCase().padStart(2, '0');

function hex(uid: number): string {
  return uid.toString(16).toUpperCase().padStart(CPU_NAME_DIGITS, '0');
}

/** What the processor objects describe. */
export interface CpuAmlConfig {
  /** Processors (maxvcpus); UIDs 0 .. cpus-1. */
  cpus: number;
  /** Processors present at boot (vcpus). */
  present: number;
  /** APIC ID of each processor (default: the UID). */
  apicIds?: readonly number[];
}

/**
 * The terms to put in \_SB (processor devices, bitmap, scan method) and the \_GPE scope with the
 * hotplug event method. With one processor there is nothing to hot-plug: just its device.
 */
export function cpuHotplugAml(c: CpuAmlConfig): { sb: number[][]; gpe: number[] | undefined } {
  const apicId = (uid: number) => c.apicIds?.[uid] ?? uid;
  const boot = device(processorDeviceName(0), [name('_HID', string(PROCESSOR_HID)), name('_UID', integer(0))]);
  if (c.cpus === 1) return { sb: [boot], gpe: undefined };
  const others = Array.from({ length: c.cpus - 1 }, (_, i) => hotplugProcessor(i + 1, apicId(i + 1), i + 1 < c.present));
  const bits = Array.from({ length: c.cpus }, (_, uid) => ({ name: presentBitName(uid), bits: 1 }));
  const sb = [
    boot,
    ...others,
    operationRegion(PRESENT_REGION, AML_REGION_SYSTEM_IO, ACPI_CPU_HOTPLUG_BASE, ACPI_CPU_PRESENT_BYTES),
    field(PRESENT_REGION, AML_FIELD_BYTE_ACC | AML_FIELD_PRESERVE, bits),
    operationRegion(EJECT_REGION, AML_REGION_SYSTEM_IO, ACPI_CPU_EJECT_PORT, ACPI_CPU_EJECT_PORTS),
    field(EJECT_REGION, AML_FIELD_BYTE_ACC | AML_FIELD_WRITE_AS_ZEROS, [{ name: EJECT_FIELD, bits: ACPI_CPU_EJECT_PORTS * BITS_PER_BYTE }]),
    method(SCAN_METHOD, 0, Array.from({ length: c.cpus - 1 }, (_, i) => scanProcessor(i + 1))),
  ];
  const gpe = scope('\\_GPE', [method(CPU_HOTPLUG_GPE_METHOD, 0, [call(`\\_SB.${SCAN_METHOD}`)])]);
  return { sb, gpe };
}

/** Device (Cxxx) of a hot-pluggable processor. */
function hotplugProcessor(uid: number, apicId: number, presentAtBoot: boolean): number[] {
  const bit = ref(presentBitName(uid));
  return device(processorDeviceName(uid), [
    name('_HID', string(PROCESSOR_HID)),
    name('_UID', integer(uid)),
    name(OS_STATE, integer(presentAtBoot ? 1 : 0)),
    method('_STA', 0, [ifElse(bit, [returnOf(integer(STA_PRESENT))]), returnOf(integer(STA_ABSENT))]),
    method('_MAT', 0, [
      ifElse(bit, [returnOf(buffer(madtLocalApic(uid, apicId, true)))]),
      returnOf(buffer(madtLocalApic(uid, apicId, false))),
    ]),
    method('_EJ0', 1, [store(integer(uid), ref(EJECT_FIELD))]),
  ]);
}

/** CPSC's check of one processor: notify the OS if its bit differs from what the OS knows. */
function scanProcessor(uid: number): Aml {
  const bit = ref(presentBitName(uid));
  const dev = `\\_SB.${processorDeviceName(uid)}`;
  const known = ref(`${dev}.${OS_STATE}`);
  return ifElse(lNotEqual(bit, known), [
    store(bit, known),
    ifElse(bit, [notify(dev, AML_NOTIFY_DEVICE_CHECK)], [notify(dev, AML_NOTIFY_EJECT_REQUEST)]),
  ]);
}
