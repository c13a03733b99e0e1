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
    case REQ_INTA:
      out.r0 = pvh ? xen.acknowledgeUpcall(d.domid, vcpu) : d.platform.interruptController.acknowledge();
      break;
    default:
      break;
  }
  return out;
}
