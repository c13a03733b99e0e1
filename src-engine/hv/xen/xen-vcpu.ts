/**
 * What the hypervisor keeps per VCPU for the Xen interface: where its vcpu_info lives, its own
 * upcall vector, its timers (set_timer_op / VCPUOP single-shot and periodic) and a SCHEDOP_poll
 * in progress. The architectural state is the VCPU's shared state block (cpu/state.ts).
 *
 * Timers are kept in host nanoseconds (the engine's monotonic clock); the guest speaks system
 * time, which is host time minus the domain's time base.
 */
import type { CpuFeatures } from '../../cpu/cpuid';
import { S_TSC_OFFSET_F64, STATE_BYTES } from '../../cpu/state';
import type { DomainMemory } from '../memory/domain-memory';
import { GuestAccess } from './guest-access';

/** One VCPU's Xen state. */
export class XenVcpu {
  /** The shared state block (registers, INTR line, halted flag). */
  readonly s: Int32Array;
  /** Float64 view of the state block (TSC offset). */
  readonly f64: Float64Array;
  /** copy_from/to_guest through this VCPU's page tables. */
  readonly guest: GuestAccess;
  /** Machine byte offset of this VCPU's vcpu_info, or -1 while it has none. */
  vcpuInfoOff = -1;
  /** Guest frame of a vcpu_info placed with VCPUOP_register_vcpu_info, or -1. */
  registeredGfn = -1;
  /** HVMOP_set_evtchn_upcall_vector for this VCPU (0: use the domain's callback vector). */
  upcallVector = 0;
  /** Single-shot timer deadline (host ns), Infinity when not armed. */
  singleshotAt = Infinity;
  /** Periodic timer period (ns), 0 when stopped. */
  periodNs = 0;
  /** Next periodic tick (host ns). */
  periodicAt = Infinity;
  /** Ports of a SCHEDOP_poll in progress, or null. */
  pollPorts: number[] | null = null;
  /** SCHEDOP_poll timeout (host ns), Infinity for none. */
  pollUntil = Infinity;
  /**
   * In SCHEDOP_block: halted until an event is raised for it, whatever EFLAGS.IF says (Xen's
   * vcpu_kick unblocks an HVM/PVH VCPU on every new upcall; the guest enables interrupts itself).
   */
  blocked = false;
  /** Has a register state (the boot VCPU, or after VCPUOP_initialise). */
  initialised = false;
  /** Registered runstate area (guest-virtual address), 0 for none. */
  runstateArea = 0;

  constructor(
    readonly id: number,
    states: SharedArrayBuffer,
    memory: DomainMemory,
    features: CpuFeatures,
  ) {
    this.s = new Int32Array(states, id * STATE_BYTES, STATE_BYTES / 4);
    this.f64 = new Float64Array(states, id * STATE_BYTES, STATE_BYTES / 8);
    this.guest = new GuestAccess(states, id, memory, features);
  }

  /** The VCPU's TSC at host time `nowNs` (cpu/msr.ts readTsc: host ns + per-VCPU offset). */
  tscAt(nowNs: number): number {
    return Math.floor(nowNs + this.f64[S_TSC_OFFSET_F64 / 2]);
  }

  /** Earliest timer deadline of this VCPU (host ns). */
  nextDeadline(): number {
    return Math.min(this.singleshotAt, this.periodicAt, this.pollUntil);
  }
}
