/**
 * Decimal adjust instructions DAA DAS AAA AAS AAM AAD (SDM Vol. 2 pseudo-code). Flags the SDM
 * leaves undefined follow QEMU.
 */
import type { Cpu } from '../cpu';
import type { Handler } from '../insn';
import { raise } from '../fault';
import { getAF, getCF, setArithFlags, AF, CF, PF, SF, ZF, OF, PARITY } from '../lazy-flags';
import { EXC_DE } from '../state';
import type { Factory } from './common';

function szp(v: number): number {
  return (v === 0 ? ZF : 0) | (v & 0x80 ? SF : 0) | (PARITY[v] ? PF : 0);
}

const daa: Handler = (cpu) => {
  const old = cpu.r8[0];
  const oldCf = getCF(cpu);
  let al = old;
  let cf = 0;
  let af = 0;
  if ((al & 0xf) > 9 || getAF(cpu)) {
    al = (al + 6) & 0xff;
    af = AF;
  }
  if (old > 0x99 || oldCf) {
    al = (al + 0x60) & 0xff;
    cf = CF;
  }
  cpu.r8[0] = al;
  setArithFlags(cpu, CF | AF | SF | ZF | PF | OF, cf | af | szp(al));
};

const das: Handler = (cpu) => {
  const old = cpu.r8[0];
  const oldCf = getCF(cpu);
  let al = old;
  let cf = 0;
  let af = 0;
  if ((al & 0xf) > 9 || getAF(cpu)) {
    cf = old < 6 || oldCf ? CF : 0;
    al = (al - 6) & 0xff;
    af = AF;
  }
  if (old > 0x99 || oldCf) {
    al = (al - 0x60) & 0xff;
    cf = CF;
  }
  cpu.r8[0] = al;
  setArithFlags(cpu, CF | AF | SF | ZF | PF | OF, cf | af | szp(al));
};

function asciiAdjust(sub: boolean): Handler {
  return (cpu: Cpu) => {
    let ax = cpu.r16[0];
    let flags = 0;
    if ((ax & 0xf) > 9 || getAF(cpu)) {
      if (sub) {
        // AX - 6 borrows from AH when AL < 6 (P6 and later), then AH - 1.
        ax = (ax - 0x106) & 0xffff;
      } else {
        ax = (ax + 0x106) & 0xffff;
      }
      flags = AF | CF;
    }
    ax &= 0xff0f;
    cpu.r16[0] = ax;
    setArithFlags(cpu, CF | AF | SF | ZF | PF | OF, flags | szp(ax & 0xff));
  };
}

const aam: Handler = (cpu, i) => {
  const base = i.imm & 0xff;
  if (base === 0) raise(cpu, EXC_DE);
  const al = cpu.r8[0];
  const r = al % base;
  cpu.r8[1] = Math.floor(al / base);
  cpu.r8[0] = r;
  setArithFlags(cpu, CF | AF | SF | ZF | PF | OF, szp(r));
};

const aad: Handler = (cpu, i) => {
  const base = i.imm & 0xff;
  const al = (cpu.r8[0] + cpu.r8[1] * base) & 0xff;
  cpu.r16[0] = al;
  setArithFlags(cpu, CF | AF | SF | ZF | PF | OF, szp(al));
};

/** Factories of this group, by mnemonic. */
export const bcdFactories: Record<string, Factory> = {
  DAA: () => daa,
  DAS: () => das,
  AAA: () => asciiAdjust(false),
  AAS: () => asciiAdjust(true),
  AAM: (d, ins) => {
    ins.imm = d.ops[0].imm;
    return aam;
  },
  AAD: (d, ins) => {
    ins.imm = d.ops[0].imm;
    return aad;
  },
};
