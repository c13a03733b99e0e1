/**
 * The I/O APIC of a PC (Intel 82093AA, as QEMU models it with version 0x20): 24 input pins, each
 * with a redirection entry that turns the pin's interrupt into a message on the APIC bus.
 *
 * References:
 * - Intel 82093AA I/O APIC datasheet (290566): IOREGSEL at offset 0x00, IOWIN at 0x10; registers
 *   IOAPICID (0x00, ID in bits 27-24), IOAPICVER (0x01: version bits 7-0, maximum redirection
 *   entry bits 23-16), IOAPICARB (0x02), IOREDTBL0-23 (0x10-0x3F, two 32-bit halves each);
 *   entry fields vector, delivery mode, destination mode, delivery status (RO), polarity,
 *   remote IRR (RO), trigger mode, mask, destination (bits 63-56).
 * - Version 0x20 I/O APICs (ICH) add the EOI register at offset 0x40: writing a vector clears the
 *   remote IRR of level-triggered entries with that vector (QEMU hw/intc/ioapic.c).
 * - Level-triggered entries: while the (polarity-adjusted) input is asserted, one message is sent
 *   and remote IRR set; the local APIC's EOI of that vector clears remote IRR and, if the input is
 *   still asserted, the message is sent again.
 * - Edge-triggered entries send one message per asserting edge. An edge arriving while the entry
 *   is masked is held and sent when the entry is unmasked, as QEMU and KVM do (the 82093AA
 *   datasheet says it is dropped; guests are tested against QEMU/KVM).
 *
 * ISA IRQs arrive through the IsaIrqRouter (this is an IsaIrqSink): IRQ0 on pin 2, the others on
 * pin = IRQ, as the MP table and the MADT's interrupt source override describe. Pins 16-23 are
 * driven directly (`pin(n)`).
 */
import type { IoSize, IrqLine, MmioDevice, Persistent } from './device';
import type { ApicMessage } from './lapic-bus';
import { ioApicPinForIsaIrq, ISA_IRQ_COUNT, type IsaIrqSink } from './isa-irq-router';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Registers (82093AA datasheet) ---------------------------------------------------------------

/** Offset of the register select register. */
export const IOAPIC_IOREGSEL = 0x00;
/** Offset of the register window. */
export const IOAPIC_IOWIN = 0x10;
/** Offset of the EOI register (version 0x20). */
export const IOAPIC_EOI = 0x40;
/** Bytes of MMIO the IOAPIC decodes (QEMU maps a 4 KiB page). */
export const IOAPIC_MMIO_BYTES = 0x1000;
/** Default base address on a PC. */
export const IOAPIC_DEFAULT_BASE = 0xfec00000;
/** Indirect register 0x00: IOAPICID. */
export const IOAPIC_REG_ID = 0x00;
/** Indirect register 0x01: IOAPICVER. */
export const IOAPIC_REG_VERSION = 0x01;
/** Indirect register 0x02: IOAPICARB. */
export const IOAPIC_REG_ARB = 0x02;
/** Indirect registers 0x10-0x3F: IOREDTBL0-23, low half first. */
export const IOAPIC_REG_REDTBL = 0x10;
/** Number of input pins (GSIs 0-23). */
export const IOAPIC_PINS = 24;
/** IOAPICVER: version 0x20 in bits 7-0, maximum redirection entry (pins - 1) in bits 23-16. */
export const IOAPIC_VERSION = 0x20;
const VERSION_MAX_ENTRY_SHIFT = 16;
/** IOAPICID / IOAPICARB: the 4-bit ID in bits 27-24. */
const ID_SHIFT = 24;
const ID_MASK = 0x0f;
/** IOREGSEL keeps an 8-bit register number. */
const REGSEL_MASK = 0xff;

/** Redirection entry fields (low half). */
const RTE_VECTOR = 0xff;
const RTE_DELIVERY_MODE_SHIFT = 8;
const RTE_DELIVERY_MODE_MASK = 0x7;
const RTE_DEST_LOGICAL = 0x800;
/** Delivery status (read-only; messages go out at once here, so it reads idle). */
const RTE_DELIVERY_STATUS = 0x1000;
const RTE_POLARITY_LOW = 0x2000;
const RTE_REMOTE_IRR = 0x4000;
const RTE_TRIGGER_LEVEL = 0x8000;
const RTE_MASKED = 0x10000;
/** Bits software may write in the low half. */
const RTE_LOW_WRITABLE = 0x1ffff & ~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR);
/** High half: destination field in bits 31-24 (bits 63-56 of the entry). */
const RTE_DEST_SHIFT = 24;
const RTE_HIGH_WRITABLE = 0xff000000 | 0;
/** Bits per byte, for narrow reads. */
const BYTE_BITS = 8;

// ---- State ---------------------------------------------------------------------------------------

/** Saved state of the IOAPIC. */
export interface IoApicState {
  version: 1;
  id: number;
  regsel: number;
  /** Redirection entries: low halves. */
  redirLow: number[];
  /** Redirection entries: high halves. */
  redirHigh: number[];
  /** Pins with an edge waiting (bit per pin). */
  pending: number;
  /** Raw input levels driven by ISA IRQs (bit per IRQ) and by direct pin lines (bit per pin). */
  isaLevels: number;
  directLevels: number;
  /** Polarity-adjusted levels at the last input change (edge detection). */
  lastAsserted: number;
}

/** Options of the IOAPIC. */
export interface IoApicConfig {
  /** APIC ID of the IOAPIC (MP table / MADT must say the same). */
  id: number;
  /** Sends a message on the APIC bus (LapicBus.deliverMessage). */
  deliver: (msg: ApicMessage) => void;
}

/** The IOAPIC. Place it on the MMIO bus (IOAPIC_MMIO_BYTES at 0xFEC00000) and add it as an ISA sink. */
export class IoApic implements MmioDevice, IsaIrqSink, Persistent<IoApicState> {
  readonly name = 'ioapic';
  private id: number;
  private regsel = 0;
  private readonly redirLow = new Array<number>(IOAPIC_PINS).fill(RTE_MASKED);
  private readonly redirHigh = new Array<number>(IOAPIC_PINS).fill(0);
  private pending = 0;
  private isaLevels = 0;
  private directLevels = 0;
  /** Per pin, the level of each direct source (wired-OR into directLevels). */
  private readonly directSources: boolean[][] = Array.from({ length: IOAPIC_PINS }, () => []);
  /** Asserted levels seen at the last input change (edge detection), bit per pin. */
  private lastAsserted = 0;
  private readonly deliver: (msg: ApicMessage) => void;
  private readonly resetId: number;

  constructor(config: IoApicConfig) {
    this.id = config.id & ID_MASK;
    this.resetId = this.id;
    this.deliver = config.deliver;
  }

  /** Redirection entry `pin` as [low, high] (debug output, tests). */
  entry(pin: number): [number, number] {
    return [this.redirLow[pin] >>> 0, this.redirHigh[pin] >>> 0];
  }

  /**
   * A new source driving pin `pin` directly (GSIs 16-23, HPET routes, tests). Several sources on
   * one pin, and ISA IRQs arriving on it, are wired-OR.
   */
  pin(pin: number): IrqLine {
    if (!Number.isInteger(pin) || pin < 0 || pin >= IOAPIC_PINS) throw new RangeError(`IOAPIC pin ${pin} does not exist (0-23)`);
    const sources = this.directSources[pin];
    const index = sources.push(false) - 1;
    return {
      set: (level: boolean) => {
        if (sources[index] === level) return;
        sources[index] = level;
        const bit = 1 << pin;
        this.directLevels = sources.some((l) => l) ? this.directLevels | bit : this.directLevels & ~bit;
        this.inputChanged(pin);
      },
    };
  }

  /** IsaIrqSink: ISA IRQ `irq` changed level. */
  setIsaIrq(irq: number, level: boolean): void {
    const bit = 1 << irq;
    this.isaLevels = level ? this.isaLevels | bit : this.isaLevels & ~bit;
    this.inputChanged(ioApicPinForIsaIrq(irq));
  }

  /** The EOI broadcast of a local APIC for a level-triggered `vector` (LAPIC_EFFECT_EOI). */
  endOfInterrupt(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const low = this.redirLow[pin];
      if ((low & RTE_VECTOR) !== (vector & RTE_VECTOR) || (low & RTE_REMOTE_IRR) === 0) continue;
      this.redirLow[pin] = low & ~RTE_REMOTE_IRR;
      this.service(pin);
    }
  }

  mmioRead(offset: number, size: IoSize): number {
    const reg = offset & ~3;
    let value = 0;
    if (reg === IOAPIC_IOREGSEL) value = this.regsel;
    else if (reg === IOAPIC_IOWIN) value = this.readRegister(this.regsel);
    const shifted = value >>> ((offset & 3) * BYTE_BITS);
    return size === 4 ? shifted >>> 0 : shifted & ((1 << (size * BYTE_BITS)) - 1);
  }

  mmioWrite(offset: number, _size: IoSize, value: number): void {
    if (offset === IOAPIC_IOREGSEL) this.regsel = value & REGSEL_MASK;
    else if (offset === IOAPIC_IOWIN) this.writeRegister(this.regsel, value);
    else if (offset === IOAPIC_EOI) this.endOfInterrupt(value);
  }

  /** Power-on state: every entry masked, the configured ID. */
  reset(): void {
    this.id = this.resetId;
    this.regsel = 0;
    this.redirLow.fill(RTE_MASKED);
    this.redirHigh.fill(0);
    this.pending = 0;
  }

  saveState(): IoApicState {
    return {
      version: 1,
      id: this.id,
      regsel: this.regsel,
      redirLow: [...this.redirLow],
      redirHigh: [...this.redirHigh],
      pending: this.pending,
      isaLevels: this.isaLevels,
      directLevels: this.directLevels,
      lastAsserted: this.lastAsserted,
    };
  }

  loadState(state: IoApicState): void {
    requireStateVersion(state, 1, 'the I/O APIC');
    requireSaved(Array.isArray(state.redirLow) && state.redirLow.length === IOAPIC_PINS, 'the I/O APIC', 'redirLow');
    requireSaved(Array.isArray(state.redirHigh) && state.redirHigh.length === IOAPIC_PINS, 'the I/O APIC', 'redirHigh');
    this.id = state.id & ID_MASK;
    this.regsel = state.regsel & REGSEL_MASK;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      this.redirLow[pin] = state.redirLow[pin] | 0;
      this.redirHigh[pin] = state.redirHigh[pin] | 0;
    }
    this.pending = state.pending | 0;
    this.isaLevels = state.isaLevels | 0;
    // Direct sources re-drive their lines as their devices load; their levels are the truth.
    this.directLevels = 0;
    this.directSources.forEach((sources, pin) => {
      if (sources.some((l) => l)) this.directLevels |= 1 << pin;
    });
    this.lastAsserted = state.lastAsserted | 0;
  }

  private readRegister(reg: number): number {
    if (reg === IOAPIC_REG_ID || reg === IOAPIC_REG_ARB) return this.id << ID_SHIFT;
    if (reg === IOAPIC_REG_VERSION) return ((IOAPIC_PINS - 1) << VERSION_MAX_ENTRY_SHIFT) | IOAPIC_VERSION;
    const index = reg - IOAPIC_REG_REDTBL;
    if (index < 0 || index >= IOAPIC_PINS * 2) return 0;
    return (index & 1 ? this.redirHigh[index >> 1] : this.redirLow[index >> 1]) >>> 0;
  }

  private writeRegister(reg: number, value: number): void {
    if (reg === IOAPIC_REG_ID) {
      this.id = (value >>> ID_SHIFT) & ID_MASK;
      return;
    }
    const index = reg - IOAPIC_REG_REDTBL;
    if (index < 0 || index >= IOAPIC_PINS * 2) return; // version, arbitration: read-only
    const pin = index >> 1;
    if (index & 1) {
      this.redirHigh[pin] = value & RTE_HIGH_WRITABLE;
      return;
    }
    const low = this.redirLow[pin];
    let next = (value & RTE_LOW_WRITABLE) | (low & RTE_REMOTE_IRR);
    // Remote IRR means nothing for an edge-triggered entry.
    if ((next & RTE_TRIGGER_LEVEL) === 0) next &= ~RTE_REMOTE_IRR;
    this.redirLow[pin] = next;
    this.service(pin);
  }

  /** The pin's input as the entry sees it: raw level (ISA or direct), inverted for active-low. */
  private asserted(pin: number): boolean {
    let raw = (this.directLevels >> pin) & 1;
    for (let irq = 0; irq < ISA_IRQ_COUNT && raw === 0; irq++) {
      if ((this.isaLevels >> irq) & 1 && ioApicPinForIsaIrq(irq) === pin) raw = 1;
    }
    return (raw !== 0) !== ((this.redirLow[pin] & RTE_POLARITY_LOW) !== 0);
  }

  private inputChanged(pin: number): void {
    const asserted = this.asserted(pin);
    const bit = 1 << pin;
    const low = this.redirLow[pin];
    if ((low & RTE_TRIGGER_LEVEL) === 0) {
      const was = (this.lastAsserted & bit) !== 0;
      if (asserted && !was) this.pending |= bit;
    }
    this.lastAsserted = asserted ? this.lastAsserted | bit : this.lastAsserted & ~bit;
    this.service(pin);
  }

  /** Sends the pin's message if it is due: an edge waiting, or an asserted level without remote IRR. */
  private service(pin: number): void {
    const low = this.redirLow[pin];
    if ((low & RTE_MASKED) !== 0) return;
    const bit = 1 << pin;
    const level = (low & RTE_TRIGGER_LEVEL) !== 0;
    if (level) {
      if ((low & RTE_REMOTE_IRR) !== 0 || !this.asserted(pin)) return;
      this.redirLow[pin] = low | RTE_REMOTE_IRR;
    } else {
      if ((this.pending & bit) === 0) return;
      this.pending &= ~bit;
    }
    this.deliver({
      vector: low & RTE_VECTOR,
      deliveryMode: (low >>> RTE_DELIVERY_MODE_SHIFT) & RTE_DELIVERY_MODE_MASK,
      logical: (low & RTE_DEST_LOGICAL) !== 0,
      dest: this.redirHigh[pin] >>> RTE_DEST_SHIFT,
      level,
    });
  }
}
