import { describe, expect, it } from 'vitest';
import { HvConsoleOut } from '../../../src-engine/runtime/hv-console-out';
import type { HvDomain } from '../../../src-engine/runtime/hv-domain';
import type { HvToHost } from '../../../src-engine/runtime/messages';

const MS = 1e6;

/** The parts of an HvDomain the console output reads. */
function domain(domid: number): HvDomain {
  return { domid, consoleOut: new Map<number, number[]>(), messages: [] as string[] } as unknown as HvDomain;
}

function write(d: HvDomain, com: number, text: string): void {
  let q = d.consoleOut.get(com);
  if (q === undefined) d.consoleOut.set(com, (q = []));
  for (const c of text) q.push(c.charCodeAt(0));
}

function setup() {
  const posted: HvToHost[] = [];
  const out = new HvConsoleOut((m) => posted.push(m));
  const text = () => posted.map((m) => (m.t === 'console' ? `${m.domid}/${m.com}:${new TextDecoder().decode(m.data)}` : m.t === 'domain-message' ? `msg ${m.text}` : m.t));
  return { out, posted, text };
}

describe('HvConsoleOut', () => {
  it('holds characters of an unfinished line and sends the line in one message at its end', () => {
    const { out, text } = setup();
    const d = domain(3);
    let now = 0;
    for (const c of 'TICK 1') {
      write(d, 1, c);
      out.afterWork([d], (now += 0.1 * MS));
    }
    expect(text()).toEqual([]);
    expect(out.due).toBeCloseTo(0.1 * MS + 1 * MS);
    write(d, 1, '\n');
    out.afterWork([d], (now += 0.1 * MS));
    expect(text()).toEqual(['3/1:TICK 1\n']);
    expect(out.due).toBe(Infinity);
  });

  it('sends held output once it has waited 1 ms, and long output at once', () => {
    const { out, text } = setup();
    const d = domain(1);
    write(d, 1, '$ ');
    out.afterWork([d], 5 * MS);
    out.afterWork([d], 5.9 * MS);
    expect(text()).toEqual([]);
    out.afterWork([d], 6 * MS);
    expect(text()).toEqual(['1/1:$ ']);
    write(d, 2, 'x'.repeat(256));
    out.afterWork([d], 7 * MS);
    expect(text()).toHaveLength(2);
  });

  it('keeps console output ahead of a message of the same domain', () => {
    const { out, text } = setup();
    const a = domain(1);
    const b = domain(2);
    write(a, 1, 'partial');
    write(b, 1, 'other');
    a.messages.push('BIOS: booting');
    out.afterWork([a, b], 0);
    expect(text()).toEqual(['1/1:partial', 'msg BIOS: booting']);
    // Domain 2's partial line is still held.
    expect(out.due).toBe(1 * MS);
    out.flushConsole(b);
    expect(text()).toEqual(['1/1:partial', 'msg BIOS: booting', '2/1:other']);
  });
});
