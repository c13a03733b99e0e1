import { describe, expect, it } from 'vitest';
import { IoApic, type IoApicState } from '../../../src-engine/machine/ioapic';
import type { ApicMessage } from '../../../src-engine/machine/lapic-bus';
import { IsaIrqRouter } from '../../../src-engine/machine/isa-irq-router';
import { SaveImageError } from '../../../src-engine/base/errors';

function setup() {
  const sent: ApicMessage[] = [];
  const io = new IoApic({ id: 2, deliver: (m) => sent.push(m) });
  const sel = (reg: number) => io.mmioWrite(0x00, 4, reg);
  const rd = (reg: number) => {
    sel(reg);
    return io.mmioRead(0x10, 4);
  };
  const wr = (reg: number, value: number) => {
    sel(reg);
    io.mmioWrite(0x10, 4, value);
  };
  /** Programs redirection entry `pin`. */
  const route = (pin: number, low: number, dest = 0) => {
    wr(0x11 + pin * 2, dest << 24);
    wr(0x10 + pin * 2, low);
  };
  return { io, sent, rd, wr, route };
}

const LEVEL = 0x8000;
const MASKED = 0x10000;
const ACTIVE_LOW = 0x2000;
const REMOTE_IRR = 0x4000;

describe('IOAPIC register file (82093AA)', () => {
  it('reports its ID, version 0x20 with 24 entries, and masked entries after reset', () => {
    const { rd, wr } = setup();
    expect(rd(0x00)).toBe(0x02000000);
    expect(rd(0x01)).toBe(0x00170020);
    expect(rd(0x02)).toBe(0x02000000);
    expect(rd(0x10)).toBe(MASKED);
    expect(rd(0x3f)).toBe(0);
    wr(0x00, 0x0f000000);
    expect(rd(0x00)).toBe(0x0f000000);
    wr(0x01, 0);
    expect(rd(0x01)).toBe(0x00170020);
  });

  it('keeps delivery status and remote IRR read-only and stores only the destination byte of the high half', () => {
    const { rd, wr } = setup();
    wr(0x12, 0xffffffff);
    expect(rd(0x12) >>> 0).toBe(0x1afff);
    wr(0x13, 0xffffffff);
    expect(rd(0x13) >>> 0).toBe(0xff000000);
  });

  it('reads the select register back and answers narrow reads with the addressed bytes', () => {
    const { io } = setup();
    io.mmioWrite(0x00, 4, 0x01);
    expect(io.mmioRead(0x00, 4)).toBe(0x01);
    expect(io.mmioRead(0x12, 1)).toBe(0x17);
  });
});

describe('IOAPIC edge-triggered pins', () => {
  it('sends one message per asserting edge with vector, mode and destination from the entry', () => {
    const { io, sent, route } = setup();
    route(4, 0x0931, 0x03); // lowest priority, logical, vector 0x31, dest 3
    io.setIsaIrq(4, true);
    io.setIsaIrq(4, true);
    io.setIsaIrq(4, false);
    io.setIsaIrq(4, true);
    expect(sent).toEqual([
      { vector: 0x31, deliveryMode: 1, logical: true, dest: 3, level: false },
      { vector: 0x31, deliveryMode: 1, logical: true, dest: 3, level: false },
    ]);
  });

  it('puts ISA IRQ0 on pin 2 (the MADT interrupt source override)', () => {
    const { io, sent, route } = setup();
    route(2, 0x30);
    io.setIsaIrq(0, true);
    expect(sent.map((m) => m.vector)).toEqual([0x30]);
  });

  it('holds an edge that arrives while masked and sends it on unmask (as QEMU and KVM)', () => {
    const { io, sent, route } = setup();
    route(5, MASKED | 0x35);
    io.setIsaIrq(5, true);
    expect(sent).toEqual([]);
    route(5, 0x35);
    expect(sent.map((m) => m.vector)).toEqual([0x35]);
    route(5, 0x35);
    expect(sent.length).toBe(1);
  });

  it('takes ISA IRQs from the router next to the 8259s', () => {
    const router = new IsaIrqRouter();
    const { io, sent, route } = setup();
    router.addSink(io);
    route(8, 0x38);
    const rtc = router.line(8);
    rtc.set(true);
    rtc.set(false);
    expect(sent.map((m) => m.vector)).toEqual([0x38]);
  });
});

describe('IOAPIC level-triggered pins and remote IRR', () => {
  it('sends once, sets remote IRR, and sends again after EOI only while still asserted', () => {
    const { io, sent, rd, route } = setup();
    route(9, LEVEL | 0x49);
    io.setIsaIrq(9, true);
    expect(sent.length).toBe(1);
    expect(sent[0].level).toBe(true);
    expect(rd(0x10 + 18) & REMOTE_IRR).toBe(REMOTE_IRR);
    io.setIsaIrq(9, true);
    expect(sent.length).toBe(1);
    io.endOfInterrupt(0x49); // line still high: sent again
    expect(sent.length).toBe(2);
    io.setIsaIrq(9, false);
    io.endOfInterrupt(0x49);
    expect(sent.length).toBe(2);
    expect(rd(0x10 + 18) & REMOTE_IRR).toBe(0);
  });

  it('clears remote IRR through the version 0x20 EOI register too, and ignores other vectors', () => {
    const { io, sent, route } = setup();
    route(10, LEVEL | 0x4a);
    io.setIsaIrq(10, true);
    io.mmioWrite(0x40, 4, 0x4b);
    expect(sent.length).toBe(1);
    io.mmioWrite(0x40, 4, 0x4a);
    expect(sent.length).toBe(2);
  });

  it('treats an active-low level input as asserted while the line is low', () => {
    const { io, sent, route } = setup();
    const line = io.pin(16);
    line.set(true);
    route(16, LEVEL | ACTIVE_LOW | 0x50);
    expect(sent.length).toBe(0);
    line.set(false);
    expect(sent.length).toBe(1);
  });

  it('sends a waiting level interrupt when the entry is unmasked', () => {
    const { io, sent, route } = setup();
    route(11, LEVEL | MASKED | 0x4c);
    io.setIsaIrq(11, true);
    expect(sent.length).toBe(0);
    route(11, LEVEL | 0x4c);
    expect(sent.length).toBe(1);
  });
});

describe('IOAPIC save state', () => {
  it('restores entries and remote IRR, and refuses another version', () => {
    const a = setup();
    a.route(9, LEVEL | 0x49, 1);
    a.io.setIsaIrq(9, true);
    const saved = structuredClone(a.io.saveState());
    const b = setup();
    b.io.loadState(saved);
    expect(b.rd(0x10 + 18)).toBe(a.rd(0x10 + 18));
    b.io.endOfInterrupt(0x49);
    expect(b.sent.map((m) => m.dest)).toEqual([1]);
    expect(() => b.io.loadState({ ...saved, version: 3 } as unknown as IoApicState)).toThrow(SaveImageError);
  });
});
