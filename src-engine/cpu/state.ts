/**
 * The architectural state of one VCPU, laid out in an Int32Array so it can live in shared memory:
 * any pCPU worker can run any VCPU by binding a Cpu to the VCPU's state block. Everything a
 * context switch must carry is here; the Cpu object itself only caches derived data (TLB,
 * decoded blocks, CPL-dependent views) that is rebuilt when a VCPU moves between workers.
 */

/** Bytes of one VCPU state block (Int32 words 0..511; x87/SSE registers from word 256). */
export const STATE_BYTES = 2048;

// General registers in x86 encoding order; REG_ZERO always reads 0 (addressing without base/index).
export const EAX = 0;
export const ECX = 1;
export const EDX = 2;
export const EBX = 3;
export const ESP = 4;
export const EBP = 5;
export const ESI = 6;
export const EDI = 7;
/** A register slot that is always zero; effective-address code uses it for "no base"/"no index". */
export const REG_ZERO = 8;

/** Instruction pointer (offset in CS). */
export const S_EIP = 9;
/** EFLAGS; while a lazy flags op is pending its six arithmetic bits are stale. */
export const S_EFLAGS = 10;
/** Lazy flags: the last flag-setting operation (LF_* kind << 2 | size index), or 0 when none. */
export const S_LF_OP = 11;
export const S_LF_RES = 12;
export const S_LF_A = 13;
export const S_LF_B = 14;
/** Lazy flags: carry-in (ADC/SBB), saved CF (INC/DEC), or the last bit shifted out (shifts). */
export const S_LF_AUX = 15;

/** Segment registers in x86 encoding order, then LDTR and TR. */
export const SEG_ES = 0;
export const SEG_CS = 1;
export const SEG_SS = 2;
export const SEG_DS = 3;
export const SEG_FS = 4;
export const SEG_GS = 5;
export const SEG_LDTR = 6;
export const SEG_TR = 7;
/** Selector, base, limit and access rights (VMX layout, bit 16 = unusable) of each segment. */
export const S_SEG_SEL = 16;
export const S_SEG_BASE = 24;
export const S_SEG_LIMIT = 32;
export const S_SEG_AR = 40;

export const S_GDTR_BASE = 48;
export const S_GDTR_LIMIT = 49;
export const S_IDTR_BASE = 50;
export const S_IDTR_LIMIT = 51;
export const S_CR0 = 52;
export const S_CR2 = 53;
export const S_CR3 = 54;
export const S_CR4 = 55;
/** Debug registers DR0..DR7 (words 56..63). */
export const S_DR = 56;
/** Current privilege level (0..3). */
export const S_CPL = 64;
/** 1 while the VCPU is halted (HLT) and waiting for an interrupt. */
export const S_HALTED = 65;
/**
 * Interrupt shadow: bit 0 = after STI, bit 1 = after MOV SS/POP SS. Set by those instructions,
 * cleared after the next one; while set no external interrupt (and for MOV SS no #DB) is taken.
 */
export const S_SHADOW = 66;
/** Level of the INTR pin as the interrupt controller drives it (written by the device side). */
export const S_INTR_LINE = 67;
/** Pending NMI count (written by the device side). */
export const S_NMI_PENDING = 68;
/** 1 while an NMI handler runs (NMIs blocked until the next IRET). */
export const S_NMI_BLOCKED = 69;
export const S_SYSENTER_CS = 70;
export const S_SYSENTER_ESP = 71;
export const S_SYSENTER_EIP = 72;
export const S_MSR_PAT_LO = 73;
export const S_MSR_PAT_HI = 74;
export const S_MSR_MISC_ENABLE = 75;
export const S_MSR_TSC_AUX = 76;
export const S_MSR_EFER = 77;
/** Address mask applied to physical addresses: 0xFFEFFFFF while the A20 gate is closed, else -1. */
export const S_A20_MASK = 78;
/** The VCPU has been started (BSP at creation; APs after INIT/SIPI). */
export const S_RUNNING = 79;
/** Instructions retired, low and high 32 bits. */
export const S_ICOUNT_LO = 80;
export const S_ICOUNT_HI = 81;
/** Float64 slot (word index, must be even): TSC offset in ns added to the host clock. */
export const S_TSC_OFFSET_F64 = 82;
/** PAE page-directory-pointer table registers: PDPTE0-3 as (low, high) word pairs (84..91). */
export const S_PDPTE = 84;
/** pCPU (+1) that last ran this VCPU: its caches are valid only there (runtime). */
export const S_LAST_PCPU = 96;
/** Why the VCPU stopped for good: 0 none, FAULT_KIND_* below. */
export const S_FAULT_KIND = 97;
/** The last 16 instruction addresses before a fault, oldest first (diagnostics). */
export const S_RECENT_EIPS = 100;
/** A fault message, UTF-8, NUL-padded (FAULT_MSG_BYTES). */
export const S_FAULT_MSG = 116;
export const FAULT_MSG_BYTES = 240;
/** The CPU shut down (triple fault, unsupported task switch, ...). */
export const FAULT_KIND_SHUTDOWN = 1;
/** The engine itself failed running this VCPU (a bug): the VCPU was stopped, nothing else. */
export const FAULT_KIND_ENGINE = 2;
/**
 * An external interrupt already acknowledged by the hypervisor for delivery at the next
 * instruction boundary (vector + 1; 0 = none), as VMX event injection does at VM entry.
 */
export const S_INJECT_VECTOR = 98;
/** Hypercall page MSR (Xen) and similar platform words start here. */
export const S_PLATFORM = 176;
/** x87 / SSE register file from here (word index; fpu/fpu-state.ts lays out words 256..351). */
export const S_FPU = 256;
/** MTRRs (msr.ts lays out 56 words: DEF_TYPE, 11 fixed ranges, 8 variable pairs). */
export const S_MTRR = 448;
/** State words of the MTRR block from S_MTRR: DEF_TYPE, 11 fixed ranges, 8 variable base/mask pairs (2 each). */
export const MTRR_STATE_WORDS = 56;

// EFLAGS bits.
export const CF = 1 << 0;
export const PF = 1 << 2;
export const AF = 1 << 4;
export const ZF = 1 << 6;
export const SF = 1 << 7;
export const TF = 1 << 8;
export const IF = 1 << 9;
export const DF = 1 << 10;
export const OF = 1 << 11;
export const IOPL_MASK = 3 << 12;
export const IOPL_SHIFT = 12;
export const NT = 1 << 14;
export const RF = 1 << 16;
export const VM = 1 << 17;
export const AC = 1 << 18;
export const VIF = 1 << 19;
export const VIP = 1 << 20;
export const ID = 1 << 21;
/** The six arithmetic status flags. */
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;
/** Bit 1 of EFLAGS always reads 1. */
export const EFLAGS_FIXED1 = 1 << 1;

// CR0 bits.
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;

// CR4 bits.
export const CR4_VME = 1 << 0;
export const CR4_PVI = 1 << 1;
export const CR4_TSD = 1 << 2;
export const CR4_DE = 1 << 3;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_MCE = 1 << 6;
export const CR4_PGE = 1 << 7;
export const CR4_PCE = 1 << 8;
export const CR4_OSFXSR = 1 << 9;
export const CR4_OSXMMEXCPT = 1 << 10;

// Segment access rights (VMX layout) bits.
export const AR_TYPE_MASK = 0xf;
export const AR_ACCESSED = 1 << 0;
/** Data: writable. Code: readable. */
export const AR_RW = 1 << 1;
/** Data: expand-down. Code: conforming. */
export const AR_DC = 1 << 2;
export const AR_CODE = 1 << 3;
export const AR_S = 1 << 4;
export const AR_DPL_SHIFT = 5;
export const AR_P = 1 << 7;
export const AR_DB = 1 << 14;
export const AR_G = 1 << 15;
export const AR_UNUSABLE = 1 << 16;

// Exception vectors.
export const EXC_DE = 0;
export const EXC_DB = 1;
export const EXC_NMI = 2;
export const EXC_BP = 3;
export const EXC_OF = 4;
export const EXC_BR = 5;
export const EXC_UD = 6;
export const EXC_NM = 7;
export const EXC_DF = 8;
export const EXC_TS = 10;
export const EXC_NP = 11;
export const EXC_SS = 12;
export const EXC_GP = 13;
export const EXC_PF = 14;
export const EXC_MF = 16;
export const EXC_AC = 17;
export const EXC_MC = 18;
export const EXC_XM = 19;

/** Names of exception vectors for messages. */
export const EXCEPTION_NAMES: Record<number, string> = {
  0: '#DE divide error',
  1: '#DB debug',
  2: 'NMI',
  3: '#BP breakpoint',
  4: '#OF overflow',
  5: '#BR bound range',
  6: '#UD invalid opcode',
  7: '#NM device not available',
  8: '#DF double fault',
  10: '#TS invalid TSS',
  11: '#NP segment not present',
  12: '#SS stack fault',
  13: '#GP general protection',
  14: '#PF page fault',
  16: '#MF x87 error',
  17: '#AC alignment check',
  18: '#MC machine check',
  19: '#XM SIMD exception',
};
