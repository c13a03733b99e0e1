// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { VcpuInfo } from '../../../src-engine/api/types';
import { PinGrid } from '../../../src-renderer/components/details/pin-grid';

const vcpu = (v: number, hard: number[], soft = [0, 1, 2, 3]): VcpuInfo => ({ domid: 1, name: 'd', vcpu: v, pcpu: hard[0], state: 'running', cpuSeconds: 1, hard, soft, effective: hard });
const saved = { hard: ['all', 'all'], soft: ['all', 'all'] };
afterEach(cleanup);

describe('the pinning grid', () => {
  it('shows the live hard affinity as checkboxes and as a CPU list', () => {
    render(<PinGrid nrPcpus={4} live={[vcpu(0, [1]), vcpu(1, [0, 1, 2, 3])]} maxVcpus={2} saved={saved} poolCpus={[0, 1, 2, 3]} />);
    expect((screen.getByLabelText('vCPU 0 on pCPU 1') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('vCPU 0 on pCPU 0') as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText('CPU list of vCPU 0') as HTMLInputElement).value).toBe('1');
    expect((screen.getByLabelText('CPU list of vCPU 1') as HTMLInputElement).value).toBe('all');
  });

  it('keeps grid and list in step and applies only the vCPUs that changed', async () => {
    const apply = vi.fn(async () => undefined);
    render(<PinGrid nrPcpus={4} live={[vcpu(0, [1]), vcpu(1, [0, 1, 2, 3])]} maxVcpus={2} saved={saved} poolCpus={[0, 1, 2, 3]} onApplyLive={apply} />);
    const applyBtn = screen.getByRole('button', { name: 'Apply live' }) as HTMLButtonElement;
    expect(applyBtn.disabled).toBe(true);
    fireEvent.click(screen.getByLabelText('vCPU 0 on pCPU 3'));
    expect((screen.getByLabelText('CPU list of vCPU 0') as HTMLInputElement).value).toBe('1,3');
    fireEvent.change(screen.getByLabelText('CPU list of vCPU 1'), { target: { value: '2-3' } });
    expect((screen.getByLabelText('vCPU 1 on pCPU 0') as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText('vCPU 1 on pCPU 3') as HTMLInputElement).checked).toBe(true);
    expect(applyBtn.disabled).toBe(false);
    fireEvent.click(applyBtn);
    await vi.waitFor(() => expect(apply).toHaveBeenCalledTimes(1));
    expect(apply).toHaveBeenCalledWith('hard', new Map([[0, '1,3'], [1, '2-3']]));
  });

  it('refuses a bad CPU list and an empty set', () => {
    const apply = vi.fn(async () => undefined);
    render(<PinGrid nrPcpus={4} live={[vcpu(0, [1])]} maxVcpus={1} saved={saved} poolCpus={[0, 1, 2, 3]} onApplyLive={apply} />);
    fireEvent.change(screen.getByLabelText('CPU list of vCPU 0'), { target: { value: '7' } });
    expect(screen.getByText(/pCPU 7 does not exist/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Apply live' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('CPU list of vCPU 0'), { target: { value: '1' } });
    fireEvent.click(screen.getByLabelText('vCPU 0 on pCPU 1'));
    expect((screen.getByRole('button', { name: 'Apply live' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('edits soft affinity separately and saves every vCPU to the config', async () => {
    const save = vi.fn(async () => undefined);
    render(<PinGrid nrPcpus={2} live={undefined} maxVcpus={2} saved={{ hard: ['0', '1'], soft: ['all', 'all'] }} poolCpus={[0, 1]} onSave={save} />);
    expect(screen.getByText('Not running: showing the saved configuration.')).toBeTruthy();
    expect((screen.getByLabelText('vCPU 1 on pCPU 0') as HTMLInputElement).checked).toBe(false);
    fireEvent.click(screen.getByLabelText('Soft affinity (preference)'));
    expect((screen.getByLabelText('vCPU 1 on pCPU 0') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(screen.getByLabelText('vCPU 1 on pCPU 0'));
    fireEvent.click(screen.getByRole('button', { name: 'Save to config' }));
    await vi.waitFor(() => expect(save).toHaveBeenCalledWith('soft', ['all', '1']));
  });

  it('marks pCPUs outside the pool', () => {
    render(<PinGrid nrPcpus={3} live={[vcpu(0, [0])]} maxVcpus={1} saved={saved} poolCpus={[0, 1]} />);
    expect(screen.getByTitle("pCPU 2 is not in this domain's pool")).toBeTruthy();
  });
});
