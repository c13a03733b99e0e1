import { describe, expect, it } from 'vitest';
import {
  lapicAcceptVector, lapicHasInterrupt, lapicPendingVector, lapicPowerOn,
} from '../../../src-engine/machine/lapic-core';
import {
  LAPIC_ACK_EXTINT, LAPIC_EFFECT_EOI, LAPIC_EFFECT_IPI, LAPIC_EFFECT_RECHECK, LAPIC_EFFECT_TIMER, LAPIC_MSR_FAULT,
  lapicAcknowledge, lapicBiosSetup, lapicClaims, lapicMmioRead, lapicMmioWrite, lapicReadMsr, lapicWriteMsr,
  newLapicWriteOut,
} from '../../../src-engine/machine/lapic';
import { LapicBus } from '../../../src-engine/machine/lapic-bus';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';

const ID = 0x20;
const VERSION = 0x30;
const TPR = 0x80;
const PPR = 0xa0;
const EOI = 0xb0;
const SVR = 0xf0;
const ISR = 0x100;
const TMR = 0x180;
const IRR = 0x200;
const ESR = 0x280;
const ICR_LOW = 0x300;
const ICR_HIGH = 0x310;
const LVT_TIMER = 0x320;
const LVT_LINT0 = 0x350;
const LVT_ERROR = 0x370;

function apics(count: number, opts: { tscDeadline?: boolean } = {}) {
  const regions = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(count)), count);
  regions.forEach((r, vcpu) => lapicPowerOn(r, { vcpu, tscDeadline: opts.tscDeadline }));
  const kicks: number[] = [];
  const bus = new LapicBus({ regions, kick: (v) => kicks.push(v) });
  const out = newLapicWriteOut();
  const rd = (v: number, off: number) => lapicMmioRead(regions[v], off, 4, 0) >>> 0;
  const wr = (v: number, off: number, value: number, now = 0) => lapicMmioWrite(regions[v], off, 4, value, now, out);
  return { regions, bus, kicks, out, rd, wr };
}

/** Software-enables APIC `v` with spurious vector 0xFF. */
function enable(wr: (v: number, off: number, value: number) => number, v: number) {
  wr(v, SVR, 0x1ff);
}

describe('local APIC power-up state (SDM 10.4.7.1)', () => {
  it('reads version 0x14 with six LVT entries, SVR 0xFF, masked LVTs and a flat DFR', () => {
    const { rd } = apics(2);
    expect(rd(0, VERSION)).toBe(0x00050014);
    expect(rd(1, ID)).toBe(0x01000000);
    expect(rd(0, SVR)).toBe(0xff);
    expect(rd(0, LVT_TIMER)).toBe(0x10000);
    expect(rd(0, LVT_LINT0)).toBe(0x10000);
    expect(rd(0, 0xe0)).toBe(0xffffffff);
  });

  it('reports the BSP flag and the default base in IA32_APIC_BASE', () => {
    const { regions } = apics(2);
    expect(lapicReadMsr(regions[0], 0x1b, 0)).toEqual([0xfee00900 | 0, 0]);
    expect(lapicReadMsr(regions[1], 0x1b, 0)).toEqual([0xfee00800 | 0, 0]);
    expect(lapicClaims(regions[0], 0xfee00320)).toBe(true);
    expect(lapicClaims(regions[0], 0xfee01000)).toBe(false);
  });

  it('moves its MMIO page when IA32_APIC_BASE is rewritten and lets go of it when disabled', () => {
    const { regions } = apics(1);
    expect(lapicWriteMsr(regions[0], 0x1b, 0xfed00800 | 0, 0, 0, 0)).not.toBe(LAPIC_MSR_FAULT);
    expect(lapicClaims(regions[0], 0xfed00020)).toBe(true);
    expect(lapicClaims(regions[0], 0xfee00020)).toBe(false);
    lapicWriteMsr(regions[0], 0x1b, 0xfed00000 | 0, 0, 0, 0);
    expect(lapicClaims(regions[0], 0xfed00020)).toBe(false);
  });

  it('raises #GP for reserved APIC base bits, x2APIC mode and the x2APIC MSRs (x2APIC not advertised)', () => {
    const { regions } = apics(1);
    expect(lapicWriteMsr(regions[0], 0x1b, 0xfee00c00 | 0, 0, 0, 0)).toBe(LAPIC_MSR_FAULT); // EXTD
    expect(lapicWriteMsr(regions[0], 0x1b, 0xfee00801 | 0, 0, 0, 0)).toBe(LAPIC_MSR_FAULT);
    expect(lapicWriteMsr(regions[0], 0x1b, 0xfee00800 | 0, 1, 0, 0)).toBe(LAPIC_MSR_FAULT);
    expect(lapicReadMsr(regions[0], 0x802, 0)).toBeUndefined();
    expect(lapicWriteMsr(regions[0], 0x830, 0, 0, 0, 0)).toBe(LAPIC_MSR_FAULT);
    expect(lapicReadMsr(regions[0], 0x6e0, 0)).toBeUndefined(); // TSC deadline not advertised
  });
});

describe('local APIC priority: TPR, PPR, ISR (SDM 10.8.3)', () => {
  it('holds a vector whose priority class does not exceed the TPR class', () => {
    const { regions, rd, wr } = apics(1);
    enable(wr, 0);
    lapicAcceptVector(regions[0], 0x55, false);
    wr(0, TPR, 0x50);
    expect(lapicHasInterrupt(regions[0])).toBe(false);
    expect(rd(0, PPR)).toBe(0x50);
    expect(wr(0, TPR, 0x4f) & LAPIC_EFFECT_RECHECK).toBeTruthy();
    expect(lapicPendingVector(regions[0])).toBe(0x55);
  });

  it('lets only a higher class interrupt an in-service vector, and PPR follows the ISR', () => {
    const { regions, rd, wr } = apics(1);
    enable(wr, 0);
    lapicAcceptVector(regions[0], 0x81, false);
    expect(lapicAcknowledge(regions[0])).toBe(0x81);
    expect(rd(0, ISR + 0x40)).toBe(1 << 1); // vector 0x81 is bit 1 of ISR word 4
    expect(rd(0, PPR)).toBe(0x80);
    lapicAcceptVector(regions[0], 0x8f, false);
    lapicAcceptVector(regions[0], 0x70, false);
    expect(lapicHasInterrupt(regions[0])).toBe(false); // same class 8 and lower class 7 wait
    lapicAcceptVector(regions[0], 0x90, false);
    expect(lapicAcknowledge(regions[0])).toBe(0x90);
    wr(0, EOI, 0); // ends 0x90
    wr(0, EOI, 0); // ends 0x81
    expect(lapicAcknowledge(regions[0])).toBe(0x8f);
    wr(0, EOI, 0);
    expect(lapicAcknowledge(regions[0])).toBe(0x70);
    expect(rd(0, IRR + 0x70)).toBe(0);
  });

  it('keeps interrupts in IRR while software-disabled and forces the LVT mask bits', () => {
    const { regions, rd, wr } = apics(1);
    lapicAcceptVector(regions[0], 0x40, false);
    expect(lapicHasInterrupt(regions[0])).toBe(false);
    wr(0, LVT_TIMER, 0x30);
    expect(rd(0, LVT_TIMER)).toBe(0x10030);
    enable(wr, 0);
    expect(lapicPendingVector(regions[0])).toBe(0x40);
    wr(0, LVT_TIMER, 0x30);
    expect(rd(0, LVT_TIMER)).toBe(0x30);
    wr(0, SVR, 0xff); // software disable masks the LVT again
    expect(rd(0, LVT_TIMER)).toBe(0x10030);
  });

  it('answers an INTA with the spurious vector when nothing is deliverable (SDM 10.9)', () => {
    const { regions, wr } = apics(1);
    wr(0, SVR, 0x1e7);
    expect(lapicAcknowledge(regions[0])).toBe(0xe7);
  });
});

describe('local APIC EOI and trigger mode', () => {
  it('asks for an IOAPIC EOI broadcast only for level-triggered vectors', () => {
    const { regions, rd, wr, out } = apics(1);
    enable(wr, 0);
    lapicAcceptVector(regions[0], 0x61, true);
    expect(rd(0, TMR + 0x30)).toBe(1 << 1);
    lapicAcknowledge(regions[0]);
    expect(wr(0, EOI, 0) & LAPIC_EFFECT_EOI).toBeTruthy();
    expect(out.eoiVector).toBe(0x61);
    lapicAcceptVector(regions[0], 0x61, false);
    expect(rd(0, TMR + 0x30)).toBe(0); // acceptance as edge clears TMR
    lapicAcknowledge(regions[0]);
    expect(wr(0, EOI, 0) & LAPIC_EFFECT_EOI).toBe(0);
  });
});

describe('local APIC error status register (SDM 10.5.3)', () => {
  it('latches errors at an ESR write and raises the LVT error interrupt', () => {
    const { regions, rd, wr } = apics(1);
    enable(wr, 0);
    wr(0, LVT_ERROR, 0xfe);
    expect(lapicAcceptVector(regions[0], 0x05, false)).toBe(false);
    expect(rd(0, ESR)).toBe(0); // not latched yet
    wr(0, ESR, 0);
    expect(rd(0, ESR)).toBe(0x40); // receive illegal vector
    expect(lapicPendingVector(regions[0])).toBe(0xfe);
    rd(0, 0x3f0); // reserved register
    wr(0, ICR_LOW, 0x00004003); // fixed IPI with vector 3
    wr(0, ESR, 0);
    expect(rd(0, ESR)).toBe(0xa0); // illegal register address + send illegal vector
    wr(0, ESR, 0);
    expect(rd(0, ESR)).toBe(0);
  });
});

describe('local APIC MMIO access widths', () => {
  it('returns the addressed bytes of a register and drops unaligned or narrow writes', () => {
    const { regions, wr } = apics(1);
    wr(0, SVR, 0x1ab);
    expect(lapicMmioRead(regions[0], SVR + 1, 1, 0)).toBe(0x01);
    expect(lapicMmioRead(regions[0], SVR, 2, 0)).toBe(0x1ab);
    expect(lapicMmioRead(regions[0], SVR + 4, 4, 0)).toBe(0);
    lapicMmioWrite(regions[0], TPR, 1, 0x20, 0, newLapicWriteOut());
    lapicMmioWrite(regions[0], TPR + 4, 4, 0x20, 0, newLapicWriteOut());
    expect(lapicMmioRead(regions[0], TPR, 4, 0)).toBe(0);
  });
});

describe('interprocessor interrupts (SDM 10.6)', () => {
  it('handles the self shorthand on the sending pCPU without the hypervisor', () => {
    const { regions, wr } = apics(2);
    enable(wr, 0);
    const effects = wr(0, ICR_LOW, 0x00040000 | 0x44);
    expect(effects & LAPIC_EFFECT_IPI).toBe(0);
    expect(lapicPendingVector(regions[0])).toBe(0x44);
  });

  it('hands other destinations to the hypervisor as ICR data', () => {
    const { wr, out } = apics(2);
    wr(1, ICR_HIGH, 0x00000000);
    expect(wr(1, ICR_LOW, 0x4045) & LAPIC_EFFECT_IPI).toBeTruthy();
    expect(out.ipi).toEqual({ icrLow: 0x4045, icrHigh: 0, source: 1 });
  });

  it('drops an INIT level de-assert', () => {
    const { wr } = apics(2);
    expect(wr(0, ICR_LOW, 0x00088500)).toBe(0);
  });

  it('delivers by physical APIC ID and by physical broadcast', () => {
    const { bus, regions, wr, kicks } = apics(3);
    for (let v = 0; v < 3; v++) enable(wr, v);
    bus.deliverIpi({ icrLow: 0x4031, icrHigh: 2 << 24, source: 0 });
    expect(regions.map((r) => lapicPendingVector(r))).toEqual([-1, -1, 0x31]);
    expect(kicks).toEqual([2]);
    bus.deliverIpi({ icrLow: 0x4032, icrHigh: 0xff << 24, source: 0 });
    expect(regions.map((r) => lapicPendingVector(r))).toEqual([0x32, 0x32, 0x32]);
  });

  it('matches logical destinations in the flat and cluster models', () => {
    const { bus, regions, wr } = apics(3);
    for (let v = 0; v < 3; v++) enable(wr, v);
    wr(0, 0xd0, 0x01000000);
    wr(1, 0xd0, 0x02000000);
    wr(2, 0xd0, 0x04000000);
    bus.deliverIpi({ icrLow: 0x4800 | 0x41, icrHigh: 0x05 << 24, source: 0 }); // flat: bits 0 and 2
    expect(regions.map((r) => lapicPendingVector(r))).toEqual([0x41, -1, 0x41]);
    for (let v = 0; v < 3; v++) wr(v, 0xe0, 0x0fffffff); // cluster model
    wr(0, 0xd0, 0x11000000); // cluster 1, member 1
    wr(1, 0xd0, 0x12000000); // cluster 1, member 2
    wr(2, 0xd0, 0x21000000); // cluster 2, member 1
    bus.deliverMessage({ vector: 0x52, deliveryMode: 0, logical: true, dest: 0x13, level: false });
    expect(regions.map((r) => lapicPendingVector(r))).toEqual([0x52, 0x52, 0x41]);
  });

  it('applies the all-including-self and all-excluding-self shorthands', () => {
    const { bus, regions, wr } = apics(3);
    for (let v = 0; v < 3; v++) enable(wr, v);
    bus.deliverIpi({ icrLow: 0xc4000 | 0x60, icrHigh: 0, source: 1 });
    expect(regions.map((r) => lapicPendingVector(r))).toEqual([0x60, -1, 0x60]);
    bus.deliverIpi({ icrLow: 0x84000 | 0x70, icrHigh: 0, source: 1 });
    expect(regions.map((r) => lapicPendingVector(r))).toEqual([0x70, 0x70, 0x70]);
  });

  it('gives a lowest-priority interrupt to the APIC with the lowest processor priority', () => {
    const { bus, regions, wr } = apics(3);
    for (let v = 0; v < 3; v++) enable(wr, v);
    wr(0, TPR, 0x40);
    wr(1, TPR, 0x10);
    wr(2, TPR, 0x30);
    bus.deliverMessage({ vector: 0x81, deliveryMode: 1, logical: false, dest: 0xff, level: false });
    expect(regions.map((r) => lapicPendingVector(r))).toEqual([-1, 0x81, -1]);
  });

  it('counts NMIs for the target', () => {
    const { bus, regions } = apics(2);
    bus.deliverIpi({ icrLow: 0x4400, icrHigh: 1 << 24, source: 0 });
    bus.deliverIpi({ icrLow: 0x4400, icrHigh: 1 << 24, source: 0 });
    expect(Atomics.load(regions[1], 81)).toBe(2);
  });
});

describe('LINT0 and the 8259 (virtual wire mode)', () => {
  it('lets the 8259 through only once LINT0 is an unmasked ExtINT entry', () => {
    const { bus, regions, kicks } = apics(2);
    bus.setLint(0, true);
    expect(lapicHasInterrupt(regions[0])).toBe(false); // LINT0 masked at power-up
    lapicBiosSetup(regions[0]);
    expect(lapicHasInterrupt(regions[0])).toBe(true);
    expect(lapicHasInterrupt(regions[1])).toBe(false);
    expect(lapicAcknowledge(regions[0])).toBe(LAPIC_ACK_EXTINT);
    bus.setLint(0, false);
    expect(lapicHasInterrupt(regions[0])).toBe(false);
    bus.setLint(0, true);
    expect(kicks).toContain(0);
  });

  it('passes INTR straight through when the APIC is hardware-disabled', () => {
    const { bus, regions } = apics(1);
    lapicWriteMsr(regions[0], 0x1b, 0xfee00000 | 0, 0, 0, 0);
    bus.setLint(0, true);
    expect(lapicHasInterrupt(regions[0])).toBe(true);
    expect(lapicAcknowledge(regions[0])).toBe(LAPIC_ACK_EXTINT);
  });

  it('gives APIC vectors precedence over ExtINT at the acknowledge', () => {
    const { bus, regions } = apics(1);
    lapicBiosSetup(regions[0]);
    bus.setLint(0, true);
    lapicAcceptVector(regions[0], 0x33, false);
    expect(lapicAcknowledge(regions[0])).toBe(0x33);
  });
});

describe('effects a pCPU must forward', () => {
  it('reports timer reprogramming so the hypervisor re-reads the deadline', () => {
    const { wr } = apics(1);
    expect(wr(0, 0x380, 100) & LAPIC_EFFECT_TIMER).toBeTruthy();
    expect(wr(0, 0x3e0, 0xb) & LAPIC_EFFECT_TIMER).toBeTruthy();
    expect(wr(0, LVT_TIMER, 0x30) & LAPIC_EFFECT_TIMER).toBeTruthy();
  });
});
