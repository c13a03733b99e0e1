/**
 * The shapes every hypercall family shares: the call context a handler gets, the catalogue
 * entries (number, name, who may call, status, note) from which dispatch, the docs and the
 * compatibility list are derived, and sub-operation tables.
 */
import type { GuestWidth } from '../abi/layouts';
import { ENOSYS, EPERM, XenFault } from '../abi/xen-errno';
import type { GuestAccess } from '../guest-access';
import type { XenDomain } from '../xen-domain';
import type { XenVcpu } from '../xen-vcpu';
import type { XenHost } from '../xen-host';

/** How complete an interface is (shown in docs/xen-abi.md). */
export type AbiStatus = 'supported' | 'partial' | 'not-yet' | 'pv-only' | 'privileged';

/** Who may make a call: any guest, or only a privileged (control) domain. */
export type AbiCaller = 'guest' | 'privileged';

/** What the VCPU should do after the call returned. */
export const enum HcAfter {
  /** Carry on with the next instruction. */
  Continue = 0,
  /** Stop running this VCPU now and ask the scheduler (yield, VCPU down, shutdown). */
  Reschedule = 1,
}

/** Everything a handler may use for one call. */
export interface HypercallContext {
  readonly host: XenHost;
  readonly dom: XenDomain;
  readonly vcpu: XenVcpu;
  readonly guest: GuestAccess;
  /** Layout width of the caller's structures (the shared_info width). */
  readonly width: GuestWidth;
  /** Arguments 1..6 as unsigned 32-bit values (index 0 = arg1). */
  readonly args: number[];
  /** Host time of the call (ns). */
  readonly now: number;
  /** Set by a handler that needs the VCPU off the pCPU after the call. */
  after: HcAfter;
  /**
   * Set by a handler that did part of the work and wants the guest to re-issue the call with
   * these arguments (Xen's hypercall continuation): index -> new value.
   */
  continueWith?: Map<number, number>;
}

/** A handler: returns the value for EAX (>= 0) or throws XenFault. */
export type HypercallHandler = (ctx: HypercallContext) => number;

/** One sub-operation of a multiplexed hypercall. */
export interface SubOp {
  readonly nr: number;
  readonly name: string;
  readonly status: AbiStatus;
  readonly note: string;
  readonly caller?: AbiCaller;
  /** Absent for -ENOSYS entries (not-yet, pv-only). */
  readonly handler?: HypercallHandler;
}

/** One entry of the hypercall table. */
export interface HypercallEntry {
  readonly nr: number;
  readonly name: string;
  /** Public header of its interface. */
  readonly header: string;
  readonly caller: AbiCaller;
  readonly status: AbiStatus;
  readonly note: string;
  readonly handler?: HypercallHandler;
  /** The sub-operations, when the call is multiplexed on arg1. */
  readonly subops?: readonly SubOp[];
}

/**
 * Runs the sub-operation named by `cmd` in `table`: -EPERM for a privileged one (guests are never
 * privileged here), -ENOSYS for unknown or unimplemented ones.
 */
export function runSubop(table: readonly SubOp[], cmd: number, ctx: HypercallContext): number {
  const op = table.find((o) => o.nr === cmd);
  if (op?.caller === 'privileged') throw new XenFault(EPERM, `sub-operation ${cmd} is for the control domain`);
  if (op?.handler === undefined) throw new XenFault(ENOSYS, `sub-operation ${cmd}`);
  return op.handler(ctx);
}

/** Builds a sub-op row that answers -ENOSYS. */
export function noSubop(nr: number, name: string, status: AbiStatus, note: string): SubOp {
  return { nr, name, status, note };
}
