/**
 * Hypercall dispatch: reads the number and arguments from the VCPU's registers, runs the table
 * entry, and writes the result to EAX (a negative Xen errno on failure). Only EAX changes -
 * unless the handler asked for a continuation, in which case the argument registers are updated
 * and EIP is moved back over the VMCALL so the guest re-issues the call (Xen's
 * hypercall_create_continuation for HVM guests), with EAX still holding the number.
 *
 * Calling convention (32-bit guests): EAX = number, EBX, ECX, EDX, ESI, EDI, EBP = arguments 1-6.
 * The 64-bit convention (RDI, RSI, RDX, R10, R8, R9) needs long mode, which the CPU does not have
 * yet. Like Xen, a hypercall from CPL > 0 or from virtual-8086 mode gets -EPERM.
 *
 * Nothing a guest passes can make dispatch throw: handler failures are XenFault (-> -errno), a
 * pool that ran dry is -ENOMEM, and any other exception is an engine bug, reported through
 * `onBug` and answered with -EINVAL (strict mode rethrows it, for tests).
 */
import { MemoryError } from '../../../base/errors';
import { CR0_PE, EAX, EBP, EBX, ECX, EDI, EDX, ESI, S_CPL, S_CR0, S_EFLAGS, S_EIP, VM } from '../../../cpu/state';
import { EINVAL, ENOMEM, ENOSYS, EPERM, XenFault } from '../abi/xen-errno';
import type { XenDomain } from '../xen-domain';
import type { XenHost } from '../xen-host';
import { hypercallEntry } from './hypercall-table';
import { HcAfter, type HypercallContext } from './types';

/** Length of VMCALL / VMMCALL (0F 01 C1 / 0F 01 D9). */
export const VMCALL_LENGTH = 3;
/** Registers of arguments 1-6 in the 32-bit convention. */
const ARG_REGS = [EBX, ECX, EDX, ESI, EDI, EBP];

/** Options of one dispatch. */
export interface DispatchOptions {
  /** Rethrow unexpected exceptions instead of answering -EINVAL (tests). */
  readonly strict?: boolean;
  /** Told about unexpected exceptions (engine bugs). */
  readonly onBug?: (message: string) => void;
}

/** Serves the hypercall VCPU `v` of `dom` is making; returns what the VCPU should do next. */
export function dispatchHypercall(host: XenHost, dom: XenDomain, v: number, now: number, opts: DispatchOptions = {}): HcAfter {
  const vc = dom.vcpus[v];
  const s = vc.s;
  const nr = s[EAX] >>> 0;
  dom.countHypercall(nr);
  const vm86 = (s[S_CR0] & CR0_PE) !== 0 && (s[S_EFLAGS] & VM) !== 0;
  if (vm86 || ((s[S_CR0] & CR0_PE) !== 0 && s[S_CPL] !== 0)) {
    s[EAX] = -EPERM;
    return HcAfter.Continue;
  }
  vc.guest.begin();
  const ctx: HypercallContext = {
    host, dom, vcpu: vc, guest: vc.guest, width: dom.width, now,
    args: ARG_REGS.map((r) => s[r] >>> 0),
    after: HcAfter.Continue,
  };
  let result: number;
  try {
    const entry = hypercallEntry(nr);
    if (entry === undefined) throw new XenFault(ENOSYS, `hypercall ${nr} does not exist`);
    if (entry.caller === 'privileged') throw new XenFault(EPERM, `${entry.name} is for the control domain`);
    if (entry.handler === undefined) throw new XenFault(ENOSYS, `${entry.name} is not available to PVH guests here`);
    result = entry.handler(ctx);
  } catch (e) {
    result = -errnoOf(e, nr, opts);
  }
  if (ctx.continueWith !== undefined && result >= 0) {
    for (const [i, value] of ctx.continueWith) s[ARG_REGS[i]] = value | 0;
    s[S_EIP] = (s[S_EIP] - VMCALL_LENGTH) | 0;
  } else {
    s[EAX] = result | 0;
  }
  dom.refreshTime(v, now);
  dom.syncUpcallLine(v);
  return ctx.after;
}

function errnoOf(e: unknown, nr: number, opts: DispatchOptions): number {
  if (e instanceof XenFault) return e.errno;
  if (e instanceof MemoryError) return ENOMEM;
  if (opts.strict) throw e;
  opts.onBug?.(`hypercall ${nr}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return EINVAL;
}
