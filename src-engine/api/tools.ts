/**
 * Wire types of the API's tools: the GRUB ISO wizard (iso.preview, iso.build) and the scheduler
 * simulator's "what if" preview (sim.whatIf). Plain JSON shapes. The engine's own definitions
 * (src-engine/node/iso/iso-service.ts, src-engine/hv/sched/sim/what-if.ts) are checked against
 * these at compile time in src-engine/node/service/tool-types-check.ts, so the two cannot drift.
 */
import type { RtdsVcpuParams, SchedulerName } from './types';

// ---- GRUB ISO wizard ----------------------------------------------------------------------------

/** The console GRUB talks on: a COM port (1-4) at a baud rate, or the VGA text screen. */
export type IsoConsoleChoice = { kind: 'serial'; port: number; speed: number } | { kind: 'vga' };

/** Where and how to write an xl.cfg matching the ISO. */
export interface IsoXlCfgRequest {
  path: string;
  /** Domain name; default: the ISO's base name without ".iso". */
  name?: string;
  memoryMb?: number;
  vcpus?: number;
  /** "pty" (default) or a log file path for the guest's serial line. */
  serialTarget?: string;
}

/** An ISO wizard request. Paths are paths on the engine's host. */
export interface IsoWizardRequest {
  /** The multiboot kernel (or loader). */
  kernel: string;
  kernelArgs?: string;
  modules?: { path: string; args?: string }[];
  /** Menu entry title; default: the kernel's base name. */
  title?: string;
  timeoutSeconds?: number;
  /** Default: serial COM1 at 115200. */
  console?: IsoConsoleChoice;
  /** Force multiboot v1 or v2 (default: what the kernel's header says). */
  protocol?: 1 | 2;
  /** An edited grub.cfg replacing the generated one. */
  grubCfg?: string;
  /** Output ISO path. */
  output: string;
  volumeId?: string;
  xlCfg?: IsoXlCfgRequest;
}

/** What the wizard shows before building (iso.preview). */
export interface IsoWizardPreview {
  /** The grub.cfg that will be written (generated, or the edited text). */
  grubCfg: string;
  /** The generated grub.cfg ("reset to generated"). */
  generatedGrubCfg: string;
  protocol: 1 | 2;
  /** Paths on the ISO. */
  kernelPath: string;
  modulePaths: string[];
  warnings: string[];
}

/** What a build produced (the final `result` of an iso.build task). */
export interface IsoBuildReport {
  output: string;
  bytes: number;
  sectors: number;
  elapsedMs: number;
  grubCfg?: string;
  warnings: string[];
  grubVersion: string;
  /** Modules embedded in eltorito.img, in order. */
  coreModules: string[];
  xlCfg?: { path: string; text: string };
}

// ---- Scheduler "what if" ------------------------------------------------------------------------

/** A synthetic workload of one simulated vCPU. */
export type WhatIfWorkload =
  | { kind: 'hog' }
  | { kind: 'idle' }
  | { kind: 'periodic'; runNs: number; blockNs: number }
  | { kind: 'timer'; periodNs: number; runNs: number; phaseNs?: number }
  | { kind: 'io'; meanRunNs: number; meanBlockNs: number; seed?: number }
  | { kind: 'yielder'; runNs: number };

/** One simulated vCPU. */
export interface WhatIfVcpu {
  workload: WhatIfWorkload;
  hard?: number[];
  soft?: number[];
  rtds?: RtdsVcpuParams;
}

/** Pool parameters of the simulated pool, tagged with its scheduler. */
export type WhatIfPoolParams =
  | { sched: 'credit'; tsliceMs?: number; ratelimitUs?: number; migrationDelayUs?: number }
  | { sched: 'credit2'; ratelimitUs?: number; runqueue?: 'cpu' | 'core' | 'socket' | 'node' | 'all' }
  | { sched: 'rtds' }
  | { sched: 'null' };

/** A what-if question (sim.whatIf). */
export interface WhatIfRequest {
  sched: SchedulerName;
  nrCpus: number;
  params?: WhatIfPoolParams;
  /** ARINC 653 schedule naming partitions by domain name. */
  arinc653?: { majorFrameNs: number; entries: { domain: string; vcpu: number; runtimeNs: number }[] };
  domains: { name: string; weight?: number; cap?: number; vcpus: WhatIfVcpu[] }[];
  /** Simulated time, ns. */
  durationNs: number;
  /** Excluded from the statistics (default: max(1 s, 10 x the longest period), at most half the run). */
  warmupNs?: number;
  /** Length of the returned timeline (default 1 s). */
  timelineNs?: number;
}

/** The simulator's answer. */
export interface WhatIfResult {
  window: { from: number; to: number };
  vcpus: {
    domid: number;
    domain: string;
    vcpu: number;
    /** Run time / window (1 = one full pCPU). */
    share: number;
    runNs: number;
    waitNs: number;
    wakeLatency: { count: number; p50: number; p99: number; max: number };
    /** pCPUs it ran on, xl CPU-list text. */
    ranOn: string;
  }[];
  domains: { domid: number; name: string; share: number }[];
  pcpus: { pcpu: number; busyShare: number }[];
  timeline: { pcpu: number; domid: number; vcpu: number; start: number; end: number }[];
  /** Scheduler invariant violations seen (empty when all is well). */
  violations: string[];
}
