/**
 * The DSDT's CPU hotplug objects (firmware/tables/acpi-cpu-hotplug-aml.ts) and the MADT / MP
 * table flags of processors that are not plugged in at boot. The AML is disassembled with iasl
 * and executed with acpiexec (both from acpica-tools; skipped with a printed reason when
 * missing): acpiexec backs SystemIO regions with memory filled with `-fv`, which stands in for
 * the present bitmap at 0xAF00, and prints the Notify() calls the GPE method makes.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDsdt } from '../../../../src-engine/firmware/tables/acpi-dsdt';
import { layoutAcpiTables } from '../../../../src-engine/firmware/tables/acpi-layout';
import { cpuHotplugAml, presentBitName, processorDeviceName } from '../../../../src-engine/firmware/tables/acpi-cpu-hotplug-aml';
import { buildMpConfigTable } from '../../../../src-engine/firmware/tables/mp-table';
import { buffer, field, ifElse, integer, lNotEqual, method, notify, operationRegion, ref, store } from '../../../../src-engine/firmware/tables/aml';

const hasIasl = spawnSync('iasl', ['-v']).status === 0;
const hasAcpiexec = spawnSync('acpiexec', ['-v']).status === 0;
if (!hasIasl) console.warn('iasl (Debian package acpica-tools) is missing: the CPU hotplug AML disassembly check is skipped');
if (!hasAcpiexec) console.warn('acpiexec (Debian package acpica-tools) is missing: the CPU hotplug AML execution checks are skipped');

/** Runs `commands` (acpiexec batch syntax) on a DSDT, SystemIO regions filled with `fill`. */
function acpiexec(dsdt: Uint8Array, fill: number, commands: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'domus-acpiexec-'));
  try {
    writeFileSync(path.join(dir, 'dsdt.aml'), dsdt);
    const r = spawnSync('acpiexec', ['-vr', '-fv', `0x${fill.toString(16)}`, '-b', commands, 'dsdt.aml'], { cwd: dir, encoding: 'latin1', timeout: 30_000 });
    return `${r.stdout}${r.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('AML terms for the hotplug methods (ACPI 6.5 ch. 20)', () => {
  it('encodes methods, If/Else, Store, LNotEqual, Notify, Buffer, regions and fields', () => {
    // Method (AB, 1, NotSerialized) { }: MethodOp, PkgLength, NameSeg, flags = 1 argument
    expect(method('AB', 1, [])).toEqual([0x14, 0x06, 0x41, 0x42, 0x5f, 0x5f, 0x01]);
    expect(method('AB', 0, [], true)[6]).toBe(0x08);
    expect(() => method('AB', 7, [])).toThrow(RangeError);
    expect(ifElse(integer(1), [], [])).toEqual([0xa0, 0x02, 0x01, 0xa1, 0x01]);
    expect(store(integer(2), ref('X'))).toEqual([0x70, 0x0a, 0x02, 0x58, 0x5f, 0x5f, 0x5f]);
    expect(lNotEqual(integer(0), integer(1))).toEqual([0x92, 0x93, 0x00, 0x01]);
    expect(notify('\\_SB.C001', 3)).toEqual([0x86, 0x5c, 0x2e, ...'_SB_C001'.split('').map((c) => c.charCodeAt(0)), 0x0a, 0x03]);
    expect(buffer([1, 2])).toEqual([0x11, 0x05, 0x0a, 0x02, 0x01, 0x02]);
    expect(operationRegion('PRST', 1, 0xaf00, 32)).toEqual([0x5b, 0x80, 0x50, 0x52, 0x53, 0x54, 0x01, 0x0b, 0x00, 0xaf, 0x0a, 0x20]);
    // Field (PRST, ByteAcc) { P000, 1, , 7, Q, 300 }: the widths are PkgLengths that do not count themselves
    const f = field('PRST', 0x01, [{ name: 'P000', bits: 1 }, { bits: 7 }, { name: 'Q', bits: 300 }]);
    expect(f.slice(0, 3)).toEqual([0x5b, 0x81, f.length - 2]);
    expect(f.slice(7)).toEqual([0x01, 0x50, 0x30, 0x30, 0x30, 0x01, 0x00, 0x07, 0x51, 0x5f, 0x5f, 0x5f, 0x4c, 0x12]);
  });
});

describe('CPU hotplug objects in the DSDT', () => {
  it('gives a one-processor machine just its processor device', () => {
    const aml = cpuHotplugAml({ cpus: 1, present: 1 });
    expect(aml.gpe).toBeUndefined();
    expect(aml.sb).toHaveLength(1);
  });

  it('names processor devices and present bits after the UID', () => {
    expect(processorDeviceName(0)).toBe('C000');
    expect(processorDeviceName(0xfe)).toBe('C0FE');
    expect(presentBitName(17)).toBe('P011');
  });

  it.skipIf(!hasIasl)('disassembles with iasl into the processor methods, the bitmap fields and \\_GPE._E02', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'domus-dsdt-'));
    try {
      writeFileSync(path.join(dir, 'dsdt.aml'), buildDsdt(3, 1));
      execFileSync('iasl', ['-d', 'dsdt.aml'], { cwd: dir, stdio: 'pipe' });
      const dsl = readFileSync(path.join(dir, 'dsdt.dsl'), 'latin1');
      expect(dsl).not.toMatch(/Error|Invalid|Incorrect checksum/);
      expect(dsl).toMatch(/OperationRegion \(PRST, SystemIO, 0xAF00, 0x20\)/);
      expect(dsl).toMatch(/Field \(PRST, ByteAcc, NoLock, Preserve\)\s*\{\s*P000,\s+1,\s*P001,\s+1,\s*P002,\s+1\s*\}/);
      expect(dsl).toMatch(/OperationRegion \(PREJ, SystemIO, 0xAF20, One\)/);
      expect(dsl).toMatch(/Device \(C002\)[\s\S]*Name \(CPST, Zero\)[\s\S]*Method \(_STA[\s\S]*Method \(_MAT[\s\S]*Method \(_EJ0, 1/);
      expect(dsl).toMatch(/Notify \(\\_SB.C001, One\) \/\/ Device Check/);
      expect(dsl).toMatch(/Notify \(\\_SB.C002, 0x03\) \/\/ Eject Request/);
      expect(dsl).toMatch(/Scope \(\\_GPE\)\s*\{\s*Method \(_E02, 0, NotSerialized\)[^{]*\{\s*\\_SB.CPSC \(\)/);
      // The boot processor is not hot-pluggable: no methods in C000.
      expect(dsl).toMatch(/Device \(C000\)\s*\{\s*Name \(_HID, "ACPI0007"[^\n]*\n\s*Name \(_UID, Zero\)[^\n]*\n\s*\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasAcpiexec)('_STA and _MAT follow the present bit: absent and not enabled, then present and Enabled', () => {
    const dsdt = buildDsdt(2, 1, [0, 5]);
    const absent = acpiexec(dsdt, 0x01, 'execute \\_SB.C001._STA; execute \\_SB.C001._MAT');
    expect(absent).toMatch(/Evaluation of \\_SB.C001._STA returned[^\n]*\n\s*\[Integer\] = 0000000000000000/);
    expect(absent).toMatch(/\[Buffer\] Length 08 =\s+0000: 00 08 01 05 00 00 00 00/);
    const present = acpiexec(dsdt, 0x03, 'execute \\_SB.C001._STA; execute \\_SB.C001._MAT');
    expect(present).toMatch(/\[Integer\] = 000000000000000F/);
    expect(present).toMatch(/\[Buffer\] Length 08 =\s+0000: 00 08 01 05 01 00 00 00/);
  });

  it.skipIf(!hasAcpiexec)('the GPE method sends Device Check for a CPU that appeared and Eject Request for one that went', () => {
    // Booted with CPU 1 of 3 absent and CPU 2 present; now the bitmap says 0 and 1 (0b011).
    const out = acpiexec(buildDsdt(3, 1), 0x03, 'execute \\_GPE._E02');
    expect(out).toMatch(/Notify on \[C001\][^\n]*Value 0x01 \(Device Check\)/);
    expect(out).not.toMatch(/Notify on \[C002\]/);
    const gone = acpiexec(buildDsdt(3, 3), 0x03, 'execute \\_GPE._E02');
    expect(gone).toMatch(/Notify on \[C002\][^\n]*Value 0x03 \(Eject Request\)/);
    expect(gone).not.toMatch(/Notify on \[C001\]/);
    // Nothing changed: no notification.
    expect(acpiexec(buildDsdt(3, 2), 0x03, 'execute \\_GPE._E02')).not.toMatch(/Notify on/);
  });

  it.skipIf(!hasAcpiexec)('_EJ0 writes the processor UID to the eject register (0xAF20)', () => {
    // The simulated register starts as the fill byte 0x07 and holds what _EJ0 stored.
    const before = acpiexec(buildDsdt(3, 3), 0x07, 'execute \\_SB.CPEJ');
    expect(before).toMatch(/\[Integer\] = 0000000000000007/);
    const out = acpiexec(buildDsdt(3, 3), 0x07, 'execute \\_SB.C002._EJ0 1; execute \\_SB.CPEJ');
    expect(out).toMatch(/Evaluation of \\_SB.CPEJ returned[^\n]*\n\s*\[Integer\] = 0000000000000002/);
  });
});

describe('processors not plugged in at boot in the MADT and the MP table', () => {
  it('marks MADT Local APIC entries beyond the online count not Enabled (MADT revision below 5)', () => {
    const l = layoutAcpiTables({ vcpus: 3, onlineVcpus: 1, ioApicId: 3 });
    const madt = l.tables.find((t) => t.signature === 'APIC');
    if (!madt) throw new Error('no MADT');
    expect(madt.bytes[8]).toBeLessThan(5);
    const entries = [...madt.bytes.subarray(44)];
    const lapics: number[][] = [];
    for (let i = 0; i < entries.length; i += entries[i + 1]) if (entries[i] === 0) lapics.push(entries.slice(i, i + 8));
    expect(lapics).toEqual([
      [0, 8, 0, 0, 1, 0, 0, 0],
      [0, 8, 1, 1, 0, 0, 0, 0],
      [0, 8, 2, 2, 0, 0, 0, 0],
    ]);
  });

  it('refuses an online count outside 1..vcpus', () => {
    expect(() => layoutAcpiTables({ vcpus: 2, onlineVcpus: 3, ioApicId: 2 })).toThrow(/1 to 2/);
    expect(() => layoutAcpiTables({ vcpus: 2, onlineVcpus: 0, ioApicId: 2 })).toThrow(/1 to 2/);
  });

  it('lists MP processor entries beyond the online count without EN', () => {
    const t = buildMpConfigTable({ vcpus: 2, onlineVcpus: 1, ioApicId: 2 });
    // Processor entries start right after the 44-byte header, 20 bytes each; flags at offset 3.
    expect(t[44]).toBe(0);
    expect(t[44 + 3]).toBe(0x3); // EN | BP
    expect(t[64]).toBe(0);
    expect(t[64 + 3]).toBe(0x0);
  });
});
