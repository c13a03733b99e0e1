// XenHost.saveDomain() / createDomain(cfg, saved) on paths the test guests do not take: a mapping
// of the domain's own grant comes back (same handle, frame, pin and GTF flags), an interdomain
// channel to another guest comes back unbound for it, an open xenstore transaction is reopened
// under its id and fails with EAGAIN at commit, and destroying the restored domain gives every
// frame back.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { resetState } from '../../../src-engine/cpu/reset';
import { STATE_BYTES } from '../../../src-engine/cpu/state';
import { DomainMemory, P2M_ENTRIES } from '../../../src-engine/hv/memory/domain-memory';
import { pvhMemoryMap } from '../../../src-engine/boot/pvh';
import { ECS_INTERDOMAIN, ECS_UNBOUND } from '../../../src-engine/hv/xen/event-channels';
import { GNTMAP_HOST_MAP, mapGrant } from '../../../src-engine/hv/xen/grant-mapping';
import { GTF_PERMIT_ACCESS, GTF_READING, GTF_WRITING } from '../../../src-engine/hv/xen/grant-table';
import { strings, XS_TRANSACTION_START, XS_WRITE } from '../../../src-engine/hv/xen/xenstore/xs-protocol';
import { XsError } from '../../../src-engine/hv/xen/xenstore/xs-tree';
import { makeHost } from './xen-fixture';
import { fromBase64, fromRuns, toBase64, toRuns } from '../../../src-engine/hv/xen/save/save-codec';

const OWN_GFN = 0x100;
const MAP_GFN = 0x80000;
const REF = 10;
/** The first domain's xenstore ring connection (connection 1 is domain 0's own client). */
const FIRST_STORE_CONN = 2;

describe('Xen state save and restore (XenHost)', () => {
  it('brings back own-grant mappings, unbinds channels to other guests, dooms open transactions', () => {
    const a = makeHost();
    const d1 = a.domain(1);
    const d2 = a.domain(2);
    const offered = d2.evtchn.allocUnbound(1);
    const p1 = d1.evtchn.bindInterdomain(2, offered);
    // Domain 1 grants one of its pages to itself and maps it at an empty frame.
    const e = d1.grants.entryOffset(REF);
    a.pool.mem32[(e >> 2) + 1] = OWN_GFN;
    a.pool.mem32[e >> 2] = GTF_PERMIT_ACCESS | (1 << 16);
    d1.memory.write(OWN_GFN * 4096, new TextEncoder().encode('granted to myself'));
    const handle = mapGrant(a.host, d1, 1, REF, MAP_GFN * 4096, GNTMAP_HOST_MAP);
    // A transaction open on its xenstore connection, with a change in it.
    a.host.xenstore.request(FIRST_STORE_CONN, { type: XS_TRANSACTION_START, reqId: 1, txId: 0, payload: strings('') });
    const [tx] = a.host.xenstore.transactionsOf(FIRST_STORE_CONN);
    a.host.xenstore.request(FIRST_STORE_CONN, { type: XS_WRITE, reqId: 2, txId: tx.id, payload: new TextEncoder().encode('data/x\0in-tx') });

    const saved = JSON.parse(JSON.stringify(a.host.saveDomain(1))) as ReturnType<typeof a.host.saveDomain>;
    expect(saved.maps).toEqual([{ handle, ref: REF, gfn: MAP_GFN }]);
    expect(saved.overlays.some((o) => o.kind === 'foreign' && o.gfn === MAP_GFN)).toBe(true);
    const pages = new Map<number, Uint8Array>();
    for (let g = 0; g < P2M_ENTRIES; g++) if (d1.memory.p2m[g] !== 0 && d1.physmap.isOwnRam(g)) pages.set(g, d1.memory.read(g * 4096, 4096));

    const b = makeHost();
    const free0 = b.pool.freeFrames;
    const memory = new DomainMemory(b.pool, 'dom1', { ramBytes: 2 * 2 ** 20 });
    for (const [g, data] of pages) {
      if (!memory.isRam(g * 4096, 4096)) memory.populate(g);
      memory.write(g * 4096, data);
    }
    const states = new SharedArrayBuffer(STATE_BYTES);
    resetState(new Int32Array(states));
    const r = b.host.createDomain(
      {
        domid: 1, name: 'dom1', uuid: '00000000-0000-4000-8000-000000000001', memory, states, nrVcpus: 1,
        features: { ...DEFAULT_FEATURES, hypervisor: true }, timeBaseNs: b.clock.now, memoryMap: pvhMemoryMap(memory.ramSize),
      },
      saved,
    );
    // The mapping: same handle, the granted frame visible at the map frame, pinned again.
    expect(r.maptrack.get(handle)).toMatchObject({ grantor: 1, ref: REF, gfn: MAP_GFN });
    expect(new TextDecoder().decode(memory.read(MAP_GFN * 4096, 17))).toBe('granted to myself');
    expect(memory.p2m[MAP_GFN]).toBe(memory.p2m[OWN_GFN]);
    expect(r.grants.pinCount(REF)).toBe(1);
    const flags = b.pool.mem32[r.grants.entryOffset(REF) >> 2] & 0xffff;
    expect(flags & (GTF_READING | GTF_WRITING)).toBe(GTF_READING | GTF_WRITING);
    // The channel to domain 2 (not restored) is offered to it again.
    expect(d1.evtchn.get(p1)?.state).toBe(ECS_INTERDOMAIN);
    expect(r.evtchn.get(p1)).toMatchObject({ state: ECS_UNBOUND, remoteDom: 2 });
    // The transaction is back under its id, with its change, and cannot commit.
    const [back] = b.host.xenstore.transactionsOf(FIRST_STORE_CONN);
    expect(back.id).toBe(tx.id);
    expect(new TextDecoder().decode(back.tree.read(1, '/local/domain/1/data/x'))).toBe('in-tx');
    expect(() => back.commit(b.host.xenstore.tree)).toThrow(XsError);
    expect(() => back.commit(b.host.xenstore.tree)).toThrow(/EAGAIN/);
    // Destroying it returns every frame (the own-grant mapping is not a frame of its own).
    b.host.destroyDomain(1);
    memory.release();
    expect(b.pool.freeFrames).toBe(free0);
  });

  it('encodes bytes as RFC 4648 base64 and frame sets as runs, refusing malformed input', () => {
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n) & 0xff);
      expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'));
      expect(Buffer.from(fromBase64(toBase64(b), 'x')).equals(Buffer.from(b))).toBe(true);
    }
    expect(() => fromBase64('ab=c', 'the thing')).toThrow(/the thing is not readable/);
    expect(() => fromBase64(7, 'the thing')).toThrow(/the thing is not readable/);
    expect(toRuns([1, 2, 3, 7, 9, 10])).toEqual([[1, 3], [7, 1], [9, 2]]);
    expect(fromRuns([[1, 3], [7, 1]], 'x')).toEqual([1, 2, 3, 7]);
    expect(() => fromRuns([[1, -1]], 'the frames')).toThrow(/the frames is not readable/);
  });
});
