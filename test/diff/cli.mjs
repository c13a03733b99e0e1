/* global process, URL */
// Runs a TypeScript entry of the differential harness on Node 20 (which cannot strip types):
// bundles it with esbuild into a temporary directory, then imports the bundle.
//   node test/diff/cli.mjs [--entry test/diff/run.ts] ARGS...
// The CPU harness (test/support/cpu-harness.ts), when present, is bundled as a second entry and
// its path handed over in DOMUS_DIFF_HARNESS_MODULE, so run.ts can load it at run time.
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
let entry = 'test/diff/run.ts';
if (argv[0] === '--entry') {
  entry = argv[1];
  argv.splice(0, 2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
// Bundles live in node_modules/.cache (not linted, not committed) so bare imports such as
// esbuild resolve from the repository's node_modules.
const cache = path.join(root, 'node_modules', '.cache', 'domus-diff');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(path.join(cache, 'cli-'));
const entryPoints = { main: path.resolve(root, entry) };
const harness = path.join(root, 'test/support/cpu-harness.ts');
if (existsSync(harness)) entryPoints['cpu-harness'] = harness;
try {
  await build({
    entryPoints,
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
    external: ['esbuild'],
    banner: { js: "import { createRequire as __domusCreateRequire } from 'node:module'; const require = __domusCreateRequire(import.meta.url);" },
  });
  process.env.DOMUS_DIFF_DIR = path.join(root, 'test/diff');
  if (entryPoints['cpu-harness']) process.env.DOMUS_DIFF_HARNESS_MODULE = pathToFileURL(path.join(out, 'cpu-harness.mjs')).href;
  process.argv = [process.argv[0], entry, ...argv];
  const mod = await import(pathToFileURL(path.join(out, 'main.mjs')).href);
  if (typeof mod.main === 'function') process.exitCode = await mod.main(argv);
} finally {
  rmSync(out, { recursive: true, force: true });
}
