/**
 * Xenstore transactions. A transaction works on a private copy of the tree taken when it starts
 * and remembers the generation stamp of every node it looked at or changed (and of the parents
 * whose child lists it changed). Committing checks that none of those nodes changed in the live
 * tree meanwhile - otherwise EAGAIN, and the client retries, as with xenstored - then replays its
 * changes onto a copy of the live tree, which replaces it only if every change applied: a commit
 * is all or nothing.
 */
import { parentOf, XsError, type XsTree } from './xs-tree';
import type { XsPerm } from './xs-perms';

/** A change to replay at commit. */
export type XsMutation =
  | { readonly op: 'write'; readonly path: string; readonly value: Uint8Array }
  | { readonly op: 'mkdir'; readonly path: string }
  | { readonly op: 'rm'; readonly path: string }
  | { readonly op: 'perms'; readonly path: string; readonly perms: XsPerm[] };

/** One open transaction. */
export class XsTransaction {
  /** Path -> generation stamp when first touched (-1: did not exist). */
  private readonly seen = new Map<string, number>();
  readonly mutations: XsMutation[] = [];

  constructor(
    readonly id: number,
    readonly conn: number,
    readonly domid: number,
    /** The transaction's private tree. */
    readonly tree: XsTree,
  ) {}

  /** Records that the transaction depends on `path` (call before changing it). */
  touch(path: string): void {
    if (!this.seen.has(path)) this.seen.set(path, this.tree.genOf(path));
  }

  /**
   * Makes the commit fail with EAGAIN whatever happens (a transaction carried over a save and
   * restore: what it read may have changed meanwhile, and xenstore clients retry on EAGAIN).
   */
  doom(): void {
    this.seen.set('/', -2);
  }

  /**
   * Makes a change in the private tree with `apply` and records it for the commit, together with
   * the stamps of its node and parent (whose child list may change) as they were before.
   */
  change(m: XsMutation, apply: () => unknown): void {
    this.touch(m.path);
    this.touch(parentOf(m.path));
    apply();
    this.mutations.push(m);
  }

  /**
   * Applies the transaction to `live`; returns the tree to use from now on (a new one if anything
   * changed). Throws XsError EAGAIN on a conflict, or the error of a change that no longer applies.
   */
  commit(live: XsTree): XsTree {
    for (const [path, gen] of this.seen) {
      if (live.genOf(path) !== gen) throw new XsError('EAGAIN', `${path} changed during the transaction`);
    }
    if (this.mutations.length === 0) return live;
    const next = live.clone();
    for (const m of this.mutations) applyMutation(next, this.domid, m);
    return next;
  }
}

/** Applies one recorded change to `tree` as domain `domid` (throws XsError if it does not apply). */
export function applyMutation(tree: XsTree, domid: number, m: XsMutation): void {
  switch (m.op) {
    case 'write':
      tree.write(domid, m.path, m.value);
      break;
    case 'mkdir':
      tree.mkdir(domid, m.path);
      break;
    case 'rm':
      tree.rm(domid, m.path);
      break;
    case 'perms':
      tree.setPerms(domid, m.path, m.perms);
      break;
  }
}
