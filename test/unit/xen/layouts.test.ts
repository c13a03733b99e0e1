// Every structure layout of src-engine/hv/xen/abi/layouts.ts is checked against Xen's public
// headers (Debian libxen-dev, /usr/include/xen): a C program prints offsetof/sizeof of each field,
// built with gcc -m32 (the 32-bit / compat layout) and -m64 (the native x86_64 layout).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ALL_LAYOUTS, fieldSize, type GuestWidth } from '../../../src-engine/hv/xen/abi/layouts';

const HEADERS = [
  'xen.h', 'memory.h', 'event_channel.h', 'grant_table.h', 'sched.h', 'vcpu.h', 'version.h', 'hvm/hvm_op.h', 'hvm/params.h',
  'hvm/hvm_vcpu.h',
];
/** The interface version the layouts follow (4.14: vcpu_time_info has its flags byte). */
const INTERFACE_VERSION = '0x00040e00';

function cc(width: GuestWidth): boolean {
  return spawnSync('gcc', [`-m${width}`, '-print-libgcc-file-name'], { encoding: 'utf8' }).status === 0;
}
const hasHeaders = existsSync('/usr/include/xen/xen.h');
const hasCc = hasHeaders && cc(32) && cc(64) && ['ia32', 'x64'].includes(process.arch);
if (!hasCc) console.warn('xen layouts: header cross-check skipped, it needs /usr/include/xen (libxen-dev) and gcc -m32/-m64 (gcc-multilib) on x86');

const dir = hasCc ? mkdtempSync(path.join(tmpdir(), 'domus-xen-layouts-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the probe at `width`: "struct field offset size" lines and "struct - size" lines. */
function probe(width: GuestWidth): Map<string, [number, number]> {
  const lines: string[] = [];
  for (const l of ALL_LAYOUTS) {
    const t = `struct ${l.name}`;
    lines.push(`printf("${l.name} - %zu 0\\n", sizeof(${t}));`);
    for (const [k, f] of Object.entries(l.fields)) {
      const m = f.c ?? k;
      lines.push(`printf("${l.name} ${k} %zu %zu\\n", offsetof(${t}, ${m}), sizeof(((${t} *)0)->${m}));`);
    }
  }
  const src = [
    '#include <stdint.h>', '#include <stddef.h>', '#include <stdio.h>',
    ...HEADERS.map((h) => `#include <xen/${h}>`),
    'int main(void) {', ...lines, 'return 0; }',
  ].join('\n');
  const c = path.join(dir, `probe${width}.c`);
  const exe = path.join(dir, `probe${width}`);
  writeFileSync(c, src);
  execFileSync('gcc', [`-m${width}`, `-D__XEN_INTERFACE_VERSION__=${INTERFACE_VERSION}`, '-o', exe, c]);
  const out = new Map<string, [number, number]>();
  for (const line of execFileSync(exe, { encoding: 'utf8' }).trim().split('\n')) {
    const [s, f, off, size] = line.split(' ');
    out.set(`${s}.${f}`, [Number(off), Number(size)]);
  }
  return out;
}

describe('Xen structure layouts', () => {
  for (const width of [32, 64] as const) {
    it.skipIf(!hasCc)(`match the public headers at ${width} bits`, () => {
      const real = probe(width);
      const wrong: string[] = [];
      for (const l of ALL_LAYOUTS) {
        const size = width === 32 ? l.size32 : l.size64;
        if (real.get(`${l.name}.-`)?.[0] !== size) wrong.push(`${l.name} size ${size} != ${real.get(`${l.name}.-`)?.[0]}`);
        for (const [k, f] of Object.entries(l.fields)) {
          const [off, sz] = real.get(`${l.name}.${k}`) ?? [-1, -1];
          const mine = width === 32 ? f.off32 : f.off64;
          if (off !== mine) wrong.push(`${l.name}.${k} offset ${mine} != ${off}`);
          if (sz !== fieldSize(f.type, width)) wrong.push(`${l.name}.${k} size ${fieldSize(f.type, width)} != ${sz}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  it('names a header for every structure and fields inside each structure', () => {
    for (const l of ALL_LAYOUTS) {
      expect(existsSync(`/usr/include/xen/${l.header}`) || !hasHeaders, `${l.name}: ${l.header}`).toBe(true);
      for (const [k, f] of Object.entries(l.fields)) {
        expect(f.off32 + fieldSize(f.type, 32), `${l.name}.${k}`).toBeLessThanOrEqual(l.size32);
        expect(f.off64 + fieldSize(f.type, 64), `${l.name}.${k}`).toBeLessThanOrEqual(l.size64);
      }
    }
  });
});
