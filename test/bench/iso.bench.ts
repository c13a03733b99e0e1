/**
 * ISO builder benchmark (`npm run bench -- iso`): time to build a typical GRUB ISO (multiboot
 * loader + 1 MiB application module, bundled GRUB, all modules copied) with Domus, median of
 * several runs, next to grub-mkrescue's time for the same tree when it is installed. Target: a
 * typical build under 500 ms.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildIsoFromWizard } from '../../src-engine/node/iso/iso-service';
import { buildRescueIso } from '../../src-engine/iso/grub-rescue';
import { planWizardIso } from '../../src-engine/iso/iso-wizard';
import { loadGrubDirectory } from '../../src-engine/node/iso/grub-dir';
import { clearCoreCacheMemory } from '../../src-engine/node/iso/core-cache';

const RUNS = 7;
const MKRESCUE_RUNS = 3;
const APP_BYTES = 1024 * 1024;
const TARGET_MS = 500;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The mbinfo test kernel, or a stand-in with a multiboot header when the checkout lacks it. */
function kernelBytes(): Uint8Array {
  const fixture = path.resolve('test/unit/iso/fixtures/mbinfo-kernel.elf');
  if (existsSync(fixture)) return new Uint8Array(readFileSync(fixture));
  const k = new Uint8Array(64 * 1024);
  const dv = new DataView(k.buffer);
  dv.setUint32(0, 0x1badb002, true);
  dv.setUint32(4, 3, true);
  dv.setUint32(8, (-(0x1badb002 + 3)) >>> 0, true);
  return k;
}

export default async function bench(log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'domus-iso-bench-'));
  try {
    const kernel = path.join(dir, 'ldhermit.elf');
    const app = path.join(dir, 'hermit_application');
    writeFileSync(kernel, kernelBytes());
    const appBytes = new Uint8Array(APP_BYTES);
    for (let i = 0; i < appBytes.length; i++) appBytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(app, appBytes);
    const req = { kernel, kernelArgs: '-uart=io:0x3f8', modules: [{ path: app }], output: path.join(dir, 'out.iso'), timeMs: 0 };

    // End to end, as `domus mkiso` runs it: read inputs, check GRUB against its manifest, assemble
    // the core image (LZMA), write the ISO atomically.
    const times: number[] = [];
    let size = 0;
    clearCoreCacheMemory();
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      // No HOME/XDG_CACHE_HOME in this environment: memory cache only, nothing written to disk.
      const r = await buildIsoFromWizard(req, undefined, {});
      times.push(performance.now() - t0);
      size = r.bytes;
    }
    log(`domus mkiso, file to file (${(size / 2 ** 20).toFixed(1)} MiB image; target < ${TARGET_MS} ms):`);
    log(`  first build in this process (LZMA encoder cold, no disk cache): ${times[0].toFixed(0)} ms`);
    log(`  median of the next ${RUNS - 1} (compressed core reused from memory): ${median(times.slice(1)).toFixed(0)} ms`);

    // The in-memory builder alone (what the wizard runs after its GRUB directory is loaded).
    const grub = await loadGrubDirectory();
    const plan = planWizardIso({
      kernel: { name: 'ldhermit.elf', data: new Uint8Array(readFileSync(kernel)) },
      kernelArgs: '-uart=io:0x3f8',
      modules: [{ file: { name: 'hermit_application', data: appBytes }, args: '' }],
      title: 'bench',
      timeoutSeconds: 0,
      console: { kind: 'serial', port: 1, speed: 115200 },
    });
    const pure: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      buildRescueIso({ grub: grub.files, user: plan.tree, timeMs: 0 });
      pure.push(performance.now() - t0);
    }
    log(`  in-memory build compressing the core every time (warm encoder): median of ${RUNS} ${median(pure).toFixed(0)} ms`);

    const has = spawnSync('sh', ['-c', 'command -v grub-mkrescue && command -v xorriso'], { stdio: 'ignore' }).status === 0;
    if (!has) {
      log('grub-mkrescue: not installed, no comparison');
      return;
    }
    const tree = path.join(dir, 'tree');
    mkdirSync(path.join(tree, 'boot', 'grub'), { recursive: true });
    writeFileSync(path.join(tree, 'boot', 'ldhermit.elf'), readFileSync(kernel));
    writeFileSync(path.join(tree, 'boot', 'hermit_application'), appBytes);
    writeFileSync(path.join(tree, 'boot', 'grub', 'grub.cfg'), plan.grubCfg);
    const mk: number[] = [];
    for (let i = 0; i < MKRESCUE_RUNS; i++) {
      const t0 = performance.now();
      const r = spawnSync('grub-mkrescue', ['-o', path.join(dir, 'ref.iso'), tree], { stdio: 'ignore' });
      mk.push(performance.now() - t0);
      if (r.status !== 0) {
        log('grub-mkrescue: failed, no comparison');
        return;
      }
    }
    log(`grub-mkrescue + xorriso, same tree (also copies fonts and locales): median of ${MKRESCUE_RUNS} ${median(mk).toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
