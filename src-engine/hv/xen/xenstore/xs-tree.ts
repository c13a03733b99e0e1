/**
 * The xenstore tree: nodes with a value, permissions and ordered children, addressed by absolute
 * path, with xenstored's rules (docs/misc/xenstore.txt): node names are made of
 * [A-Za-z0-9_@-], separated by "/", no empty components; writing a node creates its missing
 * ancestors; permissions are checked against the calling domain; per-domain quotas (xenstored's
 * defaults) bound what an unprivileged domain can store.
 *
 * Every change bumps a generation counter and stamps the changed node with it; transactions
 * compare those stamps to detect conflicts (xs-transactions.ts).
 */
import { accessOf, inheritPerms, PERM_NONE, PERM_READ, PERM_WRITE, type XsPerm } from './xs-perms';

/** A xenstore failure, carrying the errno name the protocol sends (XS_ERROR payload). */
export class XsError extends Error {
  constructor(readonly errno: string, detail = '') {
    super(detail ? `${errno}: ${detail}` : errno);
    this.name = 'XsError';
  }
}

/** xenstored's quota defaults for unprivileged domains. */
export const XS_QUOTA = {
  /** quota-nb-entry-per-domain. */
  entriesPerDomain: 1000,
  /** quota-max-entry-size: bytes of one value. */
  maxValueBytes: 2048,
  /** quota-nb-perms-per-node. */
  permsPerNode: 5,
  /** quota-nb-watch-per-domain. */
  watchesPerDomain: 128,
  /** quota-max-transaction. */
  transactionsPerConnection: 10,
} as const;
/** XENSTORE_ABS_PATH_MAX / XENSTORE_REL_PATH_MAX (xs_wire.h). */
export const XS_ABS_PATH_MAX = 3072;
export const XS_REL_PATH_MAX = 2048;

/** One node. */
export interface XsNode {
  value: Uint8Array;
  perms: XsPerm[];
  children: string[];
  /** Generation of the last change to this node (value, perms or children). */
  gen: number;
}

const NAME_RE = /^[A-Za-z0-9_@-]+$/;

/** True if `path` is a well-formed absolute path ("/" or "/a/b"). */
export function validAbsolutePath(path: string): boolean {
  if (path === '/') return true;
  if (!path.startsWith('/') || path.endsWith('/') || path.length > XS_ABS_PATH_MAX) return false;
  return path.slice(1).split('/').every((c) => NAME_RE.test(c));
}

/** The parent of an absolute path ("/" for top-level nodes). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last component of an absolute path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True if `a` is `b` or an ancestor of it. */
export function isAncestorOrSelf(a: string, b: string): boolean {
  return a === b || a === '/' || b.startsWith(`${a}/`);
}

/** The tree. */
export class XsTree {
  private readonly nodes = new Map<string, XsNode>();
  private readonly owned = new Map<number, number>();
  generation = 1;

  constructor(empty = false) {
    if (!empty) this.nodes.set('/', { value: new Uint8Array(0), perms: [{ id: 0, perm: PERM_NONE }], children: [], gen: 0 });
  }

  /** A deep copy (transaction snapshots). */
  clone(): XsTree {
    const t = new XsTree(true);
    for (const [p, n] of this.nodes) t.nodes.set(p, { value: n.value, perms: n.perms.map((x) => ({ ...x })), children: [...n.children], gen: n.gen });
    for (const [d, n] of this.owned) t.owned.set(d, n);
    t.generation = this.generation;
    return t;
  }

  /** The node at `path`, without any check. */
  get(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  /** Generation stamp of `path`, -1 if it does not exist. */
  genOf(path: string): number {
    return this.nodes.get(path)?.gen ?? -1;
  }

  /** Nodes owned by `domid` (quota). */
  ownedBy(domid: number): number {
    return this.owned.get(domid) ?? 0;
  }

  private need(domid: number, path: string, want: number): XsNode {
    const n = this.nodes.get(path);
    if (n === undefined) throw new XsError('ENOENT', path);
    if ((accessOf(n.perms, domid) & want) !== want) throw new XsError('EACCES', path);
    return n;
  }

  /** XS_READ. */
  read(domid: number, path: string): Uint8Array {
    return this.need(domid, path, PERM_READ).value;
  }

  /** XS_DIRECTORY. */
  directory(domid: number, path: string): readonly string[] {
    return this.need(domid, path, PERM_READ).children;
  }

  /** XS_GET_PERMS. */
  getPerms(domid: number, path: string): readonly XsPerm[] {
    return this.need(domid, path, PERM_READ).perms;
  }

  private stamp(n: XsNode): void {
    n.gen = ++this.generation;
  }

  private count(domid: number, delta: number): void {
    this.owned.set(domid, (this.owned.get(domid) ?? 0) + delta);
  }

  /** Creates `path` and missing ancestors (write access on the nearest existing one). */
  private create(domid: number, path: string): XsNode {
    const missing: string[] = [];
    let p = path;
    while (!this.nodes.has(p)) {
      missing.push(p);
      p = parentOf(p);
    }
    const top = this.need(domid, p, PERM_WRITE);
    if (domid !== 0 && this.ownedBy(domid) + missing.length > XS_QUOTA.entriesPerDomain) throw new XsError('ENOSPC', 'node quota');
    let parent = top;
    for (const m of missing.reverse()) {
      const n: XsNode = { value: new Uint8Array(0), perms: inheritPerms(parent.perms, domid), children: [], gen: 0 };
      this.stamp(n);
      this.nodes.set(m, n);
      this.count(n.perms[0].id, 1);
      parent.children.push(baseName(m));
      this.stamp(parent);
      parent = n;
    }
    return parent;
  }

  /** XS_WRITE (creates the node and its missing ancestors). */
  write(domid: number, path: string, value: Uint8Array): void {
    if (domid !== 0 && value.length > XS_QUOTA.maxValueBytes) throw new XsError('ENOSPC', 'value too long');
    const n = this.nodes.has(path) ? this.need(domid, path, PERM_WRITE) : this.create(domid, path);
    n.value = value;
    this.stamp(n);
  }

  /** XS_MKDIR: true if it created the node. */
  mkdir(domid: number, path: string): boolean {
    if (this.nodes.has(path)) return false;
    this.create(domid, path);
    return true;
  }

  /**
   * XS_RM: removes `path` and everything below it (write access on the node). Removing a node
   * that does not exist under an existing parent succeeds, as in xenstored. Returns the removed
   * paths (deepest last is not guaranteed).
   */
  rm(domid: number, path: string): string[] {
    if (path === '/') throw new XsError('EINVAL', 'the root cannot be removed');
    if (!this.nodes.has(path)) {
      if (this.nodes.has(parentOf(path))) return [];
      throw new XsError('ENOENT', path);
    }
    this.need(domid, path, PERM_WRITE);
    const removed: string[] = [];
    const walk = (p: string): void => {
      const n = this.nodes.get(p);
      if (n === undefined) return;
      for (const c of n.children) walk(p === '/' ? `/${c}` : `${p}/${c}`);
      this.nodes.delete(p);
      this.count(n.perms[0].id, -1);
      removed.push(p);
    };
    walk(path);
    const parent = this.nodes.get(parentOf(path));
    if (parent !== undefined) {
      parent.children = parent.children.filter((c) => c !== baseName(path));
      this.stamp(parent);
    }
    this.generation++;
    return removed;
  }

  /** XS_SET_PERMS: the owner (or domain 0) only; an unprivileged owner cannot give the node away. */
  setPerms(domid: number, path: string, perms: XsPerm[]): void {
    const n = this.nodes.get(path);
    if (n === undefined) throw new XsError('ENOENT', path);
    if (domid !== 0 && n.perms[0].id !== domid) throw new XsError('EACCES', path);
    if (domid !== 0 && perms[0].id !== n.perms[0].id) throw new XsError('EPERM', 'only domain 0 changes owners');
    if (domid !== 0 && perms.length > XS_QUOTA.permsPerNode) throw new XsError('ENOSPC', 'too many permissions');
    this.count(n.perms[0].id, -1);
    this.count(perms[0].id, 1);
    n.perms = perms;
    this.stamp(n);
  }

  /** True if `domid` may read `path` (watch events). */
  canRead(domid: number, path: string): boolean {
    const n = this.nodes.get(path);
    return n !== undefined && (accessOf(n.perms, domid) & PERM_READ) !== 0;
  }

  /** Every path at or below `path`, depth first, in child order. */
  walk(path: string): string[] {
    const out: string[] = [];
    const rec = (p: string): void => {
      const n = this.nodes.get(p);
      if (n === undefined) return;
      out.push(p);
      for (const c of n.children) rec(p === '/' ? `/${c}` : `${p}/${c}`);
    };
    rec(path);
    return out;
  }
}
