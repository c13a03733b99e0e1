/**
 * The scheduler simulator's "what if" question and answer as the GUI sends and reads them: the
 * renderer's copy of src-engine/hv/sched/sim/what-if.ts (WhatIfRequest, WhatIfResult) until the
 * API types carry them (sim.whatIf takes { scenario: WhatIfRequest } and answers a WhatIfResult).
 */

/** A synthetic workload of one vCPU. */
export type WhatIfWorkload =
  | { kind: 'hog' }
  | { kind: 'idle' }
  | { kind: 'periodic'; runNs: number; blockNs: number }
  | { kind: 'timer'; periodNs: number; runNs: number; phaseNs?: number }
  | { kind: 'io'; meanRunNs: number; meanBlockNs: number; seed?: number };

/** One simulated vCPU. */
export interface WhatIfVcpu {
  workload: WhatIfWorkload;
  hard?: number[];
  rtds?: { periodUs: number; budgetUs: number; extratime: boolean };
}

/** The question. */
export interface WhatIfRequest {
  sched: 'credit' | 'credit2' | 'rtds' | 'arinc653' | 'null';
  nrCpus: number;
  params?: { sched: string; tsliceMs?: number; ratelimitUs?: number };
  arinc653?: { majorFrameNs: number; entries: { domain: string; vcpu: number; runtimeNs: number }[] };
  domains: { name: string; weight?: number; cap?: number; vcpus: WhatIfVcpu[] }[];
  durationNs: number;
  timelineNs?: number;
}

/** The answer. */
export interface WhatIfResult {
  window: { from: number; to: number };
  vcpus: { domid: number; domain: string; vcpu: number; share: number; runNs: number; waitNs: number; wakeLatency: { count: number; p50: number; p99: number; max: number }; ranOn: string }[];
  domains: { domid: number; name: string; share: number }[];
  pcpus: { pcpu: number; busyShare: number }[];
  timeline: { pcpu: number; domid: number; vcpu: number; start: number; end: number }[];
  violations: string[];
}

/** True if a value looks like a WhatIfResult (the engine's answer is checked before drawing). */
export function isWhatIfResult(v: unknown): v is WhatIfResult {
  const o = v as Partial<WhatIfResult> | null;
  return o !== null && typeof o === 'object' && Array.isArray(o.vcpus) && Array.isArray(o.domains) && Array.isArray(o.pcpus) && Array.isArray(o.timeline);
}
