/**
 * The regression store: minimised divergences (cases/) and cases where QEMU is wrong and the
 * expected states follow the SDM instead (qemu-wrong/), both under test/unit/cpu/diff-regressions/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { storedCaseFromJson, storedCaseToJson, type StoredCase } from './case-json';
import { DIFF_DIR } from './runner-layout';

/** Root of the stored cases. */
export const REGRESSION_DIR = path.resolve(DIFF_DIR, '..', 'unit', 'cpu', 'diff-regressions');
/** Minimised divergences; expected states recorded from QEMU. */
export const CASES_DIR = path.join(REGRESSION_DIR, 'cases');
/** Cases where QEMU differs from the SDM; expected states follow the SDM. */
export const QEMU_WRONG_DIR = path.join(REGRESSION_DIR, 'qemu-wrong');

/** A stored case and the file it came from. */
export interface StoredCaseFile {
  file: string;
  stored: StoredCase;
}

/** Reads every *.json case in a directory (sorted by name); a missing directory has none. */
export function readStoredCases(dir: string): StoredCaseFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      return { file, stored: storedCaseFromJson(readFileSync(file, 'utf8'), file) };
    });
}

/** Writes a stored case as <name>.json (never overwriting: -2, -3 ... are appended). */
export function writeStoredCase(dir: string, stored: StoredCase): string {
  mkdirSync(dir, { recursive: true });
  const base = stored.case.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  let file = path.join(dir, `${base}.json`);
  for (let n = 2; existsSync(file); n++) file = path.join(dir, `${base}-${n}.json`);
  writeFileSync(file, storedCaseToJson(stored));
  return file;
}
