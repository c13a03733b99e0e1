/**
 * The Xen side of a PVH domain in a save image: named, versioned fields for everything the
 * engine's Xen keeps about the domain besides its RAM and VCPU registers (which the runtime saves
 * as pages and state blocks). docs/xen-abi.md "Save and restore" says what is kept and what a
 * restored domain sees. Bytes are base64 text and deadlines are guest system time (ns) or null
 * for "never", so the whole record is plain JSON inside the image header.
 */

/** The layout of XenSaveState this engine writes; anything else is refused. */
export const XEN_SAVE_VERSION = 1;

/** One VCPU's Xen state. */
export interface XenVcpuSave {
  /** Guest frame of a vcpu_info placed with VCPUOP_register_vcpu_info, or -1. */
  registeredGfn: number;
  /** Byte offset of that vcpu_info inside its frame. */
  infoOffset: number;
  upcallVector: number;
  /** Timers and poll timeout in guest system time (ns), null when not armed. */
  singleshot: number | null;
  periodNs: number;
  periodic: number | null;
  pollPorts: number[] | null;
  pollUntil: number | null;
  blocked: boolean;
  initialised: boolean;
  runstateArea: number;
  /** The VCPU's TSC when saved (its offset is recomputed so the TSC continues from here). */
  tsc: number;
}

/** Which engine back end holds the domain-0 end of an interdomain port. */
export type BackendRef = 'store' | 'console' | `vbd:${number}`;

/** One event channel port. */
export interface PortSave {
  port: number;
  state: number;
  vcpu: number;
  remoteDom: number;
  remotePort: number;
  virq: number;
  backend?: BackendRef;
}

/** A frame shown at a guest frame that is not the domain's RAM. */
export interface OverlaySave {
  gfn: number;
  kind: 'shared-info' | 'grant-frame' | 'foreign';
  /** grant-frame: its index in the grant table; foreign: the maptrack handle. */
  index: number;
}

/** A grant mapping the domain made of its own grant (mappings of other domains' grants cannot be saved). */
export interface MapSave {
  handle: number;
  ref: number;
  gfn: number;
}

/** A xenstore node. */
export interface XsNodeSave {
  path: string;
  /** base64. */
  value: string;
  perms: string[];
}

/** A watch the guest set on its xenstore connection. */
export interface XsWatchSave {
  path: string;
  token: string;
  relativeTo: string;
}

/** A transaction the guest had open (its changes; it fails with EAGAIN at commit after restore). */
export interface XsTransactionSave {
  id: number;
  mutations: { op: 'write' | 'mkdir' | 'rm' | 'perms'; path: string; value?: string; perms?: string[] }[];
}

/** The guest's xenstore connection over its ring. */
export interface XsRingSave {
  /** Request bytes read from the ring but not yet a whole message (base64). */
  input: string;
  /** Replies and watch events not yet written to the ring (base64). */
  output: string;
  broken: boolean;
}

/** A vbd back end. */
export interface VbdSave {
  devid: number;
  /** The connected ring, or null while the front end is not connected. */
  ring: { ref: number; port: number; protocol: string; reqCons: number; rspProd: number } | null;
  served: number;
}

/** Everything. */
export interface XenSaveState {
  version: number;
  domid: number;
  /** Guest system time (ns since the domain's time base) when saved. */
  systemNs: number;
  width: 32 | 64;
  widthLatched: boolean;
  /** The shared_info frame (base64). */
  sharedInfo: string;
  maxPages: number;
  /** The domain's own RAM frames as [first gfn, count] runs (ballooned-out frames are absent). */
  ram: [number, number][];
  overlays: OverlaySave[];
  /** Grant-table frames (base64 each). */
  grantFrames: string[];
  maxGrantFrames: number;
  params: [number, number, number][];
  vcpus: XenVcpuSave[];
  maxPort: number;
  ports: PortSave[];
  maps: MapSave[];
  nextHandle: number;
  shutdownCode: number | null;
  pendingShutdownCode: number | null;
  hypercalls: [number, number][];
  store: XsRingSave;
  /** Console input not yet delivered to the guest (base64). */
  consoleInput: string;
  vbds: VbdSave[];
  /** The domain's nodes: its home, /vm/<uuid>, and its back-end directories under domain 0. */
  xsNodes: XsNodeSave[];
  xsWatches: XsWatchSave[];
  xsTransactions: XsTransactionSave[];
}
