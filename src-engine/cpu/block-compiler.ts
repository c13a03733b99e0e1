/**
 * Compiles hot decoded blocks into JavaScript functions. A compiled block is the block's handler
 * calls written out in sequence, each call site seeing exactly one handler, so V8 can inline the
 * handlers and optimise across instructions; the semantics stay in the one set of handlers the
 * interpreter uses (there is no second implementation of any instruction to get wrong).
 *
 * The generated function returns normally after the last instruction; when a handler throws, it
 * records the index of the faulting instruction in cpu.faultIndex first, so the run loop can
 * rewind EIP and count retired instructions exactly as the interpreter does.
 */
import type { Cpu } from './cpu';
import type { Block } from './insn';

/** A compiled block: runs the block's instructions in order. */
export type CompiledBlock = (cpu: Cpu) => void;

/** Executions of a block after which it is compiled. */
export const COMPILE_THRESHOLD = 64;

/** Builds the JavaScript function for `b`. */
export function compileBlock(b: Block): CompiledBlock {
  const n = b.insns.length;
  const names: string[] = [];
  const values: unknown[] = [];
  let body = 'let k = 0;\ntry {\n';
  for (let i = 0; i < n; i++) {
    names.push(`h${i}`, `i${i}`);
    values.push(b.insns[i].fn, b.insns[i]);
    body += i === 0 ? `h0(cpu, i0);\n` : `k = ${i}; h${i}(cpu, i${i});\n`;
  }
  body += '} catch (e) {\ncpu.faultIndex = k;\nthrow e;\n}\n';
  const factory = new Function(...names, `return function block_${(b.lin >>> 0).toString(16)}(cpu) {\n${body}};`);
  return factory(...values) as CompiledBlock;
}
