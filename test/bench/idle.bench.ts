/**
 * What idle domains cost (`npm run bench -- idle`): tick.elf domains (PIT at 100 Hz, HLT in
 * between) on a 2-pCPU engine, 0, 1, 10 and 50 of them: host CPU of the engine (all its threads,
 * from /proc; goal < 0.5% of a host CPU per idle domain), timer interrupts served, and the two
 * busiest threads' switch rates. Then a spin.elf domain alone on a 1-pCPU pool and beside 50 tick
 * domains in that pool (goal: slowed by < 10%), by its share of the pCPU (scheduler accounting)
 * and by its guest instruction rate, under credit2 and credit.
 * DOMUS_BENCH_SECONDS sets the measurement window (default 6 s); DOMUS_BENCH_IDLE_COUNTS the
 * numbers of tick domains (default 0,1,10,50); DOMUS_BENCH_IDLE_BESIDE=0 skips the spin part;
 * DOMUS_BENCH_IDLE_SETTLE the seconds before each window (default 1.5; 40 gives the steady state);
 * DOMUS_BENCH_IDLE_COUNTS= (empty) skips the first part; DOMUS_BENCH_IDLE_SCHEDS the schedulers of
 * the second (default credit2,credit). The second part also prints how many halts the pCPU switched
 * by itself (halt decisions, runtime/hv-pcpu-sched.ts) and any error the hypervisor logged.
 */
import type { SchedulerName } from '../../src-engine/api/types';
import type { EngineService } from '../../src-engine/node/service/engine-service';
import { createGuest, domainCpu, hostLine, onePcpuPool, sleep, startRealEngine, threadSnapshot, threadUse } from '../unit/sched-real/real-engine';

const WINDOW_MS = Number(process.env.DOMUS_BENCH_SECONDS ?? 6) * 1000;
/**
 * Time between creating the domains and the window (DOMUS_BENCH_IDLE_SETTLE, s). Right after
 * start V8 still compiles the per-tick code (TurboFan on its helper threads) and runs it in its
 * baseline tier: the first 30 s of an idle tick domain cost about twice the steady state.
 */
const SETTLE_MS = Number(process.env.DOMUS_BENCH_IDLE_SETTLE ?? 1.5) * 1000;
const COUNTS = (process.env.DOMUS_BENCH_IDLE_COUNTS ?? '0,1,10,50').split(',').filter((x) => x !== '').map(Number);
const SCHEDS = (process.env.DOMUS_BENCH_IDLE_SCHEDS ?? 'credit2,credit').split(',') as SchedulerName[];
/** The pCPU of the second part's pool (onePcpuPool's default). */
const POOL_PCPU = 1;

/** Halt decisions pCPU `p` took so far (0 on a build without them). */
function haltTakes(svc: EngineService, p: number): number {
  return svc.engine.pcpuStats()[p].haltTakes ?? 0;
}
const BESIDE = 50;

/** HLT exits of every domain so far (one per timer interrupt served, for tick.elf). */
async function hltExits(svc: EngineService): Promise<number> {
  let n = 0;
  for (const d of await svc.request('domain.list', {})) n += (await svc.request('domain.get', { domain: d.domid })).exits.hlt ?? 0;
  return n;
}

async function idleCost(log: (line: string) => void): Promise<void> {
  const e = await startRealEngine({ pcpus: 2, memoryPoolMiB: 320 });
  try {
    const svc = e.svc;
    let base = NaN;
    let made = 0;
    for (const n of COUNTS) {
      while (made < n) await createGuest(svc, { name: `tick${made++}`, guest: 'tick' });
      await sleep(SETTLE_MS);
      const h0 = await hltExits(svc);
      const a = threadSnapshot();
      await sleep(WINDOW_MS);
      const use = threadUse(a, threadSnapshot());
      const hz = ((await hltExits(svc)) - h0) / (WINDOW_MS / 1000);
      if (n === 0) base = use.total;
      const per = n > 0 ? `, ${((100 * (use.total - base)) / n).toFixed(3)}% per domain (goal < 0.5%)` : '';
      const top = use.threads.slice(0, 2).map((t) => `${(100 * t.run).toFixed(1)}% at ${t.switchesPerS.toFixed(0)} switches/s`).join(', ');
      log(`${String(n).padStart(2)} tick domains: engine ${(100 * use.total).toFixed(2)}% of a host CPU${per}; ${hz.toFixed(0)} timer interrupts/s served; busiest threads ${top}`);
    }
    log(`   ${hostLine()}`);
  } finally {
    await e.close();
  }
}

async function beside(sched: SchedulerName, log: (line: string) => void): Promise<void> {
  const e = await startRealEngine({ pcpus: 2, memoryPoolMiB: 320 });
  try {
    const svc = e.svc;
    await onePcpuPool(svc, 'shared', sched);
    const spin = await createGuest(svc, { name: 'worker', guest: 'spin', pool: 'shared' });
    await sleep(SETTLE_MS);
    const phase = async () => {
      const k0 = haltTakes(svc, POOL_PCPU);
      const c0 = (await domainCpu(svc)).get('worker') ?? 0;
      const i0 = (await svc.request('domain.get', { domain: spin })).instructions;
      const a = threadSnapshot();
      const t0 = performance.now();
      await sleep(WINDOW_MS);
      const wall = (performance.now() - t0) / 1000;
      const use = threadUse(a, threadSnapshot());
      const c1 = (await domainCpu(svc)).get('worker') ?? 0;
      const i1 = (await svc.request('domain.get', { domain: spin })).instructions;
      return { share: (c1 - c0) / wall, mips: (i1 - i0) / wall / 1e6, use, haltTakes: (haltTakes(svc, POOL_PCPU) - k0) / wall };
    };
    const alone = await phase();
    for (let i = 0; i < BESIDE; i++) await createGuest(svc, { name: `tick${i}`, guest: 'tick', pool: 'shared' });
    await sleep(SETTLE_MS);
    const with50 = await phase();
    log(
      `${sched.padEnd(8)} spin alone ${(100 * alone.share).toFixed(1)}% of its pCPU at ${alone.mips.toFixed(1)} MIPS; beside ${BESIDE} tick domains ` +
        `${(100 * with50.share).toFixed(1)}% at ${with50.mips.toFixed(1)} MIPS -> slowed ${(100 * (1 - with50.share / alone.share)).toFixed(1)}% by share, ` +
        `${(100 * (1 - with50.mips / alone.mips)).toFixed(1)}% by instruction rate (goal < 10%); engine ${(100 * alone.use.total).toFixed(0)}% -> ${(100 * with50.use.total).toFixed(0)}% of a host CPU`,
    );
    const errors = (await svc.request('log.dmesg', {})).filter((m) => m.level === 'error' && m.source === 'hypervisor');
    log(`         ${with50.haltTakes.toFixed(0)} halts/s switched by the pCPU without a round trip; ${errors.length} hypervisor errors${errors.length > 0 ? ` (first: ${errors[0].message})` : ''}`);
    log(`         ${hostLine(with50.use)}`);
  } finally {
    await e.close();
  }
}

/** Prints the figures. */
export default async function bench(log: (line: string) => void): Promise<void> {
  log(`idle tick domains on a 2-pCPU engine (Pool-0, credit2), ${WINDOW_MS / 1000} s each`);
  if (COUNTS.length > 0) await idleCost(log);
  if (process.env.DOMUS_BENCH_IDLE_BESIDE === '0') return;
  log(`a spin domain alone and beside ${BESIDE} tick domains on one pCPU, ${WINDOW_MS / 1000} s each`);
  for (const s of SCHEDS) await beside(s, log);
}
