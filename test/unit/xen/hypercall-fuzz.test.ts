// A fast fuzz of the hypercall dispatcher itself: random registers, random guest memory, random
// paging state, every hypercall and sub-operation of the table. Dispatch runs in strict mode, so
// any exception other than a Xen errno fails the test; every result must be >= 0 or a Xen errno;
// and no machine frame outside the calling domain is touched: the frames of a second domain and
// the frames that were free before stay byte-for-byte identical.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { CR0_PE, CR0_PG, CR4_PSE, EAX, EBP, EBX, ECX, EDI, EDX, ESI, S_CPL, S_CR0, S_CR3, S_CR4, STATE_BYTES } from '../../../src-engine/cpu/state';
import { resetState } from '../../../src-engine/cpu/reset';
import { MachineMemory } from '../../../src-engine/hv/memory/machine-memory';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';
import { pvhMemoryMap } from '../../../src-engine/boot/pvh';
import { XenHost } from '../../../src-engine/hv/xen/xen-host';
import { dispatchHypercall } from '../../../src-engine/hv/xen/hypercalls/dispatch';
import { HYPERCALLS } from '../../../src-engine/hv/xen/hypercalls/hypercall-table';
import { XEN_ERRNO_NAMES } from '../../../src-engine/hv/xen/abi/xen-errno';
import { MEMOP_CMD_MASK } from '../../../src-engine/hv/xen/hypercalls/memory-op';
import type { XenDomain } from '../../../src-engine/hv/xen/xen-domain';

const RAM = 2 * 2 ** 20;
const CALLS = 60_000;
const PAGE = 4096;

/** xorshift32: deterministic, seedable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function setup(seed: number): { host: XenHost; a: XenDomain; b: XenDomain; pool: MachineMemory; rnd: () => number } {
  const pool = new MachineMemory(32 * 2 ** 20);
  let now = 1_000_000;
  const host = new XenHost(pool, {
    now: () => (now += 1000),
    wallMs: () => 1.7e12,
    kickVcpu: () => {},
    p2mChanged: () => {},
    vcpuOnline: () => {},
    domainShutdown: () => {},
    consoleOutput: () => {},
    log: (level, m) => {
      if (level === 'error') throw new Error(m);
    },
  });
  host.dispatchOptions = { strict: true };
  const make = (domid: number, nr: number): XenDomain => {
    const memory = new DomainMemory(pool, `fuzz${domid}`, { ramBytes: RAM });
    const states = new SharedArrayBuffer(nr * STATE_BYTES);
    for (let v = 0; v < nr; v++) resetState(new Int32Array(states, v * STATE_BYTES, STATE_BYTES / 4));
    return host.createDomain({
      domid, name: `fuzz${domid}`, uuid: `00000000-0000-4000-8000-00000000000${domid}`, memory, states, nrVcpus: nr,
      features: { ...DEFAULT_FEATURES, hypervisor: true }, timeBaseNs: 0, memoryMap: pvhMemoryMap(RAM),
    });
  };
  const a = make(1, 2);
  const b = make(2, 1);
  return { host, a, b, pool, rnd: rng(seed) };
}

/** Machine frames of a domain: its P2M, shared_info and grant frames. */
function framesOf(d: XenDomain): Set<number> {
  const s = new Set<number>([d.sharedInfoFrame, ...d.grants.frames]);
  for (let g = 0; g < d.memory.p2m.length; g++) if (d.memory.p2m[g] !== 0) s.add(d.memory.p2m[g] - 1);
  return s;
}

function snapshot(pool: MachineMemory, frames: Iterable<number>): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const f of frames) m.set(f, pool.mem8.slice(f * PAGE, (f + 1) * PAGE));
  return m;
}

/** Frames that differ from a snapshot. */
function changed(pool: MachineMemory, snap: Map<number, Uint8Array>): number[] {
  const out: number[] = [];
  for (const [f, bytes] of snap) if (!Buffer.from(bytes).equals(Buffer.from(pool.mem8.subarray(f * PAGE, (f + 1) * PAGE)))) out.push(f);
  return out;
}

/** Where most pointer arguments point: a region kept full of argument-like words. */
const ARG_AREA = 64 * 1024;

/**
 * Fills the argument area with words that look like arguments (small numbers, DOMID_SELF,
 * addresses, noise) and scatters some elsewhere in RAM.
 */
function scribble(d: XenDomain, rnd: () => number): void {
  const dv = new DataView(new ArrayBuffer(ARG_AREA));
  const word = (): number => {
    const r = rnd();
    return r < 0.45 ? Math.floor(rnd() * 16) : r < 0.6 ? 0x7ff0 : r < 0.8 ? Math.floor(rnd() * RAM) : Math.floor(rnd() * 2 ** 32);
  };
  for (let k = 0; k < ARG_AREA; k += 4) dv.setUint32(k, word() >>> 0, true);
  d.memory.write(0, new Uint8Array(dv.buffer));
  for (let k = 0; k < 1024; k++) d.memory.writeU32(Math.floor(rnd() * (RAM / 4)) * 4, word() >>> 0);
}

function randomArg(rnd: () => number): number {
  const r = rnd();
  if (r < 0.3) return Math.floor(rnd() * ARG_AREA) & ~1;
  if (r < 0.45) return Math.floor(rnd() * RAM) & ~3;
  if (r < 0.75) return Math.floor(rnd() * 16);
  if (r < 0.8) return 0x7ff0;
  if (r < 0.85) return 0xfeffc000 + Math.floor(rnd() * 0x4000);
  return Math.floor(rnd() * 2 ** 32) >>> 0;
}

describe('hypercall dispatcher fuzz', () => {
  it('answers random calls with Xen errnos only and touches no frame outside the caller', () => {
    const { host, a, b, pool, rnd } = setup(0x5eed);
    const theirs = snapshot(pool, framesOf(b));
    const freeBefore: number[] = [];
    const mine = framesOf(a);
    for (let f = 0; f < pool.totalFrames; f++) if (!mine.has(f) && !theirs.has(f)) freeBefore.push(f);
    const free = snapshot(pool, freeBefore.slice(0, 512));
    const known = new Set(Object.keys(XEN_ERRNO_NAMES).map(Number));
    const reached = new Map<string, number>();
    const bad: string[] = [];
    for (let i = 0; i < CALLS; i++) {
      if (i % 2000 === 0) scribble(a, rnd);
      const v = rnd() < 0.8 ? 0 : 1;
      const s = a.vcpus[v].s;
      // Mostly ring 0 with paging off; sometimes paging on over random tables, sometimes ring 3.
      const mode = rnd();
      s[S_CR0] = CR0_PE | (mode < 0.25 ? CR0_PG : 0);
      s[S_CR4] = rnd() < 0.5 ? CR4_PSE : 0;
      s[S_CR3] = Math.floor(rnd() * RAM) & ~0xfff;
      s[S_CPL] = mode > 0.97 ? 3 : 0;
      const entry = rnd() < 0.9 ? HYPERCALLS[Math.floor(rnd() * HYPERCALLS.length)] : undefined;
      const nr = entry?.nr ?? (rnd() < 0.5 ? Math.floor(rnd() * 64) : Math.floor(rnd() * 2 ** 32));
      let sub = randomArg(rnd);
      if (entry?.subops && rnd() < 0.9) sub = entry.subops[Math.floor(rnd() * entry.subops.length)].nr;
      if (entry?.nr === 12 && rnd() < 0.2) sub |= Math.floor(rnd() * 64) << 6;
      s[EAX] = nr | 0;
      s[EBX] = sub | 0;
      for (const r of [ECX, EDX, ESI, EDI, EBP]) s[r] = randomArg(rnd) | 0;
      dispatchHypercall(host, a, v, 1e6 + i * 1000, host.dispatchOptions);
      const res = s[EAX];
      if (res < 0 && !known.has(-res)) bad.push(`hypercall ${nr >>> 0} sub ${sub} -> ${res}`);
      if (entry !== undefined && s[S_CPL] === 0) {
        const op = entry.subops?.find((o) => o.nr === ((entry.nr === 12 ? sub & MEMOP_CMD_MASK : sub) >>> 0));
        const key = `${entry.name}${op ? `/${op.name}` : ''}`;
        reached.set(key, (reached.get(key) ?? 0) + (res >= 0 ? 1 : 0));
      }
      host.runTimers();
    }
    expect(bad).toEqual([]);
    expect(changed(pool, theirs)).toEqual([]);
    expect(changed(pool, free).filter((f) => !framesOf(a).has(f))).toEqual([]);
    // Every implemented call and sub-operation was made, and most of them succeeded sometimes.
    const implemented: string[] = [];
    for (const h of HYPERCALLS) {
      if (h.handler === undefined) continue;
      for (const op of h.subops ?? [{ name: '', handler: h.handler }]) {
        if (op.handler !== undefined) implemented.push(`${h.name}${op.name ? `/${op.name}` : ''}`);
      }
    }
    expect(implemented.filter((k) => !reached.has(k))).toEqual([]);
    const neverOk = implemented.filter((k) => (reached.get(k) ?? 0) === 0);
    console.log(`fuzz: ${implemented.length} handlers; never succeeded with random arguments: ${neverOk.join(', ')}`);
    expect(neverOk.length).toBeLessThan(implemented.length / 4);
    host.destroyDomain(1);
    host.destroyDomain(2);
  });
});
