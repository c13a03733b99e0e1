/**
 * Event channels of one domain (event_channel.h): the port table and the operations behind
 * EVTCHNOP_*, with Xen's checks and error numbers (xen/common/event_channel.c semantics).
 *
 * Design. A port is free, unbound (waiting for `remoteDom` to bind), interdomain (connected to a
 * port of another domain - or of an engine back end, which plays domain 0), a VIRQ or an IPI.
 * Sending on an interdomain port raises the peer port; raising goes through the owner's
 * `deliver` (2-level bitmaps in shared_info plus the upcall, see xen-domain.ts). Engine back ends
 * (console, xenstore, block) own no guest: their side of a channel is a BackendEndpoint whose
 * `notify` runs on the hypervisor thread when the guest sends.
 *
 * Concurrency. The table is touched only on the hypervisor thread; the bitmaps it drives are
 * shared with the guest and changed with Atomics (shared-info.ts).
 */
import { EINVAL, ENOENT, ENOSPC, EPERM, ESRCH, EEXIST, XenFault, xenCheck } from './abi/xen-errno';
import { DOMID_0, NR_VIRQS, PER_VCPU_VIRQS } from './abi/xen-constants';

/** EVTCHNSTAT_closed: port not in use. */
export const ECS_FREE = 0;
/** EVTCHNSTAT_unbound: waiting for an interdomain bind. */
export const ECS_UNBOUND = 1;
/** EVTCHNSTAT_interdomain: connected. */
export const ECS_INTERDOMAIN = 2;
/** EVTCHNSTAT_pirq (never created here). */
export const ECS_PIRQ = 3;
/** EVTCHNSTAT_virq. */
export const ECS_VIRQ = 4;
/** EVTCHNSTAT_ipi. */
export const ECS_IPI = 5;

/** The engine side of a channel to a back end (plays domain 0). */
export interface BackendEndpoint {
  /** Shown as the remote port by EVTCHNOP_status. */
  readonly port: number;
  /** The guest sent on its end. */
  notify(): void;
}

/** One port. */
export interface Channel {
  state: number;
  /** VCPU notified when the port is raised. */
  vcpu: number;
  /** Unbound: the domain allowed to bind. Interdomain: the peer domain. */
  remoteDom: number;
  /** Interdomain: the peer port. */
  remotePort: number;
  virq: number;
  /** Interdomain with an engine back end. */
  backend?: BackendEndpoint;
}

/** What the port table needs from its domain and the rest of the host. */
export interface EvtchnContext {
  readonly domid: number;
  readonly nrVcpus: number;
  /** Raises `port` on VCPU `vcpu` of this domain (2-level bits + upcall). */
  deliver(port: number, vcpu: number): void;
  /** Another domain's port table (interdomain binds and sends). */
  peer(domid: number): EventChannels | undefined;
}

function freeChannel(): Channel {
  return { state: ECS_FREE, vcpu: 0, remoteDom: 0, remotePort: 0, virq: 0 };
}

/** The port table of one domain. */
export class EventChannels {
  private readonly ports: Channel[] = [freeChannel()];
  /** VIRQ -> port, per VCPU. */
  private readonly virqs: Int32Array[];

  constructor(
    private readonly ctx: EvtchnContext,
    /** Ports 1..maxPort are usable (xl max_event_channels, bounded by the 2-level ABI). */
    readonly maxPort: number,
  ) {
    this.virqs = [];
    for (let v = 0; v < ctx.nrVcpus; v++) this.virqs.push(new Int32Array(NR_VIRQS));
  }

  /** The channel at `port`, or undefined if the port is out of range. */
  get(port: number): Channel | undefined {
    if (!Number.isInteger(port) || port <= 0 || port > this.maxPort) return undefined;
    return this.ports[port] ?? freeChannel();
  }

  /** The channel at `port`, which must be in use (EINVAL otherwise, as Xen). */
  private used(port: number): Channel {
    const c = this.get(port);
    xenCheck(c !== undefined && c.state !== ECS_FREE, EINVAL, `port ${port} is not in use`);
    return c;
  }

  /** Lowest free port (ENOSPC when the table is full). */
  private allocate(): number {
    for (let p = 1; p <= this.maxPort; p++) {
      const c = this.ports[p];
      if (c === undefined || c.state === ECS_FREE) {
        this.ports[p] = freeChannel();
        return p;
      }
    }
    throw new XenFault(ENOSPC, 'no free event channel port');
  }

  private checkVcpu(v: number): void {
    xenCheck(Number.isInteger(v) && v >= 0 && v < this.ctx.nrVcpus, ENOENT, `no VCPU ${v}`);
  }

  /** EVTCHNOP_alloc_unbound: a port `remoteDom` may later bind to. */
  allocUnbound(remoteDom: number): number {
    const p = this.allocate();
    Object.assign(this.ports[p], { state: ECS_UNBOUND, remoteDom, vcpu: 0 });
    return p;
  }

  /** EVTCHNOP_bind_interdomain: connects a new local port to `remotePort` of `remoteDom`. */
  bindInterdomain(remoteDom: number, remotePort: number): number {
    const peer = this.resolve(remoteDom);
    xenCheck(peer !== undefined, ESRCH, `no domain ${remoteDom}`);
    const rc = peer.get(remotePort);
    xenCheck(rc !== undefined && rc.state === ECS_UNBOUND && rc.remoteDom === this.ctx.domid, EINVAL, 'remote port is not unbound for us');
    const p = this.allocate();
    Object.assign(this.ports[p], { state: ECS_INTERDOMAIN, remoteDom, remotePort, vcpu: 0 });
    Object.assign(rc, { state: ECS_INTERDOMAIN, remoteDom: this.ctx.domid, remotePort: p });
    // Xen raises the new local port so the binder learns of anything sent before.
    this.ctx.deliver(p, 0);
    return p;
  }

  /** Connects a new port to an engine back end (toolstack-made channels: console, xenstore, vbd). */
  bindBackend(backend: BackendEndpoint): number {
    const p = this.allocate();
    Object.assign(this.ports[p], { state: ECS_INTERDOMAIN, remoteDom: DOMID_0, remotePort: backend.port, vcpu: 0, backend });
    return p;
  }

  /** Connects an engine back end to an existing unbound port offered to domain 0. */
  attachBackend(port: number, backend: BackendEndpoint): void {
    const c = this.get(port);
    xenCheck(c !== undefined && c.state === ECS_UNBOUND && c.remoteDom === DOMID_0, EINVAL, `port ${port} is not offered to domain 0`);
    Object.assign(c, { state: ECS_INTERDOMAIN, remoteDom: DOMID_0, remotePort: backend.port, backend });
  }

  /** A back end closes its end of `port`: the guest's port goes back to unbound for domain 0. */
  detachBackend(port: number, backend: BackendEndpoint): void {
    const c = this.get(port);
    if (c?.state !== ECS_INTERDOMAIN || c.backend !== backend) return;
    this.ports[port] = { state: ECS_UNBOUND, vcpu: c.vcpu, remoteDom: DOMID_0, remotePort: 0, virq: 0 };
  }

  /** EVTCHNOP_bind_virq. */
  bindVirq(virq: number, vcpu: number): number {
    xenCheck(Number.isInteger(virq) && virq >= 0 && virq < NR_VIRQS, EINVAL, `VIRQ ${virq} does not exist`);
    xenCheck(PER_VCPU_VIRQS.has(virq) || vcpu === 0, EINVAL, 'global VIRQs bind to VCPU 0');
    this.checkVcpu(vcpu);
    xenCheck(this.virqs[vcpu][virq] === 0, EEXIST, `VIRQ ${virq} is already bound`);
    const p = this.allocate();
    Object.assign(this.ports[p], { state: ECS_VIRQ, virq, vcpu });
    this.virqs[vcpu][virq] = p;
    return p;
  }

  /** EVTCHNOP_bind_ipi. */
  bindIpi(vcpu: number): number {
    this.checkVcpu(vcpu);
    const p = this.allocate();
    Object.assign(this.ports[p], { state: ECS_IPI, vcpu });
    return p;
  }

  /** EVTCHNOP_send. */
  send(port: number): void {
    const c = this.used(port);
    switch (c.state) {
      case ECS_INTERDOMAIN:
        if (c.backend !== undefined) c.backend.notify();
        else this.resolve(c.remoteDom)?.raiseConnected(c.remotePort, this.ctx.domid, port);
        return;
      case ECS_IPI:
        this.ctx.deliver(port, c.vcpu);
        return;
      case ECS_UNBOUND:
        return;
      default:
        throw new XenFault(EINVAL, `cannot send on port ${port}`);
    }
  }

  /** Raises `port` if it is still connected to (`fromDom`, `fromPort`). */
  private raiseConnected(port: number, fromDom: number, fromPort: number): void {
    const c = this.get(port);
    if (c?.state === ECS_INTERDOMAIN && c.remoteDom === fromDom && c.remotePort === fromPort) this.ctx.deliver(port, c.vcpu);
  }

  /** A back end notifies its guest: raises `port` if it is still connected to `backend`. */
  raiseFromBackend(port: number, backend: BackendEndpoint): void {
    const c = this.get(port);
    if (c !== undefined && c.state === ECS_INTERDOMAIN && c.backend === backend) this.ctx.deliver(port, c.vcpu);
  }

  /** This table for our own domid, else the peer's. */
  private resolve(domid: number): EventChannels | undefined {
    return domid === this.ctx.domid ? this : this.ctx.peer(domid);
  }

  /** Raises VIRQ `virq` on `vcpu` if the guest bound it. */
  raiseVirq(virq: number, vcpu: number): boolean {
    const p = this.virqs[vcpu]?.[virq] ?? 0;
    if (p === 0) return false;
    this.ctx.deliver(p, vcpu);
    return true;
  }

  /** EVTCHNOP_close. The peer of an interdomain port goes back to unbound for us. */
  close(port: number): void {
    const c = this.used(port);
    if (c.state === ECS_VIRQ) this.virqs[c.vcpu][c.virq] = 0;
    if (c.state === ECS_INTERDOMAIN && c.backend === undefined) {
      const rc = this.resolve(c.remoteDom)?.get(c.remotePort);
      if (rc?.state === ECS_INTERDOMAIN && rc.remoteDom === this.ctx.domid && rc.remotePort === port) {
        Object.assign(rc, { state: ECS_UNBOUND, remoteDom: this.ctx.domid, remotePort: 0 });
      }
    }
    this.ports[port] = freeChannel();
  }

  /** EVTCHNOP_bind_vcpu: which VCPU a port notifies (not for IPIs or per-VCPU VIRQs). */
  bindVcpu(port: number, vcpu: number): void {
    const c = this.used(port);
    this.checkVcpu(vcpu);
    const ok = c.state === ECS_UNBOUND || c.state === ECS_INTERDOMAIN || (c.state === ECS_VIRQ && !PER_VCPU_VIRQS.has(c.virq));
    xenCheck(ok, EINVAL, `port ${port} cannot change VCPU`);
    if (c.state === ECS_VIRQ) {
      this.virqs[c.vcpu][c.virq] = 0;
      this.virqs[vcpu][c.virq] = port;
    }
    c.vcpu = vcpu;
  }

  /** Ports in use, for EVTCHNOP_status checks, dumps and domain teardown. */
  inUse(): number[] {
    const out: number[] = [];
    for (let p = 1; p < this.ports.length; p++) if (this.ports[p]?.state !== ECS_FREE && this.ports[p] !== undefined) out.push(p);
    return out;
  }

  /** Every port in use with a copy of its channel (save images). */
  saved(): [number, Channel][] {
    return this.inUse().map((p) => [p, { ...this.ports[p] }]);
  }

  /**
   * Puts a saved channel back at a free `port` (restore): its VIRQ binding comes with it. The
   * caller has checked the port, VCPU and VIRQ numbers against this table.
   */
  restorePort(port: number, c: Channel): void {
    const at = this.get(port);
    xenCheck(at !== undefined, EINVAL, `port ${port} is beyond the table (${this.maxPort})`);
    xenCheck(at.state === ECS_FREE, EEXIST, `port ${port} is in use`);
    this.checkVcpu(c.vcpu);
    if (c.state === ECS_VIRQ) {
      xenCheck(Number.isInteger(c.virq) && c.virq >= 0 && c.virq < NR_VIRQS && this.virqs[c.vcpu][c.virq] === 0, EINVAL, `VIRQ ${c.virq}`);
      this.virqs[c.vcpu][c.virq] = port;
    }
    while (this.ports.length < port) this.ports.push(freeChannel());
    this.ports[port] = { ...c };
  }

  /** Closes every port (domain destruction): peers in other domains become unbound. */
  closeAll(): void {
    for (const p of this.inUse()) this.close(p);
  }
}

/** Resolves a domid argument for an operation only the domain itself may do (EPERM/ESRCH). */
export function selfOnly(dom: number, self: number, exists: (d: number) => boolean, domidSelf: number): void {
  if (dom === domidSelf || dom === self) return;
  throw new XenFault(exists(dom) ? EPERM : ESRCH, `domain ${dom} is not the caller`);
}
