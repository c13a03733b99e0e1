/**
 * Messages between the engine's threads. The host thread (toolstack) talks to the hypervisor
 * thread with calls and receives events; pCPU workers receive domain descriptions (shared
 * buffers) from the host. Everything else between pCPUs and the hypervisor goes through the
 * control block (control-block.ts).
 */
import type { MachineMemoryBuffers } from '../hv/memory/machine-memory';
import { DomusError } from '../base/errors';
import type { CpuFeatures } from '../cpu/cpuid';

/** Data a pCPU worker starts with. */
export interface PcpuInit {
  index: number;
  controlBlock: SharedArrayBuffer;
  pool: MachineMemoryBuffers;
}

/** Data the hypervisor thread starts with. */
export interface HvInit {
  nrPcpus: number;
  controlBlock: SharedArrayBuffer;
  pool: MachineMemoryBuffers;
  /** Scheduler of Pool-0. */
  scheduler: string;
}

/** What a pCPU needs to run a domain's VCPUs. */
export interface DomainShare {
  domid: number;
  nrVcpus: number;
  p2m: SharedArrayBuffer;
  states: SharedArrayBuffer;
  /** Byte offset of VCPU 0's state block in `states` (nonzero: in the pool memory). */
  statesOffset: number;
  /** Local APIC regions of the VCPUs (machine/lapic-regs.ts layout). */
  lapics: SharedArrayBuffer;
  features: CpuFeatures;
  /** A PVH guest: CPUID answered by Xen's leaves, upcalls instead of the local APIC's INTR. */
  pvh: boolean;
  /** The UARTs' published line status (machine/uart-lsr-cache.ts). */
  lsrCache: SharedArrayBuffer;
}

/** Host -> pCPU worker. */
export type HostToPcpu = { t: 'domain'; share: DomainShare } | { t: 'domain-gone'; domid: number };

/** Host -> hypervisor thread: an RPC call or a one-way notice. */
export type HostToHv =
  | { t: 'call'; id: number; method: string; args: unknown }
  | { t: 'console-in'; domid: number; com: number; data: Uint8Array };

/** A failure as it crosses threads. */
export interface WireError {
  name: string;
  code: string;
  message: string;
  subject?: string;
}

/** Why a domain stopped running. */
export type ShutdownReason = 'poweroff' | 'reboot' | 'suspend' | 'crash' | 'watchdog' | 'soft_reset' | 'debug-exit' | 'halted';

/** Hypervisor thread -> host. */
export type HvToHost =
  | { t: 'ready' }
  | { t: 'reply'; id: number; ok: true; result: unknown }
  | { t: 'reply'; id: number; ok: false; error: WireError }
  | { t: 'console'; domid: number; com: number; data: Uint8Array }
  | {
      t: 'domain-shutdown';
      domid: number;
      reason: ShutdownReason;
      /** debug-exit status, triple-fault message, ... */
      code?: number;
      detail?: string;
    }
  | { t: 'domain-destroyed'; domid: number }
  /** A line for the user from the domain's firmware ("No bootable device.", boot failures). */
  | { t: 'domain-message'; domid: number; text: string }
  /** Every started VCPU of the domain halted with interrupts off: it can never run again. */
  | { t: 'domain-halted'; domid: number }
  /** A toolstack xenstore watch fired (xenstore.watch): the node that changed. */
  | { t: 'xenstore-watch'; watchId: number; path: string }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; source: string; message: string };

/** An error thrown on the hypervisor thread as the host receives it (DomusError fields kept). */
export function toWire(e: unknown): WireError {
  if (e instanceof DomusError) return { name: e.name, code: e.code, message: e.message, subject: e.subject };
  const err = e instanceof Error ? e : new Error(String(e));
  // Scheduler refusals carry xl's errno names; keep the message for the user.
  const code = (err as { code?: unknown }).code;
  return { name: err.name, code: typeof code === 'string' ? code : 'engine.error', message: err.message };
}
