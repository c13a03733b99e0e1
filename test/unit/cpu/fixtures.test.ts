// The assembled CPU scenario fixtures must match their sources: fixtures.json records a hash of
// every fragment (checked without an assembler) and its bytes (checked with nasm when present).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error the fixture builder is a plain ES module script without types
import { buildFixtures, fragmentHash, splitFragments } from './fixtures/build.mjs';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const json = JSON.parse(readFileSync(path.join(dir, 'fixtures.json'), 'utf8')) as Record<string, { sha256: string; bits: number }>;

function hasNasm(): boolean {
  try {
    execFileSync('nasm', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const nasm = hasNasm();
if (!nasm) console.warn('nasm is not installed: the CPU fixtures are checked by hash only');

describe('CPU scenario fixtures', () => {
  it('every fragment in fixtures/*.asm is in fixtures.json with the same text hash (run fixtures/build.mjs)', () => {
    const seen = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.asm'))) {
      const frags = splitFragments(readFileSync(path.join(dir, file), 'utf8')) as { name: string; bits: number; text: string }[];
      for (const f of frags) {
        const key = `${file.slice(0, -4)}/${f.name}`;
        seen.add(key);
        expect(json[key], `${key} missing from fixtures.json`).toBeDefined();
        expect(json[key].sha256, `${key} changed since fixtures.json was built`).toBe(fragmentHash(f.text));
        expect(json[key].bits).toBe(f.bits);
      }
    }
    expect(Object.keys(json).filter((k) => !seen.has(k)), 'fixtures.json has fragments no .asm defines').toEqual([]);
  });

  it.skipIf(!nasm)('re-assembling every fragment gives the committed bytes', () => {
    expect(buildFixtures()).toEqual(json);
  }, 120_000);
});
