/**
 * The device side of a pCPU exit on the hypervisor thread: port I/O, MMIO, IPIs, EOIs and
 * interrupt acknowledges for an HVM domain's PC platform, and hypercalls, MSRs and upcall
 * acknowledges for a PVH domain's Xen host (a PVH domain has no emulated devices: ports and MMIO
 * float high). Hypervisor.serve() reads the mailbox, calls this, and answers.
 */
import type { XenHost } from '../hv/xen/xen-host';
import { HcAfter } from '../hv/xen/hypercalls/types';
import type { IoSize } from '../machine/device';
import {
  REQ_EOI, REQ_HYPERCALL, REQ_INTA, REQ_IO_IN, REQ_IO_OUT, REQ_IPI, REQ_MMIO_READ, REQ_MMIO_WRITE, REQ_MSR_READ, REQ_MSR_WRITE,
} from './control-block';
import type { HvDomain } from './hv-domain';
import { IF, S_EFLAGS, S_HALTED, S_INJECT_VECTOR, S_INTR_LINE, S_SHADOW } from '../cpu/state';
import { lapicExtIntPending, lapicHasInterrupt, lapicPendingVector } from '../machine/lapic-core';
import { LAPIC_ACK_EXTINT, lapicAcknowledge } from '../machine/lapic';
import { W_EXTINT_REQ } from '../machine/lapic-regs';

/** VM-exit reasons by request kind, as `xl`-style statistics name them. */
export const EXIT_NAMES: Readonly<Record<number, string>> = {
  [REQ_IO_IN]: 'io-in',
  [REQ_IO_OUT]: 'io-out',
  [REQ_MMIO_READ]: 'mmio-read',
  [REQ_MMIO_WRITE]: 'mmio-write',
  [REQ_INTA]: 'interrupt',
  [REQ_HYPERCALL]: 'hypercall',
  [REQ_MSR_READ]: 'msr',
  [REQ_MSR_WRITE]: 'msr',
  [REQ_IPI]: 'ipi',
  [REQ_EOI]: 'eoi',
};

/** The answer to an exit: three result words, and whether the VCPU must stop. */
export interface ExitAnswer {
  r0: number;
  r1: number;
  r2: number;
  stop: boolean;
}

/** Serves exit `kind` (arguments a0-a2) of VCPU `vcpu` of domain `d`. */
export function serveDeviceExit(d: HvDomain, vcpu: number, xen: XenHost, kind: number, a0: number, a1: number, a2: number): ExitAnswer {
  const out: ExitAnswer = { r0: 0, r1: 0, r2: 0, stop: false };
  const pvh = d.spec.pvh !== undefined;
  switch (kind) {
    case REQ_HYPERCALL:
      // Only PVH domains have Xen; for others the CPU raises #UD.
      if (pvh) {
        out.r0 = 1;
        if (xen.hypercall(d.domid, vcpu) === HcAfter.Reschedule) out.stop = true;
      }
      break;
    case REQ_MSR_READ:
      if (pvh) {
        const v = xen.readMsr(d.domid, a0 >>> 0);
        if (v !== undefined) [out.r0, out.r1, out.r2] = [1, v[0], v[1]];
      }
      break;
    case REQ_MSR_WRITE:
      if (pvh) out.r0 = xen.writeMsr(d.domid, vcpu, a0 >>> 0, a1, a2) === true ? 1 : 0;
      break;
    case REQ_IO_IN:
      if (pvh) {
        out.r0 = a1 === 4 ? -1 : a1 === 2 ? 0xffff : 0xff;
        break;
      }
      if (d.firmware !== undefined) d.firmware.calling = vcpu;
      out.r0 = d.platform.bus.read(a0, a1 as IoSize);
      d.firmware?.onPortRead(a0);
      break;
    case REQ_IO_OUT:
      if (pvh) break;
      if (d.firmware !== undefined) d.firmware.calling = vcpu;
      d.platform.bus.write(a0, a1 as IoSize, a2 >>> 0);
      d.firmware?.onPortWrite(a0, a2 >>> 0);
      break;
    case REQ_MMIO_READ:
      out.r0 = pvh ? -1 : d.platform.mmio.read(a0 >>> 0, a1 as IoSize);
      break;
    case REQ_MMIO_WRITE:
      if (!pvh) d.platform.mmio.write(a0 >>> 0, a1 as IoSize, a2 >>> 0);
      break;
    case REQ_IPI:
      d.platform.lapicBus?.deliverIpi({ icrLow: a0, icrHigh: a1, source: vcpu });
      break;
    case REQ_EOI:
      d.platform.endOfInterrupt(a0);
      break;
    case REQ_INTA: {
      if (pvh) {
        out.r0 = xen.acknowledgeUpcall(d.domid, vcpu);
        break;
      }
      // The pCPU saw INTR high, but its view lags: the guest's posted writes, served just before
      // this, may have masked or ended the request (a mask write, then STI). On hardware those
      // writes came first and the CPU never saw INTR, so there is nothing to take (-1), not the
      // 8259's spurious IRQ 7, which a guest without a handler for it dies of.
      const pic = d.platform.interruptController;
      out.r0 = pic.hasInterrupt() ? pic.acknowledge() : -1;
      break;
    }
    default:
      break;
  }
  return out;
}

/**
 * Before VCPU `v` of `d` enters a pCPU: an interrupt it will take at once (IF set, no shadow,
 * INTR high) is acknowledged here and injected, saving the pCPU the INTA round trip (VMX event
 * injection at VM entry). A PVH VCPU gets its time record and upcall line refreshed instead, as
 * Xen does at every VM entry.
 */
export function prepareEntry(d: HvDomain, v: number, xen: XenHost): void {
  if (d.spec.pvh !== undefined) {
    xen.vcpuScheduled(d.domid, v);
    return;
  }
  const s = d.vcpuState[v];
  const r = d.lapics[v];
  if (s[S_INJECT_VECTOR] !== 0 || (s[S_EFLAGS] & IF) === 0 || s[S_SHADOW] !== 0 || !lapicHasInterrupt(r)) return;
  // The VCPU runs nowhere now, so its local APIC is ours to update: accept the vector
  // (IRR -> ISR), or for ExtINT run the 8259's INTA cycle.
  let vector = lapicAcknowledge(r);
  if (vector === LAPIC_ACK_EXTINT) vector = d.platform.interruptController.acknowledge();
  if (vector >= 0) {
    s[S_INJECT_VECTOR] = vector + 1;
    s[S_HALTED] = 0;
    d.countExit('injected');
  }
  s[S_INTR_LINE] = lapicHasInterrupt(r) ? 1 : 0;
}

/**
 * The 8259 vector VCPU `v` of `d` would be injected on entry if a pCPU switched to it now (as
 * prepareEntry would: IF set, no shadow, nothing injected yet, and its local APIC's only request an
 * ExtINT from the 8259), plus one; 0 if none or if it cannot be told in advance. Only for a domain
 * of one VCPU other than `running`'s: then nothing but a pass of this thread changes that 8259
 * before the replay (replayExtInt), and every pass revokes the decision first. Changes nothing.
 */
export function extIntPreAnswer(d: HvDomain, v: number, running: HvDomain): number {
  if (d === running || d.vcpuState.length !== 1 || d.spec.pvh !== undefined) return 0;
  const s = d.vcpuState[v];
  const r = d.lapics[v];
  if (s[S_INJECT_VECTOR] !== 0 || (s[S_EFLAGS] & IF) === 0 || s[S_SHADOW] !== 0) return 0;
  if (lapicPendingVector(r) >= 0 || Atomics.load(r, W_EXTINT_REQ) !== 0 || !lapicExtIntPending(r)) return 0;
  const vector = d.platform.pic.peekAcknowledge();
  return vector < 0 ? 0 : vector + 1;
}

/**
 * The replay of an injection a pCPU made by itself (extIntPreAnswer): the 8259's INTA cycle, as
 * prepareEntry runs it, without touching the VCPU's state block or local APIC (the pCPU runs it;
 * for an ExtINT through LINT0 the local APIC's part of the cycle changes nothing). Returns the
 * vector the 8259 gave, which must be the one injected.
 */
export function replayExtInt(d: HvDomain): number {
  const vector = d.platform.pic.acknowledge();
  d.countExit('injected');
  return vector;
}
