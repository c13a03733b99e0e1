/**
 * The xenstore part of a PVH domain's save image: its nodes (home, /vm/<uuid>, and the back-end
 * directories domain 0 keeps for it), the watches its guest set on its ring connection, and the
 * transactions it had open.
 *
 * Restore writes the nodes back through domain 0 (values and permissions exactly as saved; a
 * stale copy left by an earlier domain with the same id is replaced), then sets the watches
 * again without the event a new watch fires (the guest already had it), then reopens the
 * transactions under their ids with their changes; those fail with EAGAIN at commit, which every
 * xenstore client retries.
 */
import { SaveImageError } from '../../../base/errors';
import { formatPerms, parsePerms, type XsPerm } from '../xenstore/xs-perms';
import { domainHome, type XenstoreServer } from '../xenstore/xs-server';
import type { XenstoreTool } from '../xenstore/xs-tool';
import type { XsMutation } from '../xenstore/xs-transactions';
import { badField, fromBase64, toBase64 } from './save-codec';
import type { XsNodeSave, XsTransactionSave, XsWatchSave } from './xen-save-state';

/** Domain 0's back-end directories (one per device class, e.g. vbd, vif). */
const BACKEND_ROOT = '/local/domain/0/backend';

/** The subtrees that belong to domain `domid`. */
function domainRoots(server: XenstoreServer, domid: number, uuid: string): string[] {
  const roots = [domainHome(domid), `/vm/${uuid}`];
  for (const cls of server.tree.get(BACKEND_ROOT)?.children ?? []) roots.push(`${BACKEND_ROOT}/${cls}/${domid}`);
  return roots.filter((r) => server.tree.get(r) !== undefined);
}

/** What the image keeps of a domain's xenstore state. */
export interface XsDomainSave {
  xsNodes: XsNodeSave[];
  xsWatches: XsWatchSave[];
  xsTransactions: XsTransactionSave[];
}

/** Reads domain `domid`'s nodes and the watches and transactions of its connection `conn`. */
export function saveDomainStore(server: XenstoreServer, domid: number, uuid: string, conn: number): XsDomainSave {
  const xsNodes: XsNodeSave[] = [];
  for (const root of domainRoots(server, domid, uuid)) {
    for (const path of server.tree.walk(root)) {
      const n = server.tree.get(path);
      if (n !== undefined) xsNodes.push({ path, value: toBase64(n.value), perms: formatPerms(n.perms) });
    }
  }
  const xsWatches = server.watchesOf(conn).map((w) => ({ path: w.path, token: w.token, relativeTo: w.relativeTo }));
  const xsTransactions = server.transactionsOf(conn).map((t) => ({
    id: t.id,
    mutations: t.mutations.map((m) => ({
      op: m.op,
      path: m.path,
      value: m.op === 'write' ? toBase64(m.value) : undefined,
      perms: m.op === 'perms' ? formatPerms(m.perms) : undefined,
    })),
  }));
  return { xsNodes, xsWatches, xsTransactions };
}

/** The parsed permissions of a saved node or change. */
function permsOf(p: unknown, what: string): XsPerm[] {
  const perms = Array.isArray(p) ? parsePerms(p as string[]) : undefined;
  if (perms === undefined) throw badField(what);
  return perms;
}

/** Writes the saved nodes back (through domain 0's client `xs`). */
export function restoreDomainNodes(xs: XenstoreTool, server: XenstoreServer, s: XsDomainSave): void {
  if (!Array.isArray(s.xsNodes)) throw badField('the xenstore nodes');
  const saved = new Set(s.xsNodes.map((n) => n.path));
  const parent = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
  for (const n of s.xsNodes) {
    if (!saved.has(parent(n.path)) && server.tree.get(n.path) !== undefined) xs.rm(n.path);
  }
  for (const n of s.xsNodes) {
    xs.write(n.path, fromBase64(n.value, `xenstore node ${n.path}`));
    xs.setPerms(n.path, permsOf(n.perms, `the permissions of xenstore node ${n.path}`));
  }
}

/** Sets the saved watches and reopens the saved transactions on connection `conn` of `domid`. */
export function restoreDomainConnection(server: XenstoreServer, domid: number, conn: number, s: XsDomainSave): void {
  for (const w of s.xsWatches) {
    if (typeof w.path !== 'string' || typeof w.token !== 'string' || typeof w.relativeTo !== 'string') throw badField('a xenstore watch');
    server.restoreWatch(conn, { path: w.path, token: w.token, relativeTo: w.relativeTo });
  }
  for (const t of s.xsTransactions) {
    const mutations: XsMutation[] = t.mutations.map((m) => {
      if (m.op === 'write') return { op: 'write', path: m.path, value: fromBase64(m.value, `a transaction change of ${m.path}`) };
      if (m.op === 'perms') return { op: 'perms', path: m.path, perms: permsOf(m.perms, `a transaction change of ${m.path}`) };
      if (m.op === 'mkdir' || m.op === 'rm') return { op: m.op, path: m.path };
      throw badField('a xenstore transaction');
    });
    if (!server.restoreTransaction(conn, domid, t.id, mutations)) {
      throw new SaveImageError(
        'save.xs-transaction',
        `The saved domain has xenstore transaction ${t.id} open, and another domain of this engine uses that number; restore it in an engine where that transaction has ended (or after restarting the daemon).`,
        String(t.id),
      );
    }
  }
}
