/**
 * The local APIC's registers and the shared-memory region that holds one VCPU's local APIC.
 *
 * References:
 * - Intel SDM Vol. 3A ch. 10 (11 in newer editions) "Advanced Programmable Interrupt Controller":
 *   Table 10-1 register address map, 10.4.4 IA32_APIC_BASE, 10.4.7 power-up/INIT state,
 *   10.5.1 LVT layout, 10.5.4 timer, 10.6.1 ICR, 10.8 IRR/ISR/TMR, TPR/PPR, EOI, 10.9 SVR.
 * - QEMU hw/intc/apic.c for what guests observe (version 0x14, six LVT entries).
 *
 * Design. The whole register state of one local APIC lives in an Int32Array of
 * LAPIC_REGION_WORDS words inside a SharedArrayBuffer that the runtime allocates, so the pCPU
 * running the VCPU and the hypervisor thread both operate on it without a VM exit. Words 0-63 are
 * the xAPIC registers at their MMIO offset / 16 (register at 0x320 is word 0x32), holding the
 * value a read returns, except the computed ones (PPR, current count) and EOI (write-only).
 * Words 64 and up are hidden state: the APIC base MSR, timer bookkeeping, pending INIT/SIPI/NMI,
 * LINT input levels.
 *
 * Concurrency (who writes which word; everything else is read by the other side only):
 * - pCPU running the VCPU (plain stores unless noted): ID, TPR, LDR, DFR, SVR, ISR, ESR, LVTs, ICR,
 *   timer initial count and divide, APIC base MSR, the timer parameter block under the seqlock
 *   W_TIMER_SEQ (odd while writing), W_TIMER_LOADS.
 * - Both sides with Atomics: IRR and TMR (hypervisor sets with Atomics.or/and when it accepts an
 *   interrupt, the pCPU clears IRR with Atomics.and when the CPU takes the interrupt, or sets it for
 *   a self IPI), W_ESR_PENDING (Atomics.or; the pCPU folds it into ESR), W_NMI_PENDING
 *   (Atomics.add by the sender, Atomics.exchange by the pCPU), W_STARTUP (compareExchange by the
 *   hypervisor, exchange by the pCPU), W_EXTINT_REQ (store 1 / exchange 0).
 * - Hypervisor thread only: W_FIRED_LOADS, W_FIRED_COUNT (which timer expirations it has
 *   delivered), W_LINT_LEVELS (the LINT0/LINT1 input levels: the 8259's INTR and the NMI line).
 * - Restore (loadLapicState) and reset run while no pCPU runs the VCPU.
 */

// ---- Register offsets (SDM Table 10-1) ------------------------------------------------------------

/** Local APIC ID register (bits 31-24). */
export const APIC_ID = 0x020;
/** Local APIC version register. */
export const APIC_VERSION = 0x030;
/** Task priority register. */
export const APIC_TPR = 0x080;
/** Arbitration priority register (reads 0 here: arbitration is not modelled). */
export const APIC_APR = 0x090;
/** Processor priority register (computed). */
export const APIC_PPR = 0x0a0;
/** End-of-interrupt register (write-only). */
export const APIC_EOI = 0x0b0;
/** Remote read register (remote reads are not supported on P6+; reads 0). */
export const APIC_RRD = 0x0c0;
/** Logical destination register (bits 31-24). */
export const APIC_LDR = 0x0d0;
/** Destination format register (bits 31-28: 1111 flat, 0000 cluster). */
export const APIC_DFR = 0x0e0;
/** Spurious interrupt vector register. */
export const APIC_SVR = 0x0f0;
/** In-service register, eight words of 32 bits at 0x100-0x170. */
export const APIC_ISR = 0x100;
/** Trigger mode register at 0x180-0x1F0 (1 = level). */
export const APIC_TMR = 0x180;
/** Interrupt request register at 0x200-0x270. */
export const APIC_IRR = 0x200;
/** Error status register. */
export const APIC_ESR = 0x280;
/** LVT corrected machine check interrupt (not implemented: six LVT entries, as QEMU). */
export const APIC_LVT_CMCI = 0x2f0;
/** Interrupt command register, low half (writing it sends the IPI). */
export const APIC_ICR_LOW = 0x300;
/** Interrupt command register, high half (destination field). */
export const APIC_ICR_HIGH = 0x310;
// LVT entries.
/** LVT timer entry. */
export const APIC_LVT_TIMER = 0x320;
/** LVT thermal sensor entry. */
export const APIC_LVT_THERMAL = 0x330;
/** LVT performance monitoring counter entry. */
export const APIC_LVT_PERF = 0x340;
/** LVT LINT0 entry (the 8259 INTR on a PC). */
export const APIC_LVT_LINT0 = 0x350;
/** LVT LINT1 entry (the NMI line on a PC). */
export const APIC_LVT_LINT1 = 0x360;
/** LVT error entry. */
export const APIC_LVT_ERROR = 0x370;
/** Timer initial count register. */
export const APIC_TIMER_INITIAL = 0x380;
/** Timer current count register (read-only, computed). */
export const APIC_TIMER_CURRENT = 0x390;
/** Timer divide configuration register. */
export const APIC_TIMER_DIVIDE = 0x3e0;
/** Size of the local APIC's MMIO page. */
export const APIC_PAGE_BYTES = 0x1000;
/** Registers sit on 16-byte boundaries; the other 12 bytes of each slot are reserved. */
export const APIC_REG_STRIDE = 16;

// ---- Register values and fields -------------------------------------------------------------------

/** Version register: version 0x14 (integrated xAPIC), max LVT entry 5 (bits 23-16). */
export const APIC_VERSION_VALUE = 0x00050014;
/** ID and LDR keep their value in bits 31-24. */
export const APIC_ID_SHIFT = 24;
/** DFR bits 31-28: the logical destination model. */
export const DFR_MODEL_MASK = 0xf0000000 | 0;
/** DFR bits 27-0: reserved, read as ones. */
export const DFR_RESERVED_ONES = 0x0fffffff;
/** DFR model: flat. */
export const DFR_MODEL_FLAT = 0xf;
/** DFR model: cluster. */
export const DFR_MODEL_CLUSTER = 0x0;
/** SVR bit 8: APIC software enable. */
export const SVR_APIC_ENABLED = 0x100;
/** SVR writable bits: spurious vector 7-0, software enable 8, focus processor checking 9. */
export const SVR_WRITABLE = 0x3ff;
/** SVR after power-up or INIT: vector 0xFF, software disabled. */
export const SVR_RESET = 0xff;
/** A vector field (bits 7-0) of an LVT entry, the ICR, the SVR. */
export const VECTOR_MASK = 0xff;
/** Vectors 0-15 are reserved: an APIC refuses them (ESR "illegal vector"). */
export const FIRST_LEGAL_VECTOR = 16;

/** LVT bit 16: masked. */
export const LVT_MASKED = 0x10000;
/** LVT bit 12: delivery status (read-only; always idle here). */
export const LVT_DELIVERY_PENDING = 0x1000;
/** Position of the delivery mode field (bits 10-8) in an LVT entry or the ICR. */
export const DELIVERY_MODE_SHIFT = 8;
/** Width mask of the delivery mode field. */
export const DELIVERY_MODE_MASK = 0x7;
/** LVT LINT bit 13: input pin polarity (1 = active low). */
export const LVT_POLARITY_LOW = 0x2000;
/** LVT LINT bit 14: remote IRR (read-only). */
export const LVT_REMOTE_IRR = 0x4000;
/** LVT LINT / ICR bit 15: trigger mode (1 = level). */
export const TRIGGER_LEVEL = 0x8000;
/** Position of the LVT timer mode field (bits 18-17). */
export const LVT_TIMER_MODE_SHIFT = 17;
/** Width mask of the timer mode field. */
export const LVT_TIMER_MODE_MASK = 0x3;
// Timer modes.
/** Timer mode 00: one-shot. */
export const TIMER_MODE_ONE_SHOT = 0;
/** Timer mode 01: periodic. */
export const TIMER_MODE_PERIODIC = 1;
/** Timer mode 10: TSC-deadline. */
export const TIMER_MODE_TSC_DEADLINE = 2;
/** Bits software may write in each LVT entry (the rest read as 0 or are read-only). */
export const LVT_TIMER_WRITABLE = VECTOR_MASK | LVT_MASKED | (1 << LVT_TIMER_MODE_SHIFT);
/** The TSC-deadline bit (18) of the timer mode, writable only when TSC-deadline is advertised. */
export const LVT_TIMER_TSC_DEADLINE_BIT = 1 << (LVT_TIMER_MODE_SHIFT + 1);
/** Writable bits of the thermal and performance LVT entries: vector, delivery mode, mask. */
export const LVT_LOCAL_WRITABLE = VECTOR_MASK | (DELIVERY_MODE_MASK << DELIVERY_MODE_SHIFT) | LVT_MASKED;
/** Writable bits of the LINT0/LINT1 entries: vector, delivery mode, polarity, trigger, mask. */
export const LVT_LINT_WRITABLE = LVT_LOCAL_WRITABLE | LVT_POLARITY_LOW | TRIGGER_LEVEL;
/** Writable bits of the LVT error entry: vector, mask. */
export const LVT_ERROR_WRITABLE = VECTOR_MASK | LVT_MASKED;

// Delivery modes (ICR, LVT, IOAPIC redirection entries, MSI): SDM 10.6.1.
/** Delivery mode 000: fixed (the vector goes to IRR). */
export const DM_FIXED = 0;
/** Delivery mode 001: lowest priority among the destinations. */
export const DM_LOWEST_PRIORITY = 1;
/** Delivery mode 010: SMI (dropped here: no SMM). */
export const DM_SMI = 2;
/** Delivery mode 100: NMI. */
export const DM_NMI = 4;
/** Delivery mode 101: INIT. */
export const DM_INIT = 5;
/** Delivery mode 110: start-up IPI (SIPI). */
export const DM_STARTUP = 6;
/** Delivery mode 111: ExtINT (the 8259 answers the INTA cycle). */
export const DM_EXTINT = 7;

/** ICR bit 11: destination mode (1 = logical). */
export const ICR_DEST_LOGICAL = 0x800;
/** ICR bit 14: level (0 = de-assert, meaningful for INIT only). */
export const ICR_LEVEL_ASSERT = 0x4000;
/** Position of the ICR destination shorthand field (bits 19-18). */
export const ICR_SHORTHAND_SHIFT = 18;
/** Width mask of the shorthand field. */
export const ICR_SHORTHAND_MASK = 0x3;
/** Shorthand 00: the destination field decides. */
export const SHORTHAND_NONE = 0;
/** Shorthand 01: the sender only. */
export const SHORTHAND_SELF = 1;
/** Shorthand 10: every local APIC, the sender included. */
export const SHORTHAND_ALL_INCLUDING_SELF = 2;
/** Shorthand 11: every local APIC but the sender. */
export const SHORTHAND_ALL_EXCLUDING_SELF = 3;
/** ICR low bits software may write: vector, mode, dest mode, level, trigger, shorthand. */
export const ICR_LOW_WRITABLE = 0x000ccfff;
/** ICR high: destination field in bits 31-24. */
export const ICR_DEST_SHIFT = 24;
/** A destination of 0xFF: broadcast (physical), all (flat logical), all clusters (cluster). */
export const APIC_BROADCAST = 0xff;

// ESR bits (SDM 10.5.3).
/** ESR bit 5: an IPI with a vector below 16 was sent. */
export const ESR_SEND_ILLEGAL_VECTOR = 0x20;
/** ESR bit 6: an interrupt with a vector below 16 was received. */
export const ESR_RECEIVE_ILLEGAL_VECTOR = 0x40;
/** ESR bit 7: a reserved register was accessed. */
export const ESR_ILLEGAL_REGISTER = 0x80;

/** Divide configuration register: bits 0, 1 and 3 are the divider code. */
export const TIMER_DIVIDE_WRITABLE = 0xb;

// ---- IA32_APIC_BASE (MSR 0x1B) ------------------------------------------------------------------

/** MSR index of IA32_APIC_BASE. */
export const MSR_IA32_APIC_BASE = 0x1b;
/** MSR index of IA32_TSC_DEADLINE. */
export const MSR_IA32_TSC_DEADLINE = 0x6e0;
/** First MSR of the x2APIC range (x2APIC is not advertised: every access raises #GP). */
export const MSR_X2APIC_FIRST = 0x800;
/** Last MSR of the x2APIC range. */
export const MSR_X2APIC_LAST = 0x8ff;
/** APIC base bit 8: this is the bootstrap processor (read-only). */
export const APIC_BASE_BSP = 0x100;
/** APIC base bit 10: x2APIC mode (reserved here). */
export const APIC_BASE_EXTD = 0x400;
/** APIC base bit 11: APIC global enable. */
export const APIC_BASE_ENABLE = 0x800;
/** APIC base bits 31-12: the page of the MMIO registers. */
export const APIC_BASE_ADDR_MASK = 0xfffff000 | 0;
/** Default MMIO base of every local APIC. */
export const APIC_DEFAULT_BASE = 0xfee00000;

// ---- Region layout --------------------------------------------------------------------------------

/** Word of the register at MMIO offset `offset` (a multiple of 16 below 0x400). */
export function regWord(offset: number): number {
  return offset >>> 4;
}

// Words 0-63 mirror the registers at offset / 16.
/** Region word of the local APIC ID register. */
export const W_ID = APIC_ID >>> 4;
/** Region word of the task priority register. */
export const W_TPR = APIC_TPR >>> 4;
/** Region word of the logical destination register. */
export const W_LDR = APIC_LDR >>> 4;
/** Region word of the destination format register. */
export const W_DFR = APIC_DFR >>> 4;
/** Region word of the spurious interrupt vector register. */
export const W_SVR = APIC_SVR >>> 4;
/** First of the eight region words of ISR. */
export const W_ISR = APIC_ISR >>> 4;
/** First of the eight region words of TMR. */
export const W_TMR = APIC_TMR >>> 4;
/** First of the eight region words of IRR. */
export const W_IRR = APIC_IRR >>> 4;
/** Region word of the error status register (latched value). */
export const W_ESR = APIC_ESR >>> 4;
/** Region word of ICR bits 31-0. */
export const W_ICR_LOW = APIC_ICR_LOW >>> 4;
/** Region word of ICR bits 63-32. */
export const W_ICR_HIGH = APIC_ICR_HIGH >>> 4;
/** Region word of the LVT timer entry. */
export const W_LVT_TIMER = APIC_LVT_TIMER >>> 4;
/** Region word of the LVT thermal entry. */
export const W_LVT_THERMAL = APIC_LVT_THERMAL >>> 4;
/** Region word of the LVT performance counter entry. */
export const W_LVT_PERF = APIC_LVT_PERF >>> 4;
/** Region word of the LVT LINT0 entry. */
export const W_LVT_LINT0 = APIC_LVT_LINT0 >>> 4;
/** Region word of the LVT LINT1 entry. */
export const W_LVT_LINT1 = APIC_LVT_LINT1 >>> 4;
/** Region word of the LVT error entry. */
export const W_LVT_ERROR = APIC_LVT_ERROR >>> 4;
/** Region word of the timer initial count. */
export const W_TIMER_INITIAL = APIC_TIMER_INITIAL >>> 4;
/** Region word of the timer divide configuration. */
export const W_TIMER_DIVIDE = APIC_TIMER_DIVIDE >>> 4;
/** Number of 32-bit words in each of ISR, TMR, IRR (256 vectors). */
export const VECTOR_WORDS = 8;
/** Words of the register file proper (offsets 0x000-0x3F0). */
export const REGISTER_WORDS = 64;

/** IA32_APIC_BASE bits 31-0 (pCPU). */
export const W_APIC_BASE_LO = 64;
/** IA32_APIC_BASE bits 63-32 (pCPU). */
export const W_APIC_BASE_HI = 65;
/** Features fixed at creation: bit 0 = TSC-deadline timer mode advertised. */
export const W_FEATURES = 66;
/** W_FEATURES bit 0: the TSC-deadline timer mode is advertised. */
export const FEATURE_TSC_DEADLINE = 1;
/** Timer seqlock: odd while the pCPU rewrites the timer parameter block. */
export const W_TIMER_SEQ = 67;
/** Timer load generation: bumped at every count load, TSC deadline write, disarm (pCPU). */
export const W_TIMER_LOADS = 68;
/** VCPU index of this local APIC (set at creation; diagnostics and shorthands). */
export const W_VCPU = 69;
/** Float64 word pairs (low word unsigned, high word): when the count was loaded (ns). */
export const W_TIMER_START = 70;
/** TSC-deadline mode: the deadline in engine ns, a word pair (0 = disarmed). */
export const W_TSC_DEADLINE_NS = 72;
/** TSC-deadline mode: the TSC value the guest wrote, a word pair (RDMSR returns it). */
export const W_TSC_DEADLINE_TSC = 74;
/** Hypervisor only: the timer load generation W_FIRED_COUNT counts for. */
export const W_FIRED_LOADS = 76;
/** Hypervisor only: expirations of that countdown turned into interrupts, a word pair. */
export const W_FIRED_COUNT = 78;
/** Pending INIT (STARTUP_INIT) and SIPI (STARTUP_SIPI | vector). */
export const W_STARTUP = 80;
/** W_STARTUP bit: an INIT waits. */
export const STARTUP_INIT = 0x10000;
/** W_STARTUP bit: a SIPI waits; bits 7-0 hold its vector. */
export const STARTUP_SIPI = 0x20000;
/** NMIs sent to this VCPU and not yet taken. */
export const W_NMI_PENDING = 81;
/** LINT input levels as the platform drives them: bit 0 LINT0 (8259 INTR), bit 1 LINT1. */
export const W_LINT_LEVELS = 82;
/** An ExtINT message (IOAPIC pin in ExtINT mode) waits for the INTA cycle: 1. */
export const W_EXTINT_REQ = 83;
/** Errors detected and not yet latched into ESR (Atomics.or). */
export const W_ESR_PENDING = 84;

/** Words in one local APIC region (room to grow: the layout uses 85). */
export const LAPIC_REGION_WORDS = 128;
/** Bytes in one local APIC region. */
export const LAPIC_REGION_BYTES = LAPIC_REGION_WORDS * 4;

const TWO32 = 4294967296;

/** Reads a float64 kept as a (low unsigned, high signed) word pair at `w` (Atomics loads). */
export function getPair(r: Int32Array, w: number): number {
  return (Atomics.load(r, w) >>> 0) + Atomics.load(r, w + 1) * TWO32;
}

/** Writes an integer-valued float64 (|v| < 2^53) as a word pair at `w` (Atomics stores). */
export function putPair(r: Int32Array, w: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  Atomics.store(r, w, (v - hi * TWO32) | 0);
  Atomics.store(r, w + 1, hi);
}

/** The regions of `count` local APICs laid out back to back in `buffer` from byte `offset`. */
export function lapicRegions(buffer: SharedArrayBuffer, count: number, offset = 0): Int32Array[] {
  const regions: Int32Array[] = [];
  for (let v = 0; v < count; v++) regions.push(new Int32Array(buffer, offset + v * LAPIC_REGION_BYTES, LAPIC_REGION_WORDS));
  return regions;
}

/** Bytes the runtime must allocate for `count` local APICs. */
export function lapicRegionsBytes(count: number): number {
  return count * LAPIC_REGION_BYTES;
}
