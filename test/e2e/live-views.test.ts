/**
 * End-to-end: the views that follow the engine live, in Chromium against `domus serve`.
 * - Config: the raw xl.cfg is checked while you type (library.check, debounced), errors and
 *   warnings by line:column, saving blocked until the errors are fixed.
 * - CPU pools: the list follows the engine's `pool` events (a pool made by another client
 *   appears) and is not polled.
 * - Screen: an HVM guest booted by the BIOS from a disk (test/e2e/guests/vga-boot.asm) draws on
 *   the VGA text screen and echoes COM1 input there; the view shows its text, colours, blinking
 *   cell and cursor, follows the screen while shown, and stops reading when hidden.
 * - A directly booted HVM guest has no VGA: the Screen tab says so after one read.
 * - PV console: a PVH guest's Console tab is its PV console (com 0), labelled so.
 * The WebSocket frames the page sends are counted to see which methods it calls and how often.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, CHROMIUM, startRig, until, waitFor, waitText, waitValue, type GuiRig } from './harness';

const ECHO = path.resolve('test/e2e/guests/echo.elf');
const VGA_BOOT = path.resolve('test/e2e/guests/vga-boot.bin');
const PVH_BASIC = path.resolve('test/guests-pvh/build/basic.elf');
/** Size of the VGA guest's disk image (the boot sector, then zeros). */
const DISK_BYTES = 32 * 1024;
if (!HAS_CHROMIUM) console.warn(`Live-view end-to-end tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`);

describe.skipIf(!HAS_CHROMIUM).sequential('live views in a browser (domus serve)', () => {
  let rig: GuiRig;
  /** Requests the page sent, by method name. */
  const sent = new Map<string, number>();
  const count = (method: string) => sent.get(method) ?? 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    rig = await startRig({ pcpus: 2, memoryPoolMiB: 96 });
    const { api, page, home } = rig;
    const disk = new Uint8Array(DISK_BYTES);
    disk.set(readFileSync(VGA_BOOT), 0);
    writeFileSync(path.join(home, 'vga.img'), disk);
    await api.call('library.save', { name: 'cfg-edit', text: `name = "cfg-edit"\ntype = "hvm"\nmemory = 16\nkernel = "${ECHO}"\n` });
    await api.call('library.save', { name: 'vga-demo', text: `name = "vga-demo"\ntype = "hvm"\nmemory = 16\nboot = "c"\ndisk = [ "${home}/vga.img,raw,hda,rw" ]\n` });
    await api.call('library.save', { name: 'pvh-basic', text: `name = "pvh-basic"\ntype = "pvh"\nmemory = 16\nkernel = "${PVH_BASIC}"\n` });
    page.on('websocket', (ws) =>
      ws.on('framesent', (f) => {
        const m = /"method":"([^"]+)"/.exec(typeof f.payload === 'string' ? f.payload : f.payload.toString());
        if (m) sent.set(m[1], count(m[1]) + 1);
      }),
    );
    // Load again with the counter listening (and the library entries saved above).
    await page.reload();
    await waitText(page.getByRole('row', { name: /pvh-basic/ }), 'Shut off');
  }, 60_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('checks the raw xl.cfg while it is edited and saves it once it is valid', async () => {
    const { page, api } = rig;
    await page.getByRole('row', { name: /cfg-edit/ }).click();
    await page.getByRole('tab', { name: 'Config' }).click();
    const ta = page.getByLabel('xl.cfg of cfg-edit');
    await waitValue(ta, /memory = 16/);
    const save = page.getByRole('button', { name: 'Validate and save' });

    // Typing sends one check after the pause, not one per keystroke.
    const before = count('library.check');
    await ta.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('frobnicate = 1\n', { delay: 30 });
    await waitText(page.getByRole('list', { name: 'Warnings' }), /5:\d+\s*unknown key frobnicate/);
    expect(count('library.check') - before).toBeLessThanOrEqual(2);
    await waitText(page.getByLabel('Check result'), 'Valid, 1 warning(s).');

    // An error on line 3: listed by line:column, and saving waits for a fix.
    const text = (await ta.inputValue()).replace('memory = 16', 'memory = "lots"');
    await ta.fill(text);
    const errors = page.getByRole('list', { name: 'Errors' });
    await waitText(errors, /^3:\d+/);
    await waitText(page.getByLabel('Check result'), '1 error(s)');
    await waitFor(save, 'disabled');
    // Clicking the error puts the cursor on line 3.
    await errors.getByRole('button').first().click();
    const caret = await ta.evaluate((el: HTMLTextAreaElement) => el.value.slice(0, el.selectionStart).split('\n').length);
    expect(caret).toBe(3);
    // Nothing was written.
    expect((await api.call('library.get', { name: 'cfg-edit' })).text).toContain('memory = 16');

    await ta.fill(text.replace('memory = "lots"', 'memory = 24'));
    await waitText(page.getByLabel('Check result'), 'Valid, 1 warning(s).');
    expect(await errors.count()).toBe(0);
    await save.click();
    await waitText(page.getByRole('status').filter({ hasText: 'Saved' }), 'Saved');
    const saved = await api.call('library.get', { name: 'cfg-edit' });
    expect(saved.text).toContain('memory = 24');
    expect(saved.warnings.join('\n')).toContain('frobnicate');
  });

  it('follows pool changes from the engine’s events instead of polling', async () => {
    const { page, api } = rig;
    await page.getByRole('tab', { name: 'Host' }).click();
    await page.getByRole('tab', { name: 'CPU pools' }).click();
    await waitText(page.getByTestId('pool-sched-Pool-0'), /\w/);
    await sleep(500);
    const lists = count('pool.list');
    // Another client (the CLI, another window) makes a pool: it appears through the event.
    await api.call('pool.cpuRemove', { pool: 'Pool-0', cpus: '1' });
    await api.call('pool.create', { name: 'side', scheduler: 'rtds', cpus: '1' });
    await waitText(page.getByTestId('pool-sched-side'), 'RTDS', 5000);
    const pool0Cpus = page.getByRole('row', { name: /^Pool-0 / }).locator('td.font-mono');
    await waitText(pool0Cpus, /^0$/);
    await api.call('pool.cpuRemove', { pool: 'side', cpus: '1' });
    await api.call('pool.destroy', { pool: 'side' });
    await until(async () => ((await page.getByTestId('pool-sched-side').count()) === 0 ? true : undefined), 5000, 'pool side gone');
    await api.call('pool.cpuAdd', { pool: 'Pool-0', cpus: '1' });
    await waitText(pool0Cpus, /^0-1$/);
    // The old view re-read pool.list every 2 s; this one did not read it at all meanwhile.
    await sleep(2500);
    expect(count('pool.list')).toBe(lists);
  });

  it('shows the VGA text screen of a BIOS-booted HVM guest, live while shown', async () => {
    const { page } = rig;
    await page.getByRole('tab', { name: 'Virtual machines' }).click();
    const row = page.getByRole('row', { name: /vga-demo/ });
    await row.click();
    await page.getByRole('toolbar', { name: 'Virtual machine actions' }).getByRole('button', { name: 'Run' }).click();
    await waitText(row, /Running|Idle/);
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    // An HVM guest: COM1 first, the Screen beside it.
    await waitText(page.getByRole('tab', { selected: true, name: 'Serial 0 (COM1)' }), 'Serial 0 (COM1)');
    expect(await page.getByTestId('console-vga-demo').getAttribute('data-com')).toBe('1');
    await page.getByRole('tab', { name: 'Screen' }).click();

    const screen = page.getByTestId('screen-vga-demo');
    await waitText(screen, 'DOMUS VGA GUEST', 30_000);
    // The BIOS's own line is there too, above the guest's.
    await waitText(screen, 'Booting from Hard Disk...');
    // Colours: yellow on blue; white on red, blinking.
    const colours = screen.locator('span', { hasText: 'COLOURS' });
    expect(await colours.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor])).toEqual(['rgb(255, 255, 85)', 'rgb(0, 0, 170)']);
    const alert = screen.locator('span', { hasText: 'ALERT' });
    expect(await alert.evaluate((el) => [el.className, getComputedStyle(el).backgroundColor])).toEqual(['vga-blink', 'rgb(170, 0, 0)']);
    // The cursor sits after "INPUT " (row 7, column 6), where the guest parked it.
    expect(await screen.locator('[data-row="7"] .vga-cursor').count()).toBe(1);
    await waitText(page.getByLabel('Screen facts'), 'cursor row 8, column 7');
    // 80 × 25 cells, all in view (the font shrinks to fit the pane).
    expect(await screen.locator('[data-row]').count()).toBe(25);
    expect(((await screen.locator('[data-row="0"]').textContent()) ?? '').length).toBe(80);
    await until(() => screen.evaluate((el) => {
      const view = (el.parentElement as HTMLElement).getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= view.top && r.bottom <= view.bottom && r.left >= view.left && r.right <= view.right ? true : undefined;
    }), 5000, 'the whole screen in view');
    // Blinking stops for people who ask for less motion.
    expect(await alert.evaluate((el) => getComputedStyle(el).animationName)).toBe('vga-blink');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await alert.evaluate((el) => getComputedStyle(el).animationName)).toBe('none');
    await page.emulateMedia({ reducedMotion: null });

    // Live: text typed into COM1 (Type text…) is drawn by the guest and shows up on the screen.
    await page.getByRole('button', { name: 'Type text…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Type text into vga-demo' });
    await dialog.getByLabel(/Text to type/).fill('hello vga');
    await dialog.getByRole('button', { name: 'Type', exact: true }).click();
    await waitText(screen.locator('[data-row="7"]'), 'INPUT hello vga');
    await waitText(page.getByLabel('Screen facts'), 'cursor row 8, column 16');

    // Read a few times a second while shown ...
    const r0 = count('domain.screen');
    await sleep(1500);
    expect(count('domain.screen') - r0).toBeGreaterThanOrEqual(3);
    // ... not while the page is hidden ...
    const setVisibility = (v: 'hidden' | 'visible') =>
      page.evaluate((state) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
        document.dispatchEvent(new Event('visibilitychange'));
      }, v);
    await setVisibility('hidden');
    await waitText(page.getByText('Paused while the page is hidden'), 'Paused');
    await sleep(400);
    const r1 = count('domain.screen');
    await sleep(1200);
    expect(count('domain.screen')).toBe(r1);
    await setVisibility('visible');
    await until(() => (count('domain.screen') > r1 ? true : undefined), 5000, 'reads to resume');
    // ... and not once another tab is shown.
    await page.getByRole('tab', { name: 'Serial 0 (COM1)' }).click();
    await sleep(400);
    const r2 = count('domain.screen');
    await sleep(1200);
    expect(count('domain.screen')).toBe(r2);
    await rig.api.call('domain.destroy', { domain: 'vga-demo' });
  }, 90_000);

  it('says that a directly booted HVM guest has no VGA screen, and stops asking', async () => {
    const { page } = rig;
    const row = page.getByRole('row', { name: /cfg-edit/ });
    await row.click();
    await page.getByRole('toolbar', { name: 'Virtual machine actions' }).getByRole('button', { name: 'Run' }).click();
    await waitText(row, /Running|Idle/);
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    const r0 = count('domain.screen');
    await page.getByRole('tab', { name: 'Screen' }).click();
    await waitText(page.getByRole('status').filter({ hasText: 'no VGA screen' }), 'started from a kernel directly');
    await sleep(1000);
    expect(count('domain.screen') - r0).toBe(1);
    await page.getByRole('tab', { name: 'Serial 0 (COM1)' }).click();
    await rig.api.call('domain.destroy', { domain: 'cfg-edit' });
  });

  it('shows a PVH guest’s PV console (com 0) as its console', async () => {
    const { page, api } = rig;
    const row = page.getByRole('row', { name: /pvh-basic/ });
    await row.click();
    await page.getByRole('toolbar', { name: 'Virtual machine actions' }).getByRole('button', { name: 'Run' }).click();
    await waitText(row, /Running|Idle/);
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    const devices = page.getByRole('tablist', { name: 'Console device' });
    await waitText(devices.getByRole('tab', { selected: true }), 'PV console');
    // No emulated devices: no COM1, no VGA.
    expect(await devices.getByRole('tab').allTextContents()).toEqual(['PV console']);
    const term = page.getByTestId('console-pvh-basic');
    expect(await term.getAttribute('data-com')).toBe('0');
    await waitText(term.locator('.xterm-rows'), /DONE basic pass=\d+ fail=\d+/, 60_000);
    // The first checks scrolled out of view; the console's search finds them in the scrollback.
    await page.getByLabel('Search the console').fill('PASS hypercall-page');
    await page.getByRole('button', { name: 'Find previous' }).click();
    await waitText(page.getByText(/found "PASS hypercall-page"/), 'found');
    // The same text the engine keeps for console 0.
    const hist = new TextDecoder().decode((await api.call('console.history', { domain: 'pvh-basic', com: 0 })).data);
    expect(hist).toContain('PASS hypercall-page');
    await api.call('domain.destroy', { domain: 'pvh-basic' });
  }, 90_000);
});
