/** Shared fixtures of the ISO builder tests: the bundled GRUB files and host-tool detection. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The bundled GRUB i386-pc directory. */
export const BUNDLED_GRUB_DIR = path.resolve(__dirname, '../../../resources/grub/i386-pc');

let cache: Map<string, Uint8Array> | undefined;

/** The bundled GRUB files, read once per test file. */
export function bundledGrubFiles(): Map<string, Uint8Array> {
  if (!cache) {
    cache = new Map();
    for (const f of readdirSync(BUNDLED_GRUB_DIR)) cache.set(f, new Uint8Array(readFileSync(path.join(BUNDLED_GRUB_DIR, f))));
  }
  return cache;
}

/** True when `cmd` is on PATH; prints one warning naming the skipped checks when it is not. */
export function hasTool(cmd: string, skipping: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    console.warn(`${cmd} is not installed: skipping ${skipping}`);
    return false;
  }
}
