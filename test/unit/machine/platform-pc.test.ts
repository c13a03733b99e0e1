import { describe, expect, it } from 'vitest';
import { PortConflictError } from '../../../src-engine/machine/io-bus';
import { createPcPlatform, type PcPlatformConfig } from '../../../src-engine/machine/platform-pc';
import { pitNsFor } from '../../../src-engine/machine/pit-8254';
import { FakeClock } from './fake-clock';

const MiB = 1024 * 1024;

function setup(extra: Partial<PcPlatformConfig> = {}) {
  const clock = new FakeClock();
  const events: string[] = [];
  const serial = new Map<number, number[]>();
  const pc = createPcPlatform({
    clock,
    ramBelow4G: 128 * MiB,
    onUartTransmit: (com, byte) => serial.set(com, [...(serial.get(com) ?? []), byte]),
    onDebugExit: (status) => events.push(`exit ${status}`),
    onResetRequest: (source) => events.push(`reset ${source}`),
    onA20Change: (on) => events.push(`a20 ${on}`),
    onIntrChange: (level) => events.push(`intr ${level}`),
    ...extra,
  });
  const out = (port: number, value: number) => pc.bus.write(port, 1, value);
  const inb = (port: number) => pc.bus.read(port, 1);
  const biosPicInit = () => {
    for (const [port, value] of [[0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x70], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]]) out(port, value);
  };
  return { clock, pc, events, serial, out, inb, biosPicInit };
}

describe('PC platform layout', () => {
  it('places every device at its PC ports, with COM1 only and no debug-exit by default', () => {
    const { pc } = setup();
    expect(pc.bus.describe().split('\n')).toEqual([
      '0x0020-0x0021  pic-master',
      '0x0040-0x0043  pit',
      '0x0060         i8042',
      '0x0061         system-control-b',
      '0x0064         i8042',
      '0x0070-0x0071  cmos-rtc',
      '0x0080         post-port',
      '0x0092         port-92',
      '0x00a0-0x00a1  pic-slave',
      '0x03f8-0x03ff  uart-com1',
      '0x04d0-0x04d1  pic-elcr',
    ]);
    expect(pc.debugExit).toBeUndefined();
    expect([...pc.uarts.keys()]).toEqual([1]);
  });

  it('fits the COM ports and the debug-exit device it is asked for', () => {
    const { pc, events } = setup({ uarts: [1, 2, 3, 4], debugExit: true });
    expect(pc.bus.deviceAt(0x2f8)).toBe('uart-com2');
    expect(pc.bus.deviceAt(0x3e8)).toBe('uart-com3');
    expect(pc.bus.deviceAt(0x2ef)).toBe('uart-com4');
    pc.bus.write(0xf4, 4, 0x31);
    expect(events).toContain('exit 99');
  });

  it('refuses a debug-exit placed on top of COM1, naming both', () => {
    expect(() => setup({ debugExit: { base: 0x3f8, ports: 1 } })).toThrow(PortConflictError);
    expect(() => setup({ debugExit: { base: 0x3f8, ports: 1 } })).toThrow(/isa-debug-exit.*uart-com1/);
  });

  it('writes the memory size into CMOS', () => {
    const { out, inb } = setup();
    const cmos = (i: number) => (out(0x70, i), inb(0x71));
    expect(cmos(0x15) | (cmos(0x16) << 8)).toBe(640);
    expect(cmos(0x34) | (cmos(0x35) << 8)).toBe(112 * 16);
  });
});

describe('PC platform interrupts', () => {
  it('carries PIT IRQ0 through the router and the PIC to the CPU', () => {
    const { clock, pc, out, events, biosPicInit } = setup();
    biosPicInit();
    out(0x43, 0x34);
    out(0x40, 0x9c);
    out(0x40, 0x2e); // 11932: 100 Hz
    const deadline = pc.tick(clock.ns);
    expect(deadline).toBe(clock.ns + pitNsFor(11932));
    expect(pc.interruptController.hasInterrupt()).toBe(false);
    clock.ns = deadline;
    pc.tick(clock.ns);
    expect(events.at(-1)).toBe('intr true');
    expect(pc.interruptController.acknowledge()).toBe(0x08);
    expect(events.at(-1)).toBe('intr false');
  });

  it('delivers COM1 on IRQ4 and the RTC on IRQ8 through the cascade', () => {
    const { clock, pc, out, inb, biosPicInit } = setup();
    biosPicInit();
    out(0x3fc, 0x08); // OUT2
    out(0x3f9, 0x01); // receive interrupts
    pc.consoleInput(1, [0x71]);
    expect(pc.interruptController.acknowledge()).toBe(0x0c);
    expect(inb(0x3f8)).toBe(0x71);
    out(0x20, 0x20);
    out(0x70, 0x0b);
    out(0x71, 0x42); // periodic interrupt enable
    clock.ns = pc.tick(clock.ns);
    pc.tick(clock.ns);
    expect(pc.interruptController.acknowledge()).toBe(0x70);
  });

  it('lets COM1 and COM3 share IRQ4, the one with OUT2 set driving it', () => {
    const { pc, out, biosPicInit } = setup({ uarts: [1, 3] });
    biosPicInit();
    out(0x3e9, 0x01);
    out(0x3ec, 0x08);
    out(0x3f9, 0x01); // COM1 enables interrupts but leaves OUT2 off
    pc.consoleInput(1, [1]);
    expect(pc.irqRouter.level(4)).toBe(false);
    pc.consoleInput(3, [2]);
    expect(pc.irqRouter.level(4)).toBe(true);
    expect(pc.interruptController.acknowledge()).toBe(0x0c);
  });

  it('reports when a port access may have moved a deadline, and the earliest deadline of all', () => {
    const { clock, pc, out } = setup();
    pc.tick(clock.ns);
    expect(pc.timersChanged).toBe(false);
    out(0x80, 0x11);
    pc.bus.read(0x61, 1);
    expect(pc.timersChanged).toBe(false); // POST codes have no timers; reading port B moves nothing
    out(0x43, 0x34);
    expect(pc.timersChanged).toBe(true);
    out(0x40, 0x10);
    out(0x40, 0x00); // 16 clocks
    expect(pc.tick(clock.ns)).toBe(clock.ns + pitNsFor(16));
    expect(pc.timersChanged).toBe(false);
    pc.consoleInput(1, [0x20]);
    expect(pc.timersChanged).toBe(true);
  });
});

describe('PC platform A20 and reset', () => {
  it('gates A20 by the 8042 output port OR port 0x92, and names who asked for a reset', () => {
    const { pc, out, events } = setup();
    expect(pc.a20()).toBe(true); // the 8042 powers up with A20 on
    out(0x64, 0xdd);
    expect(pc.a20()).toBe(false);
    out(0x92, 0x02);
    expect(pc.a20()).toBe(true);
    out(0x92, 0x03);
    out(0x64, 0xfe);
    expect(events.filter((e) => !e.startsWith('intr'))).toEqual(['a20 false', 'a20 true', 'reset port-92', 'reset i8042']);
  });

  it('resets the devices on a machine reset but keeps the CMOS memory and time', () => {
    const { pc, out, inb, biosPicInit } = setup();
    biosPicInit();
    out(0x70, 0x40);
    out(0x71, 0x77);
    out(0x3ff, 0x99);
    pc.reset();
    expect(pc.pic.vectorBases()).toEqual([0, 0]);
    expect(inb(0x3ff)).toBe(0);
    out(0x70, 0x40);
    expect(inb(0x71)).toBe(0x77);
    out(0x70, 0x09);
    expect(inb(0x71)).toBe(0x24);
  });
});

describe('PC platform save and restore', () => {
  it('round-trips the whole device set and resumes the same behaviour', () => {
    const a = setup({ uarts: [1, 2] });
    a.biosPicInit();
    a.out(0x43, 0x34);
    a.out(0x40, 0x00);
    a.out(0x40, 0x80);
    a.out(0x3fc, 0x0b);
    a.out(0x3f9, 0x01);
    a.pc.consoleInput(1, new TextEncoder().encode('boot'));
    a.out(0x70, 0x0b);
    a.out(0x71, 0x06);
    a.out(0x80, 0x3c);
    a.clock.advanceMs(3);
    a.pc.tick(a.clock.ns);
    const saved = JSON.parse(JSON.stringify(a.pc.saveState()));

    const b = setup({ uarts: [1, 2] });
    b.clock.advanceMs(10);
    b.pc.loadState(saved);
    expect(b.pc.post.lastCode).toBe(0x3c);
    expect(b.pc.interruptController.hasInterrupt()).toBe(a.pc.interruptController.hasInterrupt());
    expect(b.pc.interruptController.acknowledge()).toBe(a.pc.interruptController.acknowledge());
    let text = '';
    while (b.inb(0x3fd) & 1) text += String.fromCharCode(b.inb(0x3f8));
    expect(text).toBe('boot');
    b.out(0x70, 0x0b);
    expect(b.inb(0x71)).toBe(0x06);
  });

  it('refuses a saved set without one of its COM ports', () => {
    const a = setup();
    const b = setup({ uarts: [1, 2] });
    expect(() => b.pc.loadState(a.pc.saveState())).toThrow(/uarts\.com2/);
  });
});
