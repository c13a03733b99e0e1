/**
 * A National Semiconductor 16550A UART (the PC's COM ports), at any 8-aligned I/O base.
 *
 * References:
 * - NS PC16550D datasheet: register map, IIR priorities and FIFO bits, FCR trigger levels, LSR and
 *   MSR bits, loopback wiring (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD), character timeout after
 *   four character times.
 * - IBM PC/AT: the UART's INTR pin reaches the ISA IRQ only while MCR.OUT2 is set (OUT2 enables the
 *   IRQ driver); in loopback OUT2 is internally inactive, so the IRQ is off.
 * - QEMU hw/char/serial.c for what drivers rely on: setting IER.ETBEI while THR is empty raises
 *   the THRE interrupt (Linux's 8250 THRE test), reading IIR when it shows THRE clears it, IER reads
 *   back only bits 0-3. test/unit/machine/qemu-differential.test.ts compares with QEMU 7.2.
 * - Linux drivers/tty/serial/8250/8250_port.c autoconfig: IER 0/0x0F test, loopback MSR test
 *   (MCR=0x1A must read MSR&0xF0 = 0x90), FCR=1 then IIR bits 7-6 = 11 means 16550A.
 * - GRUB (spec/grub-iso-and-bios.md 4.3): scratch register probe 0x5A/0xA5; init IER=0, LCR=0x80,
 *   DLL/DLM, LCR=3, FCR=0xC7, MCR=0x0B; output waits for LSR.THRE.
 *
 * Transmit is instantaneous: a THR write goes straight to `onTransmit` and THRE/TEMT stay set, so
 * output passes even before the guest programs the UART. Receive: a 16-byte FIFO (1 byte with the
 * FIFO off) fed from an unbounded input queue, so console input waits until there is room and is
 * never overrun by the host.
 */
import type { Clock, IoSize, IrqLine, Persistent, PortDevice, TimedDevice } from './device';
import { unconnectedIrq } from './device';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Registers (offsets from the base; DLAB = LCR bit 7) -----------------------------------------

/** RBR (read) / THR (write); DLL with DLAB. */
const REG_DATA = 0;
/** IER; DLM with DLAB. */
const REG_IER = 1;
/** IIR (read) / FCR (write). */
const REG_IIR_FCR = 2;
const REG_LCR = 3;
const REG_MCR = 4;
const REG_LSR = 5;
const REG_MSR = 6;
/** Scratch register (no function; GRUB probes it). */
const REG_SCR = 7;
/** The UART decodes three address bits. */
const REG_MASK = 7;

/** IER bits: received data available, THR empty, receiver line status, modem status. */
const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;
/** IER bits that exist on a 16550A (bits 4-7 read 0). */
const IER_MASK = 0x0f;

/** IIR: bit 0 = 1 when nothing is pending; interrupt identification codes (bits 3-1). */
const IIR_NONE = 0x01;
const IIR_MS = 0x00;
const IIR_THRE = 0x02;
const IIR_RDA = 0x04;
const IIR_RLS = 0x06;
/** Character timeout: IIR bit 3 with the RDA code. */
const IIR_TIMEOUT = 0x0c;
/** IIR bits 7-6: both set while the FIFOs are enabled (16550A; an 8250/16450 reads 00). */
const IIR_FIFO_ENABLED = 0xc0;

/** FCR bits: FIFO enable, RX FIFO reset, TX FIFO reset, DMA mode, trigger level (bits 7-6). */
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const FCR_DMA_MODE = 0x08;
const FCR_TRIGGER_SHIFT = 6;
/** RX FIFO trigger levels of a 16550A by FCR bits 7-6. */
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;

/** LCR bits: word length (1-0), stop bits (2), parity enable (3), DLAB (7). */
const LCR_WORD_LENGTH_MASK = 0x03;
const LCR_TWO_STOP_BITS = 0x04;
const LCR_PARITY = 0x08;
const LCR_DLAB = 0x80;
/** Shortest word length (LCR bits 1-0 = 00). */
const MIN_WORD_BITS = 5;

/** MCR bits: DTR, RTS, OUT1, OUT2 (IRQ enable on a PC), LOOP; bits 5-7 read 0. */
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const MCR_MASK = 0x1f;

/** LSR bits. */
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
/** OE, PE, FE, BI: the bits that raise the receiver line status interrupt and clear on read. */
const LSR_ERRORS = 0x1e;

/** MSR bits: deltas (3-0) and line states (7-4). */
const MSR_DCTS = 0x01;
const MSR_DDSR = 0x02;
const MSR_TERI = 0x04;
const MSR_DDCD = 0x08;
const MSR_DELTAS = 0x0f;
/** MSR bits 7-4: the modem input line states. */
const MSR_LINES = 0xf0;
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
/** Modem inputs seen from the host side: a terminal is attached (DCD, DSR, CTS on, no ring). */
const MSR_EXTERNAL_LINES = MSR_DCD | MSR_DSR | MSR_CTS;

/** RX FIFO depth of a 16550A. */
const FIFO_DEPTH = 16;
/** Divisor after reset, as QEMU sets it (9600 baud). */
const RESET_DIVISOR = 12;
/** Baud rate at divisor 1: 1.8432 MHz crystal / 16. */
const BAUD_BASE = 115_200;
/** The character timeout fires after this many character times without RX activity. */
const TIMEOUT_CHARACTERS = 4;
const NS_PER_SECOND = 1_000_000_000;
/** Input queue entries consumed before the array is compacted. */
const QUEUE_COMPACT_AT = 4096;

// ---- State ---------------------------------------------------------------------------------------

/** Saved state of a 16550A. */
export interface Uart16550State {
  version: 1;
  ier: number;
  lcr: number;
  mcr: number;
  /** LSR error bits (OE, PE, FE, BI) not yet read. */
  lsrErrors: number;
  msr: number;
  scr: number;
  divisor: number;
  fcr: number;
  /** Last byte delivered through RBR (what an empty RBR reads). */
  rbr: number;
  rxFifo: number[];
  /** Console input not yet in the FIFO. */
  input: number[];
  thrInterrupt: boolean;
  timeoutInterrupt: boolean;
  /** Nanoseconds left until the character timeout, or null if none is running. */
  timeoutInNs: number | null;
}

/** Options of a UART. */
export interface Uart16550Config {
  /** Name on the bus, e.g. "uart-com1". */
  name: string;
  clock: Clock;
  irq?: IrqLine;
  /** Receives every byte the guest transmits (not in loopback). */
  onTransmit?: (byte: number) => void;
}

// ---- The device ----------------------------------------------------------------------------------

/** A 16550A UART. Place it on 8 ports at an 8-aligned base. */
export class Uart16550 implements PortDevice, TimedDevice, Persistent<Uart16550State> {
  readonly name: string;
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly onTransmit: (byte: number) => void;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0;
  private msr = MSR_EXTERNAL_LINES;
  private scr = 0;
  private divisor = RESET_DIVISOR;
  private fcr = 0;
  private rbr = 0;
  private rxFifo: number[] = [];
  private input: number[] = [];
  private inputHead = 0;
  private thrInterrupt = false;
  private timeoutInterrupt = false;
  private timeoutAt: number | null = null;
  private irqLevel = false;

  constructor(config: Uart16550Config) {
    this.name = config.name;
    this.clock = config.clock;
    this.irq = config.irq ?? unconnectedIrq;
    this.onTransmit = config.onTransmit ?? (() => {});
  }

  // ---- Predicates ----

  private dlab(): boolean {
    return (this.lcr & LCR_DLAB) !== 0;
  }

  private loopback(): boolean {
    return (this.mcr & MCR_LOOP) !== 0;
  }

  private fifoEnabled(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0;
  }

  private fifoCapacity(): number {
    return this.fifoEnabled() ? FIFO_DEPTH : 1;
  }

  private triggerLevel(): number {
    return TRIGGER_LEVELS[this.fcr >> FCR_TRIGGER_SHIFT];
  }

  private lsr(): number {
    return (this.rxFifo.length > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
  }

  /** Nanoseconds one character takes at the programmed speed and frame (start + data + parity + stop). */
  characterTimeNs(): number {
    const bits = 1 + MIN_WORD_BITS + (this.lcr & LCR_WORD_LENGTH_MASK) + (this.lcr & LCR_PARITY ? 1 : 0) + (this.lcr & LCR_TWO_STOP_BITS ? 2 : 1);
    const divisor = this.divisor === 0 ? 0x10000 : this.divisor;
    return (bits * divisor * NS_PER_SECOND) / BAUD_BASE;
  }

  /** The pending interrupt with the highest priority, as IIR bits 3-0. */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & IER_RLS && this.lsrErrors) return IIR_RLS;
    if (ier & IER_RDA && this.rxFifo.length > 0 && (!this.fifoEnabled() || this.rxFifo.length >= this.triggerLevel())) return IIR_RDA;
    if (ier & IER_RDA && this.timeoutInterrupt) return IIR_TIMEOUT;
    if (ier & IER_THRE && this.thrInterrupt) return IIR_THRE;
    if (ier & IER_MS && this.msr & MSR_DELTAS) return IIR_MS;
    return IIR_NONE;
  }

  /** The modem status inputs: the host side's lines, or the MCR outputs in loopback. */
  private modemLines(): number {
    if (!this.loopback()) return MSR_EXTERNAL_LINES;
    const m = this.mcr;
    return (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  // ---- Host side ----

  /** Console input for the guest. Bytes wait in an unbounded queue until the RX FIFO has room. */
  receive(bytes: Uint8Array | readonly number[]): void {
    for (const b of bytes) this.input.push(b & 0xff);
    this.refill(this.clock.now());
    this.update();
  }

  /**
   * LSR as a read would return it, if the read has no side effect and nothing but a hypervisor
   * serving this UART can change it (no error bits, which a read clears; no loopback, where THR
   * writes feed the receiver); otherwise -1. A pCPU answers LSR reads from a published copy of
   * this (uart-lsr-cache.ts).
   */
  cachedLsr(): number {
    return this.lsrErrors !== 0 || this.loopback() ? -1 : this.lsr();
  }

  /** Input bytes not yet taken by the guest (queue plus RX FIFO). */
  pendingInput(): number {
    return this.input.length - this.inputHead + this.rxFifo.length;
  }

  // ---- Port access ----

  ioRead(port: number): number {
    switch (port & REG_MASK) {
      case REG_DATA:
        return this.dlab() ? this.divisor & 0xff : this.readRbr();
      case REG_IER:
        return this.dlab() ? this.divisor >> 8 : this.ier;
      case REG_IIR_FCR:
        return this.readIir();
      case REG_LCR:
        return this.lcr;
      case REG_MCR:
        return this.mcr;
      case REG_LSR: {
        const value = this.lsr();
        if (this.lsrErrors) {
          this.lsrErrors = 0;
          this.update();
        }
        return value;
      }
      case REG_MSR: {
        const value = this.msr;
        if (this.msr & MSR_DELTAS) {
          this.msr &= ~MSR_DELTAS;
          this.update();
        }
        return value;
      }
      default:
        return this.scr;
    }
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    value &= 0xff;
    switch (port & REG_MASK) {
      case REG_DATA:
        if (this.dlab()) this.divisor = (this.divisor & 0xff00) | value;
        else this.writeThr(value);
        return;
      case REG_IER:
        if (this.dlab()) {
          this.divisor = (this.divisor & 0x00ff) | (value << 8);
        } else {
          const enablesThre = (value & IER_THRE) !== 0 && !(this.ier & IER_THRE);
          this.ier = value & IER_MASK;
          // THR is always empty: turning ETBEI on raises THRE again even if an IIR read had
          // cleared it (QEMU 7 and Bochs; Linux's THRE test and Windows rely on it); off drops it.
          if (enablesThre) this.thrInterrupt = true;
          else if (!(this.ier & IER_THRE)) this.thrInterrupt = false;
          this.update();
        }
        return;
      case REG_IIR_FCR:
        this.writeFcr(value);
        return;
      case REG_LCR:
        this.lcr = value;
        return;
      case REG_MCR:
        this.writeMcr(value);
        return;
      case REG_SCR:
        this.scr = value;
        return;
      default:
        return; // LSR and MSR are read-only here (their factory-test writes are not modelled)
    }
  }

  /** Raises the character timeout when it falls due; returns when it next might. */
  tick(now: number): number {
    if (this.timeoutAt !== null && now >= this.timeoutAt) {
      this.timeoutAt = null;
      if (this.fifoEnabled() && this.rxFifo.length > 0) {
        this.timeoutInterrupt = true;
        this.update();
      }
    }
    return this.timeoutAt ?? Infinity;
  }

  /** Master reset: registers to their reset values; queued console input is kept. */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.lsrErrors = 0;
    this.msr = MSR_EXTERNAL_LINES;
    this.scr = 0;
    this.divisor = RESET_DIVISOR;
    this.fcr = 0;
    this.rxFifo = [];
    this.thrInterrupt = false;
    this.timeoutInterrupt = false;
    this.timeoutAt = null;
    this.refill(this.clock.now());
    this.update();
  }

  saveState(): Uart16550State {
    const now = this.clock.now();
    return {
      version: 1,
      ier: this.ier, lcr: this.lcr, mcr: this.mcr, lsrErrors: this.lsrErrors, msr: this.msr, scr: this.scr,
      divisor: this.divisor, fcr: this.fcr, rbr: this.rbr, rxFifo: [...this.rxFifo], input: this.input.slice(this.inputHead),
      thrInterrupt: this.thrInterrupt, timeoutInterrupt: this.timeoutInterrupt,
      timeoutInNs: this.timeoutAt === null ? null : Math.max(0, this.timeoutAt - now),
    };
  }

  loadState(state: Uart16550State): void {
    requireStateVersion(state, 1, `UART ${this.name}`);
    requireSaved(Array.isArray(state.rxFifo) && state.rxFifo.length <= FIFO_DEPTH && Array.isArray(state.input), `UART ${this.name}`, 'rxFifo');
    this.ier = state.ier & IER_MASK;
    this.lcr = state.lcr & 0xff;
    this.mcr = state.mcr & MCR_MASK;
    this.lsrErrors = state.lsrErrors & LSR_ERRORS;
    this.msr = state.msr & 0xff;
    this.scr = state.scr & 0xff;
    this.divisor = state.divisor & 0xffff;
    this.fcr = state.fcr & 0xff;
    this.rbr = state.rbr & 0xff;
    this.rxFifo = [...state.rxFifo];
    this.input = [...state.input];
    this.inputHead = 0;
    this.thrInterrupt = state.thrInterrupt;
    this.timeoutInterrupt = state.timeoutInterrupt;
    this.timeoutAt = state.timeoutInNs === null ? null : this.clock.now() + state.timeoutInNs;
    this.irqLevel = false;
    this.update();
  }

  // ---- Register behaviour ----

  private readRbr(): number {
    const now = this.clock.now();
    if (this.rxFifo.length > 0) this.rbr = this.rxFifo.shift() as number;
    this.timeoutInterrupt = false;
    this.refill(now);
    this.restartTimeout(now);
    this.update();
    return this.rbr;
  }

  private readIir(): number {
    const id = this.interruptId();
    if (id === IIR_THRE) {
      this.thrInterrupt = false; // reading IIR while it reports THRE clears that interrupt
      this.update();
    }
    return id | (this.fifoEnabled() ? IIR_FIFO_ENABLED : 0);
  }

  private writeThr(byte: number): void {
    this.thrInterrupt = false;
    this.update();
    if (this.loopback()) this.loopbackReceive(byte);
    else this.onTransmit(byte);
    // The byte left at once: THR is empty again.
    this.thrInterrupt = true;
    this.update();
  }

  private writeFcr(value: number): void {
    const now = this.clock.now();
    const enable = (value & FCR_ENABLE) !== 0;
    if (enable !== this.fifoEnabled() || (enable && value & FCR_CLEAR_RX)) {
      this.rxFifo = []; // enabling, disabling or resetting the FIFO empties it
      this.timeoutInterrupt = false;
      this.timeoutAt = null;
    }
    // With FCR bit 0 clear the other bits are not programmed.
    this.fcr = enable ? value & (FCR_ENABLE | FCR_DMA_MODE | (3 << FCR_TRIGGER_SHIFT)) : 0;
    this.refill(now);
    this.update();
  }

  private writeMcr(value: number): void {
    const wasLoop = this.loopback();
    this.mcr = value & MCR_MASK;
    const lines = this.modemLines();
    const old = this.msr;
    const changed = (lines ^ old) & MSR_LINES;
    let deltas = 0;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    if (old & MSR_RI && !(lines & MSR_RI)) deltas |= MSR_TERI; // trailing edge of ring
    this.msr = lines | (old & MSR_DELTAS) | deltas;
    if (wasLoop && !this.loopback()) this.refill(this.clock.now());
    this.update();
  }

  /** Loopback: the transmitter feeds the receiver; a full receiver overruns. */
  private loopbackReceive(byte: number): void {
    if (this.rxFifo.length < this.fifoCapacity()) {
      this.rxFifo.push(byte);
    } else {
      this.lsrErrors |= LSR_OE;
      if (!this.fifoEnabled()) this.rxFifo[0] = byte; // the 16450 RBR is overwritten; a FIFO keeps its bytes
    }
    this.restartTimeout(this.clock.now());
  }

  /** Moves queued console input into the receiver while it has room (not in loopback). */
  private refill(now: number): void {
    if (this.loopback()) return;
    let moved = false;
    while (this.rxFifo.length < this.fifoCapacity() && this.inputHead < this.input.length) {
      this.rxFifo.push(this.input[this.inputHead++]);
      moved = true;
    }
    if (this.inputHead >= QUEUE_COMPACT_AT && this.inputHead * 2 >= this.input.length) {
      this.input = this.input.slice(this.inputHead);
      this.inputHead = 0;
    }
    if (moved) this.restartTimeout(now);
  }

  private restartTimeout(now: number): void {
    this.timeoutAt = this.fifoEnabled() && this.rxFifo.length > 0 ? Math.ceil(now + TIMEOUT_CHARACTERS * this.characterTimeNs()) : null;
  }

  /** Recomputes the interrupt output: INTR gated by OUT2, and off in loopback (PC wiring). */
  private update(): void {
    const level = this.interruptId() !== IIR_NONE && (this.mcr & MCR_OUT2) !== 0 && !this.loopback();
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }
}
