import { describe, expect, it } from 'vitest';
import { AcpiCpuHotplug } from '../../../src-engine/machine/acpi-cpu-hotplug';
import { AcpiPm } from '../../../src-engine/machine/acpi-pm';
import { IoBus } from '../../../src-engine/machine/io-bus';
import { createPcPlatform } from '../../../src-engine/machine/platform-pc';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';
import { SaveImageError } from '../../../src-engine/base/errors';
import { FakeClock, RecordingIrq } from './fake-clock';

/** The controller beside an ACPI PM block, both on one bus, as the platform wires them. */
function setup(cpus = 4, present = 1) {
  const clock = new FakeClock();
  const sci = new RecordingIrq();
  const pm = new AcpiPm({ clock, sci, onPowerOff: () => {} });
  const ejected: number[] = [];
  const hp = new AcpiCpuHotplug({ cpus, present, raiseGpe: () => pm.raiseGpe(2), onEject: (c) => ejected.push(c) });
  const bus = new IoBus();
  for (const [base, count] of AcpiPm.RANGES) bus.register(base, count, pm, { width: 'any' });
  for (const [base, count] of AcpiCpuHotplug.RANGES) bus.register(base, count, hp, { width: 'any' });
  return { sci, pm, hp, bus, ejected };
}

describe('ACPI CPU hotplug controller (present bitmap at 0xAF00, eject register at 0xAF20)', () => {
  it('reports the CPUs present at power-on in the bitmap, bit n of byte n/8', () => {
    const { bus } = setup(12, 10);
    expect(bus.read(0xaf00, 1)).toBe(0xff);
    expect(bus.read(0xaf01, 1)).toBe(0x03);
    expect(bus.read(0xaf00, 2)).toBe(0x03ff);
    expect(bus.read(0xaf02, 1)).toBe(0);
    expect(bus.read(0xaf1f, 1)).toBe(0);
  });

  it('plugging a CPU in sets its bit and raises the SCI through GPE0 bit 2 once the guest enabled it', () => {
    const { bus, hp, sci } = setup();
    bus.write(0x622, 1, 0x04); // GPE0_EN bit 2, as the OS does for a GPE with an _E02 method
    expect(hp.setPresent(2, true)).toBe(true);
    expect(bus.read(0xaf00, 1)).toBe(0b101);
    expect(bus.read(0x620, 1) & 0x04).toBe(0x04);
    expect(sci.level).toBe(true);
    // The OS clears the status bit (write 1), the SCI drops; the bitmap stays.
    bus.write(0x620, 1, 0x04);
    expect(sci.level).toBe(false);
    expect(bus.read(0xaf00, 1)).toBe(0b101);
    // Nothing changes: no event.
    expect(hp.setPresent(2, true)).toBe(false);
    expect(bus.read(0x620, 1)).toBe(0);
  });

  it('keeps the GPE status without raising the SCI while the GPE is disabled', () => {
    const { bus, hp, sci } = setup();
    hp.setPresent(1, true);
    expect(bus.read(0x620, 1) & 0x04).toBe(0x04);
    expect(sci.level).toBe(false);
    bus.write(0x622, 1, 0x04);
    expect(sci.level).toBe(true);
  });

  it('pulling a CPU out clears its bit; the guest confirms through the eject register', () => {
    const { bus, hp, ejected } = setup(4, 3);
    expect(hp.setPresent(2, false)).toBe(true);
    expect(bus.read(0xaf00, 1)).toBe(0b011);
    expect(hp.isEjecting(2)).toBe(true);
    bus.write(0xaf20, 1, 1); // CPU 1 is present: not an eject the toolstack asked for
    bus.write(0xaf20, 1, 7); // no such CPU
    expect(ejected).toEqual([]);
    bus.write(0xaf20, 1, 2);
    expect(ejected).toEqual([2]);
    expect(hp.isEjecting(2)).toBe(false);
    bus.write(0xaf20, 1, 2); // only once
    expect(ejected).toEqual([2]);
    expect(bus.read(0xaf20, 1)).toBe(0);
  });

  it('plugging a CPU back in before the guest ejected it cancels the eject', () => {
    const { bus, hp, ejected } = setup(2, 2);
    hp.setPresent(1, false);
    hp.setPresent(1, true);
    bus.write(0xaf20, 1, 1);
    expect(ejected).toEqual([]);
    expect(hp.presentCount()).toBe(2);
  });

  it('ignores writes to the bitmap and refuses to remove the boot CPU', () => {
    const { bus, hp } = setup(2, 2);
    bus.write(0xaf00, 1, 0);
    expect(bus.read(0xaf00, 1)).toBe(0b11);
    expect(() => hp.setPresent(0, false)).toThrow(RangeError);
    expect(() => hp.setPresent(2, true)).toThrow(RangeError);
  });

  it('saves and restores which CPUs are present and which are being ejected', () => {
    const a = setup(8, 2);
    a.hp.setPresent(5, true);
    a.hp.setPresent(1, false);
    const saved = JSON.parse(JSON.stringify(a.hp.saveState())) as ReturnType<AcpiCpuHotplug['saveState']>;
    expect(saved).toEqual({ version: 1, present: [0, 5], ejecting: [1] });
    const b = setup(8, 1);
    b.hp.loadState(saved);
    expect(b.bus.read(0xaf00, 1)).toBe(0b100001);
    b.bus.write(0xaf20, 1, 1);
    expect(b.ejected).toEqual([1]);
    expect(() => b.hp.loadState({ ...saved, version: 2 } as unknown as typeof saved)).toThrow(SaveImageError);
    expect(() => b.hp.loadState({ ...saved, present: [1] })).toThrow(SaveImageError);
    expect(() => b.hp.loadState({ ...saved, present: [0, 9] })).toThrow(SaveImageError);
  });
});

describe('CPU hotplug in the PC platform', () => {
  function platform(online: number) {
    const lapics = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(3)), 3);
    const ejected: number[] = [];
    const p = createPcPlatform({
      clock: new FakeClock(),
      ramBelow4G: 16 << 20,
      smp: { lapics, kick: () => {}, onlineCpus: online },
      onCpuEject: (c) => ejected.push(c),
    });
    return { p, ejected };
  }

  it('places the controller at 0xAF00 with the CPUs online at power-on, and routes the eject', () => {
    const { p, ejected } = platform(1);
    expect(p.bus.read(0xaf00, 1)).toBe(0b001);
    p.cpuHotplug?.setPresent(2, true);
    expect(p.bus.read(0xaf00, 1)).toBe(0b101);
    expect(p.bus.read(0x620, 1) & 0x04).toBe(0x04);
    p.cpuHotplug?.setPresent(2, false);
    p.bus.write(0xaf20, 1, 2);
    expect(ejected).toEqual([2]);
  });

  it('keeps the bitmap across a machine reset and through save/restore', () => {
    const { p } = platform(1);
    p.cpuHotplug?.setPresent(1, true);
    p.reset();
    expect(p.bus.read(0xaf00, 1)).toBe(0b011);
    const saved = JSON.parse(JSON.stringify(p.saveState())) as ReturnType<typeof p.saveState>;
    const q = platform(1).p;
    q.loadState(saved);
    expect(q.bus.read(0xaf00, 1)).toBe(0b011);
    // An image from before CPU hotplug (no cpuHotplug field) keeps the power-on bitmap.
    const old = JSON.parse(JSON.stringify(saved)) as typeof saved;
    if (old.smp) delete old.smp.cpuHotplug;
    const r = platform(1).p;
    r.loadState(old);
    expect(r.bus.read(0xaf00, 1)).toBe(0b001);
  });
});
