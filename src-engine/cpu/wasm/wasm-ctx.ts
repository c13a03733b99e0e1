/**
 * The context words of a Cpu in the pool memory, and the function indices a region module
 * calls.
 *
 * A region reads and writes the registers, the lazy flags record, EFLAGS, EIP and the segment
 * bases at the state block's own word offsets (state.ts) from a base address, `st`: the Cpu's
 * state block itself when it lives in the pool memory (MachineMemory.allocateStates: no copy on
 * entry or exit), or else a mirror of its first MIRROR_WORDS words in the context area, which the
 * JavaScript entry fills and drains (plain state buffers: tests, a PVH domain). Beside it, the
 * context holds what only the entry and the region exchange: the instruction count and the fault
 * point of a fault exit, the FAULT word imports raise, and the Cpu's flat-segment masks.
 */
import { S_SEG_BASE } from '../state';

/** Byte offsets in the context area. */
export const CTX = {
  /** Instructions retired before a fault. */
  N: 0,
  /** Fault point of a fault exit. */
  AT: 4,
  /** Set by an import that caught an exception. */
  FAULT: 8,
  /** cpu.segOkR and cpu.segOkW (written by the entry and after each handler call). */
  OK_R: 12,
  OK_W: 16,
  /** The state-block mirror (words 0..MIRROR_WORDS-1 in the state block's order). */
  MIRROR: 64,
} as const;

/** State words a region touches: the registers up to the segment bases ES..GS (S_SEG_BASE + 6). */
export const MIRROR_WORDS = S_SEG_BASE + 6;

/** Bytes of the context area. */
export const CTX_BYTES = CTX.MIRROR + MIRROR_WORDS * 4;

/** Function indices a region's code calls: imports, then the module's own flag helpers. */
export interface ImportIds {
  /** (lin, size) -> value: a read through the MMU's slow path. */
  rd: number;
  /** (lin, size, value) -> codeWritten: a write through the slow path. */
  wr: number;
  /** (lin, size) -> value: probeWrite then read (read-modify-write). */
  rmw: number;
  /** (seg, off, size, write): the segment limit and type check. */
  chkSeg: number;
  /** (): #GP(0). */
  gp: number;
  /** (): #DE (divide error). */
  de: number;
  /** (site) -> 0 go on, 1 leave, 2 faulted: the interpreter's handler of a site. */
  handler: number;
  /** () -> attention word nonzero. */
  attn: number;
  /** (op, a, b, r, aux, eflags) -> CF. */
  cfFn: number;
  /** (op, a, b, r, aux, eflags, cc) -> condition. */
  condFn: number;
  /** (op, a, b, r, aux, eflags) -> EFLAGS with the record's arithmetic flags. */
  flagsFn: number;
}
