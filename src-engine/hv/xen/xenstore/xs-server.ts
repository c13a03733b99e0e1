/**
 * The xenstore daemon of the engine: one tree for the whole host, connections from domains
 * (over their xenstore ring, xs-ring.ts) and from the engine itself (domain 0: toolstack and back
 * ends, xs-tool.ts), requests answered with xenstored's semantics.
 *
 * Design. request() takes one decoded message from a connection and answers through the
 * connection's deliver(); changes then fire watches, whose events are delivered to the watching
 * connections (reply first, then events). Paths without a leading "/" are relative to the
 * caller's home, /local/domain/<domid>. Transactions (xs-transactions.ts) collect their watch
 * events and fire them when they commit.
 *
 * Concurrency. Runs on the hypervisor thread only.
 */
import { parsePerms, formatPerms } from './xs-perms';
import {
  bytesOf, splitFirst, splitNul, strings, XS_CONTROL, XS_DIRECTORY, XS_DIRECTORY_PART, XS_ERROR, XS_GET_DOMAIN_PATH,
  XS_GET_PERMS, XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED, XS_MKDIR, XS_READ, XS_RELEASE, XS_RESET_WATCHES, XS_RESUME, XS_RM,
  XS_PAYLOAD_MAX, XS_SET_PERMS, XS_SET_TARGET, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT,
  XS_WRITE, type XsMessage,
} from './xs-protocol';
import { applyMutation, XsTransaction, type XsMutation } from './xs-transactions';
import { parentOf, validAbsolutePath, XS_QUOTA, XS_REL_PATH_MAX, XsError, XsTree } from './xs-tree';
import { XsWatches, type XsWatch } from './xs-watches';

/** Special watch paths. */
export const XS_INTRODUCE_DOMAIN = '@introduceDomain';
export const XS_RELEASE_DOMAIN = '@releaseDomain';

/** A client of the store. */
export interface XsClient {
  /** Domain the client speaks for (0: the engine, privileged). */
  readonly domid: number;
  /** Receives replies and watch events. */
  deliver(m: XsMessage): void;
}

/** The home of a domain's relative paths. */
export function domainHome(domid: number): string {
  return `/local/domain/${domid}`;
}

/** The store. */
export class XenstoreServer {
  tree = new XsTree();
  readonly watches = new XsWatches();
  private readonly clients = new Map<number, XsClient>();
  private readonly transactions = new Map<number, XsTransaction>();
  private readonly introduced = new Set<number>([0]);
  private nextConn = 1;
  private nextTx = 1;

  constructor(private readonly log: (msg: string) => void = () => {}) {}

  /** Registers a client; returns its connection id. */
  connect(client: XsClient): number {
    const id = this.nextConn++;
    this.clients.set(id, client);
    return id;
  }

  /** Drops a connection with its watches and transactions. */
  disconnect(conn: number): void {
    this.clients.delete(conn);
    this.watches.removeAll(conn);
    for (const [id, t] of this.transactions) if (t.conn === conn) this.transactions.delete(id);
  }

  /** The watches connection `conn` set (save images). */
  watchesOf(conn: number): readonly XsWatch[] {
    return this.watches.of(conn);
  }

  /** The open transactions of connection `conn` (save images). */
  transactionsOf(conn: number): XsTransaction[] {
    return [...this.transactions.values()].filter((t) => t.conn === conn);
  }

  /** Sets a saved watch again on `conn` without the event a new watch fires (restore). */
  restoreWatch(conn: number, w: Omit<XsWatch, 'conn'>): void {
    this.watches.add({ ...w, conn });
  }

  /**
   * Opens a saved transaction again under its id on `conn` (restore): its changes are replayed on
   * a copy of the live tree, and its commit will fail with EAGAIN so the client retries it.
   * False if the id is taken by another connection.
   */
  restoreTransaction(conn: number, domid: number, id: number, mutations: readonly XsMutation[]): boolean {
    if (this.transactions.has(id)) return false;
    const t = new XsTransaction(id, conn, domid, this.tree.clone());
    for (const m of mutations) {
      try {
        t.change(m, () => applyMutation(t.tree, domid, m));
      } catch (e) {
        if (!(e instanceof XsError)) throw e;
      }
    }
    t.doom();
    this.transactions.set(id, t);
    this.nextTx = Math.max(this.nextTx, id + 1);
    return true;
  }

  /** Marks a domain as known (XS_IS_DOMAIN_INTRODUCED) and fires @introduceDomain. */
  introduceDomain(domid: number): void {
    this.introduced.add(domid);
    this.fire(XS_INTRODUCE_DOMAIN, false);
  }

  /** Forgets a domain: its home is removed and @releaseDomain fires. */
  releaseDomain(domid: number): void {
    this.introduced.delete(domid);
    const home = domainHome(domid);
    if (this.tree.get(home) !== undefined) this.removeNow(home, () => this.tree.rm(0, home));
    this.fire(XS_RELEASE_DOMAIN, false);
  }

  /** Resolves a path argument of `domid` to an absolute path (EINVAL if malformed). */
  resolve(domid: number, path: string): string {
    const abs = path.startsWith('/') ? path : path.length <= XS_REL_PATH_MAX ? `${domainHome(domid)}/${path}` : '';
    if (!validAbsolutePath(abs)) throw new XsError('EINVAL', `bad path "${path.slice(0, 64)}"`);
    return abs;
  }

  /** Answers one request of connection `conn`. */
  request(conn: number, m: XsMessage): void {
    const c = this.clients.get(conn);
    if (c === undefined) return;
    const events: [string, boolean][] = [];
    let reply: Uint8Array;
    let type = m.type;
    try {
      reply = this.handle(conn, c.domid, m, events);
      // A reply must fit one message (a big directory is read with XS_DIRECTORY_PART).
      if (reply.length > XS_PAYLOAD_MAX) throw new XsError('E2BIG', 'reply too long');
    } catch (e) {
      if (!(e instanceof XsError)) throw e;
      type = XS_ERROR;
      reply = strings(e.errno);
    }
    c.deliver({ type, reqId: m.reqId, txId: m.txId, payload: reply });
    if (type === XS_WATCH) {
      const [path, token] = splitNul(m.payload);
      c.deliver({ type: XS_WATCH_EVENT, reqId: 0, txId: 0, payload: strings(path, token) });
    }
    for (const [path, removed] of events) this.fireNow(path, removed);
  }

  /** The tree a request works on: its transaction's, or the live one. */
  private txOf(conn: number, txId: number): XsTransaction | undefined {
    if (txId === 0) return undefined;
    const t = this.transactions.get(txId);
    if (t === undefined || t.conn !== conn) throw new XsError('ENOENT', `no transaction ${txId}`);
    return t;
  }

  private handle(conn: number, domid: number, m: XsMessage, events: [string, boolean][]): Uint8Array {
    const args = splitNul(m.payload);
    const tx = m.type === XS_TRANSACTION_START || m.type === XS_WATCH || m.type === XS_UNWATCH ? undefined : this.txOf(conn, m.txId);
    const tree = tx?.tree ?? this.tree;
    const path = (): string => this.resolve(domid, args[0] ?? '');
    const ok = strings('OK');
    switch (m.type) {
      case XS_CONTROL:
        if (args[0] === 'print') {
          this.log(`xenstore debug from domain ${domid}: ${args[1] ?? ''}`);
          return ok;
        }
        throw new XsError(domid === 0 ? 'EINVAL' : 'EACCES', 'control command');
      case XS_DIRECTORY: {
        const p = path();
        tx?.touch(p);
        return strings(...tree.directory(domid, p));
      }
      case XS_DIRECTORY_PART: {
        const p = path();
        tx?.touch(p);
        const kids = tree.directory(domid, p);
        const from = Number(args[1] ?? 'x');
        if (!Number.isInteger(from) || from < 0) throw new XsError('EINVAL', 'offset');
        return bytesOf(`${tree.genOf(p)}\0${kids.slice(from).map((k) => `${k}\0`).join('')}\0`);
      }
      case XS_READ: {
        const p = path();
        tx?.touch(p);
        return tree.read(domid, p);
      }
      case XS_GET_PERMS: {
        const p = path();
        tx?.touch(p);
        return strings(...formatPerms(tree.getPerms(domid, p)));
      }
      case XS_WATCH:
        return this.watch(conn, domid, args);
      case XS_UNWATCH: {
        const [p, token] = args;
        const abs = p?.startsWith('@') ? p : this.resolve(domid, p ?? '');
        if (token === undefined || !this.watches.remove(conn, abs, token)) throw new XsError('ENOENT', 'no such watch');
        return ok;
      }
      case XS_TRANSACTION_START: {
        const open = [...this.transactions.values()].filter((t) => t.conn === conn).length;
        if (domid !== 0 && open >= XS_QUOTA.transactionsPerConnection) throw new XsError('ENOSPC', 'too many transactions');
        const id = this.nextTx++;
        this.transactions.set(id, new XsTransaction(id, conn, domid, this.tree.clone()));
        return strings(String(id));
      }
      case XS_TRANSACTION_END: {
        const t = this.txOf(conn, m.txId);
        if (t === undefined) throw new XsError('ENOENT', 'no transaction');
        this.transactions.delete(t.id);
        if (args[0] === 'T') {
          this.tree = t.commit(this.tree);
          for (const mu of t.mutations) events.push([mu.path, mu.op === 'rm']);
        } else if (args[0] !== 'F') {
          throw new XsError('EINVAL', 'T or F');
        }
        return ok;
      }
      case XS_GET_DOMAIN_PATH: {
        const d = Number(args[0] ?? 'x');
        if (!Number.isInteger(d) || d < 0) throw new XsError('EINVAL', 'domain id');
        return strings(domainHome(d));
      }
      case XS_IS_DOMAIN_INTRODUCED:
        return strings(this.introduced.has(Number(args[0])) ? 'T' : 'F');
      case XS_WRITE: {
        const split = splitFirst(m.payload);
        if (split === undefined) throw new XsError('EINVAL', 'no path');
        const p = this.resolve(domid, split[0]);
        const value = Uint8Array.from(split[1]);
        this.mutate(tx, { op: 'write', path: p, value }, () => tree.write(domid, p, value), events);
        return ok;
      }
      case XS_MKDIR: {
        const p = path();
        this.mutate(tx, { op: 'mkdir', path: p }, () => tree.mkdir(domid, p), events);
        return ok;
      }
      case XS_RM: {
        const p = path();
        if (tx !== undefined) {
          tx.change({ op: 'rm', path: p }, () => tree.rm(domid, p));
        } else if (tree.get(p) !== undefined) {
          this.removeNow(p, () => tree.rm(domid, p));
        } else {
          tree.rm(domid, p);
        }
        return ok;
      }
      case XS_SET_PERMS: {
        const p = path();
        const perms = parsePerms(args.slice(1));
        if (perms === undefined) throw new XsError('EINVAL', 'permissions');
        this.mutate(tx, { op: 'perms', path: p, perms }, () => tree.setPerms(domid, p, perms), events);
        return ok;
      }
      case XS_RESET_WATCHES:
        this.watches.removeAll(conn);
        return ok;
      case XS_INTRODUCE:
      case XS_RELEASE:
      case XS_RESUME:
      case XS_SET_TARGET:
        throw new XsError('EACCES', 'the engine manages domains itself');
      default:
        throw new XsError('EINVAL', `message type ${m.type}`);
    }
  }

  private watch(conn: number, domid: number, args: string[]): Uint8Array {
    const [p, token] = args;
    if (p === undefined || token === undefined) throw new XsError('EINVAL', 'path and token');
    const special = p.startsWith('@');
    const abs = special ? p : this.resolve(domid, p);
    if (domid !== 0 && this.watches.countOf(conn) >= XS_QUOTA.watchesPerDomain) throw new XsError('E2BIG', 'too many watches');
    const relativeTo = !special && !p.startsWith('/') ? domainHome(domid) : '';
    if (!this.watches.add({ conn, path: abs, token, relativeTo })) throw new XsError('EEXIST', 'watch already set');
    return strings('OK');
  }

  /** A change inside a transaction is recorded; outside it is applied and its event queued. */
  private mutate(tx: XsTransaction | undefined, m: Parameters<XsTransaction['change']>[0], apply: () => unknown, events: [string, boolean][]): void {
    if (tx !== undefined) {
      tx.change(m, apply);
      return;
    }
    apply();
    events.push([m.path, false]);
  }

  /** Applies a removal outside a transaction, firing watches with the pre-removal permissions. */
  private removeNow(path: string, apply: () => unknown): void {
    const pending = this.watches.eventsFor(path, true, (conn, node) => this.canSee(conn, node));
    apply();
    this.send(pending);
  }

  private canSee(conn: number, node: string): boolean {
    const c = this.clients.get(conn);
    return c !== undefined && this.tree.canRead(c.domid, node);
  }

  /** Fires watches after a change; for a removal (committed transaction) read access is judged on the parent. */
  private fireNow(path: string, removed: boolean): void {
    this.send(this.watches.eventsFor(path, removed, (conn, node) => this.canSee(conn, removed ? parentOf(node) : node)));
  }

  /** Fires watches for `path` as the engine changed it (domain 0 tool writes). */
  fire(path: string, removed: boolean): void {
    this.fireNow(path, removed);
  }

  private send(events: readonly (readonly [number, string, string])[]): void {
    for (const [conn, path, token] of events) {
      this.clients.get(conn)?.deliver({ type: XS_WATCH_EVENT, reqId: 0, txId: 0, payload: strings(path, token) });
    }
  }
}
