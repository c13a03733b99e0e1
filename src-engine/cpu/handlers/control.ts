/**
 * Control transfer: JMP JCC CALL RET (near), LOOP LOOPE LOOPNE JCXZ, JMPF CALLF RETF IRET (via
 * far-transfer.ts), INT n INT3 INTO INT1, BOUND. Every one of these ends its block; the run
 * loop has already set EIP to the next instruction, so a not-taken branch does nothing.
 */
import type { Cpu } from '../cpu';
import { OP_FAR, OP_MEM, OP_REG } from '../decoder';
import type { Handler } from '../insn';
import { linR, pop16, pop32, push16, push32, adjustSp, peekStack } from '../addressing';
import { cond, getCF, getOF, getZF, LF_SUB, SZ32 } from '../lazy-flags';
import { rd16, rd32 } from '../mmu';
import { gp, raise } from '../fault';
import { deliverSoftware } from '../interrupts';
import { callFar, iret, jmpFar, retFar } from '../far-transfer';
import { ECX, EXC_BR, IOPL_MASK, S_EFLAGS, S_EIP, S_LF_A, S_LF_B, S_LF_OP, S_LF_RES, ZF } from '../state';
import { regIndex, udHandler, type Factory } from './common';

function checkTarget(cpu: Cpu, target: number): void {
  if (target >>> 0 > cpu.csLimit) gp(cpu, 0);
}

const jmpRel: Handler = (cpu, i) => {
  checkTarget(cpu, i.target);
  cpu.s[S_EIP] = i.target;
};
const jcc: Handler = (cpu, i) => {
  if (cond(cpu, i.op)) {
    checkTarget(cpu, i.target);
    cpu.s[S_EIP] = i.target;
  }
};

// The four most frequent conditions get handlers of their own (in the GRUB boot they end 70% of
// the blocks ending in a Jcc), without cond()'s dispatch on the condition.

/** Condition codes (SDM Vol. 2 Table B-1): below, above or equal, zero, not zero. */
const CC_B = 0x2;
const CC_AE = 0x3;
const CC_Z = 0x4;
const CC_NZ = 0x5;
/** The lazy op of a 32-bit SUB or CMP (lazy-flags.ts). */
const SUB32 = (LF_SUB << 2) | SZ32;

/** ZF: RES is zero for every pending lazy operation (lazy-flags.ts getZF). */
function zf(cpu: Cpu): boolean {
  const s = cpu.s;
  return s[S_LF_OP] !== 0 ? s[S_LF_RES] === 0 : (s[S_EFLAGS] & ZF) !== 0;
}

/** CF, with the 32-bit SUB/CMP of a compare-and-branch inline. */
function cf(cpu: Cpu): boolean {
  const s = cpu.s;
  return s[S_LF_OP] === SUB32 ? s[S_LF_A] >>> 0 < s[S_LF_B] >>> 0 : getCF(cpu) !== 0;
}

/** A taken near jump to the decoded target (small enough for V8 to inline into each Jcc). */
function jumpTo(cpu: Cpu, target: number): void {
  checkTarget(cpu, target);
  cpu.s[S_EIP] = target;
}

const jz: Handler = (cpu, i) => {
  if (zf(cpu)) jumpTo(cpu, i.target);
};
const jnz: Handler = (cpu, i) => {
  if (!zf(cpu)) jumpTo(cpu, i.target);
};
const jb: Handler = (cpu, i) => {
  if (cf(cpu)) jumpTo(cpu, i.target);
};
const jae: Handler = (cpu, i) => {
  if (!cf(cpu)) jumpTo(cpu, i.target);
};
/** Jcc handlers by condition code. */
const JCC_BY_CC: Partial<Record<number, Handler>> = { [CC_B]: jb, [CC_AE]: jae, [CC_Z]: jz, [CC_NZ]: jnz };
const callRel32: Handler = (cpu, i) => {
  checkTarget(cpu, i.target);
  push32(cpu, i.next);
  cpu.s[S_EIP] = i.target;
};
const callRel16: Handler = (cpu, i) => {
  checkTarget(cpu, i.target);
  push16(cpu, i.next);
  cpu.s[S_EIP] = i.target;
};

function nearTarget(cpu: Cpu, size: number, r1: number, mem: boolean, i: Parameters<Handler>[1]): number {
  if (!mem) return size === 4 ? cpu.s[r1] : cpu.r16[r1];
  const lin = linR(cpu, i, size);
  return size === 4 ? rd32(cpu, lin) : rd16(cpu, lin);
}

const ret32: Handler = (cpu) => {
  const t = peekStack(cpu, 0, 4);
  checkTarget(cpu, t);
  adjustSp(cpu, 4);
  cpu.s[S_EIP] = t;
};
const ret16: Handler = (cpu) => {
  const t = peekStack(cpu, 0, 2);
  checkTarget(cpu, t);
  adjustSp(cpu, 2);
  cpu.s[S_EIP] = t;
};
const retImm: Handler = (cpu, i) => {
  const t = peekStack(cpu, 0, i.size);
  checkTarget(cpu, t);
  adjustSp(cpu, i.size + i.imm);
  cpu.s[S_EIP] = t;
};

function loopFactory(kind: 'LOOP' | 'LOOPE' | 'LOOPNE' | 'JCXZ'): Factory {
  return (d) => {
    d.endBlock = true;
    const a32 = d.asz === 4;
    return (cpu, i) => {
      const s = cpu.s;
      let count: number;
      if (kind === 'JCXZ') {
        count = a32 ? s[ECX] : cpu.r16[ECX * 2];
        if (count === 0) {
          checkTarget(cpu, i.target);
          s[S_EIP] = i.target;
        }
        return;
      }
      if (a32) {
        count = (s[ECX] - 1) | 0;
      } else {
        count = (cpu.r16[ECX * 2] - 1) & 0xffff;
      }
      let take = count !== 0;
      if (kind === 'LOOPE') take = take && getZF(cpu) === 1;
      else if (kind === 'LOOPNE') take = take && getZF(cpu) === 0;
      if (take) checkTarget(cpu, i.target);
      if (a32) s[ECX] = count;
      else cpu.r16[ECX * 2] = count;
      if (take) s[S_EIP] = i.target;
    };
  };
}

const intN: Handler = (cpu, i) => {
  if (cpu.vm86 && (cpu.s[S_EFLAGS] & IOPL_MASK) !== IOPL_MASK) gp(cpu, 0);
  deliverSoftware(cpu, i.imm & 0xff);
};
const int3: Handler = (cpu) => deliverSoftware(cpu, 3);
const into: Handler = (cpu) => {
  if (getOF(cpu)) deliverSoftware(cpu, 4);
};
const int1: Handler = (cpu) => deliverSoftware(cpu, 1, true);

const bound: Handler = (cpu, i) => {
  const size = i.size;
  const lin = linR(cpu, i, size * 2);
  let lo: number;
  let hi: number;
  let v: number;
  if (size === 4) {
    lo = rd32(cpu, lin);
    hi = rd32(cpu, (lin + 4) | 0);
    v = cpu.s[i.r1];
  } else {
    lo = (rd16(cpu, lin) << 16) >> 16;
    hi = (rd16(cpu, (lin + 2) | 0) << 16) >> 16;
    v = (cpu.r16[i.r1] << 16) >> 16;
  }
  if (v < lo || v > hi) raise(cpu, EXC_BR);
};

/** Factories of this group, by mnemonic. */
export const controlFactories: Record<string, Factory> = {
  JMP: (d) => {
    d.endBlock = true;
    return jmpRel;
  },
  JCC: (d, ins) => {
    d.endBlock = true;
    ins.op = d.opcode & 0xf;
    return JCC_BY_CC[ins.op] ?? jcc;
  },
  CALL: (d) => {
    d.endBlock = true;
    return d.osz === 4 ? callRel32 : callRel16;
  },
  CALLN: (d, ins) => {
    d.endBlock = true;
    const o = d.ops[0];
    const size = o.size;
    const mem = o.kind === OP_MEM;
    if (!mem) ins.r1 = regIndex(size, o.reg);
    return (cpu, i) => {
      const t = nearTarget(cpu, size, i.r1, mem, i);
      checkTarget(cpu, t);
      if (size === 4) push32(cpu, i.next);
      else push16(cpu, i.next);
      cpu.s[S_EIP] = t;
    };
  },
  JMPN: (d, ins) => {
    d.endBlock = true;
    const o = d.ops[0];
    const size = o.size;
    const mem = o.kind === OP_MEM;
    if (!mem) ins.r1 = regIndex(size, o.reg);
    return (cpu, i) => {
      const t = nearTarget(cpu, size, i.r1, mem, i);
      checkTarget(cpu, t);
      cpu.s[S_EIP] = t;
    };
  },
  RET: (d, ins) => {
    d.endBlock = true;
    ins.size = d.osz;
    if (d.nops > 0) {
      ins.imm = d.ops[0].imm & 0xffff;
      return retImm;
    }
    return d.osz === 4 ? ret32 : ret16;
  },
  JMPF: (d, ins) => {
    d.endBlock = true;
    const o = d.ops[0];
    ins.size = d.osz;
    if (o.kind === OP_FAR) {
      ins.imm = o.imm;
      ins.imm2 = o.imm2;
      return (cpu, i) => jmpFar(cpu, i.imm2, i.imm, i.size, i.next);
    }
    if (o.kind !== OP_MEM) return udHandler;
    return (cpu, i) => {
      const lin = linR(cpu, i, i.size + 2);
      const off = i.size === 4 ? rd32(cpu, lin) : rd16(cpu, lin);
      jmpFar(cpu, rd16(cpu, (lin + i.size) | 0), off, i.size, i.next);
    };
  },
  CALLF: (d, ins) => {
    d.endBlock = true;
    const o = d.ops[0];
    ins.size = d.osz;
    if (o.kind === OP_FAR) {
      ins.imm = o.imm;
      ins.imm2 = o.imm2;
      return (cpu, i) => callFar(cpu, i.imm2, i.imm, i.size, i.next);
    }
    if (o.kind !== OP_MEM) return udHandler;
    return (cpu, i) => {
      const lin = linR(cpu, i, i.size + 2);
      const off = i.size === 4 ? rd32(cpu, lin) : rd16(cpu, lin);
      callFar(cpu, rd16(cpu, (lin + i.size) | 0), off, i.size, i.next);
    };
  },
  RETF: (d, ins) => {
    d.endBlock = true;
    ins.size = d.osz;
    ins.imm = d.nops > 0 ? d.ops[0].imm & 0xffff : 0;
    return (cpu, i) => retFar(cpu, i.size, i.imm);
  },
  IRET: (d, ins) => {
    d.endBlock = true;
    ins.size = d.osz;
    return (cpu, i) => iret(cpu, i.size);
  },
  LOOP: loopFactory('LOOP'),
  LOOPE: loopFactory('LOOPE'),
  LOOPNE: loopFactory('LOOPNE'),
  JCXZ: loopFactory('JCXZ'),
  INT: (d, ins) => {
    d.endBlock = true;
    ins.imm = d.ops[0].imm;
    return intN;
  },
  INT3: (d) => {
    d.endBlock = true;
    return int3;
  },
  INTO: (d) => {
    d.endBlock = true;
    return into;
  },
  INT1: (d) => {
    d.endBlock = true;
    return int1;
  },
  BOUND: (d, ins) => {
    const o = d.ops[0];
    if (d.ops[1].kind !== OP_MEM || o.kind !== OP_REG) return udHandler;
    ins.size = o.size;
    ins.r1 = regIndex(o.size, o.reg);
    return bound;
  },
};

export { pop16, pop32 };

/** The near branch handlers the interpreter's fast path recognises (fast-kinds.ts). */
export const CONTROL_FAST_HANDLERS = { jmpRel, jcc, jz, jnz, jb, jae, callRel32, ret32 } as const;
