/**
 * Xen's error numbers as hypercalls return them (negated in EAX): xen/include/public/errno.h.
 * They are the Linux values, but the header is the contract, so they are written out here.
 *
 * A handler reports a failure by throwing XenFault(errno); the dispatcher turns it into -errno.
 * XenFault never leaves the hypercall layer: it is not a DomusError because no user sees it,
 * only the guest.
 */

/** Operation not permitted. */
export const EPERM = 1;
/** No such file or directory (also: no such xenstore node). */
export const ENOENT = 2;
/** No such process: unknown domain. */
export const ESRCH = 3;
/** I/O error. */
export const EIO = 5;
/** Argument list too long (xenstore payload). */
export const E2BIG = 7;
/** Try again. */
export const EAGAIN = 11;
/** Out of memory. */
export const ENOMEM = 12;
/** Permission denied. */
export const EACCES = 13;
/** Bad address: a guest pointer that does not translate. */
export const EFAULT = 14;
/** Device or resource busy. */
export const EBUSY = 16;
/** File exists. */
export const EEXIST = 17;
/** No such device. */
export const ENODEV = 19;
/** Is a directory. */
export const EISDIR = 21;
/** Invalid argument. */
export const EINVAL = 22;
/** No space left (ports, grant frames, quotas). */
export const ENOSPC = 28;
/** Read-only file system. */
export const EROFS = 30;
/** Function not implemented. */
export const ENOSYS = 38;
/** Directory not empty. */
export const ENOTEMPTY = 39;
/** Timer expired (VCPUOP_set_singleshot_timer with VCPU_SSHOTTMR_future). */
export const ETIME = 62;
/** Operation not supported. */
export const EOPNOTSUPP = 95;
/** Transport endpoint is already connected. */
export const EISCONN = 106;

/** Every errno above by value, for messages and the fuzz tests. */
export const XEN_ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [ESRCH]: 'ESRCH',
  [EIO]: 'EIO',
  [E2BIG]: 'E2BIG',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [ENODEV]: 'ENODEV',
  [EISDIR]: 'EISDIR',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
  [EROFS]: 'EROFS',
  [ENOSYS]: 'ENOSYS',
  [ENOTEMPTY]: 'ENOTEMPTY',
  [ETIME]: 'ETIME',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
  [EISCONN]: 'EISCONN',
};

/**
 * A hypercall failure with a Xen errno (positive; the guest sees its negation). Guests cause
 * these by the thousand, so it is deliberately not an Error: no stack trace is captured.
 */
export class XenFault {
  readonly name = 'XenFault';

  constructor(
    readonly errno: number,
    readonly detail = '',
  ) {}

  /** "EINVAL: port 7 is not in use". */
  get message(): string {
    return `${XEN_ERRNO_NAMES[this.errno] ?? `errno ${this.errno}`}${this.detail ? `: ${this.detail}` : ''}`;
  }
}

/** Throws XenFault(errno) unless `cond` holds. */
export function xenCheck(cond: boolean, errno: number, detail?: string): asserts cond {
  if (!cond) throw new XenFault(errno, detail);
}
