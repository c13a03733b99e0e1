/**
 * The context words of a Cpu in the pool memory: what the JavaScript entry of a WebAssembly
 * region and the region exchange (registers, lazy flags, segment bases, the exit EIP, the
 * instruction count and the fault point), and the function indices a region module calls.
 */

/** Byte offsets in the context area. */
export const CTX = {
  /** EAX..EDI (8 words). */
  REGS: 0,
  /** Lazy flags record: op, result, a, b, aux (5 words, the order of S_LF_OP..S_LF_AUX). */
  LF: 32,
  /** EFLAGS (read by the flags helpers when no op is pending). */
  EFLAGS: 52,
  /** EIP the region left at (in: s[EIP] for an entry that leaves at once). */
  EO: 56,
  /** Instructions retired before a fault. */
  N: 60,
  /** Fault point of a fault exit. */
  AT: 64,
  /** Set by an import that caught an exception. */
  FAULT: 68,
  /** cpu.segOkR and cpu.segOkW. */
  OK_R: 72,
  OK_W: 76,
  /** Segment bases ES..GS (6 words). */
  SEG_BASE: 80,
} as const;

/** Bytes of the context area. */
export const CTX_BYTES = 128;

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
  /** (site) -> 0 go on, 1 leave, 2 faulted: the interpreter's handler of a site. */
  handler: number;
  /** () -> attention word nonzero. */
  attn: number;
  /** (op, a, b, r, aux, eflags) -> CF. */
  cfFn: number;
  /** (op, a, b, r, aux, eflags, cc) -> condition. */
  condFn: number;
}
