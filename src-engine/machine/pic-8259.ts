/**
 * The PC/AT's two 8259A programmable interrupt controllers: master at 0x20, slave at 0xA0, the
 * slave's INT output cascaded into master IR2, plus the edge/level control registers (ELCR) of
 * PIIX/ICH chipsets at 0x4D0/0x4D1.
 *
 * References:
 * - Intel 8259A datasheet (231468): ICW1-ICW4, OCW1-OCW3, priority resolver, poll command,
 *   automatic EOI, rotation, special mask mode, special fully nested mode, spurious IR7.
 * - Intel 82371AB (PIIX4) datasheet, ELCR1/ELCR2: one bit per IRQ, 1 = level triggered; IRQ0, 1, 2,
 *   8 and 13 must stay edge triggered.
 * - QEMU hw/intc/i8259.c for the behaviour guests are known to rely on (edges latched in IRR until
 *   acknowledged, spurious vector IR7 when nothing is pending at INTA).
 *
 * Each chip decodes one address bit (A0): offset 0 = command/status, 1 = data (IMR).
 */
import type { InterruptController, IoSize, IrqLine, Persistent, PortDevice } from './device';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Register bits (8259A datasheet) ------------------------------------------------------------

/** ICW1 marker: a command-port write with bit 4 set starts initialisation. */
const ICW1_INIT = 0x10;
/** ICW1 IC4: an ICW4 follows. */
const ICW1_IC4 = 0x01;
/** ICW1 SNGL: single 8259, no ICW3. */
const ICW1_SNGL = 0x02;
/** ICW1 LTIM: all inputs level triggered. */
const ICW1_LTIM = 0x08;
/** ICW2: the vector base keeps bits 7-3 (T7-T3). */
const ICW2_VECTOR_MASK = 0xf8;
/** ICW4 AEOI: automatic end of interrupt. */
const ICW4_AEOI = 0x02;
/** ICW4 SFNM: special fully nested mode. */
const ICW4_SFNM = 0x10;
/** OCW3 marker: a command-port write with bits 4-3 = 01. */
const OCW3_MARK = 0x08;
/** OCW3 P: poll command. */
const OCW3_POLL = 0x04;
/** OCW3 RR: the RIS bit is valid. */
const OCW3_RR = 0x02;
/** OCW3 RIS: read ISR (1) or IRR (0) at the command port. */
const OCW3_RIS = 0x01;
/** OCW3 ESMM: the SMM bit is valid. */
const OCW3_ESMM = 0x40;
/** OCW3 SMM: special mask mode on (1) or off (0). */
const OCW3_SMM = 0x20;
/** OCW2 R/SL/EOI field: bits 7-5. */
const OCW2_COMMAND_SHIFT = 5;
/** OCW2 L2-L0: the IR level of a specific command. */
const OCW2_LEVEL_MASK = 0x07;
/** OCW2 commands (R SL EOI). */
const OCW2_ROTATE_AEOI_CLEAR = 0b000;
const OCW2_NONSPECIFIC_EOI = 0b001;
const OCW2_SPECIFIC_EOI = 0b011;
const OCW2_ROTATE_AEOI_SET = 0b100;
const OCW2_ROTATE_NONSPECIFIC_EOI = 0b101;
const OCW2_SET_PRIORITY = 0b110;
const OCW2_ROTATE_SPECIFIC_EOI = 0b111;
/** Poll word bit 7: an interrupt was pending (bits 2-0 hold its level). */
const POLL_INTERRUPT = 0x80;
/** The level the 8259 answers an INTA with when nothing is pending any more. */
const SPURIOUS_IR = 7;
/** Inputs per chip. */
const IR_COUNT = 8;
/** "No request" result of the priority resolver. */
const NO_IRQ = -1;
/** ELCR bits that may be set (PIIX4): master IRQ 3-7, slave IRQ 9-12, 14, 15. */
const ELCR_MASK_MASTER = 0xf8;
const ELCR_MASK_SLAVE = 0xde;
/** Master input carrying the slave's INT output. */
const CASCADE_IR = 2;

/** Where the initialisation sequence stands: the next data-port write is ... */
const enum InitStep {
  /** ... OCW1 (the mask): initialised. */
  Ready = 0,
  Icw2 = 1,
  Icw3 = 2,
  Icw4 = 3,
}

// ---- State ---------------------------------------------------------------------------------------

/** Saved state of one 8259A. */
export interface Pic8259ChipState {
  irr: number;
  isr: number;
  imr: number;
  /** Current levels of the eight IR inputs (edge detection). */
  lines: number;
  elcr: number;
  vectorBase: number;
  /** The IR with the highest priority is `(priorityAdd + n) & 7` for n = 0 first. */
  priorityAdd: number;
  initStep: number;
  icw1: number;
  icw3: number;
  icw4: number;
  readIsr: boolean;
  poll: boolean;
  specialMask: boolean;
  rotateOnAutoEoi: boolean;
}

/** Saved state of the master/slave pair. */
export interface Pic8259State {
  version: 1;
  master: Pic8259ChipState;
  slave: Pic8259ChipState;
}

/** Options of the PIC pair. */
export interface Pic8259Config {
  /** Called when the master's INT output (the CPU's INTR pin) changes level. */
  onIntrChange?: (level: boolean) => void;
}

function resetChip(elcr: number): Pic8259ChipState {
  return {
    irr: 0, isr: 0, imr: 0, lines: 0, elcr, vectorBase: 0, priorityAdd: 0, initStep: InitStep.Ready,
    icw1: 0, icw3: 0, icw4: 0, readIsr: false, poll: false, specialMask: false, rotateOnAutoEoi: false,
  };
}

// ---- One chip ------------------------------------------------------------------------------------

class Chip {
  s: Pic8259ChipState;

  constructor(
    readonly isMaster: boolean,
    private readonly elcrMask: number,
    /** Called after anything that may change the INT output. */
    private readonly changed: () => void,
  ) {
    this.s = resetChip(0);
  }

  /** Inputs treated as level triggered: all with ICW1.LTIM, else those set in the ELCR. */
  levelMask(): number {
    return this.s.icw1 & ICW1_LTIM ? 0xff : this.s.elcr;
  }

  autoEoi(): boolean {
    return (this.s.icw4 & ICW4_AEOI) !== 0;
  }

  specialFullyNested(): boolean {
    return this.isMaster && (this.s.icw4 & ICW4_SFNM) !== 0;
  }

  /** Priority rank (0 = highest) of the best request in `mask`, or IR_COUNT if none. */
  private rank(mask: number): number {
    if (mask === 0) return IR_COUNT;
    let rank = 0;
    while ((mask & (1 << ((rank + this.s.priorityAdd) & 7))) === 0) rank++;
    return rank;
  }

  /** The priority resolver: the IR the chip would present now, or NO_IRQ. */
  pending(): number {
    const s = this.s;
    const requestRank = this.rank(s.irr & ~s.imr);
    if (requestRank === IR_COUNT) return NO_IRQ;
    let inService = s.isr;
    if (s.specialMask) inService &= ~s.imr;
    // Special fully nested: a new request from the slave may interrupt the slave's own service.
    if (this.specialFullyNested()) inService &= ~(1 << CASCADE_IR);
    return requestRank < this.rank(inService) ? (requestRank + s.priorityAdd) & 7 : NO_IRQ;
  }

  setLine(ir: number, level: boolean): void {
    const bit = 1 << ir;
    const wasHigh = (this.s.lines & bit) !== 0;
    this.s.lines = level ? this.s.lines | bit : this.s.lines & ~bit;
    if (this.levelMask() & bit || (this.isMaster && ir === CASCADE_IR)) {
      // Level inputs request while high. So does the cascade input: the slave withdraws its INT
      // when its request goes away, and the real 8259A then drops the master's request too.
      if (!(this.levelMask() & bit) && level && wasHigh) return;
      this.s.irr = level ? this.s.irr | bit : this.s.irr & ~bit;
    } else if (level && !wasHigh) {
      // Device edges stay latched until acknowledged, even if the line falls first (as QEMU does):
      // device models here may pulse their lines within one call.
      this.s.irr |= bit;
    }
    this.changed();
  }

  /** The INTA cycle for `ir`: ISR bit set (unless AEOI), edge request consumed. */
  acknowledge(ir: number): void {
    const bit = 1 << ir;
    if (this.autoEoi()) {
      if (this.s.rotateOnAutoEoi) this.s.priorityAdd = (ir + 1) & 7;
    } else {
      this.s.isr |= bit;
    }
    if (!(this.levelMask() & bit)) this.s.irr &= ~bit;
    this.changed();
  }

  read(offset: number): number {
    const s = this.s;
    if (s.poll) {
      s.poll = false;
      const ir = this.pending();
      if (ir === NO_IRQ) return 0;
      this.acknowledge(ir);
      return POLL_INTERRUPT | ir;
    }
    if (offset === 1) return s.imr;
    return s.readIsr ? s.isr : s.irr;
  }

  write(offset: number, value: number): void {
    if (offset === 0) {
      if (value & ICW1_INIT) this.icw1(value);
      else if (value & OCW3_MARK) this.ocw3(value);
      else this.ocw2(value);
      return;
    }
    const s = this.s;
    switch (s.initStep) {
      case InitStep.Ready:
        s.imr = value;
        break;
      case InitStep.Icw2:
        s.vectorBase = value & ICW2_VECTOR_MASK;
        s.initStep = s.icw1 & ICW1_SNGL ? this.afterIcw3() : InitStep.Icw3;
        break;
      case InitStep.Icw3:
        s.icw3 = value;
        s.initStep = this.afterIcw3();
        break;
      case InitStep.Icw4:
        s.icw4 = value;
        s.initStep = InitStep.Ready;
        break;
    }
    this.changed();
  }

  private afterIcw3(): InitStep {
    return this.s.icw1 & ICW1_IC4 ? InitStep.Icw4 : InitStep.Ready;
  }

  /** ICW1: mask and service cleared, IR7 lowest priority, IRR reads, edge detection re-armed. */
  private icw1(value: number): void {
    const s = this.s;
    s.icw1 = value;
    s.icw4 = 0;
    s.imr = 0;
    s.isr = 0;
    s.priorityAdd = 0;
    s.readIsr = false;
    s.poll = false;
    s.specialMask = false;
    s.rotateOnAutoEoi = false;
    s.initStep = InitStep.Icw2;
    // An edge input needs a fresh low-to-high transition after ICW1; level inputs keep requesting.
    s.irr &= this.levelMask() & s.lines;
    this.changed();
  }

  private ocw2(value: number): void {
    const s = this.s;
    const level = value & OCW2_LEVEL_MASK;
    switch (value >> OCW2_COMMAND_SHIFT) {
      case OCW2_ROTATE_AEOI_CLEAR:
        s.rotateOnAutoEoi = false;
        break;
      case OCW2_ROTATE_AEOI_SET:
        s.rotateOnAutoEoi = true;
        break;
      case OCW2_NONSPECIFIC_EOI:
      case OCW2_ROTATE_NONSPECIFIC_EOI: {
        const rank = this.rank(s.isr);
        if (rank === IR_COUNT) break;
        const ir = (rank + s.priorityAdd) & 7;
        s.isr &= ~(1 << ir);
        if (value >> OCW2_COMMAND_SHIFT === OCW2_ROTATE_NONSPECIFIC_EOI) s.priorityAdd = (ir + 1) & 7;
        break;
      }
      case OCW2_SPECIFIC_EOI:
        s.isr &= ~(1 << level);
        break;
      case OCW2_ROTATE_SPECIFIC_EOI:
        s.isr &= ~(1 << level);
        s.priorityAdd = (level + 1) & 7;
        break;
      case OCW2_SET_PRIORITY:
        // The given level becomes the lowest priority.
        s.priorityAdd = (level + 1) & 7;
        break;
      default:
        break; // 010: no operation
    }
    this.changed();
  }

  private ocw3(value: number): void {
    const s = this.s;
    if (value & OCW3_POLL) s.poll = true;
    if (value & OCW3_RR) s.readIsr = (value & OCW3_RIS) !== 0;
    if (value & OCW3_ESMM) s.specialMask = (value & OCW3_SMM) !== 0;
    this.changed();
  }

  writeElcr(value: number): void {
    const s = this.s;
    s.elcr = value & this.elcrMask;
    // Inputs that became level triggered request while their line is high.
    const level = this.levelMask();
    s.irr = (s.irr & ~level) | (s.lines & level);
    this.changed();
  }
}

// ---- The pair ------------------------------------------------------------------------------------

/** The cascaded master/slave 8259A pair of a PC, with its ELCR. */
export class Pic8259Pair implements InterruptController, Persistent<Pic8259State> {
  /** Master chip's two ports (place at 0x20). */
  readonly master: PortDevice;
  /** Slave chip's two ports (place at 0xA0). */
  readonly slave: PortDevice;
  /** ELCR1/ELCR2 (place at 0x4D0, two ports). */
  readonly elcr: PortDevice;

  private readonly chips: [Chip, Chip];
  private intr = false;
  private readonly onIntrChange: (level: boolean) => void;

  constructor(config: Pic8259Config = {}) {
    this.onIntrChange = config.onIntrChange ?? (() => {});
    const masterChip = new Chip(true, ELCR_MASK_MASTER, () => this.updateIntr());
    const slaveChip = new Chip(false, ELCR_MASK_SLAVE, () => this.updateCascade());
    this.chips = [masterChip, slaveChip];
    this.master = chipPorts('pic-master', masterChip);
    this.slave = chipPorts('pic-slave', slaveChip);
    this.elcr = {
      name: 'pic-elcr',
      ioRead: (port: number) => this.chips[port & 1].s.elcr,
      ioWrite: (port: number, _size: IoSize, value: number) => this.chips[port & 1].writeElcr(value & 0xff),
    };
  }

  /** The IrqLine into input `irq` (0-7 master, 8-15 slave; input 2 is the cascade). */
  input(irq: number): IrqLine {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15 || irq === CASCADE_IR) throw new RangeError(`8259 input ${irq} cannot be wired (0-15 except the cascade input 2)`);
    return { set: (level: boolean) => this.setIrq(irq, level) };
  }

  /** Drives input `irq` (0-15) to `level`. */
  setIrq(irq: number, level: boolean): void {
    this.chips[irq >> 3].setLine(irq & 7, level);
  }

  /** True while the master asserts INT to the CPU. */
  hasInterrupt(): boolean {
    return this.intr;
  }

  /** The INTA cycle: the vector of the highest-priority request, moved into service. */
  acknowledge(): number {
    const [master, slave] = this.chips;
    const ir = master.pending();
    if (ir === NO_IRQ) return master.s.vectorBase + SPURIOUS_IR;
    let vector: number;
    if (ir === CASCADE_IR) {
      const slaveIr = slave.pending();
      if (slaveIr === NO_IRQ) {
        vector = slave.s.vectorBase + SPURIOUS_IR;
      } else {
        vector = slave.s.vectorBase + slaveIr;
        slave.acknowledge(slaveIr);
      }
    } else {
      vector = master.s.vectorBase + ir;
    }
    master.acknowledge(ir);
    return vector;
  }

  /**
   * The vector acknowledge() would return now, without changing anything, when that INTA cycle is
   * plain: a request is presented, both chips end interrupts with an EOI (no automatic EOI), and
   * neither special mask nor special fully nested mode is on, so that once acknowledged the request
   * is in service and INTR falls. Otherwise -1. The hypervisor uses it to let a pCPU inject the
   * interrupt of a VCPU it switches to by itself, and replays the real cycle later
   * (docs/architecture.md, "Halt decisions").
   */
  peekAcknowledge(): number {
    const [master, slave] = this.chips;
    if (!this.intr) return -1;
    for (const chip of this.chips) if (chip.autoEoi() || chip.s.specialMask || chip.specialFullyNested()) return -1;
    const ir = master.pending();
    if (ir === NO_IRQ) return -1;
    if (ir !== CASCADE_IR) return master.s.vectorBase + ir;
    const slaveIr = slave.pending();
    return slaveIr === NO_IRQ ? -1 : slave.s.vectorBase + slaveIr;
  }

  /**
   * For a timer tick a pCPU takes by itself (docs/architecture.md, "Timer interrupts on the pCPU"):
   * the vector an edge on IRQ 0 would be acknowledged with once IRQ 0 is out of service, or -1 if
   * that cannot be told now. It can when the pair is in plain EOI mode (no automatic EOI, special
   * mask or special fully nested mode, both chips initialised, no poll pending), IRQ 0 is edge
   * triggered and unmasked, nothing else requests service (INTR low) and nothing but IRQ 0 is in
   * service: then the edge latches IRR 0, the INTA cycle moves it into service, and a non-specific
   * EOI (or a specific EOI of level 0) brings the pair back to this state. irq0InService() tells
   * whether that EOI is still owed. Changes nothing.
   */
  timerTickVector(): number {
    const [master, slave] = this.chips;
    if (this.intr) return -1;
    for (const chip of this.chips) {
      const s = chip.s;
      if (chip.autoEoi() || s.specialMask || chip.specialFullyNested() || s.initStep !== InitStep.Ready || s.poll) return -1;
    }
    const m = master.s;
    const irq0 = 1 << 0;
    if ((master.levelMask() & irq0) !== 0 || (m.imr & irq0) !== 0 || (m.irr & irq0) !== 0) return -1;
    if ((m.irr & ~m.imr) !== 0 || (m.isr & ~irq0) !== 0 || slave.s.isr !== 0) return -1;
    return m.vectorBase;
  }

  /** True while IRQ 0 is in service on the master (its EOI is owed). */
  irq0InService(): boolean {
    return (this.chips[0].s.isr & 1) !== 0;
  }

  /** The vectors bases programmed by ICW2 (for debug output): [master, slave]. */
  vectorBases(): [number, number] {
    return [this.chips[0].s.vectorBase, this.chips[1].s.vectorBase];
  }

  /** Power-on state: both chips uninitialised, ELCR all edge. Input levels are kept. */
  reset(): void {
    for (const chip of this.chips) {
      const lines = chip.s.lines;
      chip.s = resetChip(0);
      chip.s.lines = lines;
    }
    this.updateCascade();
  }

  saveState(): Pic8259State {
    return { version: 1, master: { ...this.chips[0].s }, slave: { ...this.chips[1].s } };
  }

  loadState(state: Pic8259State): void {
    requireStateVersion(state, 1, 'the 8259 interrupt controllers');
    for (const [i, saved] of [state.master, state.slave].entries()) {
      requireSaved(typeof saved === 'object' && saved !== null && Number.isInteger(saved.irr), 'the 8259 interrupt controllers', i ? 'slave' : 'master');
      this.chips[i].s = { ...saved };
    }
    this.updateCascade();
  }

  private updateCascade(): void {
    const [master, slave] = this.chips;
    const slaveInt = slave.pending() !== NO_IRQ;
    if (((master.s.lines >> CASCADE_IR) & 1) !== (slaveInt ? 1 : 0)) master.setLine(CASCADE_IR, slaveInt);
    else this.updateIntr();
  }

  private updateIntr(): void {
    const level = this.chips[0].pending() !== NO_IRQ;
    if (level === this.intr) return;
    this.intr = level;
    this.onIntrChange(level);
  }
}

function chipPorts(name: string, chip: Chip): PortDevice {
  return {
    name,
    ioRead: (port: number) => chip.read(port & 1),
    ioWrite: (port: number, _size: IoSize, value: number) => chip.write(port & 1, value & 0xff),
  };
}
