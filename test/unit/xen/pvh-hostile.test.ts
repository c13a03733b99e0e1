// The hostile PVH test guest (test/guests-pvh/hostile) issues random hypercalls with random
// arguments for DOMUS_HOSTILE_SECONDS of wall-clock time (default 5; the acceptance run is
// `DOMUS_HOSTILE_SECONDS=600 npx vitest run test/unit/xen/pvh-hostile.test.ts`). The engine must
// never fault (dispatch runs strict: any exception but a Xen errno fails the test), and no frame
// outside the hostile domain may change: a second domain's frames, and the frames that were free
// and never handed to the hostile domain, stay byte-for-byte identical. When the hostile guest kills itself (it may unmap its own code)
// a new one with another seed takes its place.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { STATE_BYTES } from '../../../src-engine/cpu/state';
import { DomainMemory } from '../../../src-engine/hv/memory/domain-memory';
import { pvhMemoryMap } from '../../../src-engine/boot/pvh';
import { PvhMachine } from '../../support/pvh-machine';

const GUEST = fileURLToPath(new URL('../../guests-pvh/build/hostile.elf', import.meta.url));
const SECONDS = Number(process.env.DOMUS_HOSTILE_SECONDS ?? '5');
const PAGE = 4096;
/** The last "hostile: N calls" count a guest printed. */
function lastCount(text: string): number {
  const all = [...text.matchAll(/hostile: (\d+) calls/g)];
  return all.length > 0 ? Number(all[all.length - 1][1]) : 0;
}
/** Virtual time without a progress line after which a hostile guest counts as stuck. */
const STUCK_NS = 100e6;
/** Virtual time per run() chunk. */
const CHUNK_NS = 2e6;

describe('hostile PVH guest', () => {
  it(`survives ${SECONDS} s of random hypercalls without an engine fault or a foreign frame touched`, () => {
    const m = new PvhMachine(96);
    // The victim: a Xen domain that never runs, so its memory must never change.
    const victimMem = new DomainMemory(m.pool, 'victim', { ramBytes: 4 * 2 ** 20 });
    for (let a = 0; a < victimMem.ramSize; a += PAGE) victimMem.writeU32(a, (a * 2654435761) >>> 0);
    const victim = m.xen.createDomain({
      domid: 100, name: 'victim', uuid: '00000000-0000-4000-8000-000000000100', memory: victimMem,
      states: new SharedArrayBuffer(STATE_BYTES), nrVcpus: 1, features: DEFAULT_FEATURES, timeBaseNs: 0,
      memoryMap: pvhMemoryMap(victimMem.ramSize),
    });
    const victimFrames = new Set<number>([victim.sharedInfoFrame, ...victim.grants.frames]);
    for (let g = 0; g < victimMem.p2m.length; g++) if (victimMem.p2m[g] !== 0) victimFrames.add(victimMem.p2m[g] - 1);
    const snap = (frames: Iterable<number>) => new Map([...frames].map((f) => [f, m.pool.mem8.slice(f * PAGE, (f + 1) * PAGE)]));
    const victimSnap = snap(victimFrames);
    const kernel = readFileSync(GUEST);
    let seed = 1;
    let id = m.addDomain({ name: 'hostile', kernel, cmdline: `seed=${seed}`, memMiB: 8 });
    const mine = () => {
      const s = new Set<number>();
      const d = m.domain(id);
      for (let g = 0; g < d.memory.p2m.length; g++) if (d.memory.p2m[g] !== 0) s.add(d.memory.p2m[g] - 1);
      return s;
    };
    const first = m.domain(id).xen;
    const used = new Set([...victimFrames, ...mine(), first.sharedInfoFrame, ...first.grants.frames]);
    const free: number[] = [];
    for (let f = 0; f < m.pool.totalFrames && free.length < 2048; f++) if (!used.has(f)) free.push(f);
    const freeSnap = snap(free);
    // Frames handed out from here on belong (for a while) to a hostile domain: it may write them.
    const handedOut = new Set<number>();
    const allocate = m.pool.allocate.bind(m.pool);
    m.pool.allocate = (count, what) => {
      const frames = allocate(count, what);
      for (const f of frames) handedOut.add(f);
      return frames;
    };
    const allocateInto = m.pool.allocateInto.bind(m.pool);
    m.pool.allocateInto = (p2m, what) => {
      allocateInto(p2m, what);
      for (const e of p2m) handedOut.add(e - 1);
    };
    const end = performance.now() + SECONDS * 1000;
    let restarts = 0;
    let calls = 0;
    let progress = 0;
    let stuckSince = m.time;
    while (performance.now() < end) {
      const r = m.run({ maxNs: CHUNK_NS });
      const d = m.domain(id);
      const now = lastCount(d.consoleIo);
      if (now !== progress) {
        progress = now;
        stuckSince = m.time;
      }
      // A guest that broke itself so that it makes no more calls (spinning in its own code) is
      // replaced too.
      const stuck = m.time - stuckSince > STUCK_NS;
      if (r === 'all-shutdown' || r === 'hang' || d.shutdown !== undefined || stuck) {
        progress = 0;
        stuckSince = m.time;
        calls += lastCount(d.consoleIo);
        m.destroy(id);
        seed++;
        restarts++;
        id = m.addDomain({ name: 'hostile', kernel, cmdline: `seed=${seed}`, memMiB: 8 });
      }
    }
    const differs = (s: Map<number, Uint8Array>) =>
      [...s].filter(([f, b]) => !Buffer.from(b).equals(Buffer.from(m.pool.mem8.subarray(f * PAGE, (f + 1) * PAGE)))).map(([f]) => f);
    expect(differs(victimSnap)).toEqual([]);
    expect(differs(freeSnap).filter((f) => !handedOut.has(f))).toEqual([]);
    calls += lastCount(m.domain(id).consoleIo);
    console.log(`hostile: ${SECONDS} s, ${restarts} restarts, at least ${calls} calls, virtual time ${(m.time / 1e9).toFixed(2)} s`);
    expect(calls).toBeGreaterThan(0);
  }, (SECONDS + 120) * 1000);
});
