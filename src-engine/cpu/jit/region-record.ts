/**
 * The one constructor of Region records, for all three kinds (JavaScript regions, WebAssembly
 * regions, copy loops): the Cpu-derived fields are taken in one place and every record gets the
 * same fields in the same order (one hidden class for the run loop's loads).
 */
import type { Cpu } from '../cpu';
import type { Block } from '../insn';
import type { Region, RegionFn } from './region-compiler';

/** What differs between region kinds. */
export interface RegionParts {
  table: Int32Array;
  e0: number;
  frame: number;
  gen: Int32Array;
  ss32: boolean;
  blocks: readonly Block[];
  templated: number;
  source: string;
  copyLoop: boolean;
}

/** A live region of `cpu` running `fn`, built in for the Cpu's current memory, TLB tags, attention word and CS limit. */
export function regionRecord(cpu: Cpu, fn: RegionFn, p: RegionParts): Region {
  return {
    fn,
    cpu,
    phys: cpu.phys,
    tagR: cpu.tagR,
    attn: cpu.attn,
    attnIdx: cpu.attnIdx,
    csLimit: cpu.csLimit,
    table: p.table,
    e0: p.e0,
    frame: p.frame,
    gen: p.gen,
    dead: false,
    ss32: p.ss32,
    blocks: p.blocks,
    insns: p.blocks.reduce((sum, b) => sum + b.insns.length, 0),
    templated: p.templated,
    source: p.source,
    copyLoop: p.copyLoop,
  };
}
