// Builds every bundle the project runs: the domus CLI and the engine's worker threads (esbuild),
// the Electron main process and preload, and the renderer (Vite). Entries that do not exist yet
// are skipped, so the script works at every stage of the tree.
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const nodeEntries = {
  'node/cli': 'src-engine/node/cli.ts',
  'engine/pcpu-worker': 'src-engine/node/pcpu-worker.ts',
  'engine/hv-worker': 'src-engine/node/hv-worker.ts',
  'engine/engine-host': 'src-engine/node/engine-host.ts',
  // The Electron app's utility process (src-engine/node/electron): engine + MessagePort carrier.
  'engine/electron-host': 'src-engine/node/electron/utility-main.ts',
};
// Benchmarks (`npm run bench`): every test/bench/*.bench.ts becomes dist/bench/<name>.js.
for (const f of existsSync('test/bench') ? readdirSync('test/bench') : []) {
  if (f.endsWith('.bench.ts')) nodeEntries[`bench/${f.replace(/\.bench\.ts$/, '')}`] = `test/bench/${f}`;
}
const present = Object.fromEntries(Object.entries(nodeEntries).filter(([, src]) => existsSync(src)));
const started = performance.now();
if (Object.keys(present).length > 0) {
  await build({
    entryPoints: present,
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    external: ['electron', 'playwright-core'],
    banner: { js: "import { createRequire as __domusCreateRequire } from 'node:module'; const require = __domusCreateRequire(import.meta.url);" },
  });
}
const electronEntries = { 'main/main': 'src-main/main.ts', 'main/preload': 'src-main/preload.ts' };
const electronPresent = Object.fromEntries(Object.entries(electronEntries).filter(([, src]) => existsSync(src)));
if (Object.keys(electronPresent).length > 0) {
  await build({
    entryPoints: electronPresent,
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    external: ['electron'],
  });
}
if (existsSync('src-renderer/vite.config.ts')) {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
}
console.log(`build: done in ${Math.round(performance.now() - started)} ms`);
