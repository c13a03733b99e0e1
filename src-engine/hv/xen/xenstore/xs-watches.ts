/**
 * Xenstore watches: who is told when a node changes. A watch on P fires for a change of P or of
 * anything below it, with the changed node's path; when a subtree is removed, watches set on
 * nodes inside it fire too, with their own path. A watch fires once as soon as it is set. The
 * special watches "@introduceDomain" and "@releaseDomain" fire when domains come and go. An
 * event is only sent to a domain that can read the node (for removals: could read it before).
 * Events to a watch set with a relative path carry the path relative to the watcher's home.
 */
import { isAncestorOrSelf } from './xs-tree';

/** One registered watch. */
export interface XsWatch {
  /** The connection that set it. */
  readonly conn: number;
  /** Absolute path (or a special "@..." name). */
  readonly path: string;
  readonly token: string;
  /** The path was given relative to this home ("" if absolute). */
  readonly relativeTo: string;
}

/** A watch event to deliver: [connection, path as the watcher sees it, token]. */
export type XsEvent = readonly [number, string, string];

/** All watches of the store. */
export class XsWatches {
  private readonly list: XsWatch[] = [];

  add(w: XsWatch): boolean {
    if (this.list.some((x) => x.conn === w.conn && x.path === w.path && x.token === w.token)) return false;
    this.list.push(w);
    return true;
  }

  remove(conn: number, path: string, token: string): boolean {
    const i = this.list.findIndex((x) => x.conn === conn && x.path === path && x.token === token);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /** Drops every watch of a connection (XS_RESET_WATCHES, domain release). */
  removeAll(conn: number): void {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i].conn === conn) this.list.splice(i, 1);
  }

  /** The watches of a connection, in the order they were set (save images). */
  of(conn: number): XsWatch[] {
    return this.list.filter((w) => w.conn === conn);
  }

  countOf(conn: number): number {
    return this.list.filter((w) => w.conn === conn).length;
  }

  /** The event path for `w` and a changed node `path`. */
  static shown(w: XsWatch, path: string): string {
    if (w.relativeTo !== '' && path.startsWith(`${w.relativeTo}/`)) return path.slice(w.relativeTo.length + 1);
    return path;
  }

  /**
   * Events for a change of `path` (`removed`: the subtree at `path` was deleted). `canSee(conn,
   * node)` filters by read permission.
   */
  eventsFor(path: string, removed: boolean, canSee: (conn: number, node: string) => boolean): XsEvent[] {
    const out: XsEvent[] = [];
    for (const w of this.list) {
      if (path.startsWith('@')) {
        if (w.path === path) out.push([w.conn, path, w.token]);
        continue;
      }
      if (w.path.startsWith('@')) continue;
      if (isAncestorOrSelf(w.path, path)) {
        if (canSee(w.conn, path)) out.push([w.conn, XsWatches.shown(w, path), w.token]);
      } else if (removed && isAncestorOrSelf(path, w.path)) {
        if (canSee(w.conn, w.path)) out.push([w.conn, XsWatches.shown(w, w.path), w.token]);
      }
    }
    return out;
  }
}
