// Two PVH test guests (test/guests-pvh/grant) pass data through a grant and signal each other
// over an interdomain event channel, on the in-process Xen host. Then the engine-side view:
// pins are gone, the mapper's frame is unmapped, and destroying the domains returns every frame.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { guestResults, PvhMachine } from '../../support/pvh-machine';

const GUEST = fileURLToPath(new URL('../../guests-pvh/build/grant.elf', import.meta.url));
const BUDGET_NS = 4e9;

describe('grant PVH guests', () => {
  it('share a page through a grant and notify each other through an event channel', () => {
    const m = new PvhMachine(64, 2);
    const kernel = readFileSync(GUEST);
    const free0 = m.pool.freeFrames;
    const a = m.addDomain({ name: 'granter', kernel, cmdline: 'role=granter peer=2', memMiB: 8 });
    const b = m.addDomain({ name: 'mapper', kernel, cmdline: 'role=mapper peer=1', memMiB: 8, pin: [1] });
    expect(m.run({ maxNs: BUDGET_NS })).toBe('all-shutdown');
    expect([...m.ranOn].sort()).toEqual(['1.0@0', '2.0@1']);
    for (const id of [a, b]) {
      const d = m.domain(id);
      const r = guestResults(d.console);
      expect(r.fail, d.console).toEqual([]);
      expect(r.done, d.console).toBe(true);
      expect(d.shutdown).toBe('poweroff');
    }
    expect(guestResults(m.domain(a).console).pass).toContain('granter-peer-replied');
    expect(guestResults(m.domain(b).console).pass).toContain('mapper-reads-granted-page');
    // The mapper's maptrack is empty and its map frame empty again.
    expect(m.domain(b).xen.maptrack.size).toBe(0);
    expect(m.domain(b).memory.p2m[0x41000]).toBe(0);
    m.destroy(b);
    m.destroy(a);
    expect(m.pool.freeFrames).toBe(free0);
  });

  it('keeps a granted frame alive for the mapper when the granter is destroyed first', () => {
    const m = new PvhMachine(64, 1);
    const kernel = readFileSync(GUEST);
    const free0 = m.pool.freeFrames;
    const a = m.addDomain({ name: 'granter', kernel, cmdline: 'role=granter peer=2', memMiB: 8 });
    const b = m.addDomain({ name: 'mapper', kernel, cmdline: 'role=mapper peer=1', memMiB: 8 });
    // Stop as soon as the mapper has mapped the page.
    m.run({ maxNs: BUDGET_NS, until: () => m.domain(b).console.includes('PASS mapper-reads-granted-page') });
    const map = [...m.domain(b).xen.maptrack.values()][0];
    expect(map).toBeDefined();
    const before = m.pool.mem8.slice(map.frame * 4096, map.frame * 4096 + 24);
    m.destroy(a);
    // The frame did not go back to the pool: still mapped by b, contents intact.
    expect(m.domain(b).memory.p2m[0x41000]).toBe(map.frame + 1);
    expect(m.pool.mem8.slice(map.frame * 4096, map.frame * 4096 + 24)).toEqual(before);
    m.destroy(b);
    expect(m.pool.freeFrames).toBe(free0);
  });
});
