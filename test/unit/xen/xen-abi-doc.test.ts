// docs/xen-abi.md ends with a compatibility list generated from the hypercall table, the
// sub-operation tables, the xenstore message types, the layouts and the limits. This keeps it in
// step with the code (DOMUS_UPDATE_DOCS=1 rewrites the generated section), and checks that the
// table itself is consistent: one entry per number, handlers exactly where the status says so.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPAT_BEGIN, COMPAT_END, renderXenCompatibility } from '../../../src-engine/hv/xen/compat-doc';
import { HYPERCALLS } from '../../../src-engine/hv/xen/hypercalls/hypercall-table';

const DOC = new URL('../../../docs/xen-abi.md', import.meta.url);

describe('docs/xen-abi.md', () => {
  it('ends with the generated compatibility list', () => {
    const text = readFileSync(DOC, 'utf8');
    const at = text.indexOf(COMPAT_BEGIN);
    const head = at < 0 ? text.replace(/\n*$/, '\n\n') : text.slice(0, at);
    const want = `${head}${renderXenCompatibility()}\n`;
    if (process.env.DOMUS_UPDATE_DOCS === '1') writeFileSync(DOC, want);
    expect(readFileSync(DOC, 'utf8')).toBe(want);
    expect(want.indexOf(COMPAT_END)).toBeGreaterThan(want.indexOf(COMPAT_BEGIN));
  });

  it('has one table entry per hypercall number and handlers where the status promises them', () => {
    const nrs = HYPERCALLS.map((h) => h.nr);
    expect(new Set(nrs).size).toBe(nrs.length);
    for (const h of HYPERCALLS) {
      const implemented = h.status === 'supported' || h.status === 'partial';
      expect(h.handler !== undefined, h.name).toBe(implemented);
      for (const o of h.subops ?? []) {
        const subImplemented = o.status === 'supported' || o.status === 'partial';
        expect(o.handler !== undefined, `${h.name} ${o.name}`).toBe(subImplemented);
        expect(o.caller === 'privileged', `${h.name} ${o.name}`).toBe(o.status === 'privileged');
      }
      const ids = (h.subops ?? []).map((o) => o.nr);
      expect(new Set(ids).size, h.name).toBe(ids.length);
    }
  });
});
