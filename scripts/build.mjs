// Builds every bundle the project runs: the domus CLI and the engine's worker threads (esbuild),
// the Electron main process and preload, and the renderer (Vite). Entries that do not exist yet
// are skipped, so the script works at every stage of the tree.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';

// The engine threads: each starts from a small CommonJS entry (engine/hv-worker.cjs,
// engine/pcpu-worker.cjs: a CommonJS entry spares every thread Node's ES module loader) that
// loads the thread's program, a CommonJS bundle (engine/*-thread.cjs), through the V8 code cache
// (src-engine/node/code-cache.ts). Each entry gets its program's content hash, which names the
// cache, as a define.
const threadPrograms = {
  'engine/hv-thread': { src: 'src-engine/node/hv-thread.ts', define: 'DOMUS_HV_THREAD_KEY' },
  'engine/pcpu-thread': { src: 'src-engine/node/pcpu-thread.ts', define: 'DOMUS_PCPU_THREAD_KEY' },
};
const threadEntries = {
  'engine/hv-worker': 'src-engine/node/hv-worker.ts',
  'engine/pcpu-worker': 'src-engine/node/pcpu-worker.ts',
};
// The CLI the same way: bin/domus loads node/cli-boot.cjs, which runs the whole CLI as one
// CommonJS bundle (node/cli.cjs) from its code cache (no ES module loader on the main thread).
const cliProgram = { out: 'node/cli', src: 'src-engine/node/cli.ts', define: 'DOMUS_CLI_KEY' };
const cliBoot = { 'node/cli-boot': 'src-engine/node/cli-boot.ts' };
/** esbuild options of every CommonJS file for Node (the engine threads, the Electron shell). */
const cjsBuild = {
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: ['electron'],
};
/** esbuild options of the engine threads' CommonJS files. */
const threadBuild = {
  ...cjsBuild,
  // Bundled sources read import.meta.url (worker-host.ts); a CommonJS module has __filename.
  define: { 'import.meta.url': 'DOMUS_IMPORT_META_URL' },
  banner: { js: "var DOMUS_IMPORT_META_URL = require('node:url').pathToFileURL(__filename).href;" },
};

// The CLI is split per command (cli.ts imports each command's module when it runs), so `domus
// run` loads only what it needs; the chunks sit beside cli.js (dist/node), as the code that finds
// dist/engine and dist/renderer from its own location expects.
const cliEntry = 'src-engine/node/cli.ts';
const nodeEntries = {
  // The same thread entries as ES modules under their earlier names, which test/global-setup.ts
  // looks for; the engine starts the .cjs ones.
  ...threadEntries,
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
const threadDefines = {};
const threadPresent = Object.entries(threadPrograms).filter(([, t]) => existsSync(t.src));
if (threadPresent.length > 0) {
  await build({ ...threadBuild, entryPoints: Object.fromEntries(threadPresent.map(([out, t]) => [out, t.src])) });
  const keep = (out, t) => {
    if (!existsSync(`dist/${out}.cjs`)) return;
    const hash = createHash('sha256').update(readFileSync(`dist/${out}.cjs`)).digest('hex').slice(0, 16);
    threadDefines[t.define] = JSON.stringify(hash);
  };
  for (const [out, t] of threadPresent) keep(out, t);
  // The CLI knows the hypervisor program's key: `domus run` loads that program on its own thread
  // (src-engine/node/worker-host.ts, inline hypervisor).
  if (existsSync(cliProgram.src)) {
    await build({
      ...threadBuild,
      entryPoints: { [cliProgram.out]: cliProgram.src },
      external: ['electron', 'playwright-core'],
      define: { ...threadBuild.define, ...threadDefines },
    });
    keep(cliProgram.out, cliProgram);
  }
  const entries = Object.fromEntries(Object.entries({ ...threadEntries, ...cliBoot }).filter(([, src]) => existsSync(src)));
  await build({ ...threadBuild, entryPoints: entries, define: { ...threadBuild.define, ...threadDefines } });
}
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
    define: threadDefines,
    banner: { js: "import { createRequire as __domusCreateRequire } from 'node:module'; const require = __domusCreateRequire(import.meta.url);" },
  });
}
if (existsSync(cliEntry)) {
  const result = await build({
    entryPoints: { cli: cliEntry },
    outdir: 'dist/node',
    splitting: true,
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
    external: ['electron', 'playwright-core'],
    define: threadDefines,
    banner: { js: "import { createRequire as __domusCreateRequire } from 'node:module'; const require = __domusCreateRequire(import.meta.url);" },
  });
  pruneStaleChunks('dist/node', Object.keys(result.metafile.outputs));
}
const electronEntries = { 'main/main': 'src-main/main.ts', 'main/preload': 'src-main/preload.ts' };
const electronPresent = Object.fromEntries(Object.entries(electronEntries).filter(([, src]) => existsSync(src)));
if (Object.keys(electronPresent).length > 0) {
  await build({ ...cjsBuild, entryPoints: electronPresent });
}
if (existsSync('src-renderer/vite.config.ts')) {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
}
/**
 * Removes chunk files of earlier builds from `dir` (those this build did not write), once they
 * are old enough that no process started from the earlier build can still be loading them.
 */
function pruneStaleChunks(dir, outputs) {
  const STALE_AFTER_MS = 10 * 60 * 1000;
  const current = new Set(outputs.map((o) => path.resolve(o)));
  for (const f of readdirSync(dir)) {
    const file = path.resolve(dir, f);
    if (f.startsWith('cli.') || current.has(file) || !/-[A-Z0-9]{8}\.js(\.map)?$/.test(f)) continue;
    if (Date.now() - statSync(file).mtimeMs > STALE_AFTER_MS) unlinkSync(file);
  }
}
console.log(`build: done in ${Math.round(performance.now() - started)} ms`);
