// The engine's xenstored: paths, permissions and their inheritance, quotas, watches (fire once
// when set, on changes below, on removal of a watched subtree, relative event paths, permission
// filter), transactions (isolation, commit, conflict), the domain-0 client, and the ring
// connection (messages split across the ring's wrap, output flow control, protocol violations).
import { describe, expect, it } from 'vitest';
import { XenstoreServer } from '../../../src-engine/hv/xen/xenstore/xs-server';
import { XenstoreError, XenstoreTool } from '../../../src-engine/hv/xen/xenstore/xs-tool';
import {
  encodeMessage, splitNul, strings, XS_ERROR, XS_READ, XS_TRANSACTION_END, XS_TRANSACTION_START, XS_WATCH, XS_WATCH_EVENT,
  XS_WRITE, type XsMessage,
} from '../../../src-engine/hv/xen/xenstore/xs-protocol';
import { XS_QUOTA } from '../../../src-engine/hv/xen/xenstore/xs-tree';
import { XsRingConnection, XS_RING_SIZE } from '../../../src-engine/hv/xen/xenstore/xs-ring';

/** A domain-side client that records what it receives. */
function client(server: XenstoreServer, domid: number): { conn: number; got: XsMessage[]; req: (type: number, ...parts: (string | Uint8Array)[]) => XsMessage; tx: number } {
  const got: XsMessage[] = [];
  const conn = server.connect({ domid, deliver: (m) => got.push(m) });
  let id = 1;
  const c = {
    conn,
    got,
    tx: 0,
    req(type: number, ...parts: (string | Uint8Array)[]): XsMessage {
      const bytes = parts.map((p) => (typeof p === 'string' ? strings(p) : p));
      const payload = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of bytes) {
        payload.set(b, at);
        at += b.length;
      }
      const reqId = id++;
      server.request(conn, { type, reqId, txId: c.tx, payload });
      return got.find((m) => m.reqId === reqId)!;
    },
  };
  return c;
}
const text = (m: XsMessage) => new TextDecoder().decode(m.payload);
const events = (msgs: XsMessage[]) => msgs.filter((m) => m.type === XS_WATCH_EVENT).map((m) => splitNul(m.payload).join(' '));

function setup() {
  const server = new XenstoreServer();
  const tool = new XenstoreTool(server);
  tool.mkdir('/local/domain/5');
  tool.setPermStrings('/local/domain/5', ['n0', 'r5']);
  tool.write('/local/domain/5/data', '');
  tool.setPermStrings('/local/domain/5/data', ['n5']);
  tool.mkdir('/local/domain/6');
  return { server, tool };
}

describe('xenstore', () => {
  it('resolves relative paths to the home and enforces permissions', () => {
    const { server, tool } = setup();
    const d = client(server, 5);
    expect(d.req(XS_WRITE, 'data/x', new TextEncoder().encode('v')).type).toBe(XS_WRITE);
    expect(tool.read('/local/domain/5/data/x')).toBe('v');
    expect(text(d.req(XS_READ, 'data/x'))).toBe('v');
    // The home is read-only for the guest, other homes unreadable, domain 0 sees everything.
    expect(text(d.req(XS_WRITE, 'name', new TextEncoder().encode('x')))).toBe('EACCES\0');
    expect(text(d.req(XS_READ, '/local/domain/6'))).toBe('EACCES\0');
    expect(text(d.req(XS_READ, 'data//x'))).toBe('EINVAL\0');
    // What a guest creates it owns; a guest cannot give a node away.
    expect(tool.getPerms('/local/domain/5/data/x')).toEqual(['n5']);
    expect(text(d.req(14, 'data/x', 'n6'))).toBe('EPERM\0');
    expect(text(d.req(14, 'data/x', 'n5', 'r6'))).toBe('OK\0');
    const other = client(server, 6);
    expect(text(other.req(XS_READ, '/local/domain/5/data/x'))).toBe('v');
    expect(text(other.req(XS_WRITE, '/local/domain/5/data/x', new TextEncoder().encode('w')))).toBe('EACCES\0');
  });

  it('answers E2BIG rather than a reply longer than one message', () => {
    const { server, tool } = setup();
    tool.write('/local/domain/5/data/huge', 'x'.repeat(5000));
    const d = client(server, 5);
    expect(text(d.req(XS_READ, 'data/huge'))).toBe('E2BIG\0');
  });

  it('applies the node and value quotas to domains but not to domain 0', () => {
    const { server, tool } = setup();
    const d = client(server, 5);
    const big = new Uint8Array(XS_QUOTA.maxValueBytes + 1);
    expect(text(d.req(XS_WRITE, 'data/big', big))).toBe('ENOSPC\0');
    tool.write('/local/domain/5/data/big', big);
    let last = '';
    for (let k = 0; k <= XS_QUOTA.entriesPerDomain && last !== 'ENOSPC\0'; k++) last = text(d.req(XS_WRITE, `data/n${k}`, new Uint8Array(0)));
    expect(last).toBe('ENOSPC\0');
  });

  it('fires a watch once when set, then on changes at or below it, with relative paths kept relative', () => {
    const { server, tool } = setup();
    const d = client(server, 5);
    d.req(XS_WATCH, 'data/w', 'tok');
    tool.write('/local/domain/5/data/w/a/b', '1');
    tool.write('/local/domain/5/data/other', '1');
    d.req(XS_WATCH, '/local/domain/5/data/w/a/b', 'abs');
    tool.rm('/local/domain/5/data/w');
    expect(events(d.got)).toEqual([
      'data/w tok', 'data/w/a/b tok', '/local/domain/5/data/w/a/b abs', 'data/w tok', '/local/domain/5/data/w/a/b abs',
    ]);
  });

  it('does not tell a domain about nodes it cannot read', () => {
    const { server, tool } = setup();
    const spy = client(server, 6);
    spy.req(XS_WATCH, '/local/domain/5/data', 't');
    spy.got.length = 0;
    tool.write('/local/domain/5/data/secret', 'x');
    expect(events(spy.got)).toEqual([]);
  });

  it('isolates transactions, commits them whole, and refuses conflicting commits with EAGAIN', () => {
    const { server, tool } = setup();
    const d = client(server, 5);
    d.tx = Number(splitNul(d.req(XS_TRANSACTION_START, '').payload)[0]);
    d.req(XS_WRITE, 'data/t1', new TextEncoder().encode('a'));
    d.req(XS_WRITE, 'data/t2', new TextEncoder().encode('b'));
    expect(tool.tryRead('/local/domain/5/data/t1')).toBeUndefined();
    expect(text(d.req(XS_TRANSACTION_END, 'T'))).toBe('OK\0');
    d.tx = 0;
    expect([tool.read('/local/domain/5/data/t1'), tool.read('/local/domain/5/data/t2')]).toEqual(['a', 'b']);
    d.tx = Number(splitNul(d.req(XS_TRANSACTION_START, '').payload)[0]);
    d.req(XS_READ, 'data/t1');
    tool.write('/local/domain/5/data/t1', 'changed');
    d.req(XS_WRITE, 'data/t2', new TextEncoder().encode('c'));
    const end = d.req(XS_TRANSACTION_END, 'T');
    expect([end.type, text(end)]).toEqual([XS_ERROR, 'EAGAIN\0']);
    d.tx = 0;
    expect(tool.read('/local/domain/5/data/t2')).toBe('b');
    expect(text(d.req(XS_TRANSACTION_END, 'T'))).toBe('ENOENT\0');
  });

  it('gives the domain-0 client user-facing errors and an xenstore-ls listing', () => {
    const { tool } = setup();
    tool.write('/local/domain/5/name', 'guest "one"');
    expect(() => tool.read('/local/domain/9/name')).toThrow(XenstoreError);
    expect(() => tool.read('/local/domain/9/name')).toThrow(/no such node/);
    expect(tool.lsText('/local/domain/5')).toBe('data = ""\nname = "guest \\"one\\""');
    const seen: string[] = [];
    const unwatch = tool.watch('/local/domain/5/name', (p) => seen.push(p));
    tool.write('/local/domain/5/name', 'x');
    unwatch();
    tool.write('/local/domain/5/name', 'y');
    expect(seen).toEqual(['/local/domain/5/name', '/local/domain/5/name']);
  });
});

describe('xenstore ring connection', () => {
  /** A ring page in a plain buffer, with the guest side's helpers. */
  function ring(server: XenstoreServer) {
    const mem = new SharedArrayBuffer(8192);
    const mem8 = new Uint8Array(mem);
    const mem32 = new Int32Array(mem);
    XsRingConnection.initialise(mem8, mem32, 0);
    let notified = 0;
    const c = new XsRingConnection(server, 5, mem8, mem32, new Uint8Array(2), new Int32Array(2), { ringOffset: () => 0, notify: () => notified++ });
    const put = (bytes: Uint8Array) => {
      let prod = mem32[2052 / 4] >>> 0;
      for (const b of bytes) mem8[prod++ & (XS_RING_SIZE - 1)] = b;
      mem32[2052 / 4] = prod;
    };
    const take = (): Uint8Array => {
      const cons = mem32[2056 / 4] >>> 0;
      const prod = mem32[2060 / 4] >>> 0;
      const out = new Uint8Array(prod - cons);
      for (let k = 0; k < out.length; k++) out[k] = mem8[1024 + ((cons + k) & (XS_RING_SIZE - 1))];
      mem32[2056 / 4] = prod;
      return out;
    };
    return { c, mem32, put, take, notified: () => notified };
  }

  it('reassembles requests written in pieces across the wrap and answers through the response ring', () => {
    const { server, tool } = setup();
    tool.write('/local/domain/5/data/v', 'x'.repeat(600));
    const r = ring(server);
    const msg = encodeMessage({ type: XS_READ, reqId: 7, txId: 0, payload: strings('data/v') });
    let replies = new Uint8Array(0);
    for (let round = 0; round < 4; round++) {
      r.put(msg.subarray(0, 5));
      r.c.service();
      r.put(msg.subarray(5));
      r.c.service();
      const got = r.take();
      const joined = new Uint8Array(replies.length + got.length);
      joined.set(replies);
      joined.set(got, replies.length);
      replies = joined;
    }
    // Four replies of 16 + 600 bytes went through a 1024-byte ring.
    expect(replies.length).toBe(4 * 616);
    expect(new DataView(replies.buffer).getUint32(4, true)).toBe(7);
    expect(r.notified()).toBeGreaterThanOrEqual(4);
  });

  it('stops at a payload longer than XENSTORE_PAYLOAD_MAX and sets the error field', () => {
    const { server } = setup();
    const r = ring(server);
    const h = new Uint8Array(16);
    new DataView(h.buffer).setUint32(12, 5000, true);
    r.put(h);
    r.c.service();
    expect(r.c.isBroken).toBe(true);
    expect(r.mem32[2072 / 4]).toBe(3);
  });
});
