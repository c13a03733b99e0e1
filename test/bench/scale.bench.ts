/**
 * Many domains (`npm run bench -- scale`): the mission's "scaling to 100 domains" and "context
 * switching among many domains costing little throughput", on a 2-pCPU engine (Pool-0, credit2).
 *  - Creation: wall time per domain and process memory (RSS) per domain while 100 spin.elf domains
 *    of 4 MiB are created, and how long `domain.list` takes with all of them.
 *  - Throughput: the guest instructions per second of 2 spin domains (one per pCPU, nothing to
 *    switch) against those of 100 (credit2 switching between them), and how evenly the 100 shared
 *    the pCPUs (scheduler accounting: lowest and highest share against the fair 2/100).
 * DOMUS_BENCH_SECONDS sets each measurement window (default 6 s); DOMUS_BENCH_SCALE_DOMAINS the
 * number of domains (default 100).
 */
import type { EngineService } from '../../src-engine/node/service/engine-service';
import { createGuest, domainCpu, hostLine, sleep, startRealEngine, threadSnapshot, threadUse } from '../unit/sched-real/real-engine';

const WINDOW_MS = Number(process.env.DOMUS_BENCH_SECONDS ?? 6) * 1000;
const DOMAINS = Number(process.env.DOMUS_BENCH_SCALE_DOMAINS ?? 100);
/** Time for V8 to optimise the new domains' code paths before a window. */
const SETTLE_MS = 2000;
/** Guest RAM per domain (MiB): spin.elf needs little. */
const GUEST_MIB = 4;
/** pCPUs of the engine: Pool-0 with both. */
const PCPUS = 2;
const MIB = 1024 * 1024;

/** Guest instructions retired by every domain so far. */
async function instructions(svc: EngineService): Promise<number> {
  let n = 0;
  for (const d of await svc.request('domain.list', {})) n += (await svc.request('domain.get', { domain: d.domid })).instructions;
  return n;
}

/** Aggregate guest MIPS and each domain's share of one pCPU over a window. */
async function window(svc: EngineService): Promise<{ mips: number; shares: number[]; engine: number }> {
  const i0 = await instructions(svc);
  const c0 = await domainCpu(svc);
  const a = threadSnapshot();
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const wall = (performance.now() - t0) / 1000;
  const use = threadUse(a, threadSnapshot());
  const c1 = await domainCpu(svc);
  const i1 = await instructions(svc);
  const shares = [...c1].map(([name, s]) => (s - (c0.get(name) ?? 0)) / wall);
  return { mips: (i1 - i0) / wall / 1e6, shares, engine: use.total };
}

/** Prints the figures. */
export default async function bench(log: (line: string) => void): Promise<void> {
  log(`${DOMAINS} spin domains of ${GUEST_MIB} MiB on a ${PCPUS}-pCPU engine (Pool-0, credit2), ${WINDOW_MS / 1000} s windows`);
  const e = await startRealEngine({ pcpus: PCPUS, memoryPoolMiB: DOMAINS * GUEST_MIB + 64 });
  try {
    const svc = e.svc;
    for (let i = 0; i < PCPUS; i++) await createGuest(svc, { name: `spin${i}`, guest: 'spin', memoryMiB: GUEST_MIB });
    await sleep(SETTLE_MS);
    const few = await window(svc);
    log(`${PCPUS} domains: ${few.mips.toFixed(0)} MIPS in all; engine ${(100 * few.engine).toFixed(0)}% of a host CPU`);

    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    for (let i = PCPUS; i < DOMAINS; i++) await createGuest(svc, { name: `spin${i}`, guest: 'spin', memoryMiB: GUEST_MIB });
    const made = DOMAINS - PCPUS;
    const perDomainMs = (performance.now() - t0) / made;
    const rssPer = (process.memoryUsage().rss - rss0) / made / MIB;
    const l0 = performance.now();
    const listed = (await svc.request('domain.list', {})).length;
    const listMs = performance.now() - l0;
    log(`created ${made} more: ${perDomainMs.toFixed(1)} ms and ${rssPer.toFixed(2)} MiB of process memory per domain (${GUEST_MIB} MiB of it guest RAM); domain.list of ${listed} took ${listMs.toFixed(1)} ms`);

    await sleep(SETTLE_MS);
    const many = await window(svc);
    const fair = PCPUS / DOMAINS;
    const lo = Math.min(...many.shares);
    const hi = Math.max(...many.shares);
    log(
      `${DOMAINS} domains: ${many.mips.toFixed(0)} MIPS in all (${(100 * (1 - many.mips / few.mips)).toFixed(1)}% less than ${PCPUS}); ` +
        `shares ${(100 * lo).toFixed(2)}-${(100 * hi).toFixed(2)}% of a pCPU (fair ${(100 * fair).toFixed(2)}%); engine ${(100 * many.engine).toFixed(0)}% of a host CPU`,
    );
    log(`   ${hostLine()}`);
  } finally {
    await e.close();
  }
}
