/**
 * `domus serve`'s HTTP + WebSocket carrier without a browser: the token, the loopback Host check
 * (DNS rebinding), the Origin check, envelope validation, static files confined to the renderer
 * folder with the security headers, and the command line.
 */
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RequestMessage, ServerMessage } from '../../src-engine/api/wire';
import type { ApiConnection, ApiService } from '../../src-engine/node/service/api-service';
import { parseServeArgs } from '../../src-engine/node/commands/serve';
import { hostHeaderAllowed, startServe, tokenMatches, WS_CLOSE_BAD_TOKEN, type ServeHandle } from '../../src-engine/node/serve/serve-server';
import { resolveStaticPath } from '../../src-engine/node/serve/static-files';

/** A service that answers every request with its method and parameters, and counts connections. */
class EchoService implements ApiService {
  open = 0;
  received: RequestMessage[] = [];
  connect(send: (m: ServerMessage) => void): ApiConnection {
    this.open++;
    return {
      receive: (m) => {
        this.received.push(m);
        send({ id: m.id, result: { method: m.method, params: m.params } });
        if (m.method === 'emit') send({ event: 'console', data: { domid: 1, com: 1, data: new Uint8Array([104, 105]) } });
      },
      close: () => {
        this.open--;
      },
    };
  }
}

function get(port: number, p: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function openWs(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; closed: Promise<number>; messages: unknown[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: unknown[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.once('open', () => resolve({ ws, closed, messages }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function waitFor<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('domus serve (HTTP + WebSocket carrier)', () => {
  const service = new EchoService();
  let dir: string;
  let server: ServeHandle;
  const TOKEN = 'test-token-0123456789abcdef';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'domus-serve-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`), 'secret');
    server = await startServe({ service, port: 0, staticDir: dir, token: TOKEN });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`), { force: true });
  });

  it('prints a loopback URL that carries the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
  });

  it('serves the renderer with a strict CSP and refuses other methods', async () => {
    const r = await get(server.port, '/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>t</title>');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.headers['content-security-policy']).toContain(`ws://127.0.0.1:${server.port}`);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(server.port, '/assets/app.js')).headers['content-type']).toContain('javascript');
    expect((await get(server.port, '/', {}, 'POST')).status).toBe(405);
    expect((await get(server.port, '/missing.js')).status).toBe(404);
  });

  it('never serves files outside the renderer folder', async () => {
    const name = `${path.basename(dir)}-secret.txt`;
    for (const p of [`/../${name}`, `/%2e%2e/${name}`, `/assets/..%2f..%2f${name}`, `/..%5c${name}`]) {
      const r = await get(server.port, p);
      expect(r.body, p).not.toContain('secret');
    }
    expect(resolveStaticPath('/srv/r', '/../etc/passwd')).toBe('/srv/r/etc/passwd');
    expect(resolveStaticPath('/srv/r', '/a%00b')).toBeUndefined();
    expect(resolveStaticPath('/srv/r', '/')).toBe('/srv/r/index.html');
  });

  it('answers only to loopback Host headers (DNS rebinding)', async () => {
    expect((await get(server.port, '/', { Host: `evil.example:${server.port}` })).status).toBe(421);
    expect((await get(server.port, '/', { Host: `localhost:${server.port}` })).status).toBe(200);
    await expect(openWs(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`, { Host: `evil.example:${server.port}` })).rejects.toThrow('421');
    expect(hostHeaderAllowed('127.0.0.1:80', 80, true)).toBe(true);
    expect(hostHeaderAllowed('127.0.0.1:81', 80, true)).toBe(false);
    expect(hostHeaderAllowed('[::1]:80', 80, true)).toBe(true);
    expect(hostHeaderAllowed('attacker.example', 80, false)).toBe(true);
  });

  it('refuses a wrong or missing token with close code 4401', async () => {
    const bad = await openWs(`ws://127.0.0.1:${server.port}/api?token=nope`);
    expect(await bad.closed).toBe(WS_CLOSE_BAD_TOKEN);
    const none = await openWs(`ws://127.0.0.1:${server.port}/api`);
    expect(await none.closed).toBe(WS_CLOSE_BAD_TOKEN);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches(null, 'abd')).toBe(false);
  });

  it('refuses a page from another origin', async () => {
    await expect(openWs(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`, { Origin: 'http://evil.example' })).rejects.toThrow('403');
  });

  it('carries requests, replies and events (bytes as $bytes), and checks envelopes first', async () => {
    const c = await openWs(`ws://127.0.0.1:${server.port}/api?token=${TOKEN}`, { Origin: `http://127.0.0.1:${server.port}` });
    const before = service.received.length;
    c.ws.send(JSON.stringify({ id: 1, method: 'emit', params: { data: { $bytes: 'aGk=' } } }));
    c.ws.send('not json');
    c.ws.send(JSON.stringify({ id: 2 }));
    c.ws.send(JSON.stringify([1, 2]));
    await waitFor(() => (c.messages.length >= 5 ? true : undefined));
    expect(c.messages[0]).toEqual({ id: 1, result: { method: 'emit', params: { data: { $bytes: 'aGk=' } } } });
    expect(service.received[before].params).toEqual({ data: new Uint8Array([104, 105]) });
    expect(c.messages[1]).toEqual({ event: 'console', data: { domid: 1, com: 1, data: { $bytes: 'aGk=' } } });
    expect(c.messages.slice(2)).toEqual([
      { id: -1, error: { code: 'api.bad-message', message: 'The message is not valid JSON.' } },
      { id: 2, error: { code: 'api.bad-message', message: 'A request needs a "method" name.' } },
      { id: -1, error: { code: 'api.bad-message', message: 'A request must be a JSON object.' } },
    ]);
    expect(service.received.length).toBe(before + 1);
    const open = service.open;
    c.ws.close();
    await c.closed;
    await waitFor(() => (service.open === open - 1 ? true : undefined));
  });

  it('parses its command line', () => {
    expect(parseServeArgs([], {})).toMatchObject({ port: 7480, host: '127.0.0.1' });
    expect(parseServeArgs(['--port', '0', '--host=0.0.0.0', '--pcpus', '3', '--scheduler', 'rtds'], {})).toMatchObject({ port: 0, host: '0.0.0.0', pcpus: 3, scheduler: 'rtds' });
    expect(parseServeArgs([], { DOMUS_SERVE_TOKEN: 'x'.repeat(20) })).toMatchObject({ token: 'x'.repeat(20) });
    expect(() => parseServeArgs(['--port', '70000'], {})).toThrow('--port takes a whole number from 0 to 65535');
    expect(() => parseServeArgs(['--token', 'short'], {})).toThrow('at least 16');
    expect(() => parseServeArgs(['--frobnicate'], {})).toThrow('Unknown option "--frobnicate"');
    expect(parseServeArgs(['--help'], {})).toBe('help');
  });
});
