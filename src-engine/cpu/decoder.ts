/**
 * The table-driven decoder. It reads prefixes, the opcode (one or two bytes), ModRM/SIB,
 * displacement and immediates as the operand specs of opcode-table.ts say, then asks the
 * mnemonic's factory (handlers/index.ts) for a handler specialised to the operand form.
 *
 * Blocks end at control transfers and mode-changing instructions (the factory says so), before
 * an instruction that would cross into another page, and at MAX_BLOCK_INSNS. A block whose first
 * instruction crosses a page is decoded but not cached. While the JIT is off, a block goes on
 * past a conditional branch with a fast kind (a superblock: the branch, when taken, leaves the
 * block early; exec-block.ts); such blocks are never given to the JIT (Block.exits > 0).
 */
import type { Cpu } from './cpu';
import { Block, Insn } from './insn';
import { raiseError } from './fault';
import { fetchOffset, NOT_RAM } from './mmu';
import { markInsnBytes, revalidateBlock } from './code-marks';
import { GROUPS, G7_REG_LMSW, G7_REG_SMSW, G7_REGISTER_FORMS, ONE_BYTE, TWO_BYTE } from './opcode-table';
import { FACTORIES, udFactory, udHandler } from './handlers/index';
import { blockKinds, classify, follow, isCondBranch } from './fast-kinds';
import {
  EBP, EXC_GP, REG_ZERO, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, EBX, ESI, EDI, ESP,
} from './state';

/** Operand kinds after decoding. */
export const OP_REG = 1;
export const OP_MEM = 2;
export const OP_IMM = 3;
export const OP_SREG = 4;
export const OP_CREG = 5;
export const OP_DREG = 6;
export const OP_FAR = 7;
export const OP_REL = 8;
/** String source DS:eSI (segment overridable) and destination ES:eDI. */
export const OP_STRSRC = 9;
export const OP_STRDST = 10;

/** A decoded operand. */
export interface Operand {
  kind: number;
  /** Size in bytes (0 for M without size). */
  size: number;
  /** Register number (x86 encoding) or segment/control/debug register index. */
  reg: number;
  /** Immediate value, relative displacement or far offset. */
  imm: number;
  /** Far pointer selector. */
  imm2: number;
}

/** What a factory sees of the instruction being decoded. */
export interface Decoded {
  cpu: Cpu;
  /** Effective operand and address size in bytes (2 or 4). */
  osz: number;
  asz: number;
  ops: Operand[];
  nops: number;
  lock: boolean;
  rep: number;
  modrm: number;
  mod: number;
  reg: number;
  rm: number;
  /** One-byte opcode, or 0x0F00 | second byte. */
  opcode: number;
  /** Set by a factory when the instruction must end its block. */
  endBlock: boolean;
  /** Segment override prefix (-1 if none). */
  segOverride: number;
}

/** Longest legal instruction. */
const MAX_INSN_LEN = 15;
/** Longest decoded block. */
const MAX_BLOCK_INSNS = 256;
/**
 * A block goes on past a branch not taken or into a followed jump only while shorter than this:
 * each taken branch starts a block decoded from its target on (unbounded, code was decoded over and over).
 */
const SUPERBLOCK_INSNS = 32;

interface Spec {
  method: string;
  size: string;
}
interface Entry {
  mnem: string;
  ops: Spec[];
  group: string | null;
}

const FIXED_REGS: Record<string, [number, number]> = {
  AL: [0, 1], CL: [1, 1], DL: [2, 1], BL: [3, 1], AH: [4, 1], CH: [5, 1], DH: [6, 1], BH: [7, 1],
  AX: [0, 2], CX: [1, 2], DX: [2, 2], BX: [3, 2],
};
const FIXED_SEGS: Record<string, number> = { ES: SEG_ES, CS: SEG_CS, SS: SEG_SS, DS: SEG_DS, FS: SEG_FS, GS: SEG_GS };

function parseSpec(text: string): Spec {
  if (FIXED_REGS[text] !== undefined || FIXED_SEGS[text] !== undefined || text === 'eAX' || text === '1') {
    return { method: text, size: '' };
  }
  return { method: text[0], size: text.slice(1) };
}

function parseEntry(text: string | null): Entry | string | null {
  if (text === null || text === 'prefix' || text === 'escape' || text === 'x87') return text;
  const sp = text.indexOf(' ');
  const head = sp < 0 ? text : text.slice(0, sp);
  const ops = sp < 0 ? [] : text.slice(sp + 1).split(',').map(parseSpec);
  if (head.startsWith('#')) return { mnem: '', ops, group: head.slice(1) };
  return { mnem: head, ops, group: null };
}

const ONE = ONE_BYTE.map(parseEntry);
/** The x87 escapes D8-DF: one E operand whose ModRM the x87 factory interprets. */
const X87_ENTRY: Entry = { mnem: 'X87', ops: [{ method: 'E', size: '' }], group: null };
const TWO = TWO_BYTE.map(parseEntry);

/** Per-group parsed entries. */
const GROUP_ENTRIES: Record<string, (Entry | null)[]> = {};
for (const [name, list] of Object.entries(GROUPS)) {
  GROUP_ENTRIES[name] = list.map((t) => {
    if (t === null) return null;
    const e = parseEntry(t);
    return typeof e === 'object' && e !== null ? e : null;
  });
}

const SEG_PREFIXES: Record<number, number> = { 0x26: SEG_ES, 0x2e: SEG_CS, 0x36: SEG_SS, 0x3e: SEG_DS, 0x64: SEG_FS, 0x65: SEG_GS };

function newOperand(): Operand {
  return { kind: 0, size: 0, reg: 0, imm: 0, imm2: 0 };
}

/** Decoder scratch state (one per thread; decoding never re-enters). */
class DecodeState implements Decoded {
  cpu!: Cpu;
  eip = 0;
  lin = 0;
  pos = 0;
  osz = 4;
  asz = 4;
  ops: Operand[] = [newOperand(), newOperand(), newOperand()];
  nops = 0;
  lock = false;
  rep = 0;
  modrm = -1;
  mod = 0;
  reg = 0;
  rm = 0;
  opcode = 0;
  endBlock = false;
  segOverride = -1;
  // Memory operand.
  base = REG_ZERO;
  index = REG_ZERO;
  scale = 0;
  disp = 0;
  defSeg = SEG_DS;
  hasMem = false;
  // Fetch cache.
  curPage = -1;
  curOff = 0;
  firstPage = 0;
  crossPage = false;

  begin(cpu: Cpu, eip: number, lin: number): void {
    this.cpu = cpu;
    this.eip = eip;
    this.lin = lin;
    this.pos = 0;
    this.osz = cpu.cs32 ? 4 : 2;
    this.asz = this.osz;
    this.nops = 0;
    this.lock = false;
    this.rep = 0;
    this.modrm = -1;
    this.opcode = 0;
    this.endBlock = false;
    this.segOverride = -1;
    this.base = REG_ZERO;
    this.index = REG_ZERO;
    this.scale = 0;
    this.disp = 0;
    this.defSeg = SEG_DS;
    this.hasMem = false;
    this.crossPage = false;
    this.firstPage = lin >>> 12;
  }

  byte(): number {
    const cpu = this.cpu;
    if (this.pos >= MAX_INSN_LEN) raiseError(cpu, EXC_GP, 0);
    const off = (this.eip + this.pos) >>> 0;
    if (off > cpu.csLimit) raiseError(cpu, EXC_GP, 0);
    const lin = (this.lin + this.pos) | 0;
    this.pos++;
    const page = lin >>> 12;
    if (page !== this.curPage) {
      // Translate the byte itself: a fetch #PF reports its address in CR2, not the page's.
      const off = fetchOffset(cpu, lin);
      this.curOff = off === NOT_RAM ? NOT_RAM : off - (lin & 0xfff);
      this.curPage = page;
      if (off === NOT_RAM) this.curGpa = cpu.lastGpa - (lin & 0xfff);
    }
    if (page !== this.firstPage) this.crossPage = true;
    if (this.curOff === NOT_RAM) return cpu.ops.mmioRead((this.curGpa + (lin & 0xfff)) >>> 0, 1) & 0xff;
    return cpu.phys.mem8[this.curOff + (lin & 0xfff)];
  }
  curGpa = 0;

  word(): number {
    const lo = this.byte();
    return lo | (this.byte() << 8);
  }

  dword(): number {
    const a = this.word();
    return (a | (this.word() << 16)) | 0;
  }

  imm(size: number): number {
    return size === 1 ? this.byte() : size === 2 ? this.word() : this.dword();
  }

  readModrm(): void {
    if (this.modrm >= 0) return;
    const m = this.byte();
    this.modrm = m;
    this.mod = m >> 6;
    this.reg = (m >> 3) & 7;
    this.rm = m & 7;
  }

  /** Decodes the memory operand of the ModRM byte (mod != 3). */
  decodeMem(): void {
    if (this.hasMem) return;
    this.hasMem = true;
    const mod = this.mod;
    const rm = this.rm;
    if (this.asz === 2) {
      const BASES = [EBX, EBX, EBP, EBP, ESI, EDI, EBP, EBX];
      const INDEXES = [ESI, EDI, ESI, EDI, REG_ZERO, REG_ZERO, REG_ZERO, REG_ZERO];
      if (mod === 0 && rm === 6) {
        this.base = REG_ZERO;
        this.index = REG_ZERO;
        this.disp = this.word();
        this.defSeg = SEG_DS;
      } else {
        this.base = BASES[rm];
        this.index = INDEXES[rm];
        this.defSeg = rm === 2 || rm === 3 || rm === 6 ? SEG_SS : SEG_DS;
        this.disp = mod === 1 ? (this.byte() << 24) >> 24 : mod === 2 ? this.word() : 0;
      }
      return;
    }
    let base = rm;
    if (rm === 4) {
      const sib = this.byte();
      this.scale = sib >> 6;
      const idx = (sib >> 3) & 7;
      this.index = idx === 4 ? REG_ZERO : idx;
      base = sib & 7;
      if (base === 5 && mod === 0) {
        this.base = REG_ZERO;
        this.disp = this.dword();
        this.defSeg = SEG_DS;
        return;
      }
    } else if (rm === 5 && mod === 0) {
      this.base = REG_ZERO;
      this.index = REG_ZERO;
      this.disp = this.dword();
      this.defSeg = SEG_DS;
      return;
    }
    this.base = base;
    this.defSeg = base === ESP || base === EBP ? SEG_SS : SEG_DS;
    this.disp = mod === 1 ? (this.byte() << 24) >> 24 : mod === 2 ? this.dword() : 0;
  }
}

const scratch = new DecodeState();

function sizeOf(d: DecodeState, sz: string): number {
  switch (sz) {
    case 'b':
    case 'bs':
      return 1;
    case 'w':
      return 2;
    case 'd':
      return 4;
    case 'v':
    case 'z':
      return d.osz;
    case 'q':
      return 8;
    case 'p':
      return d.osz + 2;
    case 's':
      return 6;
    case 'a':
      return d.osz * 2;
    default:
      return 0;
  }
}

/** Fills operand `k` from its spec. Returns false if the form is invalid (#UD). */
function decodeOperand(d: DecodeState, spec: Spec, k: number): boolean {
  const o = d.ops[k];
  o.imm = 0;
  o.imm2 = 0;
  o.reg = 0;
  const m = spec.method;
  const fixed = FIXED_REGS[m];
  if (fixed !== undefined) {
    o.kind = OP_REG;
    o.reg = fixed[0];
    o.size = fixed[1];
    return true;
  }
  const fseg = FIXED_SEGS[m];
  if (fseg !== undefined) {
    o.kind = OP_SREG;
    o.reg = fseg;
    o.size = 2;
    return true;
  }
  if (m === 'eAX') {
    o.kind = OP_REG;
    o.reg = 0;
    o.size = d.osz;
    return true;
  }
  if (m === '1') {
    o.kind = OP_IMM;
    o.imm = 1;
    o.size = 1;
    return true;
  }
  const size = sizeOf(d, spec.size);
  o.size = size;
  switch (m) {
    case 'E':
    case 'M':
    case 'R':
      d.readModrm();
      if (d.mod === 3 && m !== 'M') {
        o.kind = OP_REG;
        o.reg = d.rm;
        return true;
      }
      if (d.mod === 3) return false;
      if (m === 'R') {
        // MOV to/from control and debug registers ignore mod and always use a register.
        o.kind = OP_REG;
        o.reg = d.rm;
        return true;
      }
      d.decodeMem();
      o.kind = OP_MEM;
      return true;
    case 'G':
      d.readModrm();
      o.kind = OP_REG;
      o.reg = d.reg;
      return true;
    case 'S':
      d.readModrm();
      if (d.reg > 5) return false;
      o.kind = OP_SREG;
      o.reg = d.reg;
      o.size = 2;
      return true;
    case 'C':
      d.readModrm();
      o.kind = OP_CREG;
      o.reg = d.reg;
      return true;
    case 'D':
      d.readModrm();
      o.kind = OP_DREG;
      o.reg = d.reg;
      return true;
    case 'Z':
      o.kind = OP_REG;
      o.reg = d.opcode & 7;
      return true;
    case 'I':
      o.kind = OP_IMM;
      if (spec.size === 'bs') {
        o.imm = (d.byte() << 24) >> 24;
        o.size = d.osz;
        if (d.osz === 2) o.imm &= 0xffff;
      } else {
        o.imm = d.imm(size === 8 ? 4 : size);
      }
      return true;
    case 'J':
      o.kind = OP_REL;
      o.imm = size === 1 ? (d.byte() << 24) >> 24 : size === 2 ? (d.word() << 16) >> 16 : d.dword();
      return true;
    case 'O':
      o.kind = OP_MEM;
      d.hasMem = true;
      d.base = REG_ZERO;
      d.index = REG_ZERO;
      d.disp = d.asz === 2 ? d.word() : d.dword();
      d.defSeg = SEG_DS;
      return true;
    case 'A':
      o.kind = OP_FAR;
      o.imm = d.osz === 2 ? d.word() : d.dword();
      o.imm2 = d.word();
      return true;
    case 'X':
      o.kind = OP_STRSRC;
      return true;
    case 'Y':
      o.kind = OP_STRDST;
      return true;
    default:
      return false;
  }
}

/** Decodes the instruction at CS:eip (linear `lin`). Faults propagate as FAULT. */
function decodeInsn(d: DecodeState, eip: number, lin: number): Insn {
  const cpu = d.cpu;
  d.begin(cpu, eip, lin);
  let b: number;
  for (;;) {
    b = d.byte();
    if (b === 0x66) d.osz = cpu.cs32 ? 2 : 4;
    else if (b === 0x67) d.asz = cpu.cs32 ? 2 : 4;
    else if (b === 0xf0) d.lock = true;
    else if (b === 0xf2) d.rep = 2;
    else if (b === 0xf3) d.rep = 1;
    else if (SEG_PREFIXES[b] !== undefined) d.segOverride = SEG_PREFIXES[b];
    else break;
  }
  let entry: Entry | string | null;
  if (b === 0x0f) {
    const b2 = d.byte();
    d.opcode = 0x0f00 | b2;
    entry = TWO[b2];
  } else {
    d.opcode = b;
    entry = ONE[b];
  }
  let e: Entry | null = null;
  if (entry === 'x87') {
    // The factory decodes the escape itself from ModRM; the E operand reads ModRM and memory.
    e = X87_ENTRY;
  } else if (entry !== null && typeof entry === 'object') {
    e = entry;
    if (e.group !== null) {
      if (e.group === 'G7' ) {
        d.readModrm();
        // SMSW and LMSW take a register too (Ew); the other register forms are named by ModRM.
        if (d.mod === 3 && d.reg !== G7_REG_SMSW && d.reg !== G7_REG_LMSW) {
          const name = G7_REGISTER_FORMS[d.modrm];
          e = name ? { mnem: name, ops: [], group: null } : null;
        } else {
          e = GROUP_ENTRIES.G7[d.reg];
        }
      } else if (e.group === 'G15') {
        d.readModrm();
        e = (d.mod === 3 ? GROUP_ENTRIES.G15 : GROUP_ENTRIES.G15M)[d.reg];
      } else {
        d.readModrm();
        const g = GROUP_ENTRIES[e.group][d.reg];
        if (g === null || g === undefined) e = null;
        else if (g.mnem === 'TEST' && g.ops.length === 2) {
          // Group 3 TEST: E operand of the map entry plus an immediate of its size.
          const eSpec = e.ops[0];
          e = { mnem: 'TEST', ops: [eSpec, { method: 'I', size: eSpec.size === 'b' ? 'b' : 'z' }], group: null };
        } else {
          e = { mnem: g.mnem, ops: g.ops.length > 0 ? g.ops : e.ops, group: null };
        }
      }
    }
  }
  const ins = new Insn(udHandler);
  let factory = e === null ? undefined : FACTORIES[e.mnem];
  if (e !== null && factory !== undefined) {
    d.nops = e.ops.length;
    for (let k = 0; k < e.ops.length; k++) {
      if (!decodeOperand(d, e.ops[k], k)) {
        factory = undefined;
        break;
      }
    }
  }
  ins.eip = eip;
  ins.len = d.pos;
  ins.next = cpu.cs32 ? (eip + d.pos) | 0 : (eip + d.pos) & 0xffff;
  ins.opcode = d.opcode;
  ins.mnem = e?.mnem ?? '(bad)';
  ins.rep = d.rep;
  ins.lock = d.lock;
  ins.a16 = d.asz === 2;
  ins.base = d.base;
  ins.index = d.index;
  ins.scale = d.scale;
  ins.disp = d.disp;
  ins.seg = d.segOverride >= 0 ? d.segOverride : d.defSeg;
  ins.size = d.nops > 0 ? d.ops[0].size : d.osz;
  for (let k = 0; k < d.nops; k++) {
    const o = d.ops[k];
    ins.form |= o.kind << (4 * k);
    if (o.kind === OP_REL) {
      const t = (ins.next + o.imm) | 0;
      ins.target = d.osz === 2 ? t & 0xffff : t;
    }
  }
  ins.fn = factory ? factory(d, ins) : udFactory(d, ins);
  ins.kind = classify(ins);
  return ins;
}

/** Decodes the single instruction at CS:eip (used for stepping and crossing instructions). */
export function decodeOne(cpu: Cpu, eip: number, lin: number): Insn {
  scratch.cpu = cpu;
  scratch.curPage = -1;
  return decodeInsn(scratch, eip, lin);
}

/** Decodes the block starting at CS:eip. */
export function decodeBlock(cpu: Cpu, eip: number, lin: number, cache: Map<number, Block>): Block {
  const d = scratch;
  d.cpu = cpu;
  d.curPage = -1;
  const off = fetchOffset(cpu, lin);
  const mode = cpu.modeKey;
  const phys = cpu.phys;
  const chain = !cpu.jit.enabled;
  if (off !== NOT_RAM) {
    const cached = cache.get(off);
    // A superblock is only used while the JIT is off (the JIT's regions need one exit per block).
    if (cached !== undefined && cached.eip === eip && cached.lin === lin && cached.mode === mode && (cached.exits === 0 || chain)) {
      if (phys.codeGen[cached.frame] === cached.gen || revalidateBlock(phys, cached)) return cached;
    }
  }
  let frame = 0;
  let gen = 0;
  if (off !== NOT_RAM) {
    // Mark the first instruction's bytes before reading the generation and the bytes; each
    // further instruction is marked before it is read (code-marks.ts).
    frame = off >>> 12;
    markInsnBytes(phys, off);
    gen = Atomics.load(phys.codeGen, frame);
  }
  const insns: Insn[] = [];
  let pc = eip;
  let cacheable = off !== NOT_RAM;
  for (;;) {
    const insLin = (lin + (pc - eip)) | 0;
    let ins: Insn;
    d.curPage = -1;
    if (cacheable && insns.length > 0) markInsnBytes(phys, off + ((insLin - lin) | 0));
    try {
      ins = decodeInsn(d, pc, insLin);
    } catch (e) {
      if (insns.length === 0) throw e;
      break;
    }
    if (d.crossPage) {
      if (insns.length > 0) break;
      cacheable = false;
      insns.push(ins);
      break;
    }
    insns.push(ins);
    if (insns.length >= MAX_BLOCK_INSNS) break;
    pc = ins.next;
    // At a block end: a jump or call within the page is followed (fast-kinds.ts), a branch passed.
    const more = d.endBlock && chain && insns.length < SUPERBLOCK_INSNS;
    if (more && cacheable && follow(ins, (lin + (ins.target - eip)) | 0, lin, mode)) pc = ins.target;
    else if (d.endBlock && (!more || !isCondBranch(ins.kind))) break;
    if ((((lin + (pc - eip)) | 0) ^ lin) >>> 12 !== 0 || pc === 0) break;
  }
  const last = insns[insns.length - 1];
  // The code bytes: from the lowest instruction to the end of the highest (follow: either side).
  let [lo, hi] = [eip, eip];
  for (const i of insns) [lo, hi] = [Math.min(lo, i.eip), Math.max(hi, i.eip + i.len)];
  const b = new Block(insns, eip, lin, cacheable ? off : -1, frame, gen, mode, last.next, hi - lo);
  b.spanOff = cacheable ? off + (lo - eip) : -1;
  // Exits from inside a superblock, fused pairs and flag-dead kinds (fast-kinds.ts).
  b.exits = blockKinds(insns);
  if (cacheable) {
    // The copy holds the bytes decoded unless another thread stored into them since they were
    // marked, and then the generation moved: such a block is stale and never revalidated.
    const code = phys.mem8.slice(b.spanOff, b.spanOff + b.bytes);
    if (Atomics.load(phys.codeGen, frame) === gen) b.code = code;
  }
  return b;
}
