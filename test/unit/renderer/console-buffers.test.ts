import { describe, expect, it } from 'vitest';
import { CONSOLE_KEEP_BYTES, ConsoleBuffers, mergeHistory, overlapLength } from '../../../src-renderer/state/console-buffers';

const b = (s: string) => new TextEncoder().encode(s);
const s = (x: Uint8Array) => new TextDecoder().decode(x);

describe('console buffers', () => {
  it('drops the bytes that arrived both as history and as live events', () => {
    expect(overlapLength(b('hello wor'), b('world!'))).toBe(3);
    expect(s(mergeHistory(b('hello wor'), b('world!')))).toBe('hello world!');
    expect(s(mergeHistory(b('abc'), b('xyz')))).toBe('abcxyz');
    expect(s(mergeHistory(b('abc'), b('')))).toBe('abc');
    expect(s(mergeHistory(b(''), b('live')))).toBe('live');
  });

  it('holds live output while the history loads, then shows history + the rest once', () => {
    const c = new ConsoleBuffers();
    const shown: string[] = [];
    c.beginHistory(1, 1);
    c.attach(1, 1, (d) => shown.push(s(d)));
    c.push(1, 1, b('TICK 2\n'));
    expect(shown).toEqual([]);
    expect(c.loading(1, 1)).toBe(true);
    c.endHistory(1, 1, b('boot\nTICK 1\nTICK 2\n'));
    expect(shown).toEqual(['boot\nTICK 1\nTICK 2\n']);
    c.push(1, 1, b('TICK 3\n'));
    expect(shown.join('')).toBe('boot\nTICK 1\nTICK 2\nTICK 3\n');
    // A console opened later gets everything at once.
    const late: string[] = [];
    c.attach(1, 1, (d) => late.push(s(d)));
    expect(late).toEqual(['boot\nTICK 1\nTICK 2\nTICK 3\n']);
  });

  it('after a reconnect shows only what the listeners have not seen', () => {
    const c = new ConsoleBuffers();
    const shown: string[] = [];
    c.attach(2, 1, (d) => shown.push(s(d)));
    c.push(2, 1, b('one\n'));
    c.beginHistory(2, 1);
    c.endHistory(2, 1, b('one\ntwo\n'));
    expect(shown).toEqual(['one\n', 'two\n']);
  });

  it('keeps at most CONSOLE_KEEP_BYTES per console and forgets destroyed domains', () => {
    const c = new ConsoleBuffers();
    c.push(3, 1, new Uint8Array(CONSOLE_KEEP_BYTES - 10).fill(65));
    c.push(3, 1, b('0123456789abcdef'));
    const all = c.contents(3, 1);
    expect(all.length).toBeLessThanOrEqual(CONSOLE_KEEP_BYTES);
    expect(s(all.subarray(all.length - 16))).toBe('0123456789abcdef');
    c.drop(3);
    expect(c.contents(3, 1).length).toBe(0);
  });
});
