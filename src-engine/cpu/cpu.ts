/**
 * One x86 VCPU interpreter bound to a VCPU state block in shared memory.
 *
 * Design. Code is decoded into blocks (straight-line runs ending at a control transfer, a
 * mode-changing instruction or the end of a page), cached per machine address and found again
 * through a small jump cache keyed by linear EIP. A block remembers the code generation of its
 * frame; a write to a frame holding decoded code bumps that generation (see mmu.noteWrite), so
 * self-modifying and cross-modifying code is picked up at the next block dispatch.
 * Exceptions unwind to the run loop by throwing FAULT; the loop rewinds EIP to the faulting
 * instruction and delivers the exception through the IDT (interrupts.ts).
 *
 * Concurrency. The state block, guest RAM and code-tracking arrays are shared with the
 * hypervisor thread and other pCPU workers; only the worker currently running the VCPU writes its
 * state block, except S_INTR_LINE / S_NMI_PENDING and the attention word, which the device side
 * writes (read here with plain loads at block boundaries, after the attention word said so).
 */
import { Block, Insn } from './insn';
import { JIT_DEFAULTS, type JitConfig } from './jit/jit-config';
import { registerBlock, registryFor, type JitRegistry } from './jit/jit-page';
import type { Region } from './jit/region-compiler';
import { createTlb, flushTlb } from './mmu';
import { wasmPoolOf } from './wasm/wasm-pool';
import type { CpuOps, PhysMemory } from './ops';
import { FAULT, STOP, VEC_SMC_RESTART } from './fault';
import { DR6_BS, DR7_ENABLES, instructionBreakpoints } from './debug';
import { decodeBlock, decodeOne } from './decoder';
import { runBlocks } from './run-blocks';
import { primeInterpreter } from './exec-prime';
import { deliverException, deliverExternal, deliverNmi, ShutdownError } from './interrupts';
import { applyInitState, resetState } from './reset';
import { writeFaultRecord } from './fault-record';
import type { CpuInitState } from './init-state';
import { DEFAULT_FEATURES, type CpuFeatures } from './cpuid';
import {
  AR_DB, AR_DC, AR_RW, AR_CODE, AR_UNUSABLE, CR0_PE, IF, S_CPL, S_EFLAGS, S_EIP, S_HALTED,
  S_ICOUNT_HI, S_ICOUNT_LO, S_INTR_LINE, S_NMI_BLOCKED, S_NMI_PENDING, S_SEG_AR, S_SEG_BASE,
  S_SEG_LIMIT, S_SHADOW, S_CR0, SEG_CS, SEG_SS, STATE_BYTES, TF, VM, S_DR, S_RUNNING, RF, AC, CR0_AM, EXC_DB,
  FAULT_KIND_SHUTDOWN, S_INJECT_VECTOR, S_A20_MASK,
} from './state';

/** Why run() returned. */
export const enum RunExit {
  /** The VCPU executed HLT and no interrupt is deliverable: block it until one arrives. */
  Halt = 1,
  /** CpuOps.attention() asked the CPU to return (preemption, pause, stop...). */
  Attention = 2,
  /** The instruction budget given to run() is used up. */
  Limit = 3,
  /** Triple fault (or a shutdown cycle): the VCPU cannot continue. */
  Shutdown = 4,
  /** The VCPU is waiting for a startup IPI (APs before INIT/SIPI). */
  WaitForSipi = 5,
}

const JC_BITS = 12;
const JC_SIZE = 1 << JC_BITS;
const JC_MASK = JC_SIZE - 1;
/** Decoded blocks kept per worker before the cache is dropped and refilled. */
const MAX_BLOCKS = 1 << 17;

/** An x86 VCPU. */
export class Cpu {
  /** The state block (general registers at 0..7, see state.ts). */
  readonly s: Int32Array;
  /** 16-bit views of the general registers: r16[reg * 2] is the low word of reg. */
  readonly r16: Uint16Array;
  /** 8-bit views: AL = r8[0], CL = r8[4], ..., AH = r8[1]. */
  readonly r8: Uint8Array;
  /** Segment bases (ES CS SS DS FS GS LDTR TR). */
  readonly segBase: Int32Array;
  /** Float64 view of the state block (TSC offset, x87). */
  readonly f64: Float64Array;
  phys: PhysMemory;
  ops: CpuOps;

  // Software TLB (mmu.ts).
  readonly tlbOff: Int32Array;
  readonly tagRS: Int32Array;
  readonly tagWS: Int32Array;
  readonly tagRU: Int32Array;
  readonly tagWU: Int32Array;
  /** Execute tags (instruction fetches: execute-disable pages have none). */
  readonly tagXS: Int32Array;
  readonly tagXU: Int32Array;
  readonly tlbGlobal: Uint8Array;
  readonly tlbUsed: Int32Array;
  /** Tag arrays of the current privilege level. */
  tagR: Int32Array;
  tagW: Int32Array;

  // Mode caches derived from the state block by updateMode().
  cpl = 0;
  /** Code segment default size is 32 bits. */
  cs32 = false;
  /** Stack segment B bit: ESP (true) or SP (false). */
  ss32 = false;
  /** Protected mode (CR0.PE). */
  pe = false;
  /** Virtual-8086 mode (EFLAGS.VM). */
  vm86 = false;
  /** CS limit for fetch and branch-target checks. */
  csLimit = 0xffff;
  /** Segments whose data reads need no limit/type check (bit per segment register). */
  segOkR = 0;
  /** Segments whose data writes need no limit/type check. */
  segOkW = 0;
  /** Decode mode key of the current CS: bit 0 code32, bit 1 protected, bit 2 v86. */
  modeKey = 0;

  // Exception being raised (fault.ts).
  excVector = 0;
  excHasError = false;
  excError = 0;
  /** Guest-physical address of the last slow-path access that hit non-RAM. */
  lastGpa = 0;
  /** A write hit a frame holding decoded code (the current block may be stale). */
  codeWritten = false;
  /** Set by instructions and ops that need the run loop to look at events before continuing. */
  localAttention = false;
  /** Exit reason latched by an instruction (HLT) for the run loop. */
  pendingExit = 0;
  /** Per-instruction mode (TF, debug registers, interrupt shadow). */
  slowMode = false;
  /** Set when INT n / INT3 / INTO delivered its interrupt (no single-step trap follows it). */
  softIntDelivered = false;
  /** Bit n: data breakpoint n is enabled (debug.ts). */
  dataWatch = 0;
  /** Data breakpoints hit by the instruction being executed (DR6 B bits). */
  dbHits = 0;
  /** The pending #DB is a general-detect fault (its pushed EFLAGS gets RF). */
  dbGeneralDetect = false;
  /** Alignment checking applies (CR0.AM, EFLAGS.AC, CPL 3): user pages stay out of the TLB. */
  alignCheck = false;
  /** The A20 mask the TLB was filled under (handlers/io.ts flushes when a port write moves it). */
  a20Mask = -1;
  /** Instructions retired since construction (also mirrored into the state block). */
  icount = 0;
  /** JIT settings (jit/jit-config.ts): jit.enabled false = pure interpreter. */
  jit: JitConfig = { ...JIT_DEFAULTS };
  /** Code pages of this Cpu's block cache (shared with Cpus sharing it) and JIT statistics. */
  readonly jitRegistry: JitRegistry;
  /** This Cpu's compiled regions by block (Block.region may be another Cpu's when blocks are shared). */
  jitRegions = new WeakMap<Block, Region>();
  /** Index in its block of the instruction an interpreted block faulted on (exec-block.ts). */
  faultIndex = 0;
  /** Bumped whenever linear->physical mappings, the decode mode or CS change (block links die). */
  linkEpoch = 0;
  /**
   * Machine offset and length of the block exec-block.ts is interpreting (-1 outside one, or for
   * a block that is not cached): writes into it restart (mmu.checkSmc). Numbers, not the Block,
   * so setting them per block costs V8 no write barrier.
   */
  curOff = -1;
  curBytes = 0;
  /** The interpreted block an exception came from (set by exec-block.ts runBlocks), else null. */
  faultBlock: Block | null = null;
  private lastCsBase = 0;
  private lastModeKey = -1;

  /** What this VCPU implements (CPUID, CR4 and MSR checks derive from it). */
  features: CpuFeatures;
  /** The VCPU number within its domain (CPUID initial APIC ID). */
  vcpuId: number;
  /** Scratch for platform CPUID answers. */
  readonly cpuidOut = new Int32Array(4);

  /** Attention word (shared with the hypervisor thread) and its index. */
  attn: Int32Array;
  attnIdx: number;

  private blocks: Map<number, Block> = new Map<number, Block>();
  private jcache: (Block | null)[] = new Array<Block | null>(JC_SIZE).fill(null);
  /** A description of the last instructions for diagnostics (ring of EIPs). */
  readonly recentEips = new Int32Array(16);
  private recentPos = 0;

  constructor(
    state: SharedArrayBuffer | ArrayBuffer,
    stateOffset: number,
    phys: PhysMemory,
    ops: CpuOps,
    options: { features?: CpuFeatures; vcpuId?: number; blocks?: Map<number, Block> } = {},
  ) {
    if (options.blocks) this.blocks = options.blocks;
    this.jitRegistry = registryFor(this.blocks);
    this.features = options.features ?? DEFAULT_FEATURES;
    this.vcpuId = options.vcpuId ?? 0;
    this.s = new Int32Array(state, stateOffset, STATE_BYTES / 4);
    this.r16 = new Uint16Array(state, stateOffset, 18);
    this.r8 = new Uint8Array(state, stateOffset, 36);
    this.segBase = new Int32Array(state, stateOffset + S_SEG_BASE * 4, 8);
    this.f64 = new Float64Array(state, stateOffset, STATE_BYTES / 8);
    this.phys = phys;
    this.ops = ops;
    // In the pool's WebAssembly.Memory when it is one (wasm regions read the TLB there).
    const t = createTlb(wasmPoolOf(phys.mem8.buffer));
    this.tlbOff = t.off;
    this.tagRS = t.tagRS;
    this.tagWS = t.tagWS;
    this.tagRU = t.tagRU;
    this.tagWU = t.tagWU;
    this.tagXS = t.tagXS;
    this.tagXU = t.tagXU;
    this.tlbGlobal = t.global;
    this.tlbUsed = t.used;
    this.tagR = this.tagRS;
    this.tagW = this.tagWS;
    this.attn = new Int32Array(1);
    this.attnIdx = 0;
    this.updateMode();
    primeInterpreter();
  }

  /** Puts the VCPU in its power-on state (real mode, F000:FFF0). */
  reset(): void {
    resetState(this.s);
    this.afterStateLoad();
  }

  /** Applies a loader's initial state on top of the reset state. */
  init(init: CpuInitState): void {
    resetState(this.s);
    applyInitState(this.s, init);
    this.afterStateLoad();
  }

  /**
   * Call after the state block changed behind the Cpu's back (restore, another worker ran the
   * VCPU): drops every cached translation and recomputes the mode caches.
   */
  afterStateLoad(): void {
    this.a20Mask = this.s[S_A20_MASK];
    flushTlb(this, false);
    this.icount = (this.s[S_ICOUNT_LO] >>> 0) + (this.s[S_ICOUNT_HI] >>> 0) * 4294967296;
    this.updateMode();
    this.localAttention = true;
  }

  /** Recomputes everything derived from CR0, EFLAGS and the segment caches. */
  updateMode(): void {
    const s = this.s;
    this.pe = (s[S_CR0] & CR0_PE) !== 0;
    this.vm86 = this.pe && (s[S_EFLAGS] & VM) !== 0;
    this.cpl = s[S_CPL] & 3;
    this.tagR = this.cpl === 3 ? this.tagRU : this.tagRS;
    this.tagW = this.cpl === 3 ? this.tagWU : this.tagWS;
    const csAr = s[S_SEG_AR + SEG_CS];
    this.cs32 = (csAr & AR_DB) !== 0 && !this.vm86;
    this.ss32 = (s[S_SEG_AR + SEG_SS] & AR_DB) !== 0 && !this.vm86;
    this.csLimit = s[S_SEG_LIMIT + SEG_CS] >>> 0;
    let okR = 0;
    let okW = 0;
    for (let seg = 0; seg < 6; seg++) {
      const ar = s[S_SEG_AR + seg];
      const flat = (s[S_SEG_LIMIT + seg] | 0) === -1 && (ar & AR_UNUSABLE) === 0;
      if (!flat) continue;
      if ((ar & AR_CODE) !== 0) {
        if ((ar & AR_RW) !== 0 || !this.pe) okR |= 1 << seg;
        if (!this.pe) okW |= 1 << seg;
      } else if ((ar & AR_DC) === 0) {
        okR |= 1 << seg;
        if ((ar & AR_RW) !== 0 || !this.pe) okW |= 1 << seg;
      }
    }
    this.segOkR = okR;
    this.segOkW = okW;
    this.modeKey = (this.cs32 ? 1 : 0) | (this.pe ? 2 : 0) | (this.vm86 ? 4 : 0);
    if (this.modeKey !== this.lastModeKey || this.segBase[SEG_CS] !== this.lastCsBase) {
      this.lastModeKey = this.modeKey;
      this.lastCsBase = this.segBase[SEG_CS];
      this.linkEpoch++;
    }
    this.slowMode =
      (s[S_EFLAGS] & (TF | RF)) !== 0 || s[S_SHADOW] !== 0 || (s[S_DR + 7] & DR7_ENABLES) !== 0;
    const ac = this.cpl === 3 && (s[S_CR0] & CR0_AM) !== 0 && (s[S_EFLAGS] & AC) !== 0;
    if (ac !== this.alignCheck) {
      this.alignCheck = ac;
      flushTlb(this, false);
    }
  }

  /** Drops the linear-EIP jump cache (after any change of linear->physical mappings). */
  flushJumpCache(): void {
    this.jcache.fill(null);
    this.linkEpoch++;
  }

  /** Drops every decoded block (tests; memory pressure). */
  flushBlocks(): void {
    this.blocks.clear();
    this.jitRegistry.pages.clear();
    this.jitRegions = new WeakMap<Block, Region>();
    this.flushJumpCache();
  }

  /**
   * Runs guest code until an exit: HLT, an attention request, a shutdown, or `limit` retired
   * instructions (checked at block boundaries).
   */
  run(limit = Infinity): RunExit {
    const s = this.s;
    if (s[S_RUNNING] === 0) return RunExit.WaitForSipi;
    // Entering the VCPU: look at injected events, NMIs and the INTR line first.
    this.localAttention = true;
    try {
      for (;;) {
        if (this.localAttention || this.attn[this.attnIdx] !== 0) {
          const e = this.serviceEvents();
          if (e !== 0) return e;
        }
        if (this.icount >= limit) return RunExit.Limit;
        if (this.slowMode) {
          this.stepInstruction();
          continue;
        }
        this.runBlocks(limit);
      }
    } catch (e) {
      if (e === STOP) return RunExit.Attention;
      if (e instanceof ShutdownError) {
        this.recordFault(FAULT_KIND_SHUTDOWN, e.message);
        return RunExit.Shutdown;
      }
      throw e;
    } finally {
      this.syncCount();
    }
  }

  /**
   * Writes why the VCPU stopped for good into its state block (message and recent instruction
   * addresses), where the hypervisor thread reads it for the user.
   */
  recordFault(kind: number, message: string): void {
    writeFaultRecord(this.s, kind, message, this.recent());
  }

  /** Executes exactly one instruction (or delivers one pending exception/interrupt). */
  step(): RunExit | 0 {
    if (this.s[S_RUNNING] === 0) return RunExit.WaitForSipi;
    try {
      if (this.localAttention || this.attn[this.attnIdx] !== 0) {
        const e = this.serviceEvents();
        if (e !== 0) return e;
      }
      this.stepInstruction();
      return 0;
    } catch (e) {
      if (e === STOP) return RunExit.Attention;
      if (e instanceof ShutdownError) {
        this.recordFault(FAULT_KIND_SHUTDOWN, e.message);
        return RunExit.Shutdown;
      }
      throw e;
    } finally {
      this.syncCount();
    }
  }

  private syncCount(): void {
    const n = this.icount;
    this.s[S_ICOUNT_LO] = n | 0;
    this.s[S_ICOUNT_HI] = Math.floor(n / 4294967296);
  }

  /** Looks at pending work: exits, NMIs, external interrupts, halt state. Returns an exit or 0. */
  private serviceEvents(): RunExit | 0 {
    const s = this.s;
    this.localAttention = false;
    if (this.attn[this.attnIdx] !== 0 && this.ops.attention()) return RunExit.Attention;
    if (this.pendingExit !== 0 && this.pendingExit !== RunExit.Halt) {
      const e = this.pendingExit;
      this.pendingExit = 0;
      return e;
    }
    const shadow = s[S_SHADOW] !== 0;
    const injected = s[S_INJECT_VECTOR];
    if (injected !== 0 && !shadow && (s[S_EFLAGS] & IF) !== 0) {
      s[S_INJECT_VECTOR] = 0;
      s[S_HALTED] = 0;
      this.pendingExit = 0;
      this.guard(() => deliverExternal(this, injected - 1));
    } else if (!shadow && s[S_NMI_PENDING] > 0 && s[S_NMI_BLOCKED] === 0) {
      // NMIs that arrived since the last one was taken merge into this one (the pin latches one).
      s[S_NMI_PENDING] = 0;
      s[S_HALTED] = 0;
      this.pendingExit = 0;
      this.guard(() => deliverNmi(this));
    } else if (!shadow && s[S_INTR_LINE] !== 0 && (s[S_EFLAGS] & IF) !== 0) {
      const vector = this.ops.acknowledgeInterrupt();
      if (vector >= 0) {
        s[S_HALTED] = 0;
        this.pendingExit = 0;
        this.guard(() => deliverExternal(this, vector));
      }
    }
    if (s[S_HALTED] !== 0) {
      this.pendingExit = 0;
      return RunExit.Halt;
    }
    return 0;
  }

  /** Runs `fn`, delivering any exception it raises (exceptions while delivering interrupts). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e !== FAULT) throw e;
      deliverException(this, this.excVector, this.excHasError, this.excError);
    }
  }

  /**
   * The block at CS:EIP: from the jump cache, the block cache, or decoded now (and filed with
   * the JIT when it is on). Faults of the instruction fetch propagate as FAULT.
   */
  lookupBlock(): Block {
    const s = this.s;
    const eip = s[S_EIP];
    const lin = (eip + this.segBase[SEG_CS]) | 0;
    const h = (lin ^ (lin >>> JC_BITS)) & JC_MASK;
    const jc = this.jcache[h];
    if (jc !== null && jc.lin === lin && jc.eip === eip && jc.mode === this.modeKey && this.phys.codeGen[jc.frame] === jc.gen) {
      return jc;
    }
    const b = decodeBlock(this, eip, lin, this.blocks);
    if (b.off >= 0) {
      if (this.blocks.size >= MAX_BLOCKS) {
        this.blocks.clear();
        this.jitRegistry.pages.clear();
      }
      this.blocks.set(b.off, b);
      this.jcache[h] = b;
      if (this.jit.enabled) registerBlock(this.jitRegistry, b, this.jit);
    }
    return b;
  }

  /**
   * Runs blocks back to back (exec-block.ts runBlocks) until something needs the outer loop
   * (attention, the instruction budget, a mode change) or an exception is delivered.
   */
  private runBlocks(limit: number): void {
    const s = this.s;
    let b: Block;
    try {
      b = this.lookupBlock();
    } catch (e) {
      if (e !== FAULT) throw e;
      deliverException(this, this.excVector, this.excHasError, this.excError);
      return;
    }
    try {
      runBlocks(this, b, limit);
    } catch (e) {
      if (e !== FAULT) throw e;
      const cur = this.faultBlock;
      this.faultBlock = null;
      const k = this.faultIndex;
      if (cur === null || k < 0 || k >= cur.insns.length) {
        // The fault came from looking up the next block (an instruction fetch) or from a
        // compiled region (which set EIP and the retired count itself): EIP is right.
        this.noteRecent(s[S_EIP]);
        deliverException(this, this.excVector, this.excHasError, this.excError);
        return;
      }
      this.icount += k;
      const ins = cur.insns[k];
      s[S_EIP] = ins.eip;
      if (this.excVector === VEC_SMC_RESTART) {
        // The instruction was about to write into its own block: run it alone, then redecode.
        this.stepInstruction();
        return;
      }
      this.noteRecent(ins.eip);
      deliverException(this, this.excVector, this.excHasError, this.excError);
    }
  }

  /** Decodes and executes one instruction, honouring TF, the interrupt shadow and DR7. */
  private stepInstruction(): void {
    const s = this.s;
    const eip = s[S_EIP];
    const lin = (eip + this.segBase[SEG_CS]) | 0;
    let ins: Insn;
    const hadShadow = s[S_SHADOW];
    const tf = (s[S_EFLAGS] & TF) !== 0;
    const hadRf = (s[S_EFLAGS] & RF) !== 0;
    if (!hadRf && (s[S_DR + 7] & DR7_ENABLES) !== 0) {
      // Instruction breakpoints: a fault before the instruction (RF suppresses them once).
      const hits = instructionBreakpoints(this, lin);
      if (hits !== 0) {
        s[S_DR + 6] |= hits;
        this.guard(() => deliverException(this, EXC_DB, false, 0));
        return;
      }
    }
    this.dbHits = 0;
    try {
      ins = decodeOne(this, eip, lin);
    } catch (e) {
      if (e !== FAULT) throw e;
      deliverException(this, this.excVector, this.excHasError, this.excError);
      return;
    }
    s[S_EIP] = ins.next;
    this.noteRecent(eip);
    this.softIntDelivered = false;
    try {
      ins.fn(this, ins);
      this.icount++;
    } catch (e) {
      if (e !== FAULT) throw e;
      s[S_EIP] = ins.eip;
      deliverException(this, this.excVector, this.excHasError, this.excError);
      return;
    }
    const shadow = s[S_SHADOW];
    if (hadShadow !== 0 && shadow === hadShadow) s[S_SHADOW] = 0;
    // RF lasts for one completed instruction.
    if (hadRf) s[S_EFLAGS] &= ~RF;
    // Debug traps after the instruction: single step (except right after MOV SS/POP SS, whose
    // shadow defers it past the next instruction, and after INT n/INT3/INTO, which clear TF for
    // their handler) and data breakpoints, reported together in DR6.
    const movSsNow = (shadow & 2) !== 0 && (hadShadow & 2) === 0;
    const step = tf && !movSsNow && !this.softIntDelivered ? DR6_BS : 0;
    const hits = this.dbHits;
    if ((step | hits) !== 0) {
      this.dbHits = 0;
      s[S_DR + 6] |= step | hits;
      this.guard(() => deliverException(this, EXC_DB, false, 0));
    }
    this.updateMode();
    this.localAttention = true;
  }

  private noteRecent(eip: number): void {
    this.recentEips[this.recentPos] = eip;
    this.recentPos = (this.recentPos + 1) & 15;
  }

  /** The last few EIPs that started a faulting/stepped instruction, oldest first. */
  recent(): number[] {
    const out: number[] = [];
    for (let k = 0; k < 16; k++) out.push(this.recentEips[(this.recentPos + k) & 15] >>> 0);
    return out;
  }
}

