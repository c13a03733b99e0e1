// The committed PVH test guests (test/guests-pvh/build/*.elf) are exactly what build.sh makes
// from the sources: rebuilt in a temporary copy and compared byte for byte.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../../guests-pvh/', import.meta.url));
const hasTools =
  ['ia32', 'x64'].includes(process.arch) &&
  spawnSync('gcc', ['-m32', '-print-libgcc-file-name'], { encoding: 'utf8' }).status === 0 &&
  spawnSync('ld', ['-v'], { encoding: 'utf8' }).status === 0 &&
  existsSync('/usr/include/xen/xen.h');
if (!hasTools) console.warn('guests-pvh: rebuild check skipped, it needs gcc -m32 (gcc-multilib), binutils and /usr/include/xen (libxen-dev) on x86');

describe('PVH test guest build', () => {
  it.skipIf(!hasTools)('reproduces the committed ELFs', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'domus-guests-pvh-'));
    try {
      cpSync(DIR, tmp, { recursive: true, filter: (src) => !src.includes(`${path.sep}mini-os${path.sep}src`) });
      rmSync(path.join(tmp, 'build'), { recursive: true, force: true });
      execFileSync('sh', [path.join(tmp, 'build.sh')], { stdio: 'pipe', timeout: 120_000 });
      const committed = readdirSync(path.join(DIR, 'build')).filter((f) => f.endsWith('.elf')).sort();
      expect(readdirSync(path.join(tmp, 'build')).sort()).toEqual(committed);
      for (const f of committed) {
        expect(Buffer.compare(readFileSync(path.join(tmp, 'build', f)), readFileSync(path.join(DIR, 'build', f))), f).toBe(0);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
