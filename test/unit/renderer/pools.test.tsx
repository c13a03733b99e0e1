// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import type { PoolInfo } from '../../../src-engine/api/types';
import { PoolsPanel } from '../../../src-renderer/components/host/pools-panel';
import { scheduleProblems } from '../../../src-renderer/components/host/arinc-editor';
import { buildWhatIf } from '../../../src-renderer/components/host/what-if';
import { StoreContext } from '../../../src-renderer/state/use-engine';
import { baseHandlers, fakeStore } from './fake-engine';

afterEach(cleanup);

const dom = { domid: 3, name: 'guest', uuid: 'u', type: 'hvm', state: 'running', shutdownReason: undefined, shutdownDetail: undefined, memoryMiB: 32, targetMiB: 32, maxmemMiB: 32, onlineVcpus: 2, maxVcpus: 2, cpuSeconds: 1, pool: 'rt', libraryName: undefined };

async function setup(rt: PoolInfo, extra: Record<string, (p: never) => unknown> = {}) {
  let pools: PoolInfo[] = [{ id: 0, name: 'Pool-0', scheduler: 'credit2', cpus: [0, 1], domains: [], params: {} }, rt];
  const f = await fakeStore({
    ...baseHandlers(3),
    'domain.list': () => [dom],
    'pool.list': () => pools,
    'sched.get': () => (pools[1].scheduler === 'rtds' ? { scheduler: 'rtds', rtds: [{ periodUs: 10000, budgetUs: 4000, extratime: true }, { periodUs: 10000, budgetUs: 4000, extratime: true }] } : { scheduler: pools[1].scheduler, weight: 256, cap: 0 }),
    'sched.set': () => null,
    'pool.setParams': () => null,
    'pool.setArinc653': () => null,
    'pool.setScheduler': (p: { scheduler: PoolInfo['scheduler'] }) => {
      pools = [pools[0], { ...pools[1], scheduler: p.scheduler }];
      return pools[1];
    },
    ...extra,
  });
  render(
    <StoreContext.Provider value={f.store}>
      <PoolsPanel />
    </StoreContext.Provider>,
  );
  fireEvent.click(screen.getByRole('button', { name: 'rt' }));
  return f;
}
const credit: PoolInfo = { id: 1, name: 'rt', scheduler: 'credit', cpus: [2], domains: [3], params: { tsliceMs: 30, ratelimitUs: 1000 } };

describe('CPU pools and schedulers', () => {
  it('sets weight by preset and cap for a credit pool, and its pool parameters', async () => {
    const { engine } = await setup(credit);
    const w = (await screen.findByLabelText('Weight of guest')) as HTMLInputElement;
    expect(w.value).toBe('256');
    fireEvent.click(screen.getByRole('button', { name: 'Quarter' }));
    fireEvent.change(screen.getByLabelText('Cap of guest (%)'), { target: { value: '50' } });
    fireEvent.click(within(screen.getByRole('table', { name: 'Weights and caps' })).getByRole('button', { name: 'Apply' }));
    await vi.waitFor(() => expect(engine.calls('sched.set')).toEqual([{ domain: 3, weight: 64, cap: 50 }]));
    fireEvent.change(screen.getByLabelText('Time slice (ms)'), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText('Rate limit (µs)'), { target: { value: '6000' } });
    expect(screen.getByText('The rate limit cannot exceed the time slice.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Rate limit (µs)'), { target: { value: '500' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply pool parameters' }));
    await vi.waitFor(() => expect(engine.calls('pool.setParams')).toEqual([{ pool: 1, params: { tsliceMs: 5, ratelimitUs: 500 } }]));
  });

  it('switches the scheduler after confirming, then edits RTDS budgets per vCPU', async () => {
    const { engine } = await setup(credit);
    fireEvent.change(screen.getByLabelText('Scheduler'), { target: { value: 'rtds' } });
    fireEvent.click(screen.getByRole('button', { name: 'Switch scheduler' }));
    const confirm = screen.getByRole('dialog');
    expect(confirm.textContent).toContain('guest');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Switch' }));
    await vi.waitFor(() => expect(engine.calls('pool.setScheduler')).toEqual([{ pool: 1, scheduler: 'rtds' }]));
    const budget = (await screen.findByLabelText('Budget of guest vCPU 1 (µs)')) as HTMLInputElement;
    fireEvent.change(budget, { target: { value: '12000' } });
    expect(screen.getByText('budget above period')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Apply guest' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(budget, { target: { value: '2500' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply guest' }));
    await vi.waitFor(() => expect(engine.calls('sched.set')).toEqual([{ domain: 3, rtds: [{ vcpu: 1, params: { periodUs: 10000, budgetUs: 2500, extratime: true } }] }]));
  });

  it('edits an ARINC 653 major frame and its minor frames', async () => {
    const { engine } = await setup({ ...credit, scheduler: 'arinc653', arinc653: { majorFrameUs: 20000, entries: [] } });
    fireEvent.click(screen.getByRole('button', { name: 'Add minor frame' }));
    fireEvent.click(screen.getByRole('button', { name: 'Add minor frame' }));
    fireEvent.change(screen.getByLabelText('vCPU of minor frame 2'), { target: { value: '1' } });
    fireEvent.change(screen.getByLabelText('Run time of minor frame 1 (µs)'), { target: { value: '15000' } });
    fireEvent.change(screen.getByLabelText('Run time of minor frame 2 (µs)'), { target: { value: '8000' } });
    expect(screen.getByText(/add up to 23 ms, more than the major frame of 20 ms/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Run time of minor frame 2 (µs)'), { target: { value: '5000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Move minor frame 2 earlier' }));
    fireEvent.click(screen.getByRole('button', { name: 'Apply schedule' }));
    await vi.waitFor(() =>
      expect(engine.calls('pool.setArinc653')).toEqual([{ pool: 1, schedule: { majorFrameUs: 20000, entries: [{ domain: 3, vcpu: 1, runtimeUs: 5000 }, { domain: 3, vcpu: 0, runtimeUs: 15000 }] } }]),
    );
    expect(screen.getByRole('img', { name: /Major frame of 20 ms with 2 minor frames/ })).toBeTruthy();
  });

  it('says when the simulator preview is not available, and draws its answer when it is', async () => {
    await setup(credit);
    fireEvent.click(screen.getByRole('button', { name: 'Preview' }));
    await vi.waitFor(() => expect(screen.getByText(/does not offer the simulator preview yet/)).toBeTruthy());
    cleanup();
    const answer = { window: { from: 0, to: 1e9 }, vcpus: [{ domid: 1, domain: 'guest', vcpu: 0, share: 0.5, runNs: 5e8, waitNs: 1e6, wakeLatency: { count: 0, p50: 0, p99: 0, max: 0 }, ranOn: '2' }], domains: [{ domid: 1, name: 'guest', share: 0.5 }], pcpus: [{ pcpu: 0, busyShare: 0.5 }], timeline: [{ pcpu: 0, domid: 1, vcpu: 0, start: 9e8, end: 1e9 }], violations: [] };
    const { engine } = await setup(credit, { 'sim.whatIf': () => answer });
    fireEvent.click(screen.getByRole('button', { name: 'Preview' }));
    await vi.waitFor(() => expect(screen.getByRole('table', { name: 'Simulated shares' }).textContent).toContain('50.0 %'));
    const scenario = (engine.calls('sim.whatIf')[0] as { scenario: { sched: string; nrCpus: number; domains: { name: string; weight: number; vcpus: unknown[] }[] } }).scenario;
    expect(scenario).toMatchObject({ sched: 'credit', nrCpus: 1, domains: [{ name: 'guest', weight: 256, vcpus: [{ workload: { kind: 'hog' } }, { workload: { kind: 'hog' } }] }] });
  });
});

describe('schedule checks', () => {
  it('finds what Xen would refuse in an ARINC 653 schedule', () => {
    expect(scheduleProblems({ majorFrameUs: 100, entries: [] })).toEqual(['Add at least one minor frame.']);
    expect(scheduleProblems({ majorFrameUs: 100, entries: [{ domain: 1, vcpu: 0, runtimeUs: 0 }] })).toEqual(['Minor frame 1: the run time must be longer than 0 µs.']);
    expect(scheduleProblems({ majorFrameUs: 100, entries: [{ domain: 1, vcpu: 0, runtimeUs: 100 }] })).toEqual([]);
  });
  it('builds a what-if question with an equal ARINC 653 frame per vCPU', () => {
    const q = buildWhatIf(credit, 'arinc653', [{ name: 'a', vcpus: 2, workload: 'hog', weight: 256 }]);
    expect(q.arinc653).toEqual({ majorFrameNs: 20e6, entries: [{ domain: 'a', vcpu: 0, runtimeNs: 10e6 }, { domain: 'a', vcpu: 1, runtimeNs: 10e6 }] });
    expect(q.domains[0]).not.toHaveProperty('weight');
  });
});
