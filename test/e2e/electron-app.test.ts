/**
 * Smoke test of the Electron app itself (spec/gui.md 3.5 "Electron smoke"): launch it with
 * Playwright's _electron, see the manager window come up connected to the engine in its utility
 * process through the preload's MessagePort, and the CLI socket served beside it. Needs the
 * Electron binary, which cannot be downloaded on machines without internet: then it skips and says so.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { socketAlive } from '../../src-engine/node/daemon/socket-carrier';
import { waitText } from './harness';

/** The Electron binary (ELECTRON_PATH, else node_modules/electron/dist), if installed. */
function electronBinary(): string | undefined {
  if (process.env.ELECTRON_PATH) return existsSync(process.env.ELECTRON_PATH) ? process.env.ELECTRON_PATH : undefined;
  const dir = path.resolve('node_modules/electron');
  if (!existsSync(path.join(dir, 'path.txt'))) return undefined;
  const bin = path.join(dir, 'dist', readFileSync(path.join(dir, 'path.txt'), 'utf8').trim());
  return existsSync(bin) ? bin : undefined;
}

const BIN = electronBinary();
const BUILT = existsSync('dist/main/main.cjs') && existsSync('dist/engine/electron-host.js') && existsSync('dist/renderer/index.html');
if (!BIN) console.warn('Electron app smoke test skipped: the Electron binary is not installed (npx install-electron needs internet; or set ELECTRON_PATH).');
else if (!BUILT) console.warn('Electron app smoke test skipped: run npm run build first.');

describe.skipIf(!BIN || !BUILT)('the Electron app', () => {
  it('opens the manager window connected to the engine and serves the CLI socket', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'domus-electron-'));
    const app = await electron.launch({
      executablePath: BIN,
      // Root in CI containers cannot use Chromium's sandbox.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '.'],
      env: { ...process.env, DOMUS_HOME: home, DOMUS_RUNTIME_DIR: path.join(home, 'run'), DOMUS_PCPUS: '1', DOMUS_MEMORY_POOL_MIB: '64' },
    });
    try {
      const win = await app.firstWindow();
      expect(await win.evaluate(() => (window as unknown as { domusHost?: { kind: string } }).domusHost?.kind)).toBe('electron');
      expect(await win.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
      await waitText(win.locator('header'), '1 pCPUs', 60_000);
      expect(await socketAlive(path.join(home, 'run', 'domus.sock'))).toBe(true);
      expect(new URL(win.url()).protocol).toBe('app:');
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});
