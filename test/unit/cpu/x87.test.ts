// x87 FPU scenarios (fragments in fixtures/x87.asm): probing, exact 80-bit and 64-bit integer
// round trips, arithmetic in every operand form, rounding control, compares, stack faults,
// #NM/#MF, FSAVE/FRSTOR/FSTENV images, constants, and the transcendental instructions.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../support/cpu-scenario';
import { bothModes, f32At, f64At, hexAt, u } from './scenario-helpers';

const EXC_NM = 7;
const EXC_MF = 16;
// Status word bits.
const IE = 0x01;
const ZE = 0x04;
const PE = 0x20;
const SF = 0x40;
const ES = 0x80;
const C0 = 0x100;
const C1 = 0x200;
const C2 = 0x400;
const C3 = 0x4000;
// EFLAGS bits.
const CF = 0x1;
const PF = 0x4;
const ZF = 0x40;

/** A double as 8 little-endian bytes in hex. */
function dblHex(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b.toString('hex');
}

describe('x87: probing and exact round trips', () => {
  it('FNINIT leaves status 0 and control word 0x037F (the Linux and BIOS probe)', () => {
    bothModes('x87/fninit_probe', {}, (r) => {
      expect(r.regs.eax & 0xffff).toBe(0);
      expect(r.regs.ebx & 0xffff).toBe(0x037f);
    });
  });

  it('FLD m80 / FSTP m80 keep every 80-bit encoding bit-exact (beyond-double values, denormals, NaN payloads)', () => {
    bothModes('x87/m80_roundtrip', {}, (r) => {
      expect(hexAt(r.h, r.sym.dst, 60)).toBe(hexAt(r.h, r.sym.src, 60));
      expect(r.regs.eax & (IE | SF)).toBe(0);
    });
  });

  it('FILD m64 / FISTP m64 copy any 64-bit integer exactly (GCC\'s 64-bit atomics on i386)', () => {
    bothModes('x87/i64_roundtrip', {}, (r) => {
      expect(hexAt(r.h, r.sym.dst, 40)).toBe(hexAt(r.h, r.sym.src, 40));
    });
  });

  it('FSAVE then FRSTOR restore registers, tags and control word exactly; FNSAVE reinitialises', () => {
    bothModes('x87/fsave_frstor', {}, (r) => {
      expect(u(r.h, r.sym.after, 2)).toBe(0x037f);
      expect(u(r.h, r.sym.after + 2, 2)).toBe(0);
      // The second image equals the first: everything came back.
      expect(hexAt(r.h, r.sym.img2, 108)).toBe(hexAt(r.h, r.sym.img, 108));
      // Image layout: control word, TOP = 5 in the status word, three valid registers.
      expect(u(r.h, r.sym.img, 2)).toBe(0x0c7f);
      expect((u(r.h, r.sym.img + 4, 2) >> 11) & 7).toBe(5);
      // Tags: physical 5, 6, 7 valid (00), 0-4 empty (11).
      expect(u(r.h, r.sym.img + 8, 2)).toBe(0x03ff);
      // ST(0) is pi, ST(1) -2.75, ST(2) the exact extended value.
      expect(hexAt(r.h, r.sym.img + 28, 10)).toBe('35c26821a2da0fc90040');
      expect(hexAt(r.h, r.sym.img + 48, 10)).toBe(hexAt(r.h, r.sym.v1, 10));
    });
  });

  it('FNSTENV writes the 28-byte protected-mode image and masks all exceptions', () => {
    bothModes('x87/fstenv_layout', {}, (r) => {
      const env = r.sym.env;
      expect(u(r.h, env, 2)).toBe(0x037f);
      expect((u(r.h, env + 4, 2) >> 11) & 7).toBe(6);
      // Tags: physical 7 (FLD1) and 6 (FLDZ, then FADD made it 1.0) valid, 0-5 empty.
      expect(u(r.h, env + 8, 2)).toBe(0x0fff);
      // Last instruction: FADD m32 at label .i (D8 /0 with ModRM 05: FOP 0x005).
      expect(u(r.h, env + 16) >>> 16).toBe(0x005);
      expect(u(r.h, env + 16) & 0xffff).toBe(0x08);
      expect(u(r.h, env + 20)).toBe(r.sym.one);
      expect(u(r.h, env + 24) & 0xffff).toBe(0x10);
      expect(u(r.h, r.sym.cw, 2)).toBe(0x037f);
    });
  });

  it('constants load their round-to-nearest 80-bit encodings', () => {
    bothModes('x87/constants', {}, (r) => {
      const o = r.sym.out;
      expect(hexAt(r.h, o, 10)).toBe('35c26821a2da0fc90040'); // pi
      expect(hexAt(r.h, o + 10, 10)).toBe('bcf0175c293baab8ff3f'); // log2 e
      expect(hexAt(r.h, o + 20, 10)).toBe('fe8a1bcd4b789ad40040'); // log2 10
      expect(hexAt(r.h, o + 30, 10)).toBe('99f7cffb849a209afd3f'); // log10 2
      expect(hexAt(r.h, o + 40, 10)).toBe('ac79cfd1f71772b1fe3f'); // ln 2
      expect(hexAt(r.h, o + 50, 10)).toBe('0000000000000080ff3f'); // 1
      expect(hexAt(r.h, o + 60, 10)).toBe('00000000000000000000'); // 0
    });
  });
});

describe('x87: arithmetic', () => {
  it('memory forms (m64 real, m32/m16 integers) compute as IEEE doubles', () => {
    bothModes('x87/arith_m64', {}, (r) => {
      const [a, b, c, d, e] = [1.5, 3.25, -7.125, 0.1, 3.0];
      expect(f64At(r.h, r.sym.out)).toBe(((a + b) * c - d) / e);
      expect(f64At(r.h, r.sym.out + 8)).toBe(a - a / b);
      expect(f64At(r.h, r.sym.out + 16)).toBe((-123456 * 77) / 1000);
    });
  });

  it('register forms: D8 ST0 op STi, DC STi op ST0 (FSUB/FSUBR swapped), DE pops', () => {
    bothModes('x87/arith_regs', {}, (r) => {
      const [x, y] = [10, 4];
      expect(f64At(r.h, r.sym.out)).toBe(y - x);
      expect(f64At(r.h, r.sym.out + 8)).toBe(x - y);
      expect(f64At(r.h, r.sym.out + 16)).toBe(y - (x - y));
      expect(f64At(r.h, r.sym.out + 24)).toBe((y - (x - y)) / y);
      expect(f64At(r.h, r.sym.out + 32)).toBe(x / y);
      // Stack balanced: TOP back to 0, no stack fault.
      expect(r.regs.eax & (SF | IE)).toBe(0);
      expect((r.regs.eax >> 11) & 7).toBe(0);
    });
  });

  it('FISTP rounds by the control word: nearest-even, down, up, toward zero', () => {
    bothModes('x87/fist_rounding', {}, (r) => {
      const got: number[] = [];
      for (let k = 0; k < 16; k++) got.push(u(r.h, r.sym.out + 4 * k) | 0);
      expect(got).toEqual([2, -2, 2, -2, 2, -3, 1, -2, 3, -2, 2, -1, 2, -2, 1, -1]);
    });
  });

  it('invalid integer conversions store the integer indefinite and set IE', () => {
    bothModes('x87/fist_invalid', {}, (r) => {
      expect(hexAt(r.h, r.sym.out, 14)).toBe('0080' + '00000080' + '0000000000000080');
      expect(r.regs.eax & IE).toBe(IE);
    });
  });

  it('precision control 24 bits rounds results to single precision', () => {
    bothModes('x87/precision_single', {}, (r) => {
      expect(f64At(r.h, r.sym.out)).toBe(Math.fround(1 / 3));
    });
  });

  it('FST m32 rounds to single (PE set); FLD m32 widens exactly', () => {
    bothModes('x87/m32_store', {}, (r) => {
      expect(f32At(r.h, r.sym.out)).toBe(Math.fround(0.1));
      expect(f64At(r.h, r.sym.out + 4)).toBe(1.5);
      expect(r.regs.eax & PE).toBe(PE);
    });
  });

  it('FSQRT FSCALE FXTRACT FPREM FPREM1 FRNDINT FCHS FABS', () => {
    bothModes('x87/misc_ops', {}, (r) => {
      const o = r.sym.out;
      expect(f64At(r.h, o)).toBe(Math.SQRT2);
      expect(f64At(r.h, o + 8)).toBe(0.25);
      expect(f64At(r.h, o + 16)).toBe(1.5);
      expect(f64At(r.h, o + 24)).toBe(3);
      expect(f64At(r.h, o + 32)).toBe(2.5);
      // FPREM quotient 3 = 0b011: C0 = Q2 = 0, C3 = Q1 = 1, C1 = Q0 = 1; C2 = 0 (complete).
      expect(u(r.h, r.sym.sw, 2) & (C0 | C1 | C2 | C3)).toBe(C3 | C1);
      expect(f64At(r.h, o + 40)).toBe(-2.5);
      // FPREM1 quotient 4 = 0b100: C0 = 1.
      expect(u(r.h, r.sym.sw + 2, 2) & (C0 | C1 | C2 | C3)).toBe(C0);
      expect(f64At(r.h, o + 48)).toBe(2);
      expect(f64At(r.h, o + 56)).toBe(-2);
    });
  });

  it('transcendental instructions agree with the double-precision library; |x| >= 2^63 sets C2', () => {
    bothModes('x87/trig', {}, (r) => {
      const o = r.sym.out;
      const x = 0.75;
      expect(f64At(r.h, o)).toBe(Math.sin(x));
      expect(f64At(r.h, o + 8)).toBe(Math.cos(x));
      expect(f64At(r.h, o + 16)).toBe(1);
      expect(f64At(r.h, o + 24)).toBe(Math.tan(x));
      expect(f64At(r.h, o + 32)).toBe(Math.atan2(x, 1));
      expect(f64At(r.h, o + 40)).toBe(0);
      expect(f64At(r.h, o + 48)).toBeCloseTo(Math.SQRT2 - 1, 15);
      expect(r.regs.eax & C2).toBe(C2);
      expect(f64At(r.h, o + 56)).toBe(1e30);
    });
  });

  it('FBLD / FBSTP convert packed BCD exactly', () => {
    bothModes('x87/bcd', {}, (r) => {
      expect(hexAt(r.h, r.sym.dst, 10)).toBe(hexAt(r.h, r.sym.src, 10));
      expect(hexAt(r.h, r.sym.dst + 10, 10)).toBe('34120000000000000080');
    });
  });
});

describe('x87: compares, classes and conditional moves', () => {
  it('FCOMI/FUCOMIP set ZF PF CF; FCOM/FCOMP set C3 C2 C0', () => {
    bothModes('x87/compare_flags', {}, (r) => {
      // Popped in reverse: EAX = unordered, EBX = equal, ECX = greater, EDX = less.
      const mask = ZF | PF | CF;
      expect(r.regs.edx & mask).toBe(CF);
      expect(r.regs.ecx & mask).toBe(0);
      expect(r.regs.ebx & mask).toBe(ZF);
      expect(r.regs.eax & mask).toBe(ZF | PF | CF);
      expect(u(r.h, r.sym.sw, 2) & (C0 | C2 | C3)).toBe(0);
      expect(u(r.h, r.sym.sw + 2, 2) & (C0 | C2 | C3)).toBe(C0);
    });
  });

  it('FXAM classifies normal, zero, infinity, NaN, denormal and empty, with the sign in C1', () => {
    bothModes('x87/fxam_classes', {}, (r) => {
      const got: number[] = [];
      for (let k = 0; k < 6; k++) got.push(u(r.h, r.sym.out + 2 * k, 2));
      expect(got).toEqual([C2, C3 | C1, C2 | C0, C0, C3 | C2, C3 | C0]);
    });
  });

  it('FCMOVB moves only when CF is set', () => {
    bothModes('x87/fcmov', {}, (r) => {
      expect(f64At(r.h, r.sym.out)).toBe(1);
      expect(f64At(r.h, r.sym.out + 8)).toBe(2);
    });
  });
});

describe('x87: faults and pending exceptions', () => {
  it('stack overflow pushes the indefinite with IE SF C1; underflow sets IE SF with C1 clear', () => {
    bothModes('x87/stack_faults', {}, (r) => {
      const sw1 = u(r.h, r.sym.sw, 2);
      expect(sw1 & (IE | SF | C1)).toBe(IE | SF | C1);
      expect(hexAt(r.h, r.sym.out, 8)).toBe(dblHex(NaN).slice(0, 12) + 'f8ff');
      const sw2 = u(r.h, r.sym.sw + 2, 2);
      expect(sw2 & (IE | SF | C1)).toBe(IE | SF);
    });
  });

  it('CR0.TS makes an x87 instruction raise #NM', () => {
    const r = runScenario('x87/nm_ts');
    expect(r.exception).toBe(EXC_NM);
  });

  it('FWAIT with TS but without MP runs', () => {
    const r = runScenario('x87/wait_ts_no_mp');
    expect(r.exception).toBeUndefined();
    expect(r.regs.ebx).toBe(1);
  });

  it('an unmasked exception is pending (ES) and the next waiting instruction raises #MF with CR0.NE', () => {
    const r = runScenario('x87/mf_pending');
    expect(r.regs.ebx & (ZE | ES | 0x8000)).toBe(ZE | ES | 0x8000);
    expect(r.exception).toBe(EXC_MF);
  });

  it('without CR0.NE a pending exception raises nothing (IGNNE#)', () => {
    const r = runScenario('x87/mf_ignored_without_ne');
    expect(r.exception).toBeUndefined();
    expect(r.regs.ebx).toBe(1);
  });
});
