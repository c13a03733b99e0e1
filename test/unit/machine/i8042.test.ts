import { describe, expect, it } from 'vitest';
import { I8042 } from '../../../src-engine/machine/i8042';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { RecordingIrq } from './fake-clock';

const DATA = 0x60, CMD = 0x64;
const STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_AUX = 0x20, STATUS_TIMEOUT = 0x40;

function setup() {
  const irq1 = new RecordingIrq();
  const irq12 = new RecordingIrq();
  const a20: boolean[] = [];
  let resets = 0;
  const kbc = new I8042({ irq1, irq12, onA20Change: (on) => a20.push(on), onReset: () => resets++ });
  const bus = new IoBus();
  bus.register(DATA, 1, kbc);
  bus.register(CMD, 1, kbc);
  const out = (port: number, value: number) => bus.write(port, 1, value);
  const inb = (port: number) => bus.read(port, 1);
  /** Reads every byte waiting in the output buffer, as a driver polling OBF does. */
  const drain = () => {
    const got: number[] = [];
    while (inb(CMD) & STATUS_OBF) got.push(inb(DATA));
    return got;
  };
  return { kbc, irq1, irq12, a20, resets: () => resets, out, inb, drain };
}

describe('8042 controller commands', () => {
  it('passes self-test with 0x55 and sets the system flag, and the interface test with 0x00', () => {
    const { out, inb, drain } = setup();
    expect(inb(CMD) & STATUS_SYS).toBe(0);
    out(CMD, 0xaa);
    expect(inb(CMD) & STATUS_OBF).toBe(STATUS_OBF);
    expect(drain()).toEqual([0x55]);
    expect(inb(CMD) & STATUS_SYS).toBe(STATUS_SYS);
    out(CMD, 0xab);
    expect(drain()).toEqual([0x00]);
  });

  it('reads and writes the command byte', () => {
    const { out, drain } = setup();
    out(CMD, 0x20);
    expect(drain()).toEqual([0x03]);
    out(CMD, 0x60);
    out(DATA, 0x65);
    out(CMD, 0x20);
    expect(drain()).toEqual([0x65]);
  });

  it('drives A20 from the output port and resets the CPU on 0xFE or a cleared bit 0', () => {
    const { kbc, out, drain, a20, resets } = setup();
    expect(kbc.a20()).toBe(true);
    out(CMD, 0xd0);
    expect(drain()[0] & 0x03).toBe(0x03);
    out(CMD, 0xd1);
    out(DATA, 0xdd); // A20 off
    expect(a20).toEqual([false]);
    out(CMD, 0xdf); // A20 on
    expect(a20).toEqual([false, true]);
    out(CMD, 0xfe);
    expect(resets()).toBe(1);
    out(CMD, 0xd1);
    out(DATA, 0xde); // bit 0 low
    expect(resets()).toBe(2);
  });

  it('keeps keyboard data back while the keyboard interface is disabled, but answers commands', () => {
    const { kbc, out, drain } = setup();
    out(CMD, 0xad);
    kbc.injectScancodes([0x1e, 0x9e]);
    out(CMD, 0x20);
    expect(drain()).toEqual([0x13]);
    out(CMD, 0xae);
    expect(drain()).toEqual([0x1c, 0xf0, 0x1c]); // translation off: the keyboard's set 2 codes
  });

  it('loops 0xD3 bytes back as auxiliary data and times out commands to the empty aux port', () => {
    const { out, inb, irq12 } = setup();
    out(CMD, 0xa7); // aux interface disabled, as Linux has it during its loop test:
    out(CMD, 0xd3); // the controller still writes the byte straight into its buffer
    out(DATA, 0x5a);
    expect(inb(CMD) & STATUS_AUX).toBe(STATUS_AUX);
    expect(irq12.level).toBe(true);
    expect(inb(DATA)).toBe(0x5a);
    expect(irq12.level).toBe(false);
    out(CMD, 0xd4);
    out(DATA, 0xff); // reset the mouse that is not there
    expect(inb(CMD) & (STATUS_AUX | STATUS_TIMEOUT)).toBe(STATUS_AUX | STATUS_TIMEOUT);
    expect(inb(DATA)).toBe(0xfe);
  });
});

describe('PS/2 keyboard behind the 8042', () => {
  it('answers reset with ACK and BAT passed, raising IRQ1 for each byte', () => {
    const { out, inb, irq1 } = setup();
    out(DATA, 0xff);
    expect(irq1.level).toBe(true);
    expect(inb(DATA)).toBe(0xfa);
    expect(inb(DATA)).toBe(0xaa);
    expect(irq1.level).toBe(false);
    expect(irq1.rises).toBe(2);
  });

  it('echoes, sets LEDs and identifies as an MF2 keyboard', () => {
    const { kbc, out, drain } = setup();
    out(DATA, 0xee);
    expect(drain()).toEqual([0xee]);
    out(DATA, 0xed);
    out(DATA, 0x05);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(kbc.leds()).toBe(0x05);
    out(DATA, 0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x83]);
    out(CMD, 0x60);
    out(DATA, 0x41); // translation on
    out(DATA, 0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]);
  });

  it('reports and changes its scancode set', () => {
    const { kbc, out, drain } = setup();
    out(DATA, 0xf0);
    out(DATA, 0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x02]); // an ACK for each byte sent, then the set
    out(CMD, 0x60);
    out(DATA, 0x41);
    out(DATA, 0xf0);
    out(DATA, 0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x41]); // what the 8042's translation makes of 2
    out(DATA, 0xf0);
    out(DATA, 0x01);
    expect(drain()).toEqual([0xfa, 0xfa]);
    out(CMD, 0x60);
    out(DATA, 0x01); // translation off again: set 1 keys now come out as set 1
    kbc.injectScancodes([0x1e]);
    expect(drain()).toEqual([0x1e]);
  });

  it('asks for a resend of bytes that are not commands', () => {
    const { out, drain } = setup();
    out(DATA, 0x12);
    expect(drain()).toEqual([0xfe]);
  });

  it('delivers injected keys as set 1 with translation on and as set 2 without', () => {
    const { kbc, out, drain } = setup();
    kbc.injectScancodes([0x1e, 0x9e]); // "a" down, up
    expect(drain()).toEqual([0x1c, 0xf0, 0x1c]); // set 2: untranslated after reset
    out(CMD, 0x60);
    out(DATA, 0x61);
    kbc.injectScancodes([0xe0, 0x48, 0xe0, 0xc8]); // cursor up
    expect(drain()).toEqual([0xe0, 0x48, 0xe0, 0xc8]);
  });

  it('sends nothing while scanning is disabled', () => {
    const { kbc, out, drain } = setup();
    out(DATA, 0xf5);
    expect(drain()).toEqual([0xfa]);
    kbc.injectScancodes([0x1e]);
    expect(drain()).toEqual([]);
  });
});

describe('8042 save and restore', () => {
  it('round-trips the controller, the output buffer and the keyboard', () => {
    const a = setup();
    a.out(CMD, 0xaa);
    a.out(CMD, 0x60);
    a.out(DATA, 0x47);
    a.out(DATA, 0xed);
    a.out(DATA, 0x02);
    a.out(DATA, 0xf2);
    const saved = JSON.parse(JSON.stringify(a.kbc.saveState()));
    const b = setup();
    b.kbc.loadState(saved);
    expect(b.kbc.saveState()).toEqual(a.kbc.saveState());
    expect(b.irq1.level).toBe(true);
    expect(b.inb(CMD) & STATUS_SYS).toBe(STATUS_SYS);
    expect(b.drain()).toEqual(a.drain());
    expect(b.kbc.leds()).toBe(0x02);
  });
});
