// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import type { DomainSummary, LibraryEntry, StatsSample } from '../../../src-engine/api/types';
import { App } from '../../../src-renderer/components/app';
import { StoreContext } from '../../../src-renderer/state/use-engine';
import { baseHandlers, fakeStore } from './fake-engine';

const lib = (name: string): LibraryEntry => ({ name, file: `/lib/${name}.cfg`, config: undefined, errors: [], warnings: [], domid: undefined });
const dom = (domid: number, name: string, state: DomainSummary['state']): DomainSummary => ({ domid, name, uuid: 'u', type: 'hvm', state, shutdownReason: undefined, shutdownDetail: undefined, memoryMiB: 32, targetMiB: 32, maxmemMiB: 64, onlineVcpus: 1, maxVcpus: 1, cpuSeconds: 2, pool: 'Pool-0', libraryName: name });

beforeEach(() => localStorage.clear());
afterEach(cleanup);

async function setup() {
  const f = await fakeStore({
    ...baseHandlers(2),
    'library.list': () => [lib('alpha'), lib('beta')],
    'domain.list': () => [dom(4, 'beta', 'running')],
    'domain.get': () => ({ ...dom(4, 'beta', 'running'), config: undefined, vcpus: [], exits: {}, instructions: 0 }),
    'domain.create': () => ({ domid: 5, name: 'alpha', warnings: [] }),
    'domain.destroy': () => null,
    'console.history': () => ({ data: new Uint8Array(0) }),
  });
  render(
    <StoreContext.Provider value={f.store}>
      <App />
    </StoreContext.Provider>,
  );
  await screen.findByRole('row', { name: /beta/ });
  return f;
}
const toolbar = () => within(screen.getByRole('toolbar', { name: 'Virtual machine actions' }));

describe('the manager window', () => {
  it('lists VMs with their state and sorts by a column', async () => {
    await setup();
    const names = () => screen.getAllByRole('row').slice(1).map((r) => r.querySelector('th')?.textContent);
    expect(names()).toEqual(['alpha', 'beta']);
    expect(screen.getByTestId('state-alpha').textContent).toBe('Shut off');
    expect(screen.getByTestId('state-beta').textContent).toBe('Running');
    fireEvent.click(screen.getByRole('button', { name: /^Name/ }));
    expect(names()).toEqual(['beta', 'alpha']);
    expect(screen.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort')).toBe('descending');
  });

  it('says why a graph is empty and keeps the graph columns chosen', async () => {
    const { engine } = await setup();
    expect(within(screen.getByRole('row', { name: /alpha/ })).getAllByText('not running').length).toBe(3);
    expect(within(screen.getByRole('row', { name: /beta/ })).getAllByText('waiting for statistics').length).toBe(3);
    const sample: StatsSample = { t: 1, pcpuLoad: [0.5, 0], domains: [{ domid: 4, cpuPercent: 42, vcpuPercent: [42], memoryMiB: 32, exitRates: {}, mips: 1 }] };
    engine.emit('stats', sample);
    await screen.findByRole('img', { name: 'Guest CPU of beta' });
    expect(within(screen.getByRole('row', { name: /beta/ })).getByText('42.0 %')).toBeTruthy();
    fireEvent.click(screen.getByLabelText('Memory'));
    expect(JSON.parse(localStorage.getItem('domus.vmlist.graphs') ?? '[]')).toEqual(['cpu', 'hostCpu']);
  });

  it('runs a shut-off VM and keeps a running one from being deleted', async () => {
    const { engine } = await setup();
    fireEvent.click(screen.getByRole('row', { name: /beta/ }));
    const del = toolbar().getByRole('button', { name: 'Delete' }) as HTMLButtonElement;
    expect(del.disabled).toBe(true);
    expect(del.title).toContain('force it off before deleting it');
    fireEvent.click(screen.getByRole('row', { name: /alpha/ }));
    fireEvent.click(toolbar().getByRole('button', { name: 'Run' }));
    await vi.waitFor(() => expect(engine.calls('domain.create')).toEqual([{ library: 'alpha' }]));
  });

  it('asks before Force off and destroys only when confirmed', async () => {
    const { engine } = await setup();
    fireEvent.click(screen.getByRole('row', { name: /beta/ }));
    fireEvent.click(toolbar().getByRole('button', { name: 'Force off' }));
    const d = screen.getByRole('dialog', { name: 'Force off beta?' });
    fireEvent.click(within(d).getByRole('button', { name: 'Cancel' }));
    expect(engine.calls('domain.destroy')).toEqual([]);
    fireEvent.click(toolbar().getByRole('button', { name: 'Force off' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Force off beta?' })).getByRole('button', { name: 'Force off' }));
    await vi.waitFor(() => expect(engine.calls('domain.destroy')).toEqual([{ domain: 4 }]));
  });

  it("shows the engine's refusal as a notice", async () => {
    const { engine } = await setup();
    engine.handlers['domain.shutdown'] = () => {
      throw { code: 'domain.no-pv-control', message: 'Domain "beta" has no PV control interface; use destroy.' };
    };
    fireEvent.click(screen.getByRole('row', { name: /beta/ }));
    fireEvent.click(toolbar().getByRole('button', { name: 'Shut down' }));
    const n = await screen.findByRole('alert');
    expect(n.textContent).toContain('Shutting down beta failed: Domain "beta" has no PV control interface; use destroy.');
  });

  it('opens the wizard and the shortcut sheet from the keyboard', async () => {
    await setup();
    fireEvent.keyDown(window, { key: 'n', code: 'KeyN', altKey: true });
    expect(screen.getByRole('dialog', { name: 'New virtual machine' })).toBeTruthy();
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    fireEvent.keyDown(window, { key: 'F1', code: 'F1' });
    expect(screen.getByRole('table', { name: 'Keyboard shortcuts' }).textContent).toContain('Ctrl+]');
  });

  it('keeps the library on screen and says so when the engine goes away', async () => {
    const { engine } = await setup();
    engine.drop('the engine process exited with code 1');
    const banner = await screen.findByText(/Lost the connection to the engine: the engine process exited with code 1/);
    expect(banner).toBeTruthy();
    expect(screen.getByRole('row', { name: /alpha/ })).toBeTruthy();
  });
});

describe('the VM context menu', () => {
  it('offers the row’s actions with the disabled ones explained', async () => {
    const { engine } = await setup();
    fireEvent.contextMenu(screen.getByRole('row', { name: /alpha/ }), { clientX: 10, clientY: 10 });
    const menu = screen.getByRole('menu', { name: 'Actions for alpha' });
    const pause = within(menu).getByRole('menuitem', { name: 'Pause' }) as HTMLButtonElement;
    expect(pause.disabled).toBe(true);
    expect(pause.title).toBe('alpha is not running.');
    fireEvent.click(within(menu).getByRole('menuitem', { name: 'Run' }));
    await vi.waitFor(() => expect(engine.calls('domain.create')).toEqual([{ library: 'alpha' }]));
    expect(screen.queryByRole('menu', { name: 'Actions for alpha' })).toBeNull();
  });
});
