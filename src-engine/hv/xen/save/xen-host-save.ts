/**
 * Save and restore of a PVH domain's Xen state as the host holds it: the XenDomain itself
 * (xen-domain-save.ts), its xenstore nodes, watches and transactions (xs-save.ts), and its engine
 * back ends - the xenstore ring connection (partial requests, replies not yet in the ring), the
 * PV console (input not yet delivered) and each vbd (the connected ring: grant, port, protocol,
 * request and response indexes).
 *
 * Design. The save is transparent: the engine's back ends live in the engine, so the guest need
 * not take part (no control/shutdown = "suspend", no SCHEDOP_shutdown(SHUTDOWN_suspend) as xl
 * asks of PV guests). The restored domain keeps its domid, which its guest has written into
 * xenstore paths, grant entries and its own memory. Restore order matters: back-end endpoints
 * exist before the ports that name them; the xenstore nodes are back before a vbd watches its
 * front end (the watch fires at once and must find the ring already connected); grant frames
 * are back before the vbd ring is pinned again.
 */
import { DomusError, SaveImageError } from '../../../base/errors';
import type { BackendEndpoint } from '../event-channels';
import type { GrantEnv } from '../grant-mapping';
import type { XenDomain } from '../xen-domain';
import type { DomainBackends, XenDomainSetup } from '../xen-host';
import type { XenstoreServer } from '../xenstore/xs-server';
import type { XenstoreTool } from '../xenstore/xs-tool';
import { badField, fromBase64, toBase64 } from './save-codec';
import { loadXenCore, saveXenCore } from './xen-domain-save';
import { XEN_SAVE_VERSION, type BackendRef, type XenSaveState } from './xen-save-state';
import { restoreDomainConnection, restoreDomainNodes, saveDomainStore } from './xs-save';

/** What restoring needs from the host. */
export interface XenRestoreEnv extends GrantEnv {
  readonly xs: XenstoreTool;
  readonly xenstore: XenstoreServer;
  endpoint(ref: BackendRef): BackendEndpoint | undefined;
}

/** The engine endpoint a saved port names, among a domain's back ends. */
export function backendEndpointOf(be: DomainBackends, ref: BackendRef): BackendEndpoint | undefined {
  if (ref === 'store') return be.storeEndpoint;
  if (ref === 'console') return be.consoleEndpoint;
  const devid = Number(ref.slice('vbd:'.length));
  return be.vbds.find((b) => b.cfg.devid === devid)?.backendEndpoint;
}

/** The name a save image gives an engine endpoint of `be`. */
function backendRefOf(be: DomainBackends, ep: BackendEndpoint): BackendRef | undefined {
  if (ep === be.storeEndpoint) return 'store';
  if (ep === be.consoleEndpoint) return 'console';
  const vbd = be.vbds.find((b) => b.backendEndpoint === ep);
  return vbd === undefined ? undefined : `vbd:${vbd.cfg.devid}`;
}

/** Reads everything (the domain must be paused: no VCPU of it runs). */
export function saveXenState(d: XenDomain, be: DomainBackends, server: XenstoreServer, nowNs: number): XenSaveState {
  const ring = be.store.saveState();
  return {
    version: XEN_SAVE_VERSION,
    domid: d.domid,
    ...saveXenCore(d, nowNs, (ep) => backendRefOf(be, ep)),
    store: { input: toBase64(ring.input), output: toBase64(ring.output), broken: ring.broken },
    consoleInput: toBase64(be.console.pendingInput()),
    vbds: be.vbds.map((b) => ({ devid: b.cfg.devid, ...b.saveState() })),
    ...saveDomainStore(server, d.domid, be.uuid, be.store.conn),
  };
}

/**
 * Checks what can be checked before anything is built: the version, the domid, the VCPU count
 * and that the image's vbds are the disks the domain is given.
 */
export function checkXenSave(s: XenSaveState, cfg: XenDomainSetup): void {
  if (typeof s !== 'object' || s === null) throw badField('the Xen state');
  if (s.version !== XEN_SAVE_VERSION) {
    throw new SaveImageError(
      'save.version',
      `The image's Xen state is in layout ${String(s.version)}, and this Domus reads layout ${XEN_SAVE_VERSION}. Restore it with the Domus release that saved it.`,
    );
  }
  if (s.domid !== cfg.domid) throw badField('the domain ID');
  if (typeof s.systemNs !== 'number' || !Number.isFinite(s.systemNs) || s.systemNs < 0) throw badField('the system time');
  if (!Array.isArray(s.vcpus) || s.vcpus.length !== cfg.nrVcpus) throw badField('the VCPU list');
  const saved = (s.vbds ?? []).map((v) => v.devid).sort((a, b) => a - b);
  const given = (cfg.vbds ?? []).map((v) => v.devid).sort((a, b) => a - b);
  if (saved.join() !== given.join()) {
    throw new SaveImageError(
      'save.disks',
      `The saved domain had virtual disks ${saved.join(', ') || 'none'}, but it is being restored with ${given.join(', ') || 'none'}; restore it with the disks it was saved with.`,
    );
  }
}

/**
 * Puts the saved state into `d` and its freshly made back ends `be` (see the file comment for
 * the order). Returns the guest's store and console ports (0 if the guest closed them).
 */
export function restoreXenState(env: XenRestoreEnv, d: XenDomain, be: DomainBackends, s: XenSaveState, nowNs: number): [number, number] {
  try {
    return restoreParts(env, d, be, s, nowNs);
  } catch (e) {
    // A field of the wrong shape (an edited file whose checksum was fixed up) surfaces as a
    // TypeError or a Xen errno deep inside; the user gets one message about the image.
    if (e instanceof DomusError) throw e;
    throw new SaveImageError('save.corrupt', `The image's Xen state does not fit together: ${e instanceof Error ? e.message : String(e)}. The file was changed after it was saved.`);
  }
}

function restoreParts(env: XenRestoreEnv, d: XenDomain, be: DomainBackends, s: XenSaveState, nowNs: number): [number, number] {
  restoreDomainNodes(env.xs, env.xenstore, s);
  loadXenCore(env, d, s, nowNs);
  be.store.loadState({
    input: fromBase64(s.store?.input, 'the xenstore ring input'),
    output: fromBase64(s.store?.output, 'the xenstore ring output'),
    broken: s.store?.broken === true,
  });
  be.console.restoreInput(fromBase64(s.consoleInput, 'the console input'));
  env.xenstore.introduceDomain(d.domid);
  restoreDomainConnection(env.xenstore, d.domid, be.store.conn, s);
  for (const b of be.vbds) {
    const v = s.vbds.find((x) => x.devid === b.cfg.devid);
    if (v === undefined) throw badField(`vbd ${b.cfg.devid}`);
    try {
      b.resume({ ring: v.ring, served: Number(v.served) || 0 });
    } catch (e) {
      throw new SaveImageError('save.vbd', `The ring of virtual disk ${b.cfg.vdev} cannot be connected again: ${e instanceof Error ? e.message : String(e)}.`, b.cfg.vdev);
    }
  }
  const portOf = (ref: BackendRef) => s.ports.find((p) => p.backend === ref)?.port ?? 0;
  return [portOf('store'), portOf('console')];
}
