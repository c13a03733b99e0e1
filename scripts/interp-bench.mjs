// Interpreter builds compared by thread CPU time: `node scripts/interp-bench.mjs [--rounds N]
// [--stop WORKLOAD] LABEL=TREE...`. Each TREE is a checkout (this one: `.`); the harness
// test/bench/interp-cpu.bench.ts of this checkout (with bench-lines.ts) is copied into trees that lack it and bundled
// there (esbuild, the tree's own sources), then each round runs every build once in a fresh
// process, in an order that alternates between rounds. Prints every run and the medians per
// workload by thread CPU time, process CPU time and wall time, with the load average.
// --paired [--chunk M]: all builds in one process instead, each on its own guest, taking turns
// every M million instructions (default 20); every turn gives each build's MIPS under the same
// load, and the median over turns of each build's ratio to the first is the figure to trust.
// DOMUS_GUESTS: the shared guests folder (default ../shared/guests).
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const HARNESS = 'test/bench/interp-cpu.bench.ts';
/** The harness's helper module (copied along with it). */
const HARNESS_LINES = 'test/bench/bench-lines.ts';
const args = process.argv.slice(2);
let rounds = 5;
let stop = '';
let paired = false;
let chunk = 20;
const builds = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--stop') stop = args[++i];
  else if (args[i] === '--paired') paired = true;
  else if (args[i] === '--chunk') chunk = Number(args[++i]);
  else {
    const [label, tree] = args[i].split('=');
    builds.push({ label, tree: path.resolve(tree ?? label) });
  }
}
if (builds.length === 0) {
  console.error('usage: node scripts/interp-bench.mjs [--rounds N] [--stop WORKLOAD] LABEL=TREE...');
  process.exit(2);
}
const outDir = '/tmp/interp-bench';
mkdirSync(outDir, { recursive: true });
for (const b of builds) {
  const src = path.join(b.tree, HARNESS);
  for (const f of [HARNESS, HARNESS_LINES]) {
    const to = path.join(b.tree, f);
    if (existsSync(to)) continue;
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(path.resolve(f), to);
  }
  b.bundle = path.join(outDir, `${b.label}.mjs`);
  await build({ entryPoints: [src], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: b.bundle, logLevel: 'warning' });
}
const guests = path.resolve(process.env.DOMUS_GUESTS ?? '../shared/guests');
const elf = path.join(guests, 'bench', 'bench.elf');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
if (paired && rounds > 1) {
  // Each round in a fresh process: two copies of one build in one process differ by up to 10%
  // (V8 compiles each copy on its own), so only rounds in separate processes average that out.
  const self = process.argv[1];
  const rest = args.filter((a, i) => a !== '--rounds' && args[i - 1] !== '--rounds');
  const all = new Map();
  for (let r = 0; r < rounds; r++) {
    const out = execFileSync(process.execPath, [self, '--rounds', '1', ...rest], { encoding: 'utf8' });
    process.stdout.write(out.replace(/^round 1/m, `round ${r + 1}`).split('\n').filter((l) => !l.startsWith('JSON ')).join('\n'));
    for (const [w, ratios] of JSON.parse(out.split('\n').find((l) => l.startsWith('JSON ')).slice(5))) {
      if (!all.has(w)) all.set(w, builds.map(() => []));
      ratios.forEach((x, k) => all.get(w)[k].push(x));
    }
  }
  console.log(`over ${rounds} processes: per build the median of the per-process ratios to ${builds[0].label} [range], and the MIPS medians`);
  for (const [w, per] of all) {
    console.log(`  ${w.padEnd(5)} ${builds.map((b, k) => `${b.label} x${median(per[k].map((x) => x[0])).toFixed(3)} [${Math.min(...per[k].map((x) => x[0])).toFixed(2)}-${Math.max(...per[k].map((x) => x[0])).toFixed(2)}] ${median(per[k].map((x) => x[1])).toFixed(1)}`).join('  ')}`);
  }
  process.exit(0);
}
if (paired) {
  const { readFileSync } = await import('node:fs');
  const summary = [];
  const image = new Uint8Array(readFileSync(elf));
  const mods = [];
  for (const b of builds) mods.push(await import(pathToFileURL(b.bundle).href));
  for (let r = 0; r < rounds; r++) {
    const steppers = mods.map((m) => m.interpStepper(image));
    // Per workload: per build the turns' MIPS.
    const turns = new Map();
    const load0 = loadavg()[0];
    for (let t = 0; ; t++) {
      const order = t % 2 === 0 ? steppers.map((_, k) => k) : steppers.map((_, k) => steppers.length - 1 - k);
      const got = [];
      for (const k of order) got[k] = steppers[k].step(chunk * 1e6);
      if (got.some((g) => g === null)) break;
      const w = got[0].workload;
      if (w === '' || got.some((g) => g.workload !== w)) continue;
      if (!turns.has(w)) turns.set(w, builds.map(() => []));
      got.forEach((g, k) => turns.get(w)[k].push(g.insns / g.threadMs / 1000));
      if (got.some((g) => g.insns < chunk * 1e6)) break;
    }
    console.log(`round ${r + 1} (load ${load0.toFixed(1)}-${loadavg()[0].toFixed(1)}), MIPS by thread CPU time, median over turns; ratio to ${builds[0].label}: median [range] over turns`);
    for (const [w, per] of turns) {
      const cols = builds.map((b, k) => {
        const ratios = per[k].map((x, t) => x / per[0][t]);
        const rr = k === 0 ? '' : ` x${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`;
        return `${b.label} ${median(per[k]).toFixed(1)}${rr}`;
      });
      console.log(`  ${w.padEnd(5)} ${per[0].length} turns  ${cols.join('  ')}`);
      summary.push([w, builds.map((_, k) => [median(per[k].map((x, t) => x / per[0][t])), median(per[k])])]);
    }
    console.log(`JSON ${JSON.stringify(summary)}`);
  }
  process.exit(0);
}
const runner = (bundle) => `
import { readFileSync } from 'node:fs';
const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const spans = m.runInterp(new Uint8Array(readFileSync(${JSON.stringify(elf)})), ${JSON.stringify(stop || undefined)});
console.log(JSON.stringify([...spans].map(([k, s]) => [k, m.spanMips(s)])));`;

const results = new Map(builds.map((b) => [b.label, []]));
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? builds : [...builds].reverse();
  for (const b of order) {
    const load = loadavg()[0];
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', runner(b.bundle)], { encoding: 'utf8' });
    const spans = JSON.parse(out.trim().split('\n').pop());
    results.get(b.label).push({ load, spans: new Map(spans) });
    const txt = spans.map(([k, m]) => `${k} ${m.thread.toFixed(1)}/${m.proc.toFixed(1)}/${m.wall.toFixed(1)}`).join('  ');
    console.log(`round ${r + 1} ${b.label.padEnd(10)} load ${load.toFixed(1)}  ${txt}  (thread/process/wall MIPS)`);
  }
}
console.log('medians (thread / process / wall MIPS), with the spread of thread MIPS:');
for (const b of builds) {
  const list = results.get(b.label);
  const names = [...list[0].spans.keys()];
  const cols = names.map((n) => {
    const t = list.map((x) => x.spans.get(n).thread);
    const p = median(list.map((x) => x.spans.get(n).proc));
    const w = median(list.map((x) => x.spans.get(n).wall));
    return `${n} ${median(t).toFixed(1)} [${Math.min(...t).toFixed(1)}-${Math.max(...t).toFixed(1)}] / ${p.toFixed(1)} / ${w.toFixed(1)}`;
  });
  const loads = list.map((x) => x.load);
  console.log(`  ${b.label.padEnd(10)} load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}  ${cols.join('  ')}`);
}
