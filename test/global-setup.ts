import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Tests that start engine workers need the bundles in dist/; build them if they are missing. */
export default function setup(): void {
  if (!existsSync('dist/engine/pcpu-worker.js')) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  }
}
