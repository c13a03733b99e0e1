// The PV console back end (io/console.h): output drained from out[] across the wrap, a runaway
// producer index cut back to one ring, input fed into in[] as room allows (the rest waits), and a
// notification whenever something moved.
import { describe, expect, it } from 'vitest';
import { ConsoleBackend, CONS_IN_SIZE, CONS_OUT_SIZE } from '../../../src-engine/hv/xen/backends/console-backend';

function setup() {
  const buf = new SharedArrayBuffer(8192);
  const mem = { mem8: new Uint8Array(buf), mem32: new Int32Array(buf), codeMark: new Uint8Array(2), codeGen: new Int32Array(2) };
  const out: string[] = [];
  let notes = 0;
  const be = new ConsoleBackend(mem, () => 0, () => notes++, (b) => out.push(new TextDecoder().decode(b)));
  const guestWrite = (text: string) => {
    let prod = mem.mem32[3084 / 4] >>> 0;
    for (const ch of text) mem.mem8[1024 + (prod++ & (CONS_OUT_SIZE - 1))] = ch.charCodeAt(0);
    mem.mem32[3084 / 4] = prod;
  };
  const guestRead = (): string => {
    let cons = mem.mem32[3072 / 4] >>> 0;
    const prod = mem.mem32[3076 / 4] >>> 0;
    let s = '';
    while (cons !== prod) s += String.fromCharCode(mem.mem8[cons++ & (CONS_IN_SIZE - 1)]);
    mem.mem32[3072 / 4] = cons;
    return s;
  };
  return { be, mem, out, notes: () => notes, guestWrite, guestRead };
}

describe('PV console back end', () => {
  it('drains output across the ring wrap and notifies', () => {
    const t = setup();
    t.mem.mem32[3080 / 4] = CONS_OUT_SIZE - 3;
    t.mem.mem32[3084 / 4] = CONS_OUT_SIZE - 3;
    t.guestWrite('hello\r\n');
    t.be.service();
    expect(t.out.join('')).toBe('hello\r\n');
    expect(t.mem.mem32[3080 / 4]).toBe(t.mem.mem32[3084 / 4]);
    expect(t.notes()).toBe(1);
    t.be.service();
    expect(t.notes()).toBe(1);
  });

  it('takes at most one ring from a runaway producer', () => {
    const t = setup();
    t.mem.mem32[3084 / 4] = 100_000;
    t.be.service();
    expect(t.out.join('').length).toBe(CONS_OUT_SIZE);
    expect(t.mem.mem32[3080 / 4]).toBe(100_000);
  });

  it('feeds input as room allows and keeps the rest for later', () => {
    const t = setup();
    const text = 'x'.repeat(CONS_IN_SIZE + 10);
    t.be.input(new TextEncoder().encode(text));
    expect(t.guestRead().length).toBe(CONS_IN_SIZE);
    t.be.service();
    expect(t.guestRead()).toBe('x'.repeat(10));
  });
});
