/**
 * Small helpers shared by the hypercall families: domain-id checks and fixed-size string
 * results.
 */
import { DOMID_SELF } from '../abi/xen-constants';
import { EPERM, ESRCH, XenFault } from '../abi/xen-errno';
import type { HypercallContext } from './types';

/**
 * Accepts `dom` only if it names the caller (DOMID_SELF or its own id): another existing domain
 * is EPERM (a domU has no rights over it), a domain that does not exist ESRCH - Xen's answers
 * for an unprivileged caller.
 */
export function requireSelf(ctx: HypercallContext, dom: number): void {
  if (dom === DOMID_SELF || dom === ctx.dom.domid) return;
  throw new XenFault(ctx.host.domains.has(dom) ? EPERM : ESRCH, `domain ${dom} is not the caller`);
}

/** `text` as a NUL-padded byte array of exactly `size` bytes (truncated to size - 1). */
export function fixedString(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(text).subarray(0, size - 1));
  return out;
}
