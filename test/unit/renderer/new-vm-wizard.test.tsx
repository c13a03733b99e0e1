// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { NewVmWizard } from '../../../src-renderer/components/wizard/new-vm-wizard';
import { StoreContext } from '../../../src-renderer/state/use-engine';
import { baseHandlers, fakeStore } from './fake-engine';

afterEach(cleanup);

async function setup(extra: Record<string, (p: never) => unknown> = {}) {
  const f = await fakeStore({ ...baseHandlers(2), 'library.save': () => ({}), 'domain.create': () => ({ domid: 1, name: 'x', warnings: [] }), ...extra });
  const created = vi.fn();
  const closed = vi.fn();
  render(
    <StoreContext.Provider value={f.store}>
      <NewVmWizard onClose={closed} onCreated={created} />
    </StoreContext.Provider>,
  );
  return { ...f, created, closed };
}
const next = () => fireEvent.click(screen.getByRole('button', { name: 'Next' }));
const heading = () => screen.getByRole('heading', { level: 3 }).textContent;

describe('the New VM wizard', () => {
  it('walks Source → CPU & Memory → Storage → Console & Scheduling → Summary and saves, then starts', async () => {
    const { engine, created, closed } = await setup();
    expect(heading()).toBe('Source');
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'hermit' } });
    fireEvent.change(screen.getByLabelText('Kernel', { exact: true }), { target: { value: '/k/ldhermit.elf' } });
    next();
    expect(heading()).toBe('CPU & Memory');
    fireEvent.change(screen.getByLabelText('vCPUs'), { target: { value: '2' } });
    expect((screen.getByLabelText('Maximum vCPUs') as HTMLInputElement).value).toBe('2');
    next();
    expect(heading()).toBe('Storage');
    next();
    expect(heading()).toBe('Console & Scheduling');
    fireEvent.change(screen.getByLabelText('Weight (credit, credit2)'), { target: { value: '512' } });
    next();
    expect(heading()).toBe('Summary');
    const cfg = (screen.getByLabelText(/xl\.cfg/) as HTMLTextAreaElement).value;
    expect(cfg).toContain('vcpus = 2');
    expect(cfg).toContain('cpu_weight = 512');
    fireEvent.click(screen.getByRole('button', { name: 'Finish' }));
    await vi.waitFor(() => expect(created).toHaveBeenCalledWith('hermit'));
    expect(engine.calls('library.save')).toEqual([{ name: 'hermit', text: cfg }]);
    expect(engine.calls('domain.create')).toEqual([{ library: 'hermit' }]);
    expect(closed).toHaveBeenCalled();
  });

  it('saves the customized text, and shows the engine refusal without closing', async () => {
    const { engine, closed } = await setup({ 'library.save': () => { throw { code: 'library.invalid', message: 'The configuration of "a" has errors:\na.cfg:9:1: unknown key "bogus"' }; } });
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'a' } });
    fireEvent.change(screen.getByLabelText('Kernel', { exact: true }), { target: { value: '/k' } });
    for (let i = 0; i < 4; i++) next();
    fireEvent.change(screen.getByLabelText(/xl\.cfg/), { target: { value: 'name = "a"\nbogus = 1\n' } });
    fireEvent.click(screen.getByLabelText('Start the VM now'));
    fireEvent.click(screen.getByRole('button', { name: 'Finish' }));
    await vi.waitFor(() => expect(screen.getByRole('alert').textContent).toContain('a.cfg:9:1: unknown key "bogus"'));
    expect(engine.calls('library.save')).toEqual([{ name: 'a', text: 'name = "a"\nbogus = 1\n' }]);
    expect(engine.calls('domain.create')).toEqual([]);
    expect(closed).not.toHaveBeenCalled();
  });

  it('offers an ISO as CD-ROM and refuses a name that exists', async () => {
    await setup({ 'library.list': () => [{ name: 'taken', file: '/l/taken.cfg', config: undefined, errors: [], warnings: [], domid: undefined }] });
    await vi.waitFor(() => undefined);
    fireEvent.click(screen.getByLabelText('An ISO image (CD-ROM)'));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'taken' } });
    fireEvent.change(screen.getByLabelText('ISO image'), { target: { value: '/isos/hermit.iso' } });
    expect(screen.getByRole('alert').textContent).toContain('A VM named "taken" exists already.');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'fresh' } });
    for (let i = 0; i < 4; i++) next();
    expect((screen.getByLabelText(/xl\.cfg/) as HTMLTextAreaElement).value).toContain('devtype=cdrom, target=/isos/hermit.iso');
  });
});
