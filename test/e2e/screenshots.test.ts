/**
 * Screenshots of the main views for docs/screenshots (opt-in: DOMUS_SCREENSHOTS=1 npx vitest run
 * test/e2e/screenshots.test.ts). Real guests run: two CPU-bound spin guests sharing a pCPU (so the
 * schedule timeline has something to show), the echo guest for the console, and the VGA
 * boot-sector guest (BIOS-booted from a disk image) for the Screen view.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { HAS_CHROMIUM, startRig, until, waitText, type GuiRig } from './harness';

const WANTED = process.env.DOMUS_SCREENSHOTS === '1';
const OUT = path.resolve('docs/screenshots');
const G = path.resolve('test/fixtures/guests');
const ECHO = path.resolve('test/e2e/guests/echo.elf');
const VGA_BOOT = path.resolve('test/e2e/guests/vga-boot.bin');
/** Size of the VGA guest's disk image. */
const DISK_BYTES = 32 * 1024;
if (!WANTED) console.warn('Screenshots not taken: set DOMUS_SCREENSHOTS=1 to regenerate docs/screenshots.');

describe.skipIf(!WANTED || !HAS_CHROMIUM).sequential('screenshots of the GUI', () => {
  let rig: GuiRig;
  const shot = async (name: string) => {
    await rig.page.waitForTimeout(600);
    await rig.page.screenshot({ path: path.join(OUT, `${name}.png`) });
  };

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    rig = await startRig({ pcpus: 2, memoryPoolMiB: 256 });
    const { api } = rig;
    const cfg = (name: string, kernel: string, extra = '') => `name = "${name}"\ntype = "hvm"\nmemory = 32\nkernel = "${kernel}"\nserial = [ 'pty' ]\n${extra}`;
    await api.call('library.save', { name: 'hermit-dev', text: cfg('hermit-dev', ECHO, 'cmdline = "-uart=io:0x3f8"\n') });
    await api.call('library.save', { name: 'spinner-a', text: cfg('spinner-a', `${G}/spin.elf`, 'vcpus = 2\ncpus = "1"\ncpu_weight = 512\n') });
    await api.call('library.save', { name: 'spinner-b', text: cfg('spinner-b', `${G}/spin.elf`, 'cpus = "1"\n') });
    await api.call('library.save', { name: 'ticker', text: cfg('ticker', `${G}/tick.elf`) });
    const disk = new Uint8Array(DISK_BYTES);
    disk.set(readFileSync(VGA_BOOT), 0);
    writeFileSync(path.join(rig.home, 'bios-vga.img'), disk);
    await api.call('library.save', { name: 'bios-vga', text: `name = "bios-vga"\ntype = "hvm"\nmemory = 16\nboot = "c"\ndisk = [ "${rig.home}/bios-vga.img,raw,hda,rw" ]\n` });
    for (const n of ['hermit-dev', 'spinner-a', 'spinner-b']) await api.call('domain.create', { library: n });
    // Type only once the guest listens (bytes sent before it sets up its UART are dropped, as on hardware).
    await until(async () => new TextDecoder().decode((await api.call('console.history', { domain: 'hermit-dev' })).data).includes('ECHO READY') || undefined);
    await api.call('console.write', { domain: 'hermit-dev', data: 'uname -a\r' });
    // Let the graphs fill.
    await rig.page.reload();
    await rig.page.waitForTimeout(12_000);
  }, 120_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('takes them', async () => {
    const { page } = rig;
    await page.getByRole('row', { name: /spinner-a/ }).click();
    await shot('manager');
    await page.getByRole('tab', { name: 'CPUs' }).click();
    await waitText(page.getByTestId('vcpu-1-pcpu'), '1');
    await shot('cpus');
    await page.getByRole('tab', { name: 'Performance' }).click();
    await shot('performance');
    await page.getByRole('row', { name: /hermit-dev/ }).click();
    await page.getByRole('tab', { name: 'Console' }).click();
    await waitText(page.getByTestId('console-hermit-dev').locator('.xterm-rows'), 'ECHO: uname -a');
    await page.getByTestId('console-hermit-dev').click();
    await page.keyboard.type('hello from the GUI');
    await page.keyboard.press('Enter');
    await waitText(page.getByTestId('console-hermit-dev').locator('.xterm-rows'), 'ECHO: hello from the GUI');
    await shot('console');
    // The config editor checks as you type: an unknown key is a warning at its line:column.
    await page.getByRole('tab', { name: 'Config' }).click();
    const ta = page.getByLabel('xl.cfg of hermit-dev');
    await until(async () => ((await ta.inputValue()).includes('name =') ? true : undefined));
    await ta.fill(`${await ta.inputValue()}on_crash = "preserve"\nvga_font = "8x16"\n`);
    await waitText(page.getByLabel('Check result'), 'warning');
    await shot('config');
    await page.getByRole('button', { name: 'Revert' }).click();
    // The VGA screen of a BIOS-booted guest, with what was typed into COM1 drawn on it. (It
    // polls its UART, so it runs only for this picture.)
    await rig.api.call('domain.create', { library: 'bios-vga' });
    await page.getByRole('row', { name: /bios-vga/ }).click();
    await page.getByRole('tab', { name: 'Console', exact: true }).click();
    await page.getByRole('tab', { name: 'Screen' }).click();
    await waitText(page.getByTestId('screen-bios-vga'), 'DOMUS VGA GUEST', 30_000);
    await rig.api.call('console.write', { domain: 'bios-vga', data: 'typed into COM1, drawn by the guest' });
    await waitText(page.getByTestId('screen-bios-vga'), 'drawn by the guest');
    // No blinking in the picture (a blinking cell could be caught in its dark half).
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await shot('screen');
    await page.emulateMedia({ reducedMotion: null });
    await rig.api.call('domain.destroy', { domain: 'bios-vga' });
    // The timeline and host pictures show the two spinners competing for pCPU 1.
    await rig.api.call('domain.destroy', { domain: 'hermit-dev' });
    await page.getByRole('tab', { name: 'Host' }).click();
    await shot('host');
    await page.getByRole('tab', { name: 'Schedule' }).click();
    await page.getByLabel('2 s').check();
    await page.waitForTimeout(2500);
    await shot('timeline');
    await page.getByRole('tab', { name: 'CPU pools' }).click();
    await shot('pools');
    // The simulator's preview of the same pool under credit (if this engine offers sim.whatIf).
    await page.getByLabel('Scheduler', { exact: true }).selectOption('credit');
    await page.getByLabel('Simulated weight of spinner-a').fill('512');
    await page.getByRole('button', { name: 'Preview' }).click();
    const simulated = await page.getByRole('table', { name: 'Simulated shares' }).waitFor({ timeout: 30_000 }).then(() => true, () => false);
    if (simulated) {
      await page.getByRole('img', { name: 'Simulated schedule' }).scrollIntoViewIfNeeded();
      await shot('what-if');
    }
    await page.getByLabel('Scheduler', { exact: true }).selectOption('credit2');
    // An ARINC 653 pool on pCPU 0... the engine keeps pCPU 0 in Pool-0, so use a fresh pool on pCPU 1.
    await rig.api.call('domain.destroy', { domain: 'spinner-b' });
    await rig.api.call('pool.cpuRemove', { pool: 'Pool-0', cpus: '1' });
    await rig.api.call('pool.create', { name: 'avionics', scheduler: 'arinc653', cpus: '1' });
    await rig.api.call('pool.migrate', { domain: 'spinner-a', pool: 'avionics' });
    const a = (await rig.api.call('domain.list', {})).find((d) => d.name === 'spinner-a');
    await rig.api.call('pool.setArinc653', { pool: 'avionics', schedule: { majorFrameUs: 50_000, entries: [{ domain: a?.domid ?? 0, vcpu: 0, runtimeUs: 20_000 }, { domain: a?.domid ?? 0, vcpu: 1, runtimeUs: 10_000 }] } });
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.getByRole('tab', { name: 'CPU pools' }).click();
    await page.getByRole('button', { name: 'avionics' }).click();
    await waitText(page.getByRole('table', { name: 'Minor frames' }), 'spinner-a');
    await shot('arinc653');
    await page.getByRole('tab', { name: 'Virtual machines' }).click();
    await page.getByRole('button', { name: 'New VM' }).click();
    await page.getByLabel('Name').fill('hermit-2');
    await page.getByLabel('Kernel', { exact: true }).fill('/home/me/hermit/ldhermit.elf');
    await page.getByLabel('Kernel command line').fill('-uart=io:0x3f8');
    await shot('new-vm');
    await page.getByRole('button', { name: 'Close dialog' }).click();
    await page.getByText('Tools', { exact: true }).click();
    await page.getByRole('menuitem', { name: /Build GRUB ISO/ }).click();
    await page.getByLabel('Loader or kernel (multiboot)').fill('/home/me/hermit/ldhermit.elf');
    await page.getByLabel('Loader arguments (command line)').fill('-uart=io:0x3f8');
    await page.getByRole('button', { name: 'Add module' }).click();
    await page.getByLabel('Module 1 file').fill('/home/me/hermit/hermit_application');
    await shot('iso-wizard');
  }, 180_000);
});
