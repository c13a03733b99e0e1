import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cFixed, cFixedWidth, cFloat, cStrtol } from '../../../src-engine/config/c-format';

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const gcc = hasGcc();
if (!gcc) console.warn('c-format: gcc not found (Debian package gcc); the checks against C printf/strtol are skipped');

const dir = mkdtempSync(join(tmpdir(), 'domus-cfmt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compiles and runs a C program, returning its stdout lines. */
function runC(body: string): string[] {
  const src = join(dir, 'p.c');
  writeFileSync(src, `#include <stdio.h>\n#include <stdlib.h>\n#include <errno.h>\nint main(void){${body}return 0;}\n`);
  execFileSync('gcc', ['-O0', '-o', join(dir, 'p'), src]);
  return execFileSync(join(dir, 'p'), { encoding: 'utf8' }).split('\n').slice(0, -1);
}

describe('C formatting pieces', () => {
  it('rounds %.Nf ties to even, as glibc does (values known from C)', () => {
    expect([0.25, 0.75, 1.25, 2.5, 0.35, 12.25].map((x) => cFixed(x, 1))).toEqual(['0.2', '0.8', '1.2', '2.5', '0.3', '12.2']);
    expect([0.5, 1.5, 2.5].map((x) => cFixed(x, 0))).toEqual(['0', '2', '2']);
    expect(cFixedWidth(-3.05, 8, 1)).toBe('    -3.0');
  });

  it.skipIf(!gcc)('matches C printf %W.Nf on many values, including the (float) cast xl applies to times', () => {
    const values = [0, 0.05, 0.25, 0.45, 1.25, 2.5, 9.95, 123.45, 1e6 + 0.05, 5e-324, 1.7976931348623157e308, -0.25];
    const nsValues = [0, 999_999_999, 123_456_789_012, 1_000_000_040_000_000, 16_777_217_000, 86_399_950_000_000];
    const c = runC(
      values.map((v) => `printf("[%9.1f][%.3f][%.0f]\\n", ${v.toPrecision(17)}, ${v.toPrecision(17)}, ${v.toPrecision(17)});`).join('') +
        nsValues.map((ns) => `printf("[%8.1f]\\n", ((float)${ns}LL / 1e9));`).join(''),
    );
    const ours = [
      ...values.map((v) => `[${cFixedWidth(v, 9, 1)}][${cFixed(v, 3)}][${cFixed(v, 0)}]`),
      ...nsValues.map((ns) => `[${cFixedWidth(cFloat(ns) / 1e9, 8, 1)}]`),
    ];
    expect(ours).toEqual(c);
  });

  it('reads numbers like strtol(s, &end, 0)', () => {
    const r = (s: string) => {
      const x = cStrtol(s, 0);
      return [Number(x.value), x.end, x.overflow];
    };
    expect(r('512')).toEqual([512, 3, false]);
    expect(r('0x1f')).toEqual([31, 4, false]);
    expect(r('010')).toEqual([8, 3, false]);
    expect(r('09')).toEqual([0, 1, false]);
    expect(r('0x')).toEqual([0, 1, false]);
    expect(r(' \t-12z')).toEqual([-12, 5, false]);
    expect(r('abc')).toEqual([0, 0, false]);
    expect(cStrtol('99999999999999999999', 0).overflow).toBe(true);
  });

  it.skipIf(!gcc)('agrees with C strtol on end position and value', () => {
    const inputs = ['512', '0x1f', '0X1F', '010', '09', '0x', '0xg', ' \\t-12z', '+7', '-0', 'abc', '', '12abc', '1e3', '0x7fffffffffffffff'];
    const c = runC(
      inputs.map((s) => `{const char*s="${s}";char*e;long v=strtol(s,&e,0);printf("%ld %ld\\n",v,(long)(e-s));}`).join(''),
    );
    const ours = inputs.map((s) => {
      const text = s.replace('\\t', '\t');
      const x = cStrtol(text, 0);
      return `${x.value} ${x.end}`;
    });
    expect(ours).toEqual(c);
  });
});
