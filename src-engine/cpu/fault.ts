/**
 * CPU exceptions as control flow. A handler that detects a fault records it on the Cpu and
 * throws the shared FAULT sentinel (a plain object: no stack trace is captured, so throwing is
 * cheap); the run loop catches it, rewinds EIP to the faulting instruction and delivers it.
 */
import type { Cpu } from './cpu';

/** The one value thrown for guest exceptions. */
export const FAULT = { fault: true } as const;

/** Thrown when the VCPU must leave run() at once (triple fault, stop request from ops). */
export const STOP = { stop: true } as const;

/**
 * Not an exception: a write was about to change code of the block being executed. The run loop
 * rewinds to the writing instruction and runs it on its own (mmu.checkSmc).
 */
export const VEC_SMC_RESTART = -1;

/** Raises exception `vector` with no error code. */
export function raise(cpu: Cpu, vector: number): never {
  cpu.excVector = vector;
  cpu.excHasError = false;
  cpu.excError = 0;
  throw FAULT;
}

/** Raises exception `vector` with an error code. */
export function raiseError(cpu: Cpu, vector: number, errorCode: number): never {
  cpu.excVector = vector;
  cpu.excHasError = true;
  cpu.excError = errorCode;
  throw FAULT;
}

/** #GP(code). */
export function gp(cpu: Cpu, code = 0): never {
  return raiseError(cpu, 13, code);
}

/** #UD. */
export function ud(cpu: Cpu): never {
  return raise(cpu, 6);
}
