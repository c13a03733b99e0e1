import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { layoutAcpiTables, writeAcpiTables, type AcpiTables } from '../../../../src-engine/firmware/tables/acpi-layout';
import { byteSum } from '../../../../src-engine/firmware/tables/byte-builder';
import { BootError } from '../../../../src-engine/base/errors';
import { buildE820Map } from '../../../../src-engine/boot/e820';
import { e820Reserved, writePcTables } from '../../../../src-engine/firmware/tables/pc-tables';
import { FlatGuestMemory } from '../../../support/flat-guest-memory';

const hasIasl = spawnSync('iasl', ['-v']).status === 0;
if (!hasIasl) console.warn('iasl (Debian package acpica-tools) is missing: the ACPI disassembly checks are skipped');

function table(l: AcpiTables, signature: string): { address: number; bytes: Uint8Array; view: DataView } {
  const t = l.tables.find((x) => x.signature === signature);
  if (!t) throw new Error(`no ${signature}`);
  return { address: t.address, bytes: t.bytes, view: new DataView(t.bytes.buffer, t.bytes.byteOffset) };
}

describe('ACPI tables: structure and checksums (ACPI 6.5 ch. 5)', () => {
  const l = layoutAcpiTables({ vcpus: 3, ioApicId: 3 });

  it('puts a revision 2 RSDP at 0xE0000 with both checksums right, pointing at the RSDT and XSDT', () => {
    const rsdp = table(l, 'RSD PTR ');
    expect(rsdp.address).toBe(0xe0000);
    expect(byteSum(rsdp.bytes, 0, 20)).toBe(0);
    expect(byteSum(rsdp.bytes)).toBe(0);
    expect(rsdp.bytes[15]).toBe(2);
    expect(rsdp.view.getUint32(16, true)).toBe(table(l, 'RSDT').address);
    expect(rsdp.view.getUint32(20, true)).toBe(36);
    expect(Number(rsdp.view.getBigUint64(24, true))).toBe(table(l, 'XSDT').address);
  });

  it('gives every description table a length that matches and a checksum that sums to zero', () => {
    for (const t of l.tables) {
      if (t.signature === 'RSD PTR ' || t.signature === 'FACS') continue;
      const view = new DataView(t.bytes.buffer, t.bytes.byteOffset);
      expect(view.getUint32(4, true)).toBe(t.bytes.length);
      expect(byteSum(t.bytes)).toBe(0);
    }
  });

  it('lists the FADT, MADT and HPET in both the RSDT and the XSDT', () => {
    const want = ['FACP', 'APIC', 'HPET'].map((s) => table(l, s).address);
    const rsdt = table(l, 'RSDT');
    const xsdt = table(l, 'XSDT');
    expect([0, 1, 2].map((i) => rsdt.view.getUint32(36 + 4 * i, true))).toEqual(want);
    expect([0, 1, 2].map((i) => Number(xsdt.view.getBigUint64(36 + 8 * i, true)))).toEqual(want);
  });

  it('points the FADT at the DSDT, a 64-byte aligned FACS, the PM blocks, the SCI and a 24-bit PM timer', () => {
    const f = table(l, 'FACP').view;
    const facs = table(l, 'FACS').address;
    expect(facs % 64).toBe(0);
    expect(f.getUint32(36, true)).toBe(facs);
    expect(f.getUint32(40, true)).toBe(table(l, 'DSDT').address);
    expect(f.getUint16(46, true)).toBe(9);
    expect(f.getUint32(48, true)).toBe(0); // SMI_CMD: always in ACPI mode
    expect(f.getUint32(56, true)).toBe(0x600);
    expect(f.getUint32(64, true)).toBe(0x604);
    expect(f.getUint32(76, true)).toBe(0x608);
    expect(f.getUint8(91)).toBe(4);
    expect(f.getUint32(112, true) & (1 << 8)).toBe(0); // TMR_VAL_EXT clear: 24-bit timer
    expect(f.getUint8(116)).toBe(1); // reset register in I/O space
    expect(Number(f.getBigUint64(120, true))).toBe(0xcf9);
    expect(f.getUint8(128)).toBe(6);
  });

  it('describes one enabled local APIC per VCPU, the IOAPIC and the IRQ0 and SCI overrides in the MADT', () => {
    const m = table(l, 'APIC');
    const v = m.view;
    expect(v.getUint32(36, true)).toBe(0xfee00000);
    const found: string[] = [];
    for (let at = 44; at < m.bytes.length; at += m.bytes[at + 1]) {
      const type = m.bytes[at];
      if (type === 0) found.push(`cpu uid=${m.bytes[at + 2]} id=${m.bytes[at + 3]} en=${v.getUint32(at + 4, true)}`);
      if (type === 1) found.push(`ioapic id=${m.bytes[at + 2]} at=${v.getUint32(at + 4, true).toString(16)} gsi=${v.getUint32(at + 8, true)}`);
      if (type === 2) found.push(`override irq=${m.bytes[at + 3]} gsi=${v.getUint32(at + 4, true)} flags=${v.getUint16(at + 8, true)}`);
      if (type === 4) found.push(`nmi uid=${m.bytes[at + 2]} lint=${m.bytes[at + 5]}`);
    }
    expect(found).toEqual([
      'cpu uid=0 id=0 en=1', 'cpu uid=1 id=1 en=1', 'cpu uid=2 id=2 en=1',
      'ioapic id=3 at=fec00000 gsi=0',
      'override irq=0 gsi=2 flags=0', 'override irq=9 gsi=9 flags=13',
      'nmi uid=255 lint=1',
    ]);
  });

  it('describes the HPET block at 0xFED00000 with its capabilities', () => {
    const h = table(l, 'HPET').view;
    expect(h.getUint32(36, true)).toBe(0x8086a201);
    expect(Number(h.getBigUint64(44, true))).toBe(0xfed00000);
  });

  it('carries an \\_S5 package in the DSDT AML', () => {
    const d = table(l, 'DSDT').bytes;
    const text = String.fromCharCode(...d);
    const at = text.indexOf('_S5_');
    expect(at).toBeGreaterThan(36);
    expect(Array.from(d.subarray(at + 4, at + 11))).toEqual([0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00]);
  });
});

describe('ACPI tables: placement', () => {
  it('refuses an RSDP outside the area OSes search or off a 16-byte boundary', () => {
    expect(() => layoutAcpiTables({ vcpus: 1, ioApicId: 1, rsdpAddress: 0xd0000 })).toThrow(BootError);
    expect(() => layoutAcpiTables({ vcpus: 1, ioApicId: 1, rsdpAddress: 0xe0008 })).toThrow(BootError);
  });

  it('writes the tables into guest RAM and reports one ACPI range that fits the E820 map', () => {
    const mem = new FlatGuestMemory(16 * 2 ** 20);
    const r = writePcTables(mem, { vcpus: 2, ioApicId: 2 });
    expect(String.fromCharCode(...mem.read(0xe0000, 8))).toBe('RSD PTR ');
    expect(r.ranges.map((x) => x.e820Type)).toEqual([3, 2]);
    const map = buildE820Map({ ramSize: mem.ramSize, extraReserved: e820Reserved(r.ranges) });
    expect(map.some((e) => e.type === 3 && e.base === 0xe0000)).toBe(true);
  });

  it('refuses to write tables outside guest RAM', () => {
    const mem = new FlatGuestMemory(0xe0000);
    expect(() => writeAcpiTables(mem, { vcpus: 1, ioApicId: 1 })).toThrow(/does not lie in the guest's RAM/);
  });

  it('scales to 255 processors', () => {
    const l = layoutAcpiTables({ vcpus: 255, ioApicId: 0 });
    const madt = table(l, 'APIC');
    expect(madt.bytes.length).toBe(44 + 255 * 8 + 12 + 2 * 10 + 6);
    expect(byteSum(table(l, 'DSDT').bytes)).toBe(0);
  });
});

describe('ACPI tables: disassembled by iasl (acpica-tools)', () => {
  it.skipIf(!hasIasl)('disassembles every table without errors or checksum complaints', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'domus-acpi-'));
    try {
      const l = layoutAcpiTables({ vcpus: 2, ioApicId: 2 });
      const out: Record<string, string> = {};
      for (const t of l.tables) {
        if (t.signature === 'RSD PTR ') continue;
        const file = path.join(dir, `${t.signature}.dat`);
        writeFileSync(file, t.bytes);
        execFileSync('iasl', ['-d', file], { cwd: dir, stdio: 'pipe' });
        out[t.signature] = readFileSync(path.join(dir, `${t.signature}.dsl`), 'latin1');
      }
      for (const [sig, text] of Object.entries(out)) {
        expect(text, sig).not.toMatch(/Incorrect checksum|Error|Invalid/);
      }
      expect(out.DSDT).toMatch(/Name \(\\_S5, Package \(0x04\)/);
      expect(out.DSDT).toMatch(/Device \(C001\)/);
      expect(out.FACP).toMatch(/PM Timer Block Address : 00000608/);
      expect(out.FACP).toMatch(/32-bit PM Timer \(V1\) : 0/);
      expect(out.APIC).toMatch(/Subtable Type : 01 \[I\/O APIC\]/);
      expect(out.HPET).toMatch(/Address : 00000000FED00000/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
