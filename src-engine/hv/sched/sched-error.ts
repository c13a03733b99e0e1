/**
 * Refusals of the scheduler and cpupool interface, carrying Xen's errno (what the hypervisor
 * returned), libxl's log line and xl's own message, so the CLI helper can print exactly what
 * xl prints and the GUI can show a sentence that says what to do.
 * Facts: spec/schedulers.md sections 6, 8.3 and 9; errno values of xen/include/public/errno.h.
 */
import { HypervisorError } from '../../base/errors';

/** The errno names the scheduler interface returns, with Xen's numeric values (public/errno.h). */
export const XEN_ERRNO = {
  /** Operation not permitted (e.g. the control domain moving itself between pools). */
  EPERM: 1,
  /** No such file or directory: no such pool, or a pool without pCPUs as migration target. */
  ENOENT: 2,
  /** No such process: the pool given at domain creation does not exist. */
  ESRCH: 3,
  /** Resource busy: pool still has domains, last pCPU of a populated pool. */
  EBUSY: 16,
  /** File exists: a pool with that id already exists. */
  EEXIST: 17,
  /** No such device: pCPU not free, domain created in a pool without pCPUs. */
  ENODEV: 19,
  /** Invalid argument: parameter out of range, wrong scheduler, empty hard affinity. */
  EINVAL: 22,
  /** No space left on device: too many cpupools. */
  ENOSPC: 28,
  /** Address not available: the pCPU is not in that pool. */
  EADDRNOTAVAIL: 99,
} as const;

/** One of the errno names above. */
export type XenErrnoName = keyof typeof XEN_ERRNO;

/** strerror() texts as glibc prints them (libxl appends them to its log lines). */
export const STRERROR: Record<XenErrnoName, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};

/** What the caller of a refused operation may show: the three layers of Xen's tool stack. */
export interface SchedRefusal {
  /** Stable code, e.g. "cpupool.cpu-not-free". */
  code: string;
  /** Errno the hypervisor (or libxl, for its own checks) refused with. */
  errno: XenErrnoName;
  /** libxl's log line without its "libxl: error: file:line:function: " prefix, if libxl logs one. */
  libxl?: string;
  /** What xl writes to stderr, if xl prints something of its own. */
  xl?: string;
  /** A sentence for GUI users: what was wrong and what to do. */
  message: string;
  /** The pool, domain or parameter concerned. */
  subject?: string;
}

/** A refused scheduler, affinity or cpupool operation. */
export class SchedError extends HypervisorError {
  /** Errno name, e.g. "EINVAL". */
  readonly errno: XenErrnoName;
  /** Xen's numeric errno value. */
  readonly errnoValue: number;
  /** libxl's log line, when libxl logs one. */
  readonly libxl: string | undefined;
  /** xl's stderr message, when xl prints one. */
  readonly xl: string | undefined;

  constructor(r: SchedRefusal) {
    super(r.code, r.message, r.subject);
    this.errno = r.errno;
    this.errnoValue = XEN_ERRNO[r.errno];
    this.libxl = r.libxl;
    this.xl = r.xl;
  }
}

/** Shorthand used by the schedulers for parameter refusals. */
export function schedRefuse(
  code: string,
  errno: XenErrnoName,
  message: string,
  extra: { libxl?: string; xl?: string; subject?: string } = {},
): SchedError {
  return new SchedError({ code, errno, message, ...extra });
}
