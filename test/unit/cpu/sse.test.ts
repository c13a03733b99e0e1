// SSE/SSE2 data movement and logic (fragments in fixtures/sse.asm) with the features turned on
// (they are not advertised by default: the SSE arithmetic is not implemented). Aligned and
// unaligned loads and stores, scalar moves, MOVD/MOVQ, non-temporal stores, the bitwise logic,
// the #GP of a misaligned MOVAPS, #UD without CR4.OSFXSR or without the feature, #NM with TS, and
// XMM registers through FXSAVE/FXRSTOR.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES } from '../../../src-engine/cpu/cpuid';
import { bothModes, hexAt, u } from './scenario-helpers';

const EXC_UD = 6;
const EXC_NM = 7;
const EXC_GP = 13;
const SSE = { features: { ...DEFAULT_FEATURES, sse: true, sse2: true } };

/** Little-endian hex of dwords. */
function dw(...v: number[]): string {
  return v.map((x) => Buffer.from(Uint32Array.of(x).buffer).toString('hex')).join('');
}

describe('SSE data movement', () => {
  it('MOVAPS/MOVUPS/MOVDQU/MOVSS/MOVSD/MOVD/MOVQ/MOVNTDQ/MOVNTI move what they should', () => {
    bothModes('sse/moves', SSE, (r) => {
      const o = r.sym.out;
      expect(hexAt(r.h, o, 16)).toBe(dw(0x11111111, 0x22222222, 0x33333333, 0x44444444));
      expect(hexAt(r.h, o + 17, 16)).toBe(dw(0xb1b1b1b1, 0xc2c2c2c2, 0xd3d3d3d3, 0xe4e4e4e4));
      expect(hexAt(r.h, o + 48, 16)).toBe(dw(0x3f800000, 0x22222222, 0x33333333, 0x44444444));
      expect(hexAt(r.h, o + 64, 16)).toBe(dw(0x11111111, 0x22222222, 0, 0));
      expect(hexAt(r.h, o + 80, 16)).toBe(dw(0x11111111, 0x22222222, 0, 0));
      expect(r.regs.ebx).toBe(0xb1b1b1b1);
      expect(hexAt(r.h, o + 96, 8)).toBe(dw(0x11111111, 0x22222222));
      expect(hexAt(r.h, o + 112, 16)).toBe(dw(0, 0, 0, 0));
      expect(u(r.h, o + 128)).toBe(0x5a5a5a5a);
      expect(r.exception).toBeUndefined();
    });
  });

  it('PAND POR PXOR PANDN XORPS ORPS ANDNPS compute on all 128 bits', () => {
    bothModes('sse/logic', SSE, (r) => {
      const x = [0xff00ff00, 0x0f0f0f0f, 0x12345678, 0xffffffff];
      const y = [0x0ff00ff0, 0xf0f0f0f0, 0x87654321, 0x00000000];
      const o = r.sym.out;
      const row = (k: number) => hexAt(r.h, o + 16 * k, 16);
      expect(row(0)).toBe(dw(...x.map((v, k) => (v & y[k]) >>> 0)));
      expect(row(1)).toBe(dw(...x.map((v, k) => (v | y[k]) >>> 0)));
      expect(row(2)).toBe(dw(...x.map((v, k) => (v ^ y[k]) >>> 0)));
      expect(row(3)).toBe(dw(...x.map((v, k) => (~v & y[k]) >>> 0)));
      expect(row(4)).toBe(dw(...x.map((v, k) => (~v & y[k]) >>> 0)));
    });
  });

  it('a misaligned MOVAPS is #GP(0)', () => {
    bothModes('sse/misaligned', SSE, (r) => expect(r.exception).toBe(EXC_GP));
  });

  it('without CR4.OSFXSR, or without the feature, SSE instructions are #UD; CR0.TS gives #NM', () => {
    bothModes('sse/no_osfxsr', SSE, (r) => expect(r.exception).toBe(EXC_UD));
    bothModes('sse/moves', {}, (r) => expect(r.exception).toBe(EXC_UD));
    bothModes('sse/ts_nm', SSE, (r) => expect(r.exception).toBe(EXC_NM));
  });

  it('FXSAVE/FXRSTOR carry the XMM registers and MXCSR (0x1F80 at reset)', () => {
    bothModes('sse/fxsave_xmm', SSE, (r) => {
      expect(hexAt(r.h, r.sym.out, 16)).toBe(dw(1, 2, 3, 4));
      expect(r.regs.eax).toBe(0x1f80);
    });
  });
});
