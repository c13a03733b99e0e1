/**
 * Element-copy loops run in bulk: two loop shapes, recognised by their decoded instructions
 * (never by address), that compilers emit for memmove, memcpy and memset when they do not use
 * REP MOVS. GRUB 2.06's grub_memmove is both, and copies 3.4 MB one byte at a time in a boot
 * (docs/boot-performance.md):
 *
 *   string loop   head: CMP r1, r2 ; JZ exit          body: MOVS/STOS (no REP) ; JMP head
 *                 (one of r1, r2 is a pointer the body moves, the other an end it does not)
 *   indexed loop  head: SUB c, 1 ; JB exit             body: MOV t8, [x + c + d1] ; MOV [y + c + d2], t8 ; JMP head
 *                 (a byte copy downwards, c counting to zero)
 *
 * A recognised loop becomes a region (region-compiler.ts Region) whose function is written here
 * once, not generated: entered at the head, it runs as many whole iterations as it can in bulk and
 * leaves the registers, the lazy flags, memory, EIP (the head) and the retired count exactly as
 * the interpreter would after those iterations. It does a chunk at a time, each within one page
 * of source and one of destination, and stops before anything the interpreter must do itself:
 * the loop's exit, a TLB miss (a page walk, a page fault, MMIO, a watched or read-only page), a
 * segment that is not flat, a 512-byte chunk holding decoded code (code-marks.ts), an element
 * crossing a page, the instruction budget, or the attention word. What it leaves undone the
 * interpreter runs (the function returns -1 when it did nothing), and the region is entered again
 * at the next head. Overlapping source and destination are copied element by element in the
 * loop's own order where a block move would differ.
 */
import type { Cpu } from '../cpu';
import type { Block, Insn } from '../insn';
import { OP_IMM, OP_MEM, OP_REG, OP_REL } from '../decoder';
import { CODE_CHUNK_SHIFT } from '../code-marks';
import { LF_SUB, SZ32 } from '../lazy-flags';
import { TLB_MASK } from '../mmu';
import { DF, EDI, ESI, REG_ZERO, S_EFLAGS, S_EIP, S_LF_A, S_LF_B, S_LF_OP, S_LF_RES, SEG_ES } from '../state';
import type { Region } from './region-compiler';
import { regionRecord } from './region-record';
import { kindOf } from './template';

/** Condition codes (the low nibble of Jcc, SDM Vol. 2 Table B-1): below (CF) and zero (ZF). */
const CC_B = 2;
const CC_Z = 4;
/** Bytes in a page, and the offset mask within one. */
const PAGE_BYTES = 4096;
const PAGE_MASK = 0xfff;
/** Lazy-flags op of a 32-bit SUB or CMP (lazy-flags.ts). */
const SUB32 = (LF_SUB << 2) | SZ32;
/** Instructions retired by one iteration of each shape (head and body). */
const STRING_INSNS = 4;
const INDEXED_INSNS = 5;

/** A recognised string loop. */
interface StringLoop {
  readonly indexed: false;
  /** The MOVS or STOS of the body. */
  readonly op: Insn;
  readonly stos: boolean;
  /** Element size (1, 2 or 4) and the source segment of MOVS. */
  readonly size: number;
  readonly seg: number;
  /** The compared registers (CMP r1, r2) and which of them the body moves (ESI or EDI). */
  readonly r1: number;
  readonly r2: number;
  readonly moved: number;
}

/** A recognised indexed byte-copy loop. */
interface IndexedLoop {
  readonly indexed: true;
  readonly counter: number;
  readonly load: Insn;
  readonly store: Insn;
  /** The byte register carrying the element (Cpu.r8 index). */
  readonly temp: number;
}

/** Either shape. */
type CopyLoop = StringLoop | IndexedLoop;

function isRel(i: Insn, mnem: string): boolean {
  return i.mnem === mnem && kindOf(i, 0) === OP_REL;
}

/** The string-loop reading of head + body, or null. */
function matchString(head: Block, body: Block): StringLoop | null {
  const [cmp, jz] = head.insns;
  const op = body.insns[0];
  if (cmp.mnem !== 'CMP' || cmp.size !== 4 || kindOf(cmp, 0) !== OP_REG || kindOf(cmp, 1) !== OP_REG) return null;
  if (!isRel(jz, 'JCC') || jz.op !== CC_Z || jz.target === body.eip) return null;
  if (op.mnem !== 'MOVS' && op.mnem !== 'STOS') return null;
  if (op.rep !== 0 || op.a16 || op.lock || !(op.size === 1 || op.size === 2 || op.size === 4)) return null;
  const stos = op.mnem === 'STOS';
  const movedBy = (r: number) => r === EDI || (!stos && r === ESI);
  const m1 = movedBy(cmp.r1);
  const m2 = movedBy(cmp.r2);
  if (m1 === m2) return null;
  return { indexed: false, op, stos, size: op.size, seg: op.seg, r1: cmp.r1, r2: cmp.r2, moved: m1 ? cmp.r1 : cmp.r2 };
}

/** The register other than `c` in a byte operand's address (c + other + disp), REG_ZERO, or -1. */
function otherReg(i: Insn, c: number): number {
  if (i.a16) return -1;
  if (i.base === c && i.index !== c) return i.index === REG_ZERO ? REG_ZERO : -2;
  if (i.index === c && i.scale === 0 && i.base !== c) return i.base;
  return -1;
}

/** The indexed-loop reading of head + body, or null. */
function matchIndexed(head: Block, body: Block): IndexedLoop | null {
  const [sub, jb] = head.insns;
  if (body.insns.length !== 3) return null;
  const [load, store, jmp] = body.insns;
  if (sub.mnem !== 'SUB' || sub.size !== 4 || sub.lock || kindOf(sub, 0) !== OP_REG || kindOf(sub, 1) !== OP_IMM || sub.imm !== 1) return null;
  if (!isRel(jb, 'JCC') || jb.op !== CC_B || jb.target === body.eip) return null;
  if (!isRel(jmp, 'JMP') || jmp.target !== head.eip) return null;
  const c = sub.r1;
  if (load.mnem !== 'MOV' || load.size !== 1 || kindOf(load, 0) !== OP_REG || kindOf(load, 1) !== OP_MEM) return null;
  if (store.mnem !== 'MOV' || store.size !== 1 || kindOf(store, 0) !== OP_MEM || kindOf(store, 1) !== OP_REG) return null;
  if (store.r2 !== load.r1) return null;
  // Addresses c + (a register the loop does not change, or none) + displacement; a scaled
  // second register is a constant too, when c is the base.
  const x = otherReg(load, c);
  const y = otherReg(store, c);
  if (x === -1 || y === -1) return null;
  const tempReg = load.r1 >> 2;
  const used = [c, load.base, load.index, store.base, store.index];
  if (used.includes(tempReg)) return null;
  return { indexed: true, counter: c, load, store, temp: load.r1 };
}

/**
 * Recognises the loop whose head is `head` and whose body is `body` (the block at head's
 * fall-through), or returns null.
 */
export function matchCopyLoop(head: Block, body: Block): CopyLoop | null {
  if (head.insns.length !== 2 || body.eip !== head.endEip || body.frame !== head.frame || body.mode !== head.mode) return null;
  if (body.insns.length === 2) {
    const jmp = body.insns[1];
    if (!isRel(jmp, 'JMP') || jmp.target !== head.eip) return null;
    return matchString(head, body);
  }
  return matchIndexed(head, body);
}

/** Machine offset of linear `lin` when the TLB has it for this access (tags), else -1. */
function tlbOffset(cpu: Cpu, tags: Int32Array, lin: number): number {
  const page = lin >>> 12;
  const x = page & TLB_MASK;
  return tags[x] === page ? cpu.tlbOff[x] + (lin & PAGE_MASK) : -1;
}

/** Elements of `size` bytes from page offset `o` stepping by `d` (+-size) that stay in the page. */
function inPage(o: number, size: number, d: number): number {
  if (o + size > PAGE_BYTES) return 0;
  return d > 0 ? Math.floor((PAGE_BYTES - o) / size) : Math.floor(o / size) + 1;
}

/**
 * Of `k` elements written from machine offset `off` stepping by `d`, how many come before the
 * first 512-byte chunk holding decoded code (a store there must go through mmu.noteWrite).
 */
function beforeCode(cpu: Cpu, off: number, k: number, size: number, d: number): number {
  const mark = cpu.phys.codeMark[off >>> 12];
  if (mark === 0) return k;
  const o = off & PAGE_MASK;
  if (d > 0) {
    for (let c = o >>> CODE_CHUNK_SHIFT; c < 8; c++) {
      if ((mark & (1 << c)) !== 0) return Math.min(k, Math.max(0, Math.floor(((c << CODE_CHUNK_SHIFT) - o) / size)));
    }
    return k;
  }
  for (let c = (o + size - 1) >>> CODE_CHUNK_SHIFT; c >= 0; c--) {
    if ((mark & (1 << c)) !== 0) {
      const low = (c + 1) << CODE_CHUNK_SHIFT;
      return o < low ? 0 : Math.min(k, Math.floor((o - low) / size) + 1);
    }
  }
  return k;
}

/**
 * Copies `k` elements of `size` bytes from machine offset `src` to `dst`, element j at
 * offset +j*d, as a loop doing one element at a time would (an element is read whole, then
 * written).
 */
function copyElements(m: Uint8Array, src: number, dst: number, k: number, size: number, d: number): void {
  const span = k * size;
  const sLo = d > 0 ? src : src - (k - 1) * size;
  const dLo = d > 0 ? dst : dst - (k - 1) * size;
  // A block move differs from the loop only when the destination runs into source not yet read.
  const clash = d > 0 ? dLo > sLo && dLo < sLo + span : dLo < sLo && dLo + span > sLo;
  if (!clash) {
    m.copyWithin(dLo, sLo, sLo + span);
    return;
  }
  for (let j = 0; j < k; j++) {
    const s = src + j * d;
    const t = dst + j * d;
    if (size === 1) {
      m[t] = m[s];
    } else {
      const v = m.slice(s, s + size);
      m.set(v, t);
    }
  }
}

/** Stores `k` elements of the accumulator's low `size` bytes from machine offset `dst` by `d`. */
function fillElements(m: Uint8Array, acc: number, dst: number, k: number, size: number, d: number): void {
  if (size === 1) {
    const lo = d > 0 ? dst : dst - (k - 1);
    m.fill(acc & 0xff, lo, lo + k);
    return;
  }
  for (let j = 0; j < k; j++) {
    const t = dst + j * d;
    for (let b = 0; b < size; b++) m[t + b] = (acc >>> (8 * b)) & 0xff;
  }
}

/** Iterations of a string loop left before the pointer equals the end (Infinity: never). */
function stringLeft(ptr: number, end: number, d: number): number {
  const dist = (d > 0 ? end - ptr : ptr - end) >>> 0;
  const size = d > 0 ? d : -d;
  return dist % size === 0 ? dist / size : Infinity;
}

/** Runs whole iterations of a string loop; returns how many. */
function runString(cpu: Cpu, L: StringLoop, most: number): number {
  const s = cpu.s;
  const size = L.size;
  const d = (s[S_EFLAGS] & DF) !== 0 ? -size : size;
  if ((cpu.segOkW & (1 << SEG_ES)) === 0 || (!L.stos && (cpu.segOkR & (1 << L.seg)) === 0)) return 0;
  const m = cpu.phys.mem8;
  const end = L.moved === L.r1 ? s[L.r2] : s[L.r1];
  let done = 0;
  while (done < most) {
    const ptr = s[L.moved];
    const k0 = Math.min(stringLeft(ptr, end, d), most - done);
    if (k0 <= 0) break;
    const di = s[EDI];
    const dLin = (di + cpu.segBase[SEG_ES]) | 0;
    let k = Math.min(k0, inPage(dLin & PAGE_MASK, size, d));
    const dst = tlbOffset(cpu, cpu.tagW, dLin);
    if (k <= 0 || dst < 0) break;
    let src = -1;
    let si = 0;
    if (!L.stos) {
      si = s[ESI];
      const sLin = (si + cpu.segBase[L.seg]) | 0;
      k = Math.min(k, inPage(sLin & PAGE_MASK, size, d));
      src = tlbOffset(cpu, cpu.tagR, sLin);
      if (k <= 0 || src < 0) break;
    }
    k = beforeCode(cpu, dst, k, size, d);
    if (k <= 0) break;
    if (L.stos) fillElements(m, s[0], dst, k, size, d);
    else copyElements(m, src, dst, k, size, d);
    s[EDI] = (di + k * d) | 0;
    if (!L.stos) s[ESI] = (si + k * d) | 0;
    // The last CMP compared the pointer before the last element.
    const last = (s[L.moved] - d) | 0;
    const a = L.r1 === L.moved ? last : end;
    const b = L.r2 === L.moved ? last : end;
    s[S_LF_OP] = SUB32;
    s[S_LF_A] = a;
    s[S_LF_B] = b;
    s[S_LF_RES] = (a - b) | 0;
    done += k;
    if (cpu.attn[cpu.attnIdx] !== 0) break;
  }
  return done;
}

/** The constant part (the register other than the counter, and the displacement) of an operand. */
function constPart(cpu: Cpu, i: Insn, c: number): number {
  const s = cpu.s;
  let v = i.disp;
  if (i.base === c) {
    if (i.index !== REG_ZERO) v += s[i.index] << i.scale;
  } else if (i.base !== REG_ZERO) {
    v += s[i.base];
  }
  return v | 0;
}

/** Runs whole iterations of an indexed loop; returns how many. */
function runIndexed(cpu: Cpu, L: IndexedLoop, most: number): number {
  const s = cpu.s;
  const { load, store } = L;
  if ((cpu.segOkR & (1 << load.seg)) === 0 || (cpu.segOkW & (1 << store.seg)) === 0) return 0;
  const m = cpu.phys.mem8;
  const xs = constPart(cpu, load, L.counter);
  const xd = constPart(cpu, store, L.counter);
  let done = 0;
  while (done < most) {
    const c = s[L.counter];
    const k0 = Math.min(c >>> 0, most - done);
    if (k0 <= 0) break;
    // The first element is at index c - 1, then downwards.
    const sLin = (xs + c - 1 + cpu.segBase[load.seg]) | 0;
    const dLin = (xd + c - 1 + cpu.segBase[store.seg]) | 0;
    let k = Math.min(k0, (sLin & PAGE_MASK) + 1, (dLin & PAGE_MASK) + 1);
    const src = tlbOffset(cpu, cpu.tagR, sLin);
    const dst = tlbOffset(cpu, cpu.tagW, dLin);
    if (src < 0 || dst < 0) break;
    k = beforeCode(cpu, dst, k, 1, -1);
    if (k <= 0) break;
    copyElements(m, src, dst, k, 1, -1);
    const left = (c - k) | 0;
    s[L.counter] = left;
    cpu.r8[L.temp] = m[src - (k - 1)];
    // The last SUB took the counter from left + 1 to left.
    s[S_LF_OP] = SUB32;
    s[S_LF_A] = (left + 1) | 0;
    s[S_LF_B] = 1;
    s[S_LF_RES] = left;
    done += k;
    if (cpu.attn[cpu.attnIdx] !== 0) break;
  }
  return done;
}

/**
 * A region for the copy loop `loop` of `head` and `body` (matchCopyLoop), entered at the head
 * only: it returns the instructions retired (EIP back at the head), or -1 when not one whole
 * iteration could be done in bulk (the interpreter then runs the head).
 */
export function copyLoopRegion(cpu: Cpu, head: Block, body: Block, loop: CopyLoop): Region {
  const table = new Int32Array(PAGE_BYTES);
  const e0 = (head.eip - (head.lin & PAGE_MASK)) | 0;
  table[head.lin & PAGE_MASK] = 1;
  const perIter = loop.indexed ? INDEXED_INSNS : STRING_INSNS;
  const fn = (bi: number, max: number): number => {
    if (bi !== 0) return -1;
    const most = Math.floor(max / perIter);
    const k = loop.indexed ? runIndexed(cpu, loop, most) : runString(cpu, loop, most);
    if (k === 0) return -1;
    cpu.s[S_EIP] = head.eip;
    return k * perIter;
  };
  const source = loop.indexed ? 'copy loop (indexed)' : `copy loop (${loop.op.mnem} ${loop.size})`;
  return regionRecord(cpu, fn, { table, e0, frame: head.frame, gen: Int32Array.of(head.gen), ss32: cpu.ss32, blocks: [head, body], templated: 0, source, copyLoop: true });
}
