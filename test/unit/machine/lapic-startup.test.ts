import { describe, expect, it } from 'vitest';
import { lapicHasNmi, lapicPowerOn, lapicStartupPending } from '../../../src-engine/machine/lapic-core';
import { lapicMmioRead, lapicMmioWrite, newLapicWriteOut } from '../../../src-engine/machine/lapic';
import { LapicBus } from '../../../src-engine/machine/lapic-bus';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';
import { lapicApplyStartup, lapicTakeNmis, STARTUP_APPLIED_INIT, STARTUP_APPLIED_SIPI } from '../../../src-engine/machine/lapic-startup';
import { resetState } from '../../../src-engine/cpu/reset';
import {
  EAX, S_EIP, S_MSR_PAT_LO, S_RUNNING, S_SEG_BASE, S_SEG_SEL, S_TSC_OFFSET_F64, SEG_CS, STATE_BYTES,
} from '../../../src-engine/cpu/state';

const INIT_ASSERT = 0x00004500;
const SIPI = 0x00004600;
const SVR = 0xf0;

function smp(count: number) {
  const regions = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(count)), count);
  regions.forEach((r, vcpu) => lapicPowerOn(r, { vcpu }));
  const cpus = regions.map(() => new Int32Array(STATE_BYTES / 4));
  cpus.forEach((s, v) => {
    resetState(s);
    if (v > 0) s[S_RUNNING] = 0; // APs wait for a SIPI
  });
  const kicks: number[] = [];
  const bus = new LapicBus({ regions, kick: (v) => kicks.push(v) });
  /** What the BSP's pCPU does with an ICR write: the IPI goes to the hypervisor's APIC bus. */
  const send = (from: number, icrLow: number, dest: number) => {
    const out = newLapicWriteOut();
    lapicMmioWrite(regions[from], 0x310, 4, dest << 24, 0, out);
    if (lapicMmioWrite(regions[from], 0x300, 4, icrLow, 0, out) !== 0) bus.deliverIpi(out.ipi);
  };
  return { regions, cpus, kicks, bus, send };
}

describe('INIT / SIPI bring-up of an application processor (SDM 8.4.4)', () => {
  it('starts a waiting AP in real mode at vector:0000 after INIT then SIPI', () => {
    const { regions, cpus, kicks, send } = smp(3);
    send(0, INIT_ASSERT, 2);
    send(0, SIPI | 0x9a, 2);
    expect(kicks).toEqual([2, 2]);
    expect(lapicStartupPending(regions[2])).toBe(true);
    expect(lapicStartupPending(regions[1])).toBe(false);
    expect(lapicApplyStartup(regions[2], cpus[2])).toBe(STARTUP_APPLIED_INIT | STARTUP_APPLIED_SIPI);
    const s = cpus[2];
    expect(s[S_RUNNING]).toBe(1);
    expect(s[S_SEG_SEL + SEG_CS]).toBe(0x9a00);
    expect(s[S_SEG_BASE + SEG_CS]).toBe(0x9a000);
    expect(s[S_EIP]).toBe(0);
    expect(cpus[1][S_RUNNING]).toBe(0);
  });

  it('ignores a second SIPI once the AP runs (SDM: SIPIs are only taken in wait-for-SIPI)', () => {
    const { regions, cpus, send } = smp(2);
    send(0, INIT_ASSERT, 1);
    send(0, SIPI | 0x10, 1);
    lapicApplyStartup(regions[1], cpus[1]);
    cpus[1][S_EIP] = 0x1234;
    send(0, SIPI | 0x20, 1);
    expect(lapicApplyStartup(regions[1], cpus[1])).toBe(0);
    expect(cpus[1][S_EIP]).toBe(0x1234);
    expect(cpus[1][S_SEG_SEL + SEG_CS]).toBe(0x1000);
  });

  it('starts an AP that waits for a SIPI from power-up even without an INIT first', () => {
    const { regions, cpus, send } = smp(2);
    send(0, SIPI | 0x08, 1); // APs wait for a SIPI from power-up
    expect(lapicApplyStartup(regions[1], cpus[1])).toBe(STARTUP_APPLIED_SIPI);
    expect(cpus[1][S_SEG_BASE + SEG_CS]).toBe(0x8000);
  });

  it('puts a running AP back into wait-for-SIPI on INIT, keeping MSRs and the TSC offset, and resets its APIC', () => {
    const { regions, cpus, send } = smp(2);
    const s = cpus[1];
    s[S_RUNNING] = 1;
    s[EAX] = 0x55;
    s[S_MSR_PAT_LO] = 0x0606;
    s[S_TSC_OFFSET_F64] = 1234;
    lapicMmioWrite(regions[1], SVR, 4, 0x1ff, 0, newLapicWriteOut());
    send(0, INIT_ASSERT, 1);
    expect(lapicApplyStartup(regions[1], s)).toBe(STARTUP_APPLIED_INIT);
    expect(s[S_RUNNING]).toBe(0);
    expect(s[EAX]).toBe(0);
    expect(s[S_MSR_PAT_LO]).toBe(0x0606);
    expect(s[S_TSC_OFFSET_F64]).toBe(1234);
    expect(lapicMmioRead(regions[1], SVR, 4, 0)).toBe(0xff);
    expect(lapicMmioRead(regions[1], 0x20, 4, 0)).toBe(0x01000000); // the APIC ID survives INIT
  });

  it('restarts the BSP at the reset vector on INIT instead of waiting for a SIPI', () => {
    const { regions, cpus, send } = smp(2);
    cpus[0][S_EIP] = 0x100000;
    send(1, INIT_ASSERT, 0);
    lapicApplyStartup(regions[0], cpus[0]);
    expect(cpus[0][S_RUNNING]).toBe(1);
    expect(cpus[0][S_EIP]).toBe(0xfff0);
  });

  it('lets an INIT that follows an untaken SIPI cancel it', () => {
    const { regions, cpus, send } = smp(2);
    send(0, SIPI | 0x10, 1);
    send(0, INIT_ASSERT, 1);
    expect(lapicApplyStartup(regions[1], cpus[1])).toBe(STARTUP_APPLIED_INIT);
    expect(cpus[1][S_RUNNING]).toBe(0);
  });
});

describe('NMI delivery', () => {
  it('queues NMIs in the region until the pCPU takes them', () => {
    const { regions, send } = smp(2);
    send(0, 0x4400, 1);
    expect(lapicHasNmi(regions[1])).toBe(true);
    expect(lapicTakeNmis(regions[1])).toBe(1);
    expect(lapicHasNmi(regions[1])).toBe(false);
  });

  it('sends an NMI through LINT1 when the BIOS programmed it as NMI', () => {
    const { regions, bus } = smp(1);
    lapicMmioWrite(regions[0], SVR, 4, 0x1ff, 0, newLapicWriteOut());
    lapicMmioWrite(regions[0], 0x360, 4, 0x400, 0, newLapicWriteOut());
    bus.setLint(1, true);
    bus.setLint(1, false);
    bus.setLint(1, true);
    expect(lapicTakeNmis(regions[0])).toBe(2);
  });
});
