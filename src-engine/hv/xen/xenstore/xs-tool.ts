/**
 * The engine's own xenstore client (domain 0): the operations behind `domus xenstore-ls`,
 * `-read`, `-write`, `-rm`, `-watch` and `domus shutdown`, and what the toolstack and the back ends
 * use to build and read the tree. It speaks the same protocol as a guest (through the server's
 * request()), so permissions, watches and quotas behave the same; requests are answered
 * synchronously.
 */
import { DomusError } from '../../../base/errors';
import { formatPerms, parsePerms, type XsPerm } from './xs-perms';
import {
  bytesOf, splitNul, strings, textOf, XS_DIRECTORY, XS_ERROR, XS_GET_PERMS, XS_MKDIR, XS_READ, XS_RM, XS_SET_PERMS, XS_UNWATCH,
  XS_WATCH, XS_WATCH_EVENT, XS_WRITE, type XsMessage,
} from './xs-protocol';
import type { XenstoreServer } from './xs-server';

/** A xenstore operation the user asked for that failed (the message names path and errno). */
export class XenstoreError extends DomusError {}

/** One node in an xenstore-ls listing. */
export interface XsListing {
  readonly path: string;
  readonly value: string;
  readonly perms: readonly string[];
}

/** A value as xenstore-ls shows it: printable ASCII as is, backslash and others escaped. */
export function escapeValue(v: string): string {
  let out = '';
  for (const ch of v) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A watch callback: the node that changed and the token. */
export type XsWatchCallback = (path: string, token: string) => void;

/** The domain-0 client. */
export class XenstoreTool {
  private readonly conn: number;
  /** Replies by request id (a watch callback may make requests while another is answered). */
  private readonly replies = new Map<number, XsMessage>();
  private readonly callbacks = new Map<string, XsWatchCallback>();
  private nextReq = 1;
  private nextToken = 1;

  constructor(private readonly server: XenstoreServer) {
    this.conn = server.connect({
      domid: 0,
      deliver: (m) => {
        if (m.type === XS_WATCH_EVENT) {
          const [path, token] = splitNul(m.payload);
          this.callbacks.get(token)?.(path, token);
        } else {
          this.replies.set(m.reqId, m);
        }
      },
    });
  }

  private call(type: number, payload: Uint8Array, what: string): Uint8Array {
    const reqId = this.nextReq++;
    this.server.request(this.conn, { type, reqId, txId: 0, payload });
    const r = this.replies.get(reqId);
    this.replies.delete(reqId);
    if (r === undefined) throw new XenstoreError('xenstore.no-reply', `xenstore did not answer ${what}.`);
    if (r.type === XS_ERROR) {
      const errno = splitNul(r.payload)[0] ?? 'EIO';
      const why = errno === 'ENOENT' ? 'no such node' : errno === 'EACCES' ? 'permission denied' : errno === 'EINVAL' ? 'invalid path or value' : errno;
      throw new XenstoreError(`xenstore.${errno.toLowerCase()}`, `xenstore ${what}: ${why} (${errno}).`, what);
    }
    return r.payload;
  }

  /** xenstore-read: the value of `path` as text. */
  read(path: string): string {
    return textOf(this.call(XS_READ, strings(path), `read ${path}`));
  }

  /** The value of `path`, or undefined if the node does not exist. */
  tryRead(path: string): string | undefined {
    try {
      return this.read(path);
    } catch (e) {
      if (e instanceof XenstoreError && e.code === 'xenstore.enoent') return undefined;
      throw e;
    }
  }

  /** xenstore-write: sets `path` to `value` (creating missing nodes). */
  write(path: string, value: string | Uint8Array): void {
    const v = typeof value === 'string' ? bytesOf(value) : value;
    const p = bytesOf(`${path}\0`);
    const payload = new Uint8Array(p.length + v.length);
    payload.set(p);
    payload.set(v, p.length);
    this.call(XS_WRITE, payload, `write ${path}`);
  }

  /** xenstore-mkdir. */
  mkdir(path: string): void {
    this.call(XS_MKDIR, strings(path), `mkdir ${path}`);
  }

  /** xenstore-rm: removes `path` and everything below it. */
  rm(path: string): void {
    this.call(XS_RM, strings(path), `rm ${path}`);
  }

  /** xenstore-list: the children of `path`. */
  directory(path: string): string[] {
    return splitNul(this.call(XS_DIRECTORY, strings(path), `list ${path}`));
  }

  /** The permissions of `path` ("n0", "r5", ...). */
  getPerms(path: string): string[] {
    return splitNul(this.call(XS_GET_PERMS, strings(path), `get permissions of ${path}`));
  }

  /** xenstore-chmod: sets permissions (first entry = owner and default). */
  setPerms(path: string, perms: readonly XsPerm[]): void {
    this.call(XS_SET_PERMS, strings(path, ...formatPerms(perms)), `set permissions of ${path}`);
  }

  /** Parses and sets permissions given as strings. */
  setPermStrings(path: string, perms: readonly string[]): void {
    const p = parsePerms(perms);
    if (p === undefined) throw new XenstoreError('xenstore.einval', `xenstore chmod ${path}: bad permissions ${perms.join(' ')} (use n|r|w|b followed by a domain id).`, path);
    this.setPerms(path, p);
  }

  /** xenstore-ls: every node at and below `path` with value and permissions, depth first. */
  ls(path = '/'): XsListing[] {
    const out: XsListing[] = [];
    const rec = (p: string): void => {
      out.push({ path: p, value: this.read(p), perms: this.getPerms(p) });
      for (const c of this.directory(p)) rec(p === '/' ? `/${c}` : `${p}/${c}`);
    };
    rec(path);
    return out;
  }

  /**
   * xenstore-ls text: one line per node, `name = "value"`, indented one space per level below
   * `path` (the layout of the xenstore-ls tool). Backslashes and non-printable bytes are escaped.
   */
  lsText(path = '/'): string {
    const base = path === '/' ? 0 : path.split('/').length - 1;
    return this.ls(path)
      .filter((n) => n.path !== path)
      .map((n) => `${' '.repeat(n.path.split('/').length - 2 - base)}${n.path.slice(n.path.lastIndexOf('/') + 1)} = "${escapeValue(n.value)}"`)
      .join('\n');
  }

  /**
   * xenstore-watch: calls `cb` for `path` now and on every change at or below it; returns a
   * function that removes the watch.
   */
  watch(path: string, cb: XsWatchCallback): () => void {
    const token = `domus-${this.nextToken++}`;
    this.callbacks.set(token, cb);
    try {
      this.call(XS_WATCH, strings(path, token), `watch ${path}`);
    } catch (e) {
      this.callbacks.delete(token);
      throw e;
    }
    return () => {
      this.callbacks.delete(token);
      this.call(XS_UNWATCH, strings(path, token), `unwatch ${path}`);
    };
  }
}
