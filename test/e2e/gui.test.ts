/**
 * End-to-end: Chromium drives the GUI served by `domus serve` against a real engine. The flows
 * (spec/gui.md 3.4): create a VM with the New VM wizard from a test guest, start it, read its
 * console in xterm and type into it; pin a vCPU and watch it move; give a pool another scheduler
 * and edit its parameters. The GRUB ISO flow is in iso-wizard.test.ts.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, CHROMIUM, startRig, until, waitFor, waitText, waitValue, type GuiRig } from './harness';

const ECHO = path.resolve('test/e2e/guests/echo.elf');
if (!HAS_CHROMIUM) console.warn(`GUI end-to-end tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`);

describe.skipIf(!HAS_CHROMIUM).sequential('the GUI in a browser (domus serve)', () => {
  let rig: GuiRig;

  beforeAll(async () => {
    rig = await startRig({ pcpus: 3, memoryPoolMiB: 192 });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('creates a VM with the wizard, starts it, shows its console and takes typed input', async () => {
    const { page } = rig;
    await page.getByRole('button', { name: 'New VM' }).click();
    const wizard = page.getByRole('dialog', { name: 'New virtual machine' });
    await wizard.getByRole('heading', { name: 'Source' }).waitFor({ state: 'visible' });
    // Nothing filled in yet: the step lists what is missing and Next waits for it.
    await waitText(wizard.getByRole('alert'), 'Name:');
    await waitFor(wizard.getByRole('button', { name: 'Next' }), 'disabled');
    await wizard.getByLabel('Name').fill('demo-1');
    await wizard.getByLabel('Kernel', { exact: true }).fill(ECHO);
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('heading', { name: 'CPU & Memory' }).waitFor({ state: 'visible' });
    await wizard.getByLabel('Memory (MiB)', { exact: true }).fill('16');
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('heading', { name: 'Storage' }).waitFor({ state: 'visible' });
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('heading', { name: 'Console & Scheduling' }).waitFor({ state: 'visible' });
    await wizard.getByRole('button', { name: 'Next' }).click();
    await wizard.getByRole('heading', { name: 'Summary' }).waitFor({ state: 'visible' });
    await waitValue(wizard.getByLabel(/xl\.cfg/), /memory = 16/);
    await wizard.getByLabel('Start the VM now').uncheck();
    await wizard.getByRole('button', { name: 'Finish' }).click();
    await wizard.waitFor({ state: 'hidden' });

    // Saved in the library, not running.
    const row = page.getByRole('row', { name: /demo-1/ });
    await waitText(row, 'Shut off');
    const entry = await rig.api.call('library.get', { name: 'demo-1' });
    expect(entry.text).toContain(`kernel = "${ECHO}"`);
    expect(entry.config?.memoryMiB).toBe(16);

    await row.click();
    await page.getByRole('toolbar', { name: 'Virtual machine actions' }).getByRole('button', { name: 'Run' }).click();
    await waitText(row, /Running|Idle/);
    await waitText(page.getByTestId('announcer'), 'demo-1 is');
    const doms = await rig.api.call('domain.list', {});
    expect(doms.map((d) => d.name)).toContain('demo-1');

    await page.getByRole('tab', { name: 'Console' }).click();
    const term = page.getByTestId('console-demo-1');
    await waitText(term.locator('.xterm-rows'), 'ECHO READY');
    await term.click();
    await page.keyboard.type('hello gui');
    await page.keyboard.press('Enter');
    await waitText(term.locator('.xterm-rows'), 'ECHO: hello gui');
    // The guest really got the bytes (its own echo is in the engine's console history).
    const hist = await rig.api.call('console.history', { domain: 'demo-1' });
    expect(new TextDecoder().decode(hist.data)).toContain('ECHO: hello gui');
    // Ctrl+] gives the keyboard back: the next keys go to the page, not the guest.
    await page.keyboard.press('Control+BracketRight');
    await waitFor(page.getByRole('toolbar', { name: 'Console of demo-1' }), 'focused-inside');
    // Detached into its own window, the console shows the same history and stays live.
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Detach' }).click()]);
    await waitText(popup.getByTestId('console-demo-1').locator('.xterm-rows'), 'ECHO: hello gui');
    await popup.getByTestId('console-demo-1').click();
    await popup.keyboard.type('from the window');
    await popup.keyboard.press('Enter');
    await waitText(term.locator('.xterm-rows'), 'ECHO: from the window');
    await popup.close();
  });

  it('pins a vCPU with the grid and sees it move', async () => {
    const { page, api } = rig;
    await page.getByRole('tab', { name: 'CPUs' }).click();
    const wake = () => api.call('console.write', { domain: 'demo-1', data: 'x' });
    for (const target of [2, 0]) {
      for (let c = 0; c < 3; c++) {
        const box = page.getByRole('checkbox', { name: `vCPU 0 on pCPU ${c}` });
        if (c === target) await box.check();
        else await box.uncheck();
      }
      await waitValue(page.getByLabel('CPU list of vCPU 0'), String(target));
      await page.getByRole('button', { name: 'Apply live' }).click();
      await waitText(page.getByTestId('vcpu-0-effective'), new RegExp(`^${target}$`));
      // The echo guest sleeps; a byte wakes it and it runs on its new pCPU.
      await until(async () => {
        await wake();
        const v = await api.call('vcpu.list', { domain: 'demo-1' });
        return v[0].pcpu === target ? true : undefined;
      }, 20_000, `vCPU 0 on pCPU ${target}`);
      await waitText(page.getByTestId('vcpu-0-pcpu'), new RegExp(`^${target}$`));
      const v = await api.call('vcpu.list', { domain: 'demo-1' });
      expect(v[0].hard).toEqual([target]);
    }
    // The CPU-list field drives the grid too.
    await page.getByLabel('CPU list of vCPU 0').fill('0-1');
    await waitFor(page.getByRole('checkbox', { name: 'vCPU 0 on pCPU 1' }), 'checked');
    await page.getByRole('button', { name: 'Revert' }).click();
  });

  it("switches a pool's scheduler and edits its parameters", async () => {
    const { page, api } = rig;
    await page.getByRole('tab', { name: 'Host' }).click();
    await page.getByRole('tab', { name: 'CPU pools' }).click();
    await page.getByRole('button', { name: 'New pool' }).click();
    const dialog = page.getByRole('dialog', { name: 'New CPU pool' });
    await dialog.getByLabel('Pool name').fill('rt');
    await dialog.getByLabel('Scheduler of the new pool').selectOption('credit');
    await dialog.getByRole('checkbox', { name: /pCPU 2/ }).check();
    await dialog.getByRole('button', { name: 'Create pool' }).click();
    await waitText(page.getByTestId('pool-sched-rt'), /^Credit$/);

    await page.getByLabel('Move a domain here').selectOption({ label: 'demo-1 (in Pool-0)' });
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await waitText(page.getByRole('row', { name: /^rt / }), 'demo-1');

    // Credit: weight by preset.
    await page.getByRole('button', { name: 'Double' }).click();
    await waitValue(page.getByLabel('Weight of demo-1', { exact: true }), '512');
    await page.getByRole('table', { name: 'Weights and caps' }).getByRole('button', { name: 'Apply' }).click();
    await until(async () => ((await api.call('sched.get', { domain: 'demo-1' })).weight === 512 ? true : undefined), 10_000, 'weight 512');

    // Switch to RTDS (confirming that the domain moves out and back).
    await page.getByLabel('Scheduler', { exact: true }).selectOption('rtds');
    await page.getByRole('button', { name: 'Switch scheduler' }).click();
    const confirm = page.getByRole('dialog', { name: /Switch rt to RTDS/ });
    await waitText(confirm, 'demo-1');
    await confirm.getByRole('button', { name: 'Switch' }).click();
    await waitText(page.getByTestId('pool-sched-rt'), 'RTDS');
    const pool = (await api.call('pool.list', {})).find((p) => p.name === 'rt');
    expect(pool?.scheduler).toBe('rtds');

    const budget = page.getByLabel('Budget of demo-1 vCPU 0 (µs)');
    await budget.fill('2500');
    await page.getByLabel('Period of demo-1 vCPU 0 (µs)').fill('5000');
    await page.getByText('50.0 % reserved').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Apply demo-1' }).click();
    await until(async () => {
      const s = await api.call('sched.get', { domain: 'demo-1' });
      return s.rtds?.[0].budgetUs === 2500 && s.rtds[0].periodUs === 5000 ? true : undefined;
    }, 10_000, 'RTDS 5000/2500');
    // A budget above the period is refused before it reaches the engine.
    await budget.fill('9000');
    await page.getByText('budget above period').waitFor({ state: 'visible' });
    await waitFor(page.getByRole('button', { name: 'Apply demo-1' }), 'disabled');
  });
});
