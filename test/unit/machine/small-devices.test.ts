import { describe, expect, it } from 'vitest';
import { DebugExit } from '../../../src-engine/machine/debug-exit';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { Port92 } from '../../../src-engine/machine/port-92';
import { PostPort } from '../../../src-engine/machine/post-port';

describe('isa-debug-exit', () => {
  it('turns a write of v into exit status (v << 1) | 1 for every access size', () => {
    const statuses: number[] = [];
    const bus = new IoBus();
    bus.register(0xf4, 4, new DebugExit({ onExit: (status) => statuses.push(status) }), { width: 'any' });
    bus.write(0xf4, 1, 0x10);
    bus.write(0xf4, 2, 0x0000);
    bus.write(0xf6, 4, 0x7fffffff);
    expect(statuses).toEqual([0x21, 1, 0xffffffff]);
  });
});

describe('port 0x92', () => {
  it('gates A20 with bit 1 and resets on a rising bit 0 only', () => {
    const a20: boolean[] = [];
    let resets = 0;
    const port = new Port92({ onA20Change: (on) => a20.push(on), onReset: () => resets++ });
    const bus = new IoBus();
    bus.register(0x92, 1, port);
    bus.write(0x92, 1, bus.read(0x92, 1) | 0x02);
    expect(a20).toEqual([true]);
    expect(bus.read(0x92, 1)).toBe(0x02);
    bus.write(0x92, 1, 0x03);
    bus.write(0x92, 1, 0x03);
    expect(resets).toBe(1);
    bus.write(0x92, 1, 0x02);
    bus.write(0x92, 1, 0x03);
    expect(resets).toBe(2);
    const saved = port.saveState();
    const other = new Port92();
    other.loadState(saved);
    expect(other.a20()).toBe(true);
  });
});

describe('POST code port', () => {
  it('remembers the last code and reads back as the floating bus', () => {
    const post = new PostPort();
    const bus = new IoBus();
    bus.register(0x80, 1, post);
    expect(post.lastCode).toBeNull();
    bus.write(0x80, 1, 0x12);
    bus.write(0x80, 1, 0x55);
    expect(post.lastCode).toBe(0x55);
    expect(post.writes).toBe(2);
    expect(bus.read(0x80, 1)).toBe(0xff);
    const copy = new PostPort();
    copy.loadState(post.saveState());
    expect(copy.lastCode).toBe(0x55);
  });
});
