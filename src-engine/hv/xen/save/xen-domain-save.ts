/**
 * Save and restore of one XenDomain's own state: its RAM set (after ballooning), the frames the
 * hypervisor shows it (shared_info, grant-table frames, its own grants mapped back), HVM
 * parameters, each VCPU's vcpu_info placement, timers and poll/block state, the event channel
 * table, and counters. The xenstore and back-end parts are in xen-host-save.ts.
 *
 * Design. Saving reads; restoring writes into a XenDomain freshly built for the restored domain
 * (same domid, same VCPU count), before any of its VCPUs runs. Machine frame numbers never enter
 * the image: frames are named by guest frame, grant-frame index or maptrack handle. Time is saved
 * as guest system time and each VCPU's TSC, so both continue from where they stopped, whatever
 * the host clock of the restoring engine reads. Grant entries lose GTF_reading/GTF_writing: the
 * users that held them are gone, and those restored (a vbd ring, a mapping of the domain's own
 * grant) pin them again.
 *
 * Refused at save: mappings of another domain's grants (the other domain is not in the image).
 * Interdomain channels to another guest come back unbound for that guest, as when the peer dies
 * under Xen.
 */
import { DomusError } from '../../../base/errors';
import { S_TSC_OFFSET_F64 } from '../../../cpu/state';
import { P2M_ENTRIES } from '../../memory/domain-memory';
import { FRAME_SIZE } from '../../memory/machine-memory';
import { ECS_INTERDOMAIN, ECS_IPI, ECS_UNBOUND, ECS_VIRQ, type BackendEndpoint } from '../event-channels';
import { ENTRIES_PER_FRAME, GRANT_ENTRY_BYTES, GTF_READING, GTF_WRITING } from '../grant-table';
import { acquireGrant, type GrantEnv } from '../grant-mapping';
import { XEN_LEGACY_MAX_VCPUS } from '../abi/xen-constants';
import type { XenDomain } from '../xen-domain';
import { badField, fromBase64, fromDeadline, fromRuns, toBase64, toDeadline, toRuns } from './save-codec';
import type { BackendRef, MapSave, OverlaySave, PortSave, XenSaveState, XenVcpuSave } from './xen-save-state';

/** The part of XenSaveState this file writes and reads. */
export type XenCoreSave = Pick<
  XenSaveState,
  | 'systemNs' | 'width' | 'widthLatched' | 'sharedInfo' | 'maxPages' | 'ram' | 'overlays' | 'grantFrames' | 'maxGrantFrames'
  | 'params' | 'vcpus' | 'maxPort' | 'ports' | 'maps' | 'nextHandle' | 'shutdownCode' | 'pendingShutdownCode' | 'hypercalls'
>;

/** Port states a save image may hold (EVTCHNSTAT_pirq is never created). */
const SAVED_PORT_STATES = new Set([ECS_UNBOUND, ECS_INTERDOMAIN, ECS_VIRQ, ECS_IPI]);
/** GTF_reading | GTF_writing as a mask of the flags/domid word. */
const GTF_IN_USE = GTF_READING | GTF_WRITING;

/** Reads the domain's Xen state at host time `nowNs`; `backendRef` names engine endpoints. */
export function saveXenCore(d: XenDomain, nowNs: number, backendRef: (ep: BackendEndpoint) => BackendRef | undefined): XenCoreSave {
  const foreign = [...d.maptrack.values()].filter((m) => m.grantor !== d.domid);
  if (foreign.length > 0) {
    const from = [...new Set(foreign.map((m) => m.grantor))].join(', ');
    throw new DomusError(
      'domain.save-foreign-maps',
      `Domain ${d.name} has ${foreign.length} page(s) of domain ${from} mapped through grants; a save image cannot carry another domain's memory. Save it once it has unmapped them.`,
      d.name,
    );
  }
  const pool = d.memory.pool;
  const p2m = d.memory.p2m;
  const ram: number[] = [];
  for (let g = 0; g < P2M_ENTRIES; g++) if (p2m[g] !== 0 && !d.memory.isAlias(g) && d.physmap.isOwnRam(g)) ram.push(g);
  const overlays: OverlaySave[] = d.physmap.entries().map(([gfn, o]) => {
    if (o.kind === 'shared-info') return { gfn, kind: o.kind, index: 0 };
    if (o.kind === 'grant-frame') return { gfn, kind: o.kind, index: d.grants.frames.indexOf(o.frame) };
    const handle = [...d.maptrack].find(([, m]) => m.gfn === gfn)?.[0] ?? -1;
    return { gfn, kind: o.kind, index: handle };
  });
  const ports: PortSave[] = d.evtchn.saved().map(([port, c]) => {
    const out: PortSave = { port, state: c.state, vcpu: c.vcpu, remoteDom: c.remoteDom, remotePort: c.remotePort, virq: c.virq };
    if (c.backend !== undefined) {
      const ref = backendRef(c.backend);
      if (ref === undefined) throw new Error(`port ${port} of domain ${d.domid} is connected to an unknown engine back end`);
      out.backend = ref;
    }
    return out;
  });
  const vcpus: XenVcpuSave[] = d.vcpus.map((vc) => ({
    registeredGfn: vc.registeredGfn,
    infoOffset: vc.registeredGfn >= 0 ? vc.vcpuInfoOff % FRAME_SIZE : 0,
    upcallVector: vc.upcallVector,
    singleshot: toDeadline(d.systemTime(vc.singleshotAt)),
    periodNs: vc.periodNs,
    periodic: toDeadline(d.systemTime(vc.periodicAt)),
    pollPorts: vc.pollPorts === null ? null : [...vc.pollPorts],
    pollUntil: toDeadline(d.systemTime(vc.pollUntil)),
    blocked: vc.blocked,
    initialised: vc.initialised,
    runstateArea: vc.runstateArea,
    tsc: vc.tscAt(nowNs),
  }));
  const maps: MapSave[] = [...d.maptrack].map(([handle, m]) => ({ handle, ref: m.ref, gfn: m.gfn }));
  const frame = (f: number) => toBase64(pool.mem8.slice(f * FRAME_SIZE, (f + 1) * FRAME_SIZE));
  return {
    systemNs: d.systemTime(nowNs),
    width: d.width,
    widthLatched: d.widthIsLatched,
    sharedInfo: frame(d.sharedInfoFrame),
    maxPages: d.physmap.maxPages,
    ram: toRuns(ram),
    overlays,
    grantFrames: d.grants.frames.map(frame),
    maxGrantFrames: d.grants.maxFrames,
    params: [...d.params].map(([k, [lo, hi]]) => [k, lo, hi]),
    vcpus,
    maxPort: d.evtchn.maxPort,
    ports,
    maps,
    nextHandle: d.nextHandle,
    shutdownCode: d.shutdownCode ?? null,
    pendingShutdownCode: d.pendingShutdownCode ?? null,
    hypercalls: [...d.hypercalls],
  };
}

/** What loading needs from the host. */
export interface XenCoreLoadEnv extends GrantEnv {
  /** The engine endpoint a saved port was connected to. */
  endpoint(ref: BackendRef): BackendEndpoint | undefined;
}

const isInt = (x: unknown, min = 0): x is number => Number.isInteger(x) && (x as number) >= min;

/**
 * Writes saved state `s` into `d`, a XenDomain just built for the restored domain (its time base
 * already puts system time at s.systemNs now), at host time `nowNs`. Throws SaveImageError for a
 * field this engine cannot have written, DomusError when the domain does not fit (memory).
 */
export function loadXenCore(env: XenCoreLoadEnv, d: XenDomain, s: XenCoreSave, nowNs: number): void {
  if (!Array.isArray(s.vcpus) || s.vcpus.length !== d.vcpus.length) throw badField('the VCPU list');
  const pool = d.memory.pool;
  // RAM: exactly the saved set (ballooned-out frames stay out, populated frames come back).
  const want = new Set(fromRuns(s.ram, 'the RAM frame list'));
  const p2m = d.memory.p2m;
  for (let g = 0; g < P2M_ENTRIES; g++) if (p2m[g] !== 0 && !want.has(g) && !d.memory.isAlias(g)) d.memory.depopulate(g);
  for (const g of want) if (g >= P2M_ENTRIES) throw badField('the RAM frame list');
  for (const g of want) d.memory.populate(g);
  if (!isInt(s.maxPages)) throw badField('max_pages');
  d.physmap.maxPages = s.maxPages;
  // shared_info and the grant table.
  pool.mem8.set(fromBase64(s.sharedInfo, 'the shared_info page'), d.sharedInfoFrame * FRAME_SIZE);
  if (s.width !== 32 && s.width !== 64) throw badField('the shared_info width');
  d.restoreWidth(s.width, s.widthLatched === true);
  if (!Array.isArray(s.grantFrames) || s.grantFrames.length > d.grants.maxFrames || !d.grants.grow(s.grantFrames.length)) {
    throw badField('the grant table');
  }
  s.grantFrames.forEach((b64, k) => {
    const base = d.grants.frames[k] * FRAME_SIZE;
    const bytes = fromBase64(b64, `grant frame ${k}`);
    if (bytes.length !== FRAME_SIZE) throw badField(`grant frame ${k}`);
    pool.mem8.set(bytes, base);
    for (let e = 0; e < ENTRIES_PER_FRAME; e++) Atomics.and(pool.mem32, (base + e * GRANT_ENTRY_BYTES) >> 2, ~GTF_IN_USE);
  });
  for (const o of s.overlays) {
    if (!isInt(o.gfn) || o.gfn >= P2M_ENTRIES) throw badField('an overlay frame');
    if (o.kind === 'shared-info') d.physmap.mapOverlay(o.gfn, 'shared-info', d.sharedInfoFrame);
    else if (o.kind === 'grant-frame' && isInt(o.index) && o.index < d.grants.frames.length) d.physmap.mapOverlay(o.gfn, 'grant-frame', d.grants.frames[o.index]);
    else if (o.kind !== 'foreign') throw badField('an overlay frame');
  }
  d.params.clear();
  for (const [k, lo, hi] of s.params) d.params.set(k, [lo | 0, hi | 0]);
  s.vcpus.forEach((v, i) => loadVcpu(env, d, i, v, nowNs));
  loadPorts(env, d, s.ports);
  for (const m of s.maps) {
    if (!isInt(m.handle) || !isInt(m.ref) || !isInt(m.gfn) || m.gfn >= P2M_ENTRIES) throw badField('a grant mapping');
    const frame = acquireGrant(env, d.domid, m.ref, d.domid, true);
    d.physmap.mapOverlay(m.gfn, 'foreign', frame);
    d.maptrack.set(m.handle, { grantor: d.domid, ref: m.ref, gfn: m.gfn, frame, grantorGfn: d.grants.read(m.ref)?.frame ?? -1 });
  }
  d.nextHandle = isInt(s.nextHandle) ? s.nextHandle : 0;
  // A restored domain has not shut down, whatever the image says: a domain saved after its
  // SCHEDOP_shutdown (an image from before the engine refused that) would otherwise ignore every
  // later SCHEDOP_shutdown (XenHost.shutdownDomain acts on the first only) and never power off.
  d.shutdownCode = undefined;
  d.pendingShutdownCode = s.pendingShutdownCode ?? undefined;
  for (const [nr, n] of s.hypercalls) d.hypercalls.set(nr, n);
}

/** One VCPU: vcpu_info placement, timers, poll/block state and its TSC. */
function loadVcpu(env: XenCoreLoadEnv, d: XenDomain, i: number, v: XenVcpuSave, nowNs: number): void {
  const vc = d.vcpus[i];
  if (v.registeredGfn >= 0) {
    if (!d.physmap.isOwnRam(v.registeredGfn) || !isInt(v.infoOffset) || v.infoOffset >= FRAME_SIZE) throw badField(`VCPU ${i}'s vcpu_info`);
    const frame = d.physmap.frameAt(v.registeredGfn);
    env.pinned.pin(frame);
    vc.registeredGfn = v.registeredGfn;
    vc.vcpuInfoOff = frame * FRAME_SIZE + v.infoOffset;
  } else {
    vc.vcpuInfoOff = i < XEN_LEGACY_MAX_VCPUS ? d.shared.vcpuInfoOffset(i) : -1;
  }
  const host = (t: number | null) => (t === null ? Infinity : d.hostTime(fromDeadline(t)));
  vc.upcallVector = v.upcallVector | 0;
  vc.singleshotAt = host(v.singleshot);
  vc.periodNs = Math.max(0, Number(v.periodNs) || 0);
  vc.periodicAt = vc.periodNs > 0 ? host(v.periodic) : Infinity;
  vc.pollPorts = v.pollPorts === null ? null : [...v.pollPorts];
  vc.pollUntil = host(v.pollUntil);
  vc.blocked = v.blocked === true;
  vc.initialised = v.initialised === true;
  vc.runstateArea = v.runstateArea >>> 0;
  if (typeof v.tsc !== 'number' || !Number.isFinite(v.tsc)) throw badField(`VCPU ${i}'s TSC`);
  vc.f64[S_TSC_OFFSET_F64 / 2] = v.tsc - nowNs;
}

/** The event channel table; channels to another guest come back unbound for it. */
function loadPorts(env: XenCoreLoadEnv, d: XenDomain, ports: PortSave[]): void {
  if (!Array.isArray(ports)) throw badField('the event channel table');
  for (const p of ports) {
    if (!isInt(p.port, 1) || !SAVED_PORT_STATES.has(p.state) || !isInt(p.vcpu) || p.vcpu >= d.vcpus.length) throw badField(`event channel ${p.port}`);
    let c = { state: p.state, vcpu: p.vcpu, remoteDom: p.remoteDom, remotePort: p.remotePort, virq: p.virq, backend: undefined as BackendEndpoint | undefined };
    if (p.backend !== undefined) {
      const ep = env.endpoint(p.backend);
      if (ep === undefined || p.state !== ECS_INTERDOMAIN) throw badField(`event channel ${p.port} (back end ${p.backend})`);
      c.backend = ep;
    } else if (p.state === ECS_INTERDOMAIN && p.remoteDom !== d.domid) {
      c = { ...c, state: ECS_UNBOUND, remotePort: 0 };
    }
    try {
      d.evtchn.restorePort(p.port, c);
    } catch {
      throw badField(`event channel ${p.port}`);
    }
  }
}
