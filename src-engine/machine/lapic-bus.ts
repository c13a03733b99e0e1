/**
 * The APIC bus of one domain, on the hypervisor thread: delivers interrupt messages (IPIs that a
 * pCPU forwards as LapicIpi data, IOAPIC redirection messages, the 8259's INTR on LINT0) to the
 * local APIC regions of the domain's VCPUs, and turns local APIC timer expirations into
 * interrupts.
 *
 * References: Intel SDM Vol. 3A 10.6.2 (destination modes: physical, logical flat and cluster,
 * broadcast 0xFF), 10.6.1 Table 10-3 (shorthands self / all including self / all excluding self),
 * 10.6.2.4 (lowest priority delivery: the APIC with the lowest processor priority wins), 10.5.1
 * (LINT0/LINT1 delivery modes), 8.4.4 (INIT/SIPI).
 *
 * Design. Nothing here runs guest code or touches a CPU state block: a message becomes words in
 * the target's local APIC region (IRR/TMR, pending NMI, pending INIT/SIPI, LINT levels) and a
 * `kick(vcpu)`, after which the runtime wakes the VCPU if it is blocked (HLT, wait-for-SIPI) or
 * sets ATTN_EVENT on the pCPU running it; that pCPU then re-evaluates lapicHasInterrupt, takes
 * NMIs (lapicTakeNmis) and applies INIT/SIPI (lapicApplyStartup).
 * SMI messages are dropped (no SMM). A hardware-disabled local APIC receives nothing.
 *
 * Concurrency: see lapic-regs.ts. Every word this class writes in a region is either written with
 * Atomics by both sides (IRR, TMR, ESR pending, NMI pending, startup, ExtINT request) or owned
 * by the hypervisor thread (LINT levels, timer fired count).
 */
import type { TimedDevice } from './device';
import {
  LINT0_LEVEL, LINT1_LEVEL, lapicAcceptVector, lapicHardwareEnabled, lapicHasInterrupt, lapicPpr,
} from './lapic-core';
import type { LapicIpi } from './lapic';
import {
  APIC_BROADCAST, APIC_ID_SHIFT, DELIVERY_MODE_MASK, DELIVERY_MODE_SHIFT, DFR_MODEL_FLAT, DM_EXTINT, DM_FIXED, DM_INIT,
  DM_LOWEST_PRIORITY, DM_NMI, DM_STARTUP, ICR_DEST_LOGICAL, ICR_DEST_SHIFT, ICR_LEVEL_ASSERT, ICR_SHORTHAND_MASK,
  ICR_SHORTHAND_SHIFT, LVT_MASKED, SHORTHAND_ALL_EXCLUDING_SELF, SHORTHAND_ALL_INCLUDING_SELF, SHORTHAND_SELF,
  STARTUP_INIT, STARTUP_SIPI, TRIGGER_LEVEL, VECTOR_MASK, W_DFR, W_EXTINT_REQ, W_ID, W_LDR, W_LINT_LEVELS,
  W_LVT_LINT0, W_LVT_LINT1, W_NMI_PENDING, W_STARTUP, W_TIMER_SEQ,
} from './lapic-regs';
import { lapicTimerService, newTimerParams, type LapicTimerTick } from './lapic-timer';

/** DFR bits 31-28: the logical destination model. */
const DFR_MODEL_SHIFT = 28;
/** Cluster model: bits 7-4 of a logical destination / LDR name the cluster, 3-0 the members. */
const CLUSTER_SHIFT = 4;
const CLUSTER_MEMBERS = 0x0f;

/** An interrupt message on the APIC bus (IOAPIC redirection entry, MSI, decoded IPI). */
export interface ApicMessage {
  vector: number;
  /** DM_FIXED, DM_LOWEST_PRIORITY, DM_SMI, DM_NMI, DM_INIT, DM_STARTUP or DM_EXTINT. */
  deliveryMode: number;
  /** Logical (true) or physical destination mode. */
  logical: boolean;
  /** Destination field (8 bits). */
  dest: number;
  /** Level-triggered (sets TMR, so the EOI is broadcast back to the IOAPIC). */
  level: boolean;
}

/** What the APIC bus needs from the runtime. */
export interface LapicBusConfig {
  /** The local APIC regions of the domain's VCPUs, by VCPU index. */
  regions: readonly Int32Array[];
  /** Something arrived for VCPU `vcpu`: wake it if blocked, poke its pCPU if running. */
  kick: (vcpu: number) => void;
}

/** The domain's APIC bus. */
export class LapicBus implements TimedDevice {
  readonly regions: readonly Int32Array[];
  private readonly kick: (vcpu: number) => void;
  private readonly scratch = newTimerParams();
  private readonly tickOut: LapicTimerTick = { fired: false, next: Infinity };
  private readonly acceptEdge = (r: Int32Array, vector: number) => void lapicAcceptVector(r, vector, false);
  /** Per region, the timer seqlock value the last `tick` saw (a change means a reprogrammed timer). */
  private readonly seenTimerSeq: Int32Array;

  constructor(config: LapicBusConfig) {
    this.regions = config.regions;
    this.kick = config.kick;
    this.seenTimerSeq = new Int32Array(config.regions.length).fill(-1);
  }

  /**
   * True if a pCPU reprogrammed some local APIC timer since the last `tick` (the platform's
   * `timersChanged` includes this, so the hypervisor re-reads the deadlines).
   */
  timersMoved(): boolean {
    for (let v = 0; v < this.regions.length; v++) {
      if (Atomics.load(this.regions[v], W_TIMER_SEQ) !== this.seenTimerSeq[v]) return true;
    }
    return false;
  }

  /** True if VCPU `vcpu`'s local APIC has a maskable interrupt for the CPU (HLT wake-up test). */
  hasInterrupt(vcpu: number): boolean {
    return lapicHasInterrupt(this.regions[vcpu]);
  }

  /** Delivers an IPI a pCPU forwarded (LAPIC_EFFECT_IPI): decodes the ICR, applies shorthands. */
  deliverIpi(ipi: LapicIpi): void {
    const low = ipi.icrLow;
    const mode = (low >>> DELIVERY_MODE_SHIFT) & DELIVERY_MODE_MASK;
    if (mode === DM_INIT && (low & ICR_LEVEL_ASSERT) === 0 && (low & TRIGGER_LEVEL) !== 0) return; // INIT de-assert
    const msg: ApicMessage = {
      vector: low & VECTOR_MASK,
      deliveryMode: mode,
      logical: (low & ICR_DEST_LOGICAL) !== 0,
      dest: (ipi.icrHigh >>> ICR_DEST_SHIFT) & VECTOR_MASK,
      level: (low & TRIGGER_LEVEL) !== 0,
    };
    const shorthand = (low >>> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK;
    let targets: number[];
    if (shorthand === SHORTHAND_SELF) targets = [ipi.source];
    else if (shorthand === SHORTHAND_ALL_INCLUDING_SELF) targets = this.enabledVcpus(() => true);
    else if (shorthand === SHORTHAND_ALL_EXCLUDING_SELF) targets = this.enabledVcpus((v) => v !== ipi.source);
    else targets = this.destinations(msg.dest, msg.logical);
    this.deliverTo(targets, msg);
  }

  /** Delivers a message addressed by destination field (IOAPIC, MSI). */
  deliverMessage(msg: ApicMessage): void {
    this.deliverTo(this.destinations(msg.dest & VECTOR_MASK, msg.logical), msg);
  }

  /**
   * Drives LINT0 (`pin` 0: the 8259's INTR, wired to every local APIC as on a PC) or LINT1
   * (`pin` 1: the NMI line) to `level`, acting per VCPU on the LVT entry's delivery mode.
   */
  setLint(pin: 0 | 1, level: boolean): void {
    const bit = pin === 0 ? LINT0_LEVEL : LINT1_LEVEL;
    for (let v = 0; v < this.regions.length; v++) {
      const r = this.regions[v];
      const was = (Atomics.load(r, W_LINT_LEVELS) & bit) !== 0;
      if (level) Atomics.or(r, W_LINT_LEVELS, bit);
      else Atomics.and(r, W_LINT_LEVELS, ~bit);
      if (was === level) continue;
      const rising = level;
      if (!lapicHardwareEnabled(r)) {
        // Without an APIC, LINT0 is the INTR pin and LINT1 the NMI pin.
        if (pin === 1 && rising) Atomics.add(r, W_NMI_PENDING, 1);
        this.kick(v);
        continue;
      }
      const lvt = Atomics.load(r, pin === 0 ? W_LVT_LINT0 : W_LVT_LINT1);
      if ((lvt & LVT_MASKED) !== 0) continue;
      const mode = (lvt >>> DELIVERY_MODE_SHIFT) & DELIVERY_MODE_MASK;
      if (mode === DM_EXTINT) this.kick(v); // the CPU re-evaluates lapicExtIntPending
      else if (rising && mode === DM_NMI) this.deliverTo([v], { vector: 0, deliveryMode: DM_NMI, logical: false, dest: 0, level: false });
      else if (rising && mode === DM_FIXED) this.deliverTo([v], { vector: lvt & VECTOR_MASK, deliveryMode: DM_FIXED, logical: false, dest: 0, level: (lvt & TRIGGER_LEVEL) !== 0 });
    }
  }

  /** Local APIC timers: raises due timer interrupts, returns the earliest next expiry (ns). */
  tick(now: number): number {
    let next = Infinity;
    for (let v = 0; v < this.regions.length; v++) {
      this.seenTimerSeq[v] = Atomics.load(this.regions[v], W_TIMER_SEQ);
      const t = lapicTimerService(this.regions[v], now, this.scratch, this.acceptEdge, this.tickOut);
      if (t.fired) this.kick(v);
      if (t.next < next) next = t.next;
    }
    return next;
  }

  /** VCPUs whose local APIC matches `dest` in the given destination mode (SDM 10.6.2). */
  destinations(dest: number, logical: boolean): number[] {
    return this.enabledVcpus((v) => {
      const r = this.regions[v];
      if (dest === APIC_BROADCAST) return true;
      if (!logical) return Atomics.load(r, W_ID) >>> APIC_ID_SHIFT === dest;
      const ldr = Atomics.load(r, W_LDR) >>> APIC_ID_SHIFT;
      if (Atomics.load(r, W_DFR) >>> DFR_MODEL_SHIFT === DFR_MODEL_FLAT) return (ldr & dest) !== 0;
      return dest >>> CLUSTER_SHIFT === ldr >>> CLUSTER_SHIFT && (dest & ldr & CLUSTER_MEMBERS) !== 0;
    });
  }

  private enabledVcpus(pick: (v: number) => boolean): number[] {
    const out: number[] = [];
    for (let v = 0; v < this.regions.length; v++) if (lapicHardwareEnabled(this.regions[v]) && pick(v)) out.push(v);
    return out;
  }

  private deliverTo(targets: number[], msg: ApicMessage): void {
    if (targets.length === 0) return;
    if (msg.deliveryMode === DM_LOWEST_PRIORITY) targets = [this.lowestPriority(targets)];
    for (const v of targets) {
      const r = this.regions[v];
      switch (msg.deliveryMode) {
        case DM_FIXED:
        case DM_LOWEST_PRIORITY:
          if (!lapicAcceptVector(r, msg.vector, msg.level)) continue;
          break;
        case DM_NMI:
          Atomics.add(r, W_NMI_PENDING, 1);
          break;
        case DM_INIT:
          Atomics.store(r, W_STARTUP, STARTUP_INIT); // drops a SIPI not yet taken
          break;
        case DM_STARTUP:
          updateStartup(r, msg.vector);
          break;
        case DM_EXTINT:
          Atomics.store(r, W_EXTINT_REQ, 1);
          break;
        default:
          continue; // SMI (no SMM) and the reserved modes
      }
      this.kick(v);
    }
  }

  /** Lowest-priority arbitration: the target with the lowest PPR (the first on a tie). */
  private lowestPriority(targets: number[]): number {
    let best = targets[0];
    let bestPpr = lapicPpr(this.regions[best]);
    for (const v of targets) {
      const ppr = lapicPpr(this.regions[v]);
      if (ppr < bestPpr) {
        best = v;
        bestPpr = ppr;
      }
    }
    return best;
  }
}

/** Records a SIPI (keeping a pending INIT, replacing an older SIPI's vector). */
function updateStartup(r: Int32Array, vector: number): void {
  for (;;) {
    const old = Atomics.load(r, W_STARTUP);
    const next = (old & STARTUP_INIT) | STARTUP_SIPI | (vector & VECTOR_MASK);
    if (Atomics.compareExchange(r, W_STARTUP, old, next) === old) return;
  }
}
