import { describe, expect, it } from 'vitest';
import { IsaIrqRouter, ioApicPinForIsaIrq, picIsaSink } from '../../../src-engine/machine/isa-irq-router';

describe('ISA IRQ router', () => {
  it('wire-ORs devices sharing an IRQ and tells every sink only about changes', () => {
    const router = new IsaIrqRouter();
    const seen: [number, boolean][] = [];
    router.addSink({ setIsaIrq: (irq, level) => seen.push([irq, level]) });
    const com1 = router.line(4);
    const com3 = router.line(4);
    com1.set(true);
    com3.set(true);
    com1.set(false);
    expect(router.level(4)).toBe(true);
    com3.set(false);
    expect(seen).toEqual([
      [4, true],
      [4, false],
    ]);
  });

  it('feeds a second controller without touching the devices', () => {
    const router = new IsaIrqRouter();
    const pit = router.line(0);
    const pic: boolean[] = [];
    const ioapic: number[] = [];
    router.addSink({ setIsaIrq: (_irq, level) => pic.push(level) });
    router.addSink({ setIsaIrq: (irq, level) => level && ioapic.push(ioApicPinForIsaIrq(irq)) });
    pit.set(true);
    expect(pic).toEqual([true]);
    expect(ioapic).toEqual([2]); // ISA IRQ0 arrives on IOAPIC pin 2 on a PC
    expect(ioApicPinForIsaIrq(4)).toBe(4);
  });

  it('sends ISA IRQ2 to the slave PIC input 9, as the PC/AT does', () => {
    const inputs: number[] = [];
    const sink = picIsaSink({ setIrq: (input) => inputs.push(input) });
    sink.setIsaIrq(2, true);
    sink.setIsaIrq(4, true);
    expect(inputs).toEqual([9, 4]);
  });

  it('refuses IRQ numbers that do not exist', () => {
    expect(() => new IsaIrqRouter().line(16)).toThrow(RangeError);
  });
});
