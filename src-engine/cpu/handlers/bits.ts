/**
 * Bit instructions: BT BTS BTR BTC (register and memory forms, immediate and register bit
 * offsets; a register offset addresses memory beyond the operand, signed) and BSF BSR.
 */
import type { Cpu } from '../cpu';
import { OP_IMM, OP_MEM } from '../decoder';
import type { Insn } from '../insn';
import { eaOffset, segLinR, segLinW } from '../addressing';
import { setArithFlags, CF, ZF } from '../lazy-flags';
import { probeWrite } from '../mmu';
import { atomicUpdate, getReg, readMem, regIndex, setReg, udHandler, writeMem, type Factory } from './common';
import { S_LF_OP, S_LF_RES, S_LF_A, S_LF_B } from '../state';
import { LF_LOGIC, SZ16, SZ32 } from '../lazy-flags';

const BT = 0;
const BTS = 1;
const BTR = 2;
const BTC = 3;

function apply(kind: number, v: number, bit: number): number {
  const m = 1 << bit;
  return kind === BTS ? v | m : kind === BTR ? v & ~m : kind === BTC ? v ^ m : v;
}

function btFactory(kind: number): Factory {
  return (d, ins) => {
    const dst = d.ops[0];
    const src = d.ops[1];
    const size = dst.size;
    ins.size = size;
    const immOff = src.kind === OP_IMM;
    if (immOff) ins.imm = src.imm & 0xff;
    else ins.r2 = regIndex(size, src.reg);
    if (d.lock && (dst.kind !== OP_MEM || kind === BT)) return udHandler;
    const bits = size * 8;
    if (dst.kind !== OP_MEM) {
      ins.r1 = regIndex(size, dst.reg);
      return (cpu, i) => {
        const off = immOff ? i.imm : getReg(cpu, size, i.r2);
        const bit = off & (bits - 1);
        const v = getReg(cpu, size, i.r1);
        const old = (v >>> bit) & 1;
        if (kind !== BT) setReg(cpu, size, i.r1, apply(kind, v, bit) & (size === 4 ? -1 : 0xffff));
        setArithFlags(cpu, CF, old);
      };
    }
    const locked = d.lock;
    return (cpu: Cpu, i: Insn) => {
      let off: number;
      let byteDisp: number;
      if (immOff) {
        off = i.imm & (bits - 1);
        byteDisp = 0;
      } else {
        const raw = getReg(cpu, size, i.r2);
        const sraw = size === 4 ? raw : (raw << 16) >> 16;
        // The bit offset selects an operand-sized word at ea + (offset >> log2(bits)) * size.
        byteDisp = Math.floor(sraw / bits) * size;
        off = sraw & (bits - 1);
      }
      const base = eaOffset(cpu, i);
      const ea = i.a16 ? (base + byteDisp) & 0xffff : (base + byteDisp) | 0;
      if (kind === BT) {
        const v = readMem(cpu, segLinR(cpu, i.seg, ea, size), size);
        setArithFlags(cpu, CF, (v >>> off) & 1);
        return;
      }
      const lin = segLinW(cpu, i.seg, ea, size);
      if (locked) {
        const old = atomicUpdate(cpu, lin, size, (v) => apply(kind, v, off));
        setArithFlags(cpu, CF, (old >>> off) & 1);
        return;
      }
      probeWrite(cpu, lin, size);
      const v = readMem(cpu, lin, size);
      writeMem(cpu, lin, size, apply(kind, v, off));
      setArithFlags(cpu, CF, (v >>> off) & 1);
    };
  };
}

function bsFactory(reverse: boolean): Factory {
  return (d, ins) => {
    const dst = d.ops[0];
    const src = d.ops[1];
    const size = dst.size;
    ins.r1 = regIndex(size, dst.reg);
    const mem = src.kind === OP_MEM;
    if (!mem) ins.r2 = regIndex(size, src.reg);
    return (cpu, i) => {
      const v = mem ? readMem(cpu, segLinR(cpu, i.seg, eaOffset(cpu, i), size), size) : getReg(cpu, size, i.r2);
      const s = cpu.s;
      if (v === 0) {
        // Destination unchanged; ZF=1 (others follow QEMU: computed from the source as a logic op).
        setArithFlags(cpu, ZF | CF, ZF);
        return;
      }
      const r = reverse ? 31 - Math.clz32(v) : 31 - Math.clz32(v & -v);
      setReg(cpu, size, i.r1, r);
      s[S_LF_OP] = (LF_LOGIC << 2) | (size === 4 ? SZ32 : SZ16);
      s[S_LF_RES] = v;
      s[S_LF_A] = 0;
      s[S_LF_B] = 0;
    };
  };
}

/** Factories of this group, by mnemonic. */
export const bitFactories: Record<string, Factory> = {
  BT: btFactory(BT),
  BTS: btFactory(BTS),
  BTR: btFactory(BTR),
  BTC: btFactory(BTC),
  BSF: bsFactory(false),
  BSR: bsFactory(true),
};
