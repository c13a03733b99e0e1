// `npm run bench`: runs every bundled benchmark (dist/bench/*.js, built from test/bench/*.bench.ts)
// one after another and prints their figures. `npm run bench -- NAME...` runs only those.
// Each benchmark module's default export is `async (log: (line: string) => void) => void`.
import { readdirSync, existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const dir = 'dist/bench';
const wanted = process.argv.slice(2);
const all = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort() : [];
const names = wanted.length > 0 ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: no benchmark named ${name} (have: ${all.join(', ') || 'none'})`);
    failed++;
    continue;
  }
  console.log(`== ${name}`);
  try {
    const mod = await import(pathToFileURL(path.resolve(dir, `${name}.js`)).href);
    await mod.default((line) => console.log(`  ${line}`));
  } catch (err) {
    failed++;
    console.error(`bench ${name} failed: ${err && err.stack ? err.stack : err}`);
  }
}
process.exit(failed ? 1 : 0);
