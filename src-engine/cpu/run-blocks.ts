/**
 * The interpreter's block-chaining loop: runs decoded blocks back to back (exec-block.ts
 * execBlocks runs a block's instructions and goes on along cached successor links by itself),
 * looks successors up and links them, enters compiled JIT regions, and checks the attention word
 * and the instruction budget. The JIT and the lookups stay here, out of the instruction loop:
 * with all of this merged into one function, V8 ran it 30% slower.
 */
import type { Cpu } from './cpu';
import type { Block } from './insn';
import { execBlocks } from './exec-block';
import { enterRegion, noteInterpreted } from './jit/jit-page';
import { S_EIP } from './state';

/**
 * Runs blocks back to back from `first`, following cached successor links, until something needs
 * the run loop (attention, the instruction budget, a mode change). A block whose page has a
 * compiled region enters the region, which runs until control leaves the page's compiled blocks
 * (jit/jit-page.ts). EIP is set to each interpreted block's end before it runs (branches
 * overwrite it). On a fault in an interpreted block, cpu.faultBlock is that block and
 * cpu.faultIndex the index of the faulting instruction; on a fault elsewhere (a block lookup, a
 * compiled region) cpu.faultBlock is null.
 */
export function runBlocks(cpu: Cpu, first: Block, limit: number): void {
  const s = cpu.s;
  const phys = cpu.phys;
  const jit = cpu.jit.enabled;
  let b = first;
  // While a block's instructions run (for the fault report).
  let inBlock = false;
  try {
    for (;;) {
      const page = b.jitPage;
      let ran = -1;
      if (page !== null && jit) {
        if (b.region !== null) ran = enterRegion(cpu, b, limit);
        if (ran < 0 && noteInterpreted(cpu, cpu.jitRegistry, page, b)) ran = enterRegion(cpu, b, limit);
      }
      if (ran >= 0) {
        cpu.icount += ran;
      } else {
        inBlock = true;
        b = execBlocks(cpu, b, limit);
        inBlock = false;
      }
      if (cpu.localAttention || cpu.attn[cpu.attnIdx] !== 0 || cpu.icount >= limit || cpu.slowMode) return;
      const eip = s[S_EIP];
      const epoch = cpu.linkEpoch;
      let nb: Block | null = null;
      if (ran < 0) {
        if (b.linkEpoch === epoch) {
          if (b.succ0Eip === eip) nb = b.succ0;
          else if (b.succ1Eip === eip) nb = b.succ1;
        } else {
          b.succ0 = null;
          b.succ1 = null;
          b.linkEpoch = epoch;
        }
      }
      if (nb === null || phys.codeGen[nb.frame] !== nb.gen) {
        nb = cpu.lookupBlock();
        if (nb.off >= 0 && ran < 0) {
          if (b.succ0 === null) {
            b.succ0 = nb;
            b.succ0Eip = eip;
          } else {
            b.succ1 = nb;
            b.succ1Eip = eip;
          }
        }
      }
      b = nb;
    }
  } catch (e) {
    // execBlocks recorded its faulting block.
    if (!inBlock) cpu.faultBlock = null;
    cpu.curOff = -1;
    throw e;
  }
}
