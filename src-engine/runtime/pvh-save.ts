/**
 * Save and restore of PVH domains on the hypervisor thread (docs/xen-abi.md "Save and restore").
 *
 * Domus saves a PVH domain transparently: its back ends (xenstore, console, block) live in the
 * engine, so everything a guest shares with them - rings, grants, event channels, xenstore nodes
 * and watches - is engine state that can be written down while the domain is paused. xl instead
 * asks a PV-aware guest to suspend (control/shutdown = "suspend", the guest answers with
 * SCHEDOP_shutdown(SHUTDOWN_suspend)) because its back ends live in domain 0's kernel and cannot
 * be frozen with the guest; the guest then reconnects its front ends after resume. Here the
 * guest needs no suspend support and never notices: it continues at the instruction it was at.
 *
 * A restored PVH domain keeps its domid: the guest has it in xenstore paths it built, in
 * permissions and in its own memory. Restore refuses with a clear message while another domain
 * has that domid.
 */
import { HypervisorError } from '../base/errors';
import type { XenHost } from '../hv/xen/xen-host';
import type { DomainRestore, DomainSpec, HvDomain } from './hv-domain';

/** Largest domid a guest may have (DOMID_FIRST_RESERVED - 1). */
const MAX_GUEST_DOMID = 0x7fef;

/** What a PVH domain's save adds to DomainRestore: its domid and PV devices (with resolved paths). */
export interface PvhSnapshot extends DomainRestore {
  domid: number;
  pvh: NonNullable<DomainSpec['pvh']>;
}

/** A paused PVH domain's memory (without Xen overlays), VCPU states, devices and Xen state. */
export function pvhSnapshot(xen: XenHost, d: HvDomain): PvhSnapshot {
  const xd = xen.domain(d.domid);
  if (xd === undefined || d.spec.pvh === undefined) throw new HypervisorError('domain.not-pvh', `Domain ${d.spec.name} has no Xen state to save.`, d.spec.name);
  const state = xen.saveDomain(d.domid);
  // Frames shown to the guest that are not its own pages (shared_info, grant frames, mapped
  // grants) are in the Xen state, not among its pages.
  const snap = d.snapshot((gfn) => xd.physmap.overlayAt(gfn) !== undefined);
  return { ...snap, xen: state, domid: d.domid, pvh: { ...d.spec.pvh, disks: d.spec.pvh.disks.map((x) => ({ ...x, drive: { ...x.drive, data: undefined } })) } };
}

/**
 * The domid a restored domain gets: a PVH domain keeps its saved one (refused while another
 * domain has it); anything else gets `next`.
 */
export function restoredDomid(restore: DomainRestore | undefined, spec: DomainSpec, domains: ReadonlyMap<number, HvDomain>, next: number): number {
  const domid = restore?.xen?.domid;
  if (spec.pvh === undefined || domid === undefined) return next;
  if (!Number.isInteger(domid) || domid < 1 || domid > MAX_GUEST_DOMID) {
    throw new HypervisorError('domain.restore-domid', `The saved domain ${spec.name} names domain ID ${String(domid)}, which no guest can have.`, spec.name);
  }
  const other = domains.get(domid);
  if (other !== undefined) {
    throw new HypervisorError(
      'domain.domid-in-use',
      `Domain ${spec.name} was saved as domain ${domid}, and a PVH guest keeps its domain ID (its xenstore paths and grants name it), but domain ${domid} is ${other.spec.name} now. Destroy or save ${other.spec.name} first, then restore again.`,
      spec.name,
    );
  }
  return domid;
}
