/**
 * The Electron app's engine host (dist/engine/electron-host.js) without Electron: it runs in a
 * worker thread whose process.parentPort imitates Electron's (messages as { data, ports }, ports
 * with on('message') / start()), so the test plays main's part: hand over a MessagePort, talk to
 * the engine through it, check that the CLI socket is served, shut the engine down.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { socketAlive } from '../../src-engine/node/daemon/socket-carrier';
import { parseHostCommand } from '../../src-engine/node/electron/host-protocol';

const HOST = path.resolve('dist/engine/electron-host.js');
if (!existsSync(HOST)) console.warn(`Electron engine host tests skipped: ${HOST} is not built (run npm run build).`);

/** Worker preamble: an Electron-like process.parentPort over worker_threads, then the host bundle. */
const PREAMBLE = `
const { parentPort } = require('node:worker_threads');
const wrap = (p) => ({
  on: (ev, l) => (ev === 'message' ? p.on('message', (data) => l({ data })) : p.on(ev, l)),
  postMessage: (m) => p.postMessage(m),
  start: () => p.start(),
  close: () => p.close(),
});
const listeners = [];
process.parentPort = { on: (ev, l) => listeners.push(l), postMessage: (m) => parentPort.postMessage(m) };
parentPort.on('message', (m) => { for (const l of listeners) l({ data: m.data, ports: (m.ports || []).map(wrap) }); });
import(${JSON.stringify(HOST)});
`;

describe.skipIf(!existsSync(HOST))('the Electron engine host (utility process entry)', () => {
  let home: string;
  let worker: Worker;
  const reports: unknown[] = [];

  beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'domus-ehost-'));
    worker = new Worker(PREAMBLE, { eval: true, env: { ...process.env, DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), DOMUS_PCPUS: '1', DOMUS_MEMORY_POOL_MIB: '64' } });
    worker.on('message', (m) => reports.push(m));
    for (let i = 0; i < 400 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await worker?.terminate();
    rmSync(home, { recursive: true, force: true });
  });

  it('reports ready and serves the CLI socket', async () => {
    expect(reports[0]).toEqual({ type: 'ready', socket: path.join(home, 'run', 'domus.sock') });
    expect(await socketAlive(path.join(home, 'run', 'domus.sock'))).toBe(true);
  });

  it('serves a renderer over the port it is handed, and refuses malformed requests', async () => {
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ data: { type: 'client', label: 'test window' }, ports: [port1] }, [port1]);
    const got: { id?: number; result?: unknown; error?: { code: string } }[] = [];
    port2.on('message', (m) => got.push(m));
    port2.postMessage({ id: 1, method: 'host.info', params: {} });
    port2.postMessage({ id: 2, method: 'domain.pause', params: { domain: { bad: true } } });
    port2.postMessage('garbage');
    for (let i = 0; i < 200 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    const info = got.find((m) => m.id === 1)?.result as { nrPcpus: number; engineVersion: string };
    expect(info.nrPcpus).toBe(1);
    expect(got.find((m) => m.id === 2)?.error?.code).toBe('api.bad-request');
    expect(got.find((m) => m.id === -1)?.error?.code).toBe('api.bad-message');
    port2.close();
  });

  it('checks the commands main sends', () => {
    expect(parseHostCommand({ type: 'client', label: 'x'.repeat(100) })).toEqual({ type: 'client', label: 'x'.repeat(64) });
    expect(parseHostCommand({ type: 'shutdown' })).toEqual({ type: 'shutdown' });
    expect(parseHostCommand({ type: 'rm' })).toBeUndefined();
    expect(parseHostCommand(null)).toBeUndefined();
  });

  it('stops the engine and removes its socket on shutdown', async () => {
    const exited = new Promise<number>((r) => worker.once('exit', r));
    worker.postMessage({ data: { type: 'shutdown' }, ports: [] });
    expect(await exited).toBe(0);
    expect(await socketAlive(path.join(home, 'run', 'domus.sock'))).toBe(false);
  });
});
