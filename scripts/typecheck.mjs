// Typechecks every tsconfig in the repository; the engine core is checked without DOM or Node types.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const projects = [
  'src-engine/tsconfig.json',
  'src-engine/node/tsconfig.json',
  'src-main/tsconfig.json',
  'src-renderer/tsconfig.json',
  'test/tsconfig.json',
].filter((p) => existsSync(p));
let failed = false;
for (const p of projects) {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', p], { stdio: 'inherit' });
  } catch {
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
