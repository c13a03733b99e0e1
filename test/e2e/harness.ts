/**
 * The end-to-end harness: a real engine (worker threads) behind `domus serve`'s HTTP + WebSocket
 * server on a free loopback port, Debian's Chromium driven by playwright-core, and a plain API
 * client over the same WebSocket for checking what the GUI did.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import WebSocket from 'ws';
import type { EngineMethod, ParamsOf, ResultOf } from '../../src-engine/api/methods';
import { decodeMessage, encodeMessage } from '../../src-engine/api/wire';
import { EngineService } from '../../src-engine/node/service/engine-service';
import { domusPaths } from '../../src-engine/node/service/paths';
import { startServe, type ServeHandle } from '../../src-engine/node/serve/serve-server';
import { rendererBuilt, rendererDir } from '../../src-engine/node/serve/static-files';
import { NodeEngineHost } from '../../src-engine/node/worker-host';

/** Debian's Chromium (CHROMIUM_PATH overrides). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Whether the browser tests can run here. */
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** Launch flags verified on this machine (spec/gui.md 2.6). */
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Builds the renderer when dist/renderer is missing (npm test builds it first anyway). */
export function ensureRenderer(): string {
  const dir = rendererDir({});
  if (!rendererBuilt(dir)) execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  return dir;
}

/** A plain API client over the server's WebSocket. */
export class TestApi {
  private next = 1;
  private readonly pending = new Map<number, (m: { result?: unknown; error?: { code: string; message: string } }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = decodeMessage(d.toString()) as { id?: number; result?: unknown; error?: { code: string; message: string } };
      if (typeof m.id === 'number') this.pending.get(m.id)?.(m);
    });
  }

  /** Connects with the server's token. */
  static open(server: ServeHandle): Promise<TestApi> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestApi(ws)));
      ws.once('error', reject);
    });
  }

  /** Calls a method; rejects with an Error carrying the engine's code. */
  call<M extends EngineMethod>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => {
        this.pending.delete(id);
        if (m.error) reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
        else resolve(m.result as ResultOf<M>);
      });
      this.ws.send(encodeMessage({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** Everything a GUI test needs. */
export interface GuiRig {
  home: string;
  service: EngineService;
  server: ServeHandle;
  browser: Browser;
  page: Page;
  api: TestApi;
  close(): Promise<void>;
}

/** Starts engine, server, browser and page (logged in with the token). */
export async function startRig(o: { pcpus: number; memoryPoolMiB: number }): Promise<GuiRig> {
  const staticDir = ensureRenderer();
  const home = mkdtempSync(path.join(os.tmpdir(), 'domus-e2e-'));
  const paths = domusPaths({ DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), HOME: home });
  const service = new EngineService(new NodeEngineHost(), { pcpus: o.pcpus, memoryPoolMiB: o.memoryPoolMiB, paths, version: 'e2e' });
  await service.engine.whenReady();
  const server = await startServe({ service, port: 0, staticDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
  await page.goto(server.url);
  const api = await TestApi.open(server);
  return {
    home,
    service,
    server,
    browser,
    page,
    api,
    async close() {
      api.close();
      await browser.close();
      await server.close();
      await service.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Polls until fn returns a value other than undefined/false. */
export async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Default wait for the GUI to show something, ms. */
export const UI_TIMEOUT_MS = 15_000;

function matches(actual: string, want: string | RegExp): boolean {
  return typeof want === 'string' ? actual.includes(want) : want.test(actual);
}

/** Waits until a locator's text contains `want` (Playwright's toContainText, retried). */
export async function waitText(l: Locator, want: string | RegExp, ms = UI_TIMEOUT_MS): Promise<string> {
  let last = '';
  try {
    return await until(async () => {
      last = (await l.first().textContent({ timeout: 1000 }).catch(() => null)) ?? '';
      return matches(last, want) ? last : undefined;
    }, ms);
  } catch {
    throw new Error(`expected ${String(l)} to contain ${String(want)}; it shows: ${JSON.stringify(last.slice(-400))}`);
  }
}

/** Waits until an input's value matches. */
export async function waitValue(l: Locator, want: string | RegExp, ms = UI_TIMEOUT_MS): Promise<void> {
  let last = '';
  try {
    await until(async () => {
      last = await l.inputValue({ timeout: 1000 }).catch(() => '');
      return (typeof want === 'string' ? last === want : want.test(last)) ? true : undefined;
    }, ms);
  } catch {
    throw new Error(`expected ${String(l)} to have the value ${String(want)}; it has ${JSON.stringify(last)}`);
  }
}

/** Waits until a predicate on a locator holds (checked, disabled...). */
export async function waitFor(l: Locator, what: 'checked' | 'disabled' | 'focused-inside', ms = UI_TIMEOUT_MS): Promise<void> {
  await until(async () => {
    if (what === 'checked') return (await l.isChecked({ timeout: 1000 }).catch(() => false)) || undefined;
    if (what === 'disabled') return (await l.isDisabled({ timeout: 1000 }).catch(() => false)) || undefined;
    return (await l.evaluate((el) => el.contains(document.activeElement)).catch(() => false)) || undefined;
  }, ms, `${String(l)} ${what}`);
}
