// `npm start`: build, then launch the Electron app when its binary is here; otherwise (the Electron
// binary cannot be downloaded, e.g. offline) run `domus serve` and print the URL to open.
// Arguments after `npm start --` go to Electron or to `domus serve` (e.g. --port 8000).
//   ELECTRON_PATH=/path/to/electron npm start   use an Electron binary from elsewhere
//   DOMUS_START=serve npm start                 always use the browser mode
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const args = process.argv.slice(2);

/** The Electron binary, without triggering node_modules/electron's download-on-require. */
function electronBinary() {
  if (process.env.ELECTRON_PATH) return existsSync(process.env.ELECTRON_PATH) ? process.env.ELECTRON_PATH : undefined;
  const dir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(dir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const bin = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : undefined;
}

/** Runs a command to completion, exiting on failure. */
function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Starts a long-running child, forwarding Ctrl+C and its exit code. */
function forward(cmd, argv, env = process.env) {
  const child = spawn(cmd, argv, { stdio: 'inherit', cwd: root, env });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

/** The serve command: the CLI's when it has one, else a small bundle of it. */
async function serveEntry() {
  const cli = path.join(root, 'dist', 'node', 'cli.js');
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', cwd: root });
  if (/^\s+serve\s/m.test(`${help.stdout}${help.stderr}`)) return [cli, 'serve'];
  const cache = path.join(root, 'node_modules', '.cache', 'domus-start');
  mkdirSync(cache, { recursive: true });
  const driver = path.join(cache, 'serve-main.ts');
  writeFileSync(
    driver,
    `import { serveCommand } from ${JSON.stringify(path.join(root, 'src-engine/node/commands/serve'))};\n` +
      'serveCommand(process.argv.slice(2), { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), cwd: process.cwd(), env: process.env }).then((c) => process.exit(c));\n',
  );
  const { build } = await import('esbuild');
  const out = path.join(cache, 'serve.mjs');
  await build({
    entryPoints: [driver],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __domusCreateRequire } from 'node:module'; const require = __domusCreateRequire(import.meta.url);" },
  });
  return [out];
}

run(process.execPath, ['scripts/build.mjs']);
const electron = process.env.DOMUS_START === 'serve' ? undefined : electronBinary();
if (electron) {
  console.log(`Starting the Domus app with ${electron}`);
  forward(electron, ['.', ...args]);
} else {
  console.log(
    process.env.DOMUS_START === 'serve'
      ? 'DOMUS_START=serve: starting the browser GUI.'
      : 'The Electron binary is not installed here (node_modules/electron/dist is missing; `npx install-electron` needs internet).\nStarting the same GUI in your browser instead (domus serve):',
  );
  const entry = await serveEntry();
  forward(process.execPath, [...entry, ...args], { ...process.env, DOMUS_ENGINE_DIR: process.env.DOMUS_ENGINE_DIR ?? path.join(root, 'dist', 'engine'), DOMUS_RENDERER_DIR: process.env.DOMUS_RENDERER_DIR ?? path.join(root, 'dist', 'renderer') });
}
