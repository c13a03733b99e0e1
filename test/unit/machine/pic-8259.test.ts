import { describe, expect, it } from 'vitest';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { Pic8259Pair } from '../../../src-engine/machine/pic-8259';
import { SaveImageError } from '../../../src-engine/base/errors';

function setup() {
  const intr: boolean[] = [];
  const pic = new Pic8259Pair({ onIntrChange: (level) => intr.push(level) });
  const bus = new IoBus();
  bus.register(0x20, 2, pic.master);
  bus.register(0xa0, 2, pic.slave);
  bus.register(0x4d0, 2, pic.elcr);
  const out = (port: number, value: number) => bus.write(port, 1, value);
  const inb = (port: number) => bus.read(port, 1);
  return { pic, bus, out, inb, intr };
}

/** The sequence of a PC BIOS (SeaBIOS pic_setup): vectors 0x08 and 0x70, cascade on IR2, 8086 mode. */
function biosInit(out: (port: number, value: number) => void) {
  out(0x20, 0x11); out(0x21, 0x08); out(0x21, 0x04); out(0x21, 0x01);
  out(0xa0, 0x11); out(0xa1, 0x70); out(0xa1, 0x02); out(0xa1, 0x01);
  out(0x21, 0x00); out(0xa1, 0x00);
}

const OCW3_READ_IRR = 0x0a;
const OCW3_READ_ISR = 0x0b;
const EOI = 0x20;

describe('8259A pair as a PC BIOS programs it', () => {
  it('delivers IRQ0 at vector 8 and IRQ8 at vector 0x70 through the cascade', () => {
    const { pic, out, inb, intr } = setup();
    biosInit(out);
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(intr).toEqual([true]);
    expect(pic.acknowledge()).toBe(0x08);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x20, EOI);
    pic.setIrq(8, true);
    expect(pic.acknowledge()).toBe(0x70);
    out(0x20, OCW3_READ_ISR);
    out(0xa0, OCW3_READ_ISR);
    expect(inb(0x20)).toBe(0x04); // the cascade input is in service on the master
    expect(inb(0xa0)).toBe(0x01);
    out(0xa0, EOI);
    out(0x20, EOI);
    expect(inb(0x20)).toBe(0);
    expect(inb(0xa0)).toBe(0);
  });

  it('reads IRR and ISR through OCW3 and the mask at the data port', () => {
    const { pic, out, inb } = setup();
    biosInit(out);
    out(0x21, 0xfe); // only IRQ0 unmasked
    pic.setIrq(3, true);
    out(0x20, OCW3_READ_IRR);
    expect(inb(0x20)).toBe(0x08);
    expect(inb(0x21)).toBe(0xfe);
    expect(pic.hasInterrupt()).toBe(false); // IRQ3 is masked
    out(0x21, 0xf6);
    expect(pic.hasInterrupt()).toBe(true);
  });
});

describe('8259A pair as Linux programs it', () => {
  it('passes the probe, takes vectors 0x30/0x38 and is acknowledged with specific EOIs', () => {
    const { pic, out, inb } = setup();
    // probe_8259A: mask the slave, write 0xA5 to the master mask, read it back.
    out(0xa1, 0xff);
    out(0x21, 0xa5);
    expect(inb(0x21)).toBe(0xa5);
    // init_8259A
    out(0x21, 0xff); out(0xa1, 0xff);
    out(0x20, 0x11); out(0x21, 0x30); out(0x21, 0x04); out(0x21, 0x01);
    out(0xa0, 0x11); out(0xa1, 0x38); out(0xa1, 0x02); out(0xa1, 0x01);
    out(0x21, 0xfb); out(0xa1, 0xff); // only the cascade unmasked, as Linux leaves it
    pic.setIrq(12, true);
    expect(pic.hasInterrupt()).toBe(false);
    out(0xa1, 0xef); // enable IRQ12
    expect(pic.acknowledge()).toBe(0x38 + 4);
    // mask_and_ack_8259A for a slave IRQ: specific EOI to the slave, then for IR2 on the master.
    out(0xa0, 0x60 + 4);
    out(0x20, 0x60 + 2);
    out(0x20, OCW3_READ_ISR);
    out(0xa0, OCW3_READ_ISR);
    expect(inb(0x20)).toBe(0);
    expect(inb(0xa0)).toBe(0);
  });

  it('keeps automatic EOI mode from setting ISR bits', () => {
    const { pic, out, inb } = setup();
    out(0x20, 0x11); out(0x21, 0x30); out(0x21, 0x04); out(0x21, 0x03); // ICW4 with AEOI
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    out(0x20, OCW3_READ_ISR);
    expect(inb(0x20)).toBe(0);
  });
});

describe('8259A priorities and end of interrupt', () => {
  it('serves the lowest-numbered request first and lets a higher one nest', () => {
    const { pic, out } = setup();
    biosInit(out);
    pic.setIrq(3, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x09);
    expect(pic.hasInterrupt()).toBe(false); // IRQ3 waits behind IRQ1 in service
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x08); // IRQ0 outranks the IRQ1 in service
    out(0x20, EOI); // non-specific: ends IRQ0, the highest in service
    expect(pic.hasInterrupt()).toBe(false);
    out(0x20, EOI); // ends IRQ1
    expect(pic.acknowledge()).toBe(0x0b);
  });

  it('rotates on EOI so the IRQ just served becomes the lowest priority', () => {
    const { pic, out } = setup();
    biosInit(out);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x09);
    out(0x20, 0xa0); // rotate on non-specific EOI
    pic.setIrq(1, false);
    pic.setIrq(1, true);
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x0d); // IRQ5 now outranks IRQ1
  });

  it('sets the lowest priority explicitly', () => {
    const { pic, out } = setup();
    biosInit(out);
    out(0x20, 0xc3); // IRQ3 lowest, so IRQ4 highest
    pic.setIrq(0, true);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x0c);
  });

  it('lets lower priorities in under special mask mode', () => {
    const { pic, out } = setup();
    biosInit(out);
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x0b);
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x21, 0x08); // mask IRQ3 (in service)
    out(0x20, 0x68); // OCW3: set special mask mode
    expect(pic.acknowledge()).toBe(0x0d);
    out(0x20, 0x48); // reset special mask mode
  });

  it('answers the poll command with the pending level and acknowledges it', () => {
    const { pic, out, inb } = setup();
    biosInit(out);
    pic.setIrq(6, true);
    out(0x20, 0x0c); // OCW3 poll
    expect(inb(0x20)).toBe(0x86);
    out(0x20, OCW3_READ_ISR);
    expect(inb(0x20)).toBe(0x40);
    out(0x20, 0x0c);
    expect(inb(0x20)).toBe(0); // nothing more pending
  });
});

describe('8259A triggering', () => {
  it('latches one request per rising edge on edge-triggered inputs', () => {
    const { pic, out } = setup();
    biosInit(out);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x0c);
    out(0x20, EOI);
    pic.setIrq(4, true); // still high: no new edge
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(4, false);
    pic.setIrq(4, true);
    expect(pic.hasInterrupt()).toBe(true);
  });

  it('follows the line on ELCR level-triggered inputs, and refuses ELCR bits for IRQ 0-2, 8 and 13', () => {
    const { pic, out, inb, bus } = setup();
    biosInit(out);
    bus.write(0x4d0, 1, 0xff);
    bus.write(0x4d1, 1, 0xff);
    expect(inb(0x4d0)).toBe(0xf8);
    expect(inb(0x4d1)).toBe(0xde);
    pic.setIrq(10, true);
    expect(pic.acknowledge()).toBe(0x72);
    out(0xa0, EOI);
    out(0x20, EOI);
    expect(pic.acknowledge()).toBe(0x72); // still high: requested again after EOI
    out(0xa0, EOI);
    out(0x20, EOI);
    pic.setIrq(10, false);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('answers an INTA with spurious IR7 when a level request went away, without setting ISR', () => {
    const { pic, out, inb, bus } = setup();
    biosInit(out);
    bus.write(0x4d0, 1, 0x20); // IRQ5 level
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.setIrq(5, false);
    expect(pic.acknowledge()).toBe(0x0f);
    out(0x20, OCW3_READ_ISR);
    expect(inb(0x20)).toBe(0);
  });

  it('withdraws the cascade request when the slave request vanishes (master spurious IR7)', () => {
    const { pic, out, inb, bus } = setup();
    biosInit(out);
    bus.write(0x4d1, 1, 0x08); // IRQ11 level
    pic.setIrq(11, true);
    expect(pic.hasInterrupt()).toBe(true);
    out(0xa1, 0x08); // the slave masks it before the CPU acknowledges
    expect(pic.hasInterrupt()).toBe(false);
    expect(pic.acknowledge()).toBe(0x0f); // a late INTA gets the master's spurious vector
    out(0x20, OCW3_READ_ISR);
    expect(inb(0x20)).toBe(0);
  });

  it('gives spurious IRQ15 when the master presents IR2 but the slave has nothing at INTA', () => {
    const { pic, out, inb } = setup();
    biosInit(out);
    const state = pic.saveState();
    pic.loadState({ ...state, master: { ...state.master, irr: 0x04 } }); // the race, frozen
    expect(pic.acknowledge()).toBe(0x77);
    out(0x20, OCW3_READ_ISR);
    out(0xa0, OCW3_READ_ISR);
    expect(inb(0x20)).toBe(0x04); // the master served its IR2 normally
    expect(inb(0xa0)).toBe(0);
  });

  it('needs a fresh edge after ICW1 re-initialisation', () => {
    const { pic, out } = setup();
    pic.setIrq(4, true); // raised before the BIOS programs the PIC
    biosInit(out);
    expect(pic.hasInterrupt()).toBe(false);
  });
});

describe('8259A save and restore', () => {
  it('round-trips pending, in-service and programmed state', () => {
    const a = setup();
    biosInit(a.out);
    a.bus.write(0x4d0, 1, 0x20);
    a.out(0x21, 0x40);
    a.pic.setIrq(1, true);
    expect(a.pic.acknowledge()).toBe(0x09);
    a.pic.setIrq(0, true);
    a.pic.setIrq(9, true);
    const saved = JSON.parse(JSON.stringify(a.pic.saveState()));

    const b = setup();
    b.pic.loadState(saved);
    expect(b.pic.saveState()).toEqual(a.pic.saveState());
    expect(b.intr.at(-1)).toBe(true);
    expect(b.inb(0x21)).toBe(0x40);
    expect(b.inb(0x4d0)).toBe(0x20);
    expect(b.pic.acknowledge()).toBe(0x08);
    b.out(0x20, EOI);
    b.out(0x20, EOI);
    expect(b.pic.acknowledge()).toBe(0x71);
  });

  it('refuses a state of another version', () => {
    const { pic } = setup();
    expect(() => pic.loadState({ ...pic.saveState(), version: 2 as 1 })).toThrow(SaveImageError);
  });
});
