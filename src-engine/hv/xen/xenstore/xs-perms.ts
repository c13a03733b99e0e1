/**
 * Xenstore node permissions, as xenstored keeps them (docs/misc/xenstore.txt, "Permissions"):
 * a list whose first entry names the owner and the access of every domain not listed; later
 * entries give specific domains their access. Letters: n (none), r (read), w (write), b (both).
 * Domain 0 (the engine's toolstack and back ends) and the owner have full access.
 */

/** XS_PERM_* bits. */
export const PERM_NONE = 0;
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_BOTH = PERM_READ | PERM_WRITE;

/** One entry: a domain and what it may do. */
export interface XsPerm {
  readonly id: number;
  readonly perm: number;
}

const LETTERS: Record<string, number> = { n: PERM_NONE, r: PERM_READ, w: PERM_WRITE, b: PERM_BOTH };
const BY_PERM = ['n', 'r', 'w', 'b'];
/** Largest domain id a permission may name (DOMID_MASK). */
const MAX_PERM_DOMID = 0x7fff;

/** Parses perm strings like "n1", "r0" (undefined if any is malformed). */
export function parsePerms(items: readonly string[]): XsPerm[] | undefined {
  const out: XsPerm[] = [];
  for (const s of items) {
    const perm = LETTERS[s[0]];
    const digits = s.slice(1);
    if (perm === undefined || !/^[0-9]{1,5}$/.test(digits)) return undefined;
    const id = Number(digits);
    if (id > MAX_PERM_DOMID) return undefined;
    out.push({ id, perm });
  }
  return out.length > 0 ? out : undefined;
}

/** Formats perms as xenstored replies to XS_GET_PERMS. */
export function formatPerms(perms: readonly XsPerm[]): string[] {
  return perms.map((p) => `${BY_PERM[p.perm]}${p.id}`);
}

/** What domain `domid` may do on a node with `perms`. */
export function accessOf(perms: readonly XsPerm[], domid: number): number {
  if (domid === 0 || perms[0].id === domid) return PERM_BOTH;
  for (let k = 1; k < perms.length; k++) if (perms[k].id === domid) return perms[k].perm;
  return perms[0].perm;
}

/**
 * Perms of a node `creator` makes under a parent with `parent` perms: inherited, but a domain
 * other than 0 owns what it creates (its own explicit entry dropped).
 */
export function inheritPerms(parent: readonly XsPerm[], creator: number): XsPerm[] {
  if (creator === 0) return parent.map((p) => ({ ...p }));
  return [{ id: creator, perm: parent[0].perm }, ...parent.slice(1).filter((p) => p.id !== creator)];
}
