/**
 * The UARTs' published line status (machine/uart-lsr-cache.ts): after every change the word a
 * pCPU reads equals what an LSR read through the platform returns, and it says "ask" exactly
 * while a read has a side effect (error bits) or THR writes feed the receiver (loopback).
 */
import { describe, expect, it } from 'vitest';
import { createPcPlatform } from '../../../src-engine/machine/platform-pc';
import { LSR_ASK, newLsrCache, readCachedLsr, uartLineEnd, uartWriteChangesLsr } from '../../../src-engine/machine/uart-lsr-cache';
import { FakeClock } from './fake-clock';

const COM1 = 0x3f8;
const COM2 = 0x2f8;
const LSR = 5;
const FCR = 2;
const MCR = 4;
const MCR_LOOP = 0x10;
const FCR_ENABLE_CLEAR = 0x07;

function setup() {
  const cache = new Int32Array(newLsrCache());
  const pc = createPcPlatform({ clock: new FakeClock(), ramBelow4G: 16 << 20, uarts: [1, 2], lsrCache: cache });
  const out = (port: number, value: number) => pc.bus.write(port, 1, value);
  const inb = (port: number) => pc.bus.read(port, 1);
  /** The published word, checked against a real read when it claims to know. */
  const published = (base: number) => {
    const v = readCachedLsr(cache, base + LSR, 1);
    if (v !== LSR_ASK) expect(inb(base + LSR)).toBe(v);
    return v;
  };
  return { pc, cache, out, inb, published };
}

describe('UART LSR cache', () => {
  it('publishes THRE|TEMT at power-on for every fitted UART, and nothing for an absent one', () => {
    const { published, cache } = setup();
    expect(published(COM1)).toBe(0x60);
    expect(published(COM2)).toBe(0x60);
    expect(cache[2]).toBe(LSR_ASK); // COM3 is not fitted
    expect(readCachedLsr(cache, 0x3e8 + LSR, 1)).toBe(LSR_ASK);
  });

  it('follows console input and RBR reads (DR), and FIFO resets', () => {
    const { pc, out, inb, published } = setup();
    out(COM1 + FCR, 0x01); // FIFO on
    pc.consoleInput(1, [0x41, 0x42]);
    expect(published(COM1)).toBe(0x61);
    expect(inb(COM1)).toBe(0x41);
    expect(published(COM1)).toBe(0x61);
    expect(inb(COM1)).toBe(0x42);
    expect(published(COM1)).toBe(0x60);
    pc.consoleInput(1, [0x43]);
    expect(published(COM1)).toBe(0x61);
    out(COM1 + FCR, FCR_ENABLE_CLEAR);
    expect(published(COM1)).toBe(0x60);
    expect(published(COM2)).toBe(0x60);
  });

  it('says "ask" in loopback and while error bits wait to be read, and publishes again after', () => {
    const { out, inb, published } = setup();
    out(COM1 + MCR, MCR_LOOP);
    expect(published(COM1)).toBe(LSR_ASK);
    // Without a FIFO the receiver holds one byte: the second overruns (OE, cleared by the read).
    out(COM1, 0x55);
    out(COM1, 0x66);
    out(COM1 + MCR, 0);
    expect(published(COM1)).toBe(LSR_ASK);
    expect(inb(COM1 + LSR) & 0x03).toBe(0x03); // DR and OE
    expect(published(COM1)).toBe(0x61);
    inb(COM1);
    expect(published(COM1)).toBe(0x60);
  });

  it('is restored with the platform state and reset with it', () => {
    const a = setup();
    a.pc.consoleInput(1, [1]);
    const saved = a.pc.saveState();
    const b = setup();
    b.pc.loadState(saved);
    expect(b.published(COM1)).toBe(0x61);
    b.pc.reset();
    expect(b.published(COM1)).toBe(0x60); // a master reset empties the receiver
    b.pc.consoleInput(1, [2]);
    expect(b.published(COM1)).toBe(0x61);
  });

  it('answers only one-byte LSR reads, and marks FCR and MCR as the writes that change LSR', () => {
    const cache = new Int32Array(newLsrCache());
    cache[0] = 0x60;
    expect(readCachedLsr(cache, COM1 + LSR, 1)).toBe(0x60);
    expect(readCachedLsr(cache, COM1 + LSR, 2)).toBe(LSR_ASK);
    expect(readCachedLsr(cache, COM1 + 6, 1)).toBe(LSR_ASK);
    expect(readCachedLsr(cache, 0x60, 1)).toBe(LSR_ASK);
    const changing = [...Array(8).keys()].filter((r) => uartWriteChangesLsr(COM2 + r));
    expect(changing).toEqual([FCR, MCR]);
    expect(uartWriteChangesLsr(0x22)).toBe(false);
  });

  it('calls a line feed written to a UART data register a line end, nothing else', () => {
    expect(uartLineEnd(COM1, 0x0a)).toBe(true);
    expect(uartLineEnd(0x2e8, 0x10a)).toBe(true); // OUT with a wider register: the low byte counts
    expect(uartLineEnd(COM1, 0x41)).toBe(false);
    expect(uartLineEnd(COM1 + 1, 0x0a)).toBe(false);
    expect(uartLineEnd(0x80, 0x0a)).toBe(false);
  });
});
