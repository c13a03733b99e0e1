/**
 * "What if" previews for the GUI: given a pool (scheduler, pCPUs, parameters) and domains with
 * synthetic workloads, simulate and return per-vCPU shares, waiting and wake latencies, per-pCPU
 * load and a timeline. Runs the real schedulers in the simulator; deterministic.
 */
import { formatCpuSet, type CpuSet } from '../../../base/cpulist';
import type { PoolSchedUpdate, RtdsVcpuParams, SchedBootParams, SchedName } from '../sched-ops';
import { Simulator } from './simulator';
import { checkInvariants, execIntervals, pcpuBusy, percentile, runTime, runnableTime, wakeLatencies, type ExecInterval } from './trace-analysis';
import type { WorkloadSpec } from './workloads';

/** One vCPU of a what-if domain. */
export interface WhatIfVcpu {
  workload: WorkloadSpec;
  hard?: CpuSet;
  soft?: CpuSet;
  rtds?: RtdsVcpuParams;
}

/** One what-if domain. */
export interface WhatIfDomain {
  name: string;
  weight?: number;
  cap?: number;
  vcpus: WhatIfVcpu[];
}

/** An ARINC 653 schedule naming partitions by domain name. */
export interface WhatIfArinc653 {
  majorFrameNs: number;
  entries: { domain: string; vcpu: number; runtimeNs: number }[];
}

/** A what-if question. */
export interface WhatIfRequest {
  sched: SchedName;
  /** pCPUs of the pool (also of the simulated host). */
  nrCpus: number;
  /** Pool parameters (tslice, ratelimit, runqueue ...), tagged with the scheduler. */
  params?: PoolSchedUpdate;
  arinc653?: WhatIfArinc653;
  boot?: Partial<SchedBootParams>;
  domains: WhatIfDomain[];
  /** Simulated time, ns. */
  durationNs: number;
  /** Excluded from the statistics; default max(1 s, 10 x longest period) capped at half the run. */
  warmupNs?: number;
  /** Length of the returned timeline (from the end of the warm-up), default 1 s. */
  timelineNs?: number;
}

/** Per-vCPU answer. */
export interface WhatIfVcpuResult {
  domid: number;
  domain: string;
  vcpu: number;
  /** Run time / window length (1 = one full pCPU). */
  share: number;
  runNs: number;
  /** Time runnable but not running. */
  waitNs: number;
  /** Wake-to-run latencies in the window, ns. */
  wakeLatency: { count: number; p50: number; p99: number; max: number };
  /** pCPUs it ran on, xl bitmap text. */
  ranOn: string;
}

/** The answer. */
export interface WhatIfResult {
  window: { from: number; to: number };
  vcpus: WhatIfVcpuResult[];
  domains: { domid: number; name: string; share: number }[];
  pcpus: { pcpu: number; busyShare: number }[];
  timeline: ExecInterval[];
  /** Invariant violations seen (should be empty). */
  violations: string[];
}

const NS_PER_S = 1e9;

function defaultWarmup(req: WhatIfRequest): number {
  let longest = 0;
  for (const d of req.domains) for (const v of d.vcpus) if (v.rtds) longest = Math.max(longest, v.rtds.periodUs * 1000);
  if (req.arinc653) longest = Math.max(longest, req.arinc653.majorFrameNs);
  return Math.min(Math.max(NS_PER_S, 10 * longest), req.durationNs / 2);
}

/** Simulates the request and summarises it. */
export function whatIf(req: WhatIfRequest): WhatIfResult {
  const sim = new Simulator({ nrCpus: req.nrCpus, scheduler: req.sched, boot: req.boot });
  if (req.params) sim.core.setPoolParams(0, req.params);
  req.domains.forEach((d, i) => {
    sim.addDomain({
      domid: i + 1,
      name: d.name,
      uuid: `whatif-${i + 1}`,
      maxVcpus: d.vcpus.length,
      weight: req.sched === 'credit' || req.sched === 'credit2' ? d.weight : undefined,
      cap: req.sched === 'credit' || req.sched === 'credit2' ? d.cap : undefined,
      vcpus: d.vcpus.map((v) => ({ hard: v.hard, soft: v.soft, rtds: req.sched === 'rtds' ? v.rtds : undefined })),
      workload: d.vcpus.map((v) => v.workload),
    });
  });
  if (req.arinc653) {
    const a = req.arinc653;
    sim.core.setPoolParams(0, {
      sched: 'arinc653',
      majorFrame: a.majorFrameNs,
      entries: a.entries.map((e) => {
        const idx = req.domains.findIndex((d) => d.name === e.domain);
        return { uuid: idx >= 0 ? `whatif-${idx + 1}` : `unknown-${e.domain}`, vcpu: e.vcpu, runtime: e.runtimeNs };
      }),
    });
  }
  sim.runUntil(req.durationNs);
  const from = req.warmupNs ?? defaultWarmup(req);
  const to = req.durationNs;
  const len = to - from;
  const ivs = execIntervals(sim.records, to);
  const inWindow = sim.records.filter((r) => r.t >= from);
  const vcpus: WhatIfVcpuResult[] = [];
  req.domains.forEach((d, i) => {
    d.vcpus.forEach((_, v) => {
      const domid = i + 1;
      const run = runTime(ivs, domid, v, from, to);
      const lat = wakeLatencies(inWindow, domid, v);
      const cpus = [...new Set(ivs.filter((iv) => iv.domid === domid && iv.vcpu === v && iv.end > from).map((iv) => iv.pcpu))].sort((a, b) => a - b);
      vcpus.push({
        domid,
        domain: d.name,
        vcpu: v,
        share: run / len,
        runNs: run,
        waitNs: Math.max(0, runnableTime(sim.records, domid, v, from, to) - run),
        wakeLatency: { count: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.length ? Math.max(...lat) : NaN },
        ranOn: formatCpuSet(cpus, req.nrCpus),
      });
    });
  });
  const timelineEnd = Math.min(to, from + (req.timelineNs ?? NS_PER_S));
  return {
    window: { from, to },
    vcpus,
    domains: req.domains.map((d, i) => ({ domid: i + 1, name: d.name, share: vcpus.filter((v) => v.domid === i + 1).reduce((t, v) => t + v.share, 0) })),
    pcpus: Array.from({ length: req.nrCpus }, (_, c) => ({ pcpu: c, busyShare: pcpuBusy(ivs, c, from, to) / len })),
    timeline: ivs
      .filter((iv) => iv.end > from && iv.start < timelineEnd)
      .map((iv) => ({ ...iv, start: Math.max(iv.start, from), end: Math.min(iv.end, timelineEnd) })),
    violations: checkInvariants(sim.records),
  };
}
