/**
 * Known bugs injected into the CPU under test, so the harness's own tests can check that a
 * divergence is found and minimised to the guilty instruction (a differential harness that
 * cannot fail proves nothing).
 */
import { FLAG } from './case';
import type { CreateCpuHarness } from './cpu-harness-api';

/** Injectable bugs. */
export type InjectedBug = 'cmc-keeps-cf';

/** CMC opcode. */
const CMC = 0xf5;

/** Wraps a harness factory so its CPU has `bug`. */
export function injectBug(create: CreateCpuHarness, bug: InjectedBug): CreateCpuHarness {
  return (opts) => {
    const h = create(opts);
    return {
      ...h,
      loadMultiboot: (elf, cmdline) => h.loadMultiboot(elf, cmdline),
      runUntil: (eip, max) => h.runUntil(eip, max),
      getRegs: () => h.getRegs(),
      setRegs: (r) => h.setRegs(r),
      readPhys: (a, l) => h.readPhys(a, l),
      writePhys: (a, d) => h.writePhys(a, d),
      step: () => {
        const before = h.getRegs();
        const opcode = h.readPhys(before.eip, 1)[0];
        h.step();
        if (bug === 'cmc-keeps-cf' && opcode === CMC) {
          const after = h.getRegs();
          if (after.eip === before.eip + 1) h.setRegs({ eflags: (after.eflags & ~FLAG.CF) | (before.eflags & FLAG.CF) });
        }
      },
    };
  };
}
