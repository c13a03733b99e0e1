import { describe, expect, it } from 'vitest';
import { createPcPlatform, type PcPlatformConfig, type PcPlatformState } from '../../../src-engine/machine/platform-pc';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';
import { lapicHasInterrupt, lapicPendingVector } from '../../../src-engine/machine/lapic-core';
import { LAPIC_ACK_EXTINT, LAPIC_EFFECT_EOI, lapicAcknowledge, lapicMmioRead, lapicMmioWrite, newLapicWriteOut } from '../../../src-engine/machine/lapic';
import { pitNsFor } from '../../../src-engine/machine/pit-8254';
import { SaveImageError } from '../../../src-engine/base/errors';
import { FakeClock } from './fake-clock';

const MiB = 1024 * 1024;
const IOAPIC = 0xfec00000;
const HPET = 0xfed00000;

function setup(vcpus = 2, extra: Partial<PcPlatformConfig> = {}) {
  const clock = new FakeClock();
  const lapics = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(vcpus)), vcpus);
  const kicks: number[] = [];
  const events: string[] = [];
  const pc = createPcPlatform({
    clock,
    ramBelow4G: 64 * MiB,
    smp: { lapics, kick: (v) => kicks.push(v) },
    onPowerOff: () => events.push('poweroff'),
    onResetRequest: (s) => events.push(`reset ${s}`),
    ...extra,
  });
  const out = (port: number, value: number) => pc.bus.write(port, 1, value);
  /** Programs IOAPIC redirection entry `pin` (fixed, physical destination `dest`). */
  const route = (pin: number, low: number, dest = 0) => {
    pc.mmio.write(IOAPIC, 4, 0x11 + 2 * pin);
    pc.mmio.write(IOAPIC + 0x10, 4, dest << 24);
    pc.mmio.write(IOAPIC, 4, 0x10 + 2 * pin);
    pc.mmio.write(IOAPIC + 0x10, 4, low);
  };
  const enableApic = (v: number) => lapicMmioWrite(lapics[v], 0xf0, 4, 0x1ff, 0, newLapicWriteOut());
  /** PIT channel 0 in mode 2 with `count`. */
  const pitPeriodic = (count: number) => {
    out(0x43, 0x34);
    out(0x40, count & 0xff);
    out(0x40, count >> 8);
  };
  return { clock, lapics, kicks, events, pc, out, route, enableApic, pitPeriodic };
}

describe('SMP PC platform layout', () => {
  it('places the IOAPIC and HPET on the MMIO bus and the ACPI, fw_cfg and PCI ports on the port bus', () => {
    const { pc } = setup(2, { pcTestdev: true });
    expect(pc.mmio.describe().split('\n')).toEqual([
      '0xfec00000-0xfec00fff  ioapic',
      '0xfed00000-0xfed003ff  hpet',
      '0xff000000-0xff00ffff  pc-testdev-iomem',
    ]);
    for (const [port, name] of [[0x510, 'fw-cfg'], [0xcf8, 'pci-host'], [0x600, 'acpi-pm'], [0x608, 'acpi-pm'], [0x620, 'acpi-pm'], [0xe0, 'pc-testdev'], [0x2017, 'pc-testdev']] as const) {
      expect(pc.bus.deviceAt(port)).toBe(name);
    }
    expect(pc.ioapic?.mmioRead(0x10, 4)).toBe(2 << 24); // IOREGSEL 0 -> ID = number of VCPUs
  });

  it('leaves the plain PC as it was without smp', () => {
    const clock = new FakeClock();
    const pc = createPcPlatform({ clock, ramBelow4G: 64 * MiB });
    expect(pc.mmio.ranges()).toEqual([]);
    expect(pc.lapicBus).toBeUndefined();
    expect(pc.bus.deviceAt(0x510)).toBeUndefined();
  });
});

describe('SMP PC interrupt paths', () => {
  it('delivers the PIT through IOAPIC pin 2 to the local APIC the entry names', () => {
    const { clock, lapics, kicks, pc, route, enableApic, pitPeriodic } = setup();
    enableApic(1);
    route(2, 0x30, 1);
    pitPeriodic(1000);
    clock.ns = pitNsFor(1000);
    pc.tick(clock.now());
    expect(lapicPendingVector(lapics[1])).toBe(0x30);
    expect(lapicPendingVector(lapics[0])).toBe(-1);
    expect(kicks).toContain(1);
  });

  it('lets the 8259 reach the BSP as ExtINT once set up as a BIOS leaves it', () => {
    const { clock, lapics, pc, pitPeriodic } = setup();
    pitPeriodic(1000);
    clock.ns = pitNsFor(1000);
    pc.tick(clock.now());
    expect(lapicHasInterrupt(lapics[0])).toBe(false); // uninitialised PIC, LINT0 masked
    pc.directBootSetup();
    clock.ns = pitNsFor(2000);
    pc.tick(clock.now());
    expect(lapicHasInterrupt(lapics[0])).toBe(true);
    expect(lapicHasInterrupt(lapics[1])).toBe(false);
    expect(lapicAcknowledge(lapics[0])).toBe(LAPIC_ACK_EXTINT);
    expect(pc.interruptController.acknowledge()).toBe(0x08);
    expect(lapicMmioRead(lapics[0], 0x350, 4, 0)).toBe(0x8700);
  });

  it('cuts the PIT off IRQ0 while the HPET is in legacy replacement mode, and routes HPET timer 0 there', () => {
    const { clock, lapics, pc, route, enableApic, pitPeriodic } = setup();
    enableApic(0);
    route(2, 0x30);
    pitPeriodic(1000);
    pc.mmio.write(HPET + 0x10, 4, 0x3); // enable, legacy replacement
    clock.ns = pitNsFor(1000);
    pc.tick(clock.now());
    expect(lapicPendingVector(lapics[0])).toBe(-1);
    pc.mmio.write(HPET + 0x100, 4, 0x4); // timer 0 interrupts on
    pc.mmio.write(HPET + 0x108, 4, Math.floor(clock.now() / 10) + 100);
    clock.ns += 1000;
    pc.tick(clock.now());
    expect(lapicPendingVector(lapics[0])).toBe(0x30);
    lapicAcknowledge(lapics[0]);
    lapicMmioWrite(lapics[0], 0xb0, 4, 0, 0, newLapicWriteOut());
    pc.mmio.write(HPET + 0x10, 4, 0x1); // legacy off: the PIT is back
    clock.ns = pitNsFor(5000);
    pc.tick(clock.now());
    expect(lapicPendingVector(lapics[0])).toBe(0x30);
  });

  it('raises the level-triggered SCI through pin 9 and re-sends it after the EOI while it stays asserted', () => {
    const { lapics, pc, route, enableApic } = setup();
    enableApic(0);
    route(9, 0x8000 | 0x49); // level
    pc.bus.write(0x602, 2, 0x0100); // PWRBTN_EN
    pc.pressPowerButton();
    expect(lapicAcknowledge(lapics[0])).toBe(0x49);
    const out = newLapicWriteOut();
    expect(lapicMmioWrite(lapics[0], 0xb0, 4, 0, 0, out) & LAPIC_EFFECT_EOI).toBeTruthy();
    pc.endOfInterrupt(out.eoiVector);
    expect(lapicPendingVector(lapics[0])).toBe(0x49); // still asserted
    lapicAcknowledge(lapics[0]);
    pc.bus.write(0x600, 2, 0x0100); // guest clears PWRBTN_STS
    lapicMmioWrite(lapics[0], 0xb0, 4, 0, 0, out);
    pc.endOfInterrupt(out.eoiVector);
    expect(lapicPendingVector(lapics[0])).toBe(-1);
  });

  it('sends pc-testdev lines 16-23 straight to IOAPIC pins', () => {
    const { lapics, pc, route, enableApic } = setup(2, { pcTestdev: true });
    enableApic(0);
    route(16, 0x50);
    pc.bus.write(0x2010, 1, 1);
    expect(lapicPendingVector(lapics[0])).toBe(0x50);
  });
});

describe('SMP PC timers', () => {
  it('reports timersChanged when a pCPU reprograms a local APIC timer, so the hypervisor re-ticks', () => {
    const { clock, lapics, pc, enableApic } = setup();
    enableApic(1);
    pc.tick(clock.now());
    expect(pc.timersChanged).toBe(false);
    lapicMmioWrite(lapics[1], 0x3e0, 4, 0xb, clock.now(), newLapicWriteOut());
    lapicMmioWrite(lapics[1], 0x320, 4, 0x31, clock.now(), newLapicWriteOut());
    lapicMmioWrite(lapics[1], 0x380, 4, 5000, clock.now(), newLapicWriteOut());
    expect(pc.timersChanged).toBe(true);
    expect(pc.tick(clock.now())).toBe(clock.now() + 5000);
    expect(pc.timersChanged).toBe(false);
  });
});

describe('SMP PC power and firmware interfaces', () => {
  it('powers off on ACPI S5 and resets through 0xCF9', () => {
    const { pc, events } = setup();
    pc.bus.write(0x604, 2, 0x2000);
    pc.bus.write(0xcf9, 1, 0x06);
    expect(events).toEqual(['poweroff', 'reset pci-reset-control']);
  });

  it('tells test kernels the RAM size and CPU count through fw_cfg', () => {
    const { pc } = setup(3);
    pc.bus.write(0x510, 2, 0x05);
    expect([pc.bus.read(0x511, 1), pc.bus.read(0x511, 1)]).toEqual([3, 0]);
    pc.bus.write(0x510, 2, 0x03);
    const ram = Array.from({ length: 8 }, () => pc.bus.read(0x511, 1)).reduce((a, b, i) => a + b * 2 ** (8 * i), 0);
    expect(ram).toBe(64 * MiB);
  });
});

describe('SMP PC save state', () => {
  it('restores local APICs, IOAPIC and HPET in another platform', () => {
    const a = setup();
    a.enableApic(0);
    a.route(4, 0x34);
    lapicMmioWrite(a.lapics[0], 0x80, 4, 0x20, 0, newLapicWriteOut());
    a.pc.mmio.write(HPET + 0x10, 4, 1);
    a.clock.advance(1000);
    const saved = structuredClone(a.pc.saveState());
    const b = setup();
    b.pc.loadState(saved);
    expect(lapicMmioRead(b.lapics[0], 0x80, 4, 0)).toBe(0x20);
    expect(b.pc.mmio.read(HPET + 0xf0, 4)).toBe(100);
    b.pc.irqRouter.line(4).set(true);
    expect(lapicPendingVector(b.lapics[0])).toBe(0x34);
  });

  it('loads a version 1 image into a platform without SMP devices, and refuses one into an SMP platform', () => {
    const clock = new FakeClock();
    const plain = createPcPlatform({ clock, ramBelow4G: 64 * MiB });
    const v1 = { ...plain.saveState(), version: 1 } as PcPlatformState;
    delete v1.smp;
    delete v1.testdev;
    expect(() => createPcPlatform({ clock, ramBelow4G: 64 * MiB }).loadState(v1)).not.toThrow();
    expect(() => setup().pc.loadState(v1)).toThrow(SaveImageError);
    expect(() => plain.loadState({ ...v1, version: 3 } as unknown as PcPlatformState)).toThrow(SaveImageError);
  });

  it('returns the local APICs to their power-up state on a machine reset', () => {
    const { lapics, pc, enableApic } = setup();
    enableApic(1);
    pc.reset();
    expect(lapicMmioRead(lapics[1], 0xf0, 4, 0)).toBe(0xff);
  });
});
