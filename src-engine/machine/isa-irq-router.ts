/**
 * ISA interrupt routing: devices drive ISA IRQ lines 0-15; the router delivers each line's level to
 * every interrupt controller attached (the 8259A pair now; an IOAPIC can be added beside it later
 * without touching any device).
 *
 * References:
 * - IBM PC/AT Technical Reference: ISA IRQ2 on the bus is the slave 8259's IR1 (IRQ9); master IR2
 *   is the cascade input.
 * - MultiProcessor Specification 1.4, "Default configurations", and ACPI MADT interrupt source
 *   overrides on PCs: ISA IRQ0 (PIT) arrives on IOAPIC pin 2; the other ISA IRQs on pin = IRQ.
 *
 * Several devices may share one ISA IRQ (COM1 and COM3 on IRQ4): their outputs are wired-OR, which
 * is what the PC gets when only one of them has its output enabled (the UARTs' OUT2 gate).
 */
import type { IrqLine } from './device';

/** Number of ISA IRQ lines. */
export const ISA_IRQ_COUNT = 16;
/** The master 8259 input that carries the slave's output on a PC/AT. */
export const PIC_CASCADE_INPUT = 2;
/** Where ISA IRQ2 lands on a PC/AT: slave IR1. */
export const ISA_IRQ2_REDIRECT = 9;
/** ISA IRQ of the PIT (channel 0 OUT). */
const ISA_IRQ_PIT = 0;
/** IOAPIC pin the PIT's IRQ0 is wired to on PCs (interrupt source override 0 -> 2). */
const IOAPIC_PIN_PIT = 2;

/** Something that takes ISA IRQ levels: an interrupt controller's ISA inputs. */
export interface IsaIrqSink {
  setIsaIrq(irq: number, level: boolean): void;
}

/** The IOAPIC input pin an ISA IRQ arrives on in a PC (for the IOAPIC sink to come). */
export function ioApicPinForIsaIrq(irq: number): number {
  return irq === ISA_IRQ_PIT ? IOAPIC_PIN_PIT : irq;
}

/** The 8259A pair's input for an ISA IRQ on a PC/AT. */
export function picInputForIsaIrq(irq: number): number {
  return irq === PIC_CASCADE_INPUT ? ISA_IRQ2_REDIRECT : irq;
}

/** Adapts the PIC pair's 16 inputs to an ISA sink, with the PC/AT IRQ2 -> IRQ9 redirection. */
export function picIsaSink(pic: { setIrq(input: number, level: boolean): void }): IsaIrqSink {
  return { setIsaIrq: (irq, level) => pic.setIrq(picInputForIsaIrq(irq), level) };
}

/** Drives ISA IRQ lines from device outputs into the attached interrupt controllers. */
export class IsaIrqRouter {
  private readonly sinks: IsaIrqSink[] = [];
  /** Per IRQ, the current level of each source wired to it. */
  private readonly sources: boolean[][] = Array.from({ length: ISA_IRQ_COUNT }, () => []);
  private readonly levels: boolean[] = new Array<boolean>(ISA_IRQ_COUNT).fill(false);

  /** Attaches an interrupt controller; it receives every later level change. */
  addSink(sink: IsaIrqSink): void {
    this.sinks.push(sink);
  }

  /** A new device output on ISA IRQ `irq` (wired-OR with the others on that IRQ). */
  line(irq: number): IrqLine {
    if (!Number.isInteger(irq) || irq < 0 || irq >= ISA_IRQ_COUNT) throw new RangeError(`ISA IRQ ${irq} does not exist (0-15)`);
    const levels = this.sources[irq];
    const index = levels.push(false) - 1;
    return {
      set: (level: boolean) => {
        if (levels[index] === level) return;
        levels[index] = level;
        this.update(irq);
      },
    };
  }

  /** The wired-OR level of ISA IRQ `irq` now. */
  level(irq: number): boolean {
    return this.levels[irq];
  }

  /**
   * Drops every source to low without telling the sinks (used before a restore, when the devices
   * then re-drive their outputs and the controllers load their own state).
   */
  clearSilently(): void {
    for (const levels of this.sources) levels.fill(false);
    this.levels.fill(false);
  }

  private update(irq: number): void {
    const level = this.sources[irq].some((l) => l);
    if (level === this.levels[irq]) return;
    this.levels[irq] = level;
    for (const sink of this.sinks) sink.setIsaIrq(irq, level);
  }
}
