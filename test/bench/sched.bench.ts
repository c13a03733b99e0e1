/**
 * Scheduling on real guests (`npm run bench -- sched`), per scheduler on a 1-pCPU pool of a
 * 2-pCPU engine:
 *  - overhead: pCPU time outside guest code while two spin.elf VCPUs share the pCPU at the
 *    scheduler's default slices (1 - pCPU busy time / wall time; goal <= 1%), switches per second
 *    and the cost per switch;
 *  - wake-up latency of a tick.elf VCPU (100 Hz timer) beside a spin.elf VCPU, from the schedule
 *    trace: timer lateness (estimated due time -> wake), scheduling (wake -> switch-in), total (due
 *    -> switch-in) and handling (switch-in -> HLT again).
 * Every figure comes with the host's load: on a shared machine the pCPU threads wait for a host
 * CPU, and that waiting shows up as overhead and latency.
 * DOMUS_BENCH_SECONDS sets the measurement window (default 8 s); DOMUS_BENCH_SCHEDULERS (e.g.
 * "credit2,credit") and DOMUS_BENCH_SCHED_PARTS ("overhead", "latency") pick what runs.
 */
import type { SchedulerName } from '../../src-engine/api/types';
import type { EngineService } from '../../src-engine/node/service/engine-service';
import {
  NS_PER_MS, NS_PER_S, TraceCollector, createGuest, hostLine, onePcpuPool, schedDump, sleep, startRealEngine, threadSnapshot, threadUse,
} from '../unit/sched-real/real-engine';
import { msLine, periodicWakeLatency, runLengths, summarize } from '../unit/sched-real/real-analysis';
import { execIntervals } from '../../src-engine/hv/sched/sim/trace-analysis';

const WINDOW_MS = Number(process.env.DOMUS_BENCH_SECONDS ?? 8) * 1000;
const WARMUP_MS = 2000;
/** PIT channel 0 of tick.elf: divisor 11932 of 1.193182 MHz. */
const PIT_PERIOD_NS = (11932 / 1193182) * NS_PER_S;
const ALL_SCHEDULERS: SchedulerName[] = ['credit', 'credit2', 'rtds', 'arinc653', 'null'];
const SCHEDULERS = process.env.DOMUS_BENCH_SCHEDULERS ? ALL_SCHEDULERS.filter((s) => (process.env.DOMUS_BENCH_SCHEDULERS as string).split(',').includes(s)) : ALL_SCHEDULERS;
const PARTS = (process.env.DOMUS_BENCH_SCHED_PARTS ?? 'overhead,latency').split(',');
const POOL = 'bench';
/** ARINC 653 has no default schedule for domUs: equal 10 ms windows. */
const A653_WINDOW_US = 10_000;

/** Gives ARINC 653 its schedule (equal windows); says so if the engine could not resolve it. */
async function arrange(svc: EngineService, sched: SchedulerName, names: string[], log: (line: string) => void): Promise<void> {
  if (sched !== 'arinc653') return;
  await svc.request('pool.setArinc653', {
    pool: POOL,
    schedule: { majorFrameUs: A653_WINDOW_US * names.length, entries: names.map((domain) => ({ domain, vcpu: 0, runtimeUs: A653_WINDOW_US })) },
  });
  const unresolved = (await schedDump(svc)).filter((l) => l.includes('(unresolved)'));
  if (unresolved.length > 0) log(`         WARNING: ${unresolved.length} ARINC 653 entries name no VCPU of the pool; nothing runs (engine bug, docs/scheduling-measured.md)`);
}

/** How long a pCPU may take to publish its statistics after pcpuStats() asked (ms). */
const PUBLISH_WAIT_MS = 50;
/** Makes the pool: pCPU 1 alone, except null, which needs a pCPU per VCPU (pCPUs 0-1 of Pool-0). */
async function makePool(svc: EngineService, sched: SchedulerName): Promise<string | undefined> {
  if (sched === 'null') return undefined;
  await onePcpuPool(svc, POOL, sched);
  return POOL;
}

async function overhead(sched: SchedulerName, log: (line: string) => void): Promise<void> {
  if (sched === 'null') return nullOverhead(log);
  const e = await startRealEngine({ pcpus: 2 });
  try {
    const svc = e.svc;
    const pool = await makePool(svc, sched);
    const names = ['s0', 's1'];
    for (const name of names) await createGuest(svc, { name, guest: 'spin', pool });
    await arrange(svc, sched, names, log);
    await sleep(WARMUP_MS);
    const trace = new TraceCollector(svc);
    await trace.start();
    const b0 = svc.engine.pcpuStats()[1];
    const s0 = threadSnapshot();
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const b1 = svc.engine.pcpuStats()[1];
    const wallNs = (performance.now() - t0) * NS_PER_MS;
    const use = threadUse(s0, threadSnapshot());
    const recs = await trace.stop();
    const ins = recs.filter((r) => r.event === 'in' && r.pcpu === 1).length;
    const outside = Math.max(0, wallNs - (b1.busyNs - b0.busyNs));
    const perS = (ins * NS_PER_S) / wallNs;
    log(
      `${sched.padEnd(8)} overhead ${((100 * outside) / wallNs).toFixed(2)}% of pCPU 1 (goal <= 1%); ${perS.toFixed(1)} switches/s, ` +
        `${ins > 0 ? (outside / ins / 1000).toFixed(0) : '-'} us outside guest code per switch; ${(((b1.instructions - b0.instructions) / wallNs) * 1000).toFixed(1)} MIPS`,
    );
    // Run lengths on pCPU 1 (ms) and the host CPU each of the two busiest engine threads (the
    // pCPU running the spin VCPUs, then the hypervisor thread) spent per switch.
    const lens = [...runLengths(execIntervals(recs.filter((r) => r.pcpu === 1), recs.length > 0 ? recs[recs.length - 1].t : 0)).values()].flat();
    const perSwitch = use.threads
      .slice(0, 2)
      .map((t) => `${ins > 0 ? ((t.run * wallNs) / ins / 1000).toFixed(0) : '-'} us CPU and ${ins > 0 ? ((t.switchesPerS * wallNs) / NS_PER_S / ins).toFixed(2) : '-'} thread switches`)
      .join('; ');
    log(`         run lengths ${msLine(summarize(lens))}`);
    const takes = b1.takes - b0.takes;
    const asked = b1.takeMisses - b0.takeMisses + (b1.noNext - b0.noNext);
    log(`         slice ends on pCPU 1: ${takes} switched without asking, ${asked} asked (${b1.takeMisses - b0.takeMisses} with a decision that did not hold)`);
    log(`         per VCPU switch, the two busiest engine threads (pCPU 1, hypervisor): ${perSwitch}`);
    log(`         ${hostLine(use)}`);
  } finally {
    await e.close();
  }
}

/**
 * null: one spin VCPU owns a pCPU and never leaves it. The pCPU publishes its busy time while it
 * runs when asked (pcpuStats() requests it; the figures arrive a moment later), so the overhead is
 * the pCPU time outside guest code with no scheduling at all: the floor for the other schedulers.
 */
async function nullOverhead(log: (line: string) => void): Promise<void> {
  const e = await startRealEngine({ pcpus: 2, scheduler: 'null' });
  try {
    const svc = e.svc;
    await createGuest(svc, { name: 's0', guest: 'spin' });
    await sleep(WARMUP_MS);
    const published = async () => {
      svc.engine.pcpuStats();
      await sleep(PUBLISH_WAIT_MS);
      return svc.engine.pcpuStats();
    };
    const b0 = await published();
    const s0 = threadSnapshot();
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const b1 = await published();
    const wallNs = (performance.now() - t0) * NS_PER_MS;
    const use = threadUse(s0, threadSnapshot());
    // The pCPU the null scheduler gave the VCPU: the one that was busy.
    let p = 0;
    for (let i = 1; i < b1.length; i++) if (b1[i].busyNs - b0[i].busyNs > b1[p].busyNs - b0[p].busyNs) p = i;
    const outside = Math.max(0, wallNs - (b1[p].busyNs - b0[p].busyNs));
    log(
      `null     overhead ${((100 * outside) / wallNs).toFixed(2)}% of pCPU ${p} (goal <= 1%); one VCPU per pCPU, no switches; ` +
        `${(((b1[p].instructions - b0[p].instructions) / wallNs) * 1000).toFixed(1)} MIPS`,
    );
    log(`         ${hostLine(use)}`);
  } finally {
    await e.close();
  }
}

async function wakeLatency(sched: SchedulerName, log: (line: string) => void): Promise<void> {
  const e = await startRealEngine({ pcpus: 2, scheduler: sched === 'null' ? 'null' : undefined });
  try {
    const svc = e.svc;
    const pool = await makePool(svc, sched);
    await createGuest(svc, { name: 'spin', guest: 'spin', pool });
    const tick = await createGuest(svc, { name: 'tick', guest: 'tick', pool });
    await arrange(svc, sched, ['spin', 'tick'], log);
    await sleep(WARMUP_MS);
    const trace = new TraceCollector(svc);
    await trace.start();
    const s0 = threadSnapshot();
    await sleep(WINDOW_MS);
    const use = threadUse(s0, threadSnapshot());
    const l = periodicWakeLatency(await trace.stop(), tick, 0, PIT_PERIOD_NS);
    log(`${sched.padEnd(8)} tick beside spin (${sched === 'null' ? 'each on its own pCPU' : 'one pCPU'}):`);
    log(`         due -> wake      ${msLine(summarize(l.dueToWake))}`);
    log(`         wake -> running  ${msLine(summarize(l.wakeToIn))}`);
    log(`         due -> running   ${msLine(summarize(l.dueToIn))}`);
    log(`         running -> HLT   ${msLine(summarize(l.inToBlock))}`);
    log(`         ${l.missed} periods without a wake (a wake more than one period late, or coalesced)`);
    log(`         ${hostLine(use)}`);
  } finally {
    await e.close();
  }
}

/** Prints the figures. */
export default async function bench(log: (line: string) => void): Promise<void> {
  if (PARTS.includes('overhead')) {
    log(`scheduler overhead at default slices (two spin VCPUs on one pCPU), ${WINDOW_MS / 1000} s each`);
    for (const s of SCHEDULERS) await overhead(s, log);
  }
  if (PARTS.includes('latency')) {
    log(`wake-up latency of a 100 Hz tick VCPU beside a spin VCPU, ${WINDOW_MS / 1000} s each`);
    for (const s of SCHEDULERS) await wakeLatency(s, log);
  }
}
