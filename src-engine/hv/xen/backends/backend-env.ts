/**
 * What the engine's split-driver back ends (block, and later network) need from the host: the
 * xenstore client of domain 0, grant pins on front-end pages, and event channels offered to
 * domain 0. They run on the hypervisor thread and act as domain 0 would.
 */
import type { MachineMemory } from '../../memory/machine-memory';
import type { BackendEndpoint } from '../event-channels';
import type { XenstoreTool } from '../xenstore/xs-tool';

/** The back ends' view of the host. */
export interface BackendEnv {
  readonly pool: MachineMemory;
  readonly xs: XenstoreTool;
  /** Pins grant `ref` of `domid` for domain 0; returns the machine frame (throws GrantError). */
  acquireGrant(domid: number, ref: number, write: boolean): number;
  /** Drops a pin taken with acquireGrant. */
  releaseGrant(domid: number, ref: number, write: boolean, frame: number): void;
  /** Connects `endpoint` to `port` of `domid`, which that domain offered to domain 0 (throws XenFault). */
  attachPort(domid: number, port: number, endpoint: BackendEndpoint): void;
  /** Raises `port` of `domid` if it is still connected to `endpoint`. */
  raisePort(domid: number, port: number, endpoint: BackendEndpoint): void;
  /** Closes domain 0's end of `port` (the guest's end becomes unbound). */
  detachPort(domid: number, port: number, endpoint: BackendEndpoint): void;
  /** A new engine-side port number for an endpoint. */
  allocBackendPort(): number;
  log(message: string): void;
}
