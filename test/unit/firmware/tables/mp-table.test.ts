import { describe, expect, it } from 'vitest';
import { buildMpConfigTable, buildMpFloating, MP_CONFIG_LAYOUT, writeMpTables } from '../../../../src-engine/firmware/tables/mp-table';
import { byteSum } from '../../../../src-engine/firmware/tables/byte-builder';
import { BootError } from '../../../../src-engine/base/errors';
import { FlatGuestMemory } from '../../../support/flat-guest-memory';

interface Entry {
  type: number;
  bytes: Uint8Array;
}

/** Splits a configuration table into its entries (processor entries are 20 bytes, others 8). */
function entries(table: Uint8Array): Entry[] {
  const out: Entry[] = [];
  for (let at = MP_CONFIG_LAYOUT.headerBytes; at < table.length; ) {
    const len = table[at] === 0 ? 20 : 8;
    out.push({ type: table[at], bytes: table.subarray(at, at + len) });
    at += len;
  }
  return out;
}

describe('MP floating pointer (MP spec 1.4, 4.1)', () => {
  it('is 16 bytes, "_MP_", points at the configuration table, revision 1.4, checksum zero, virtual wire mode', () => {
    const fp = buildMpFloating(0xe8000);
    const v = new DataView(fp.buffer);
    expect(String.fromCharCode(...fp.subarray(0, 4))).toBe('_MP_');
    expect(v.getUint32(4, true)).toBe(0xe8000);
    expect(fp[8]).toBe(1);
    expect(fp[9]).toBe(4);
    expect(byteSum(fp)).toBe(0);
    expect(fp[11]).toBe(0); // a configuration table is present
    expect(fp[12] & 0x80).toBe(0); // IMCRP clear
  });
});

describe('MP configuration table (MP spec 1.4, 4.2-4.3)', () => {
  const table = buildMpConfigTable({ vcpus: 3, ioApicId: 3 });
  const v = new DataView(table.buffer);

  it('has a PCMP header whose length, entry count and checksum agree with the entries', () => {
    expect(String.fromCharCode(...table.subarray(0, 4))).toBe('PCMP');
    expect(v.getUint16(MP_CONFIG_LAYOUT.lengthOffset, true)).toBe(table.length);
    expect(v.getUint16(MP_CONFIG_LAYOUT.entryCountOffset, true)).toBe(entries(table).length);
    expect(byteSum(table)).toBe(0);
    expect(v.getUint32(36, true)).toBe(0xfee00000);
  });

  it('lists the processors (VCPU 0 the bootstrap processor), the ISA bus and the IOAPIC, in type order', () => {
    const e = entries(table);
    expect(e.map((x) => x.type)).toEqual([0, 0, 0, 1, 2, ...new Array<number>(15).fill(3), 4, 4]);
    expect(e.slice(0, 3).map((x) => [x.bytes[1], x.bytes[3]])).toEqual([[0, 3], [1, 1], [2, 1]]);
    expect(e[0].bytes[2]).toBe(0x14);
    expect(new DataView(e[0].bytes.buffer, e[0].bytes.byteOffset).getUint32(8, true) & (1 << 9)).toBe(1 << 9); // APIC feature flag
    expect(String.fromCharCode(...e[3].bytes.subarray(2, 8))).toBe('ISA   ');
    expect(Array.from(e[4].bytes.subarray(0, 4))).toEqual([2, 3, 0x20, 1]);
  });

  it('routes ISA IRQ0 to pin 2, leaves the cascade IRQ2 out, marks the SCI level, and wires LINT0 ExtINT / LINT1 NMI', () => {
    const io = entries(table).filter((x) => x.type === 3).map((x) => x.bytes);
    const byIrq = new Map(io.map((b) => [b[5], { pin: b[7], flags: b[2] | (b[3] << 8), apic: b[6] }]));
    expect(byIrq.get(0)).toEqual({ pin: 2, flags: 0, apic: 3 });
    expect(byIrq.has(2)).toBe(false);
    expect(byIrq.get(9)?.flags).toBe(0x0d);
    expect(byIrq.get(15)?.pin).toBe(15);
    const local = entries(table).filter((x) => x.type === 4).map((x) => [x.bytes[1], x.bytes[6], x.bytes[7]]);
    expect(local).toEqual([[3, 0xff, 0], [1, 0xff, 1]]);
  });
});

describe('MP tables in guest memory', () => {
  it('puts the floating pointer where Linux searches and reserves the configuration table range', () => {
    const mem = new FlatGuestMemory(8 * 2 ** 20);
    const r = writeMpTables(mem, { vcpus: 2, ioApicId: 2 });
    expect(r.floatingAddress).toBe(0x9fff0);
    expect(String.fromCharCode(...mem.read(0x9fff0, 4))).toBe('_MP_');
    expect(String.fromCharCode(...mem.read(r.configAddress, 4))).toBe('PCMP');
    expect(r.ranges).toEqual([{ base: 0xe8000, length: mem.read(0xe8004, 2)[0] | (mem.read(0xe8005, 1)[0] << 8), e820Type: 2, what: 'MP configuration table' }]);
  });

  it('refuses a floating pointer outside the areas the MP specification searches', () => {
    const mem = new FlatGuestMemory(8 * 2 ** 20);
    expect(() => writeMpTables(mem, { vcpus: 1, ioApicId: 1, floatingAddress: 0x80000 })).toThrow(BootError);
  });
});
