/**
 * Two threads on one local APIC region, as in the engine: a "hypervisor" worker accepting
 * interrupts into IRR (Atomics.or) while a "pCPU" worker takes them (IRR -> ISR with Atomics.and)
 * and ends them with EOI. Every vector sent must arrive exactly once: a lost IRR update would
 * leave the sender waiting for an acknowledgement that never comes.
 * The worker program is bundled with esbuild from the source below (Node cannot load TypeScript
 * in a worker).
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { lapicPowerOn } from '../../../src-engine/machine/lapic-core';
import { lapicMmioWrite, newLapicWriteOut } from '../../../src-engine/machine/lapic';
import { lapicRegions, lapicRegionsBytes } from '../../../src-engine/machine/lapic-regs';

/** Interrupts the sender sends in all. */
const TOTAL = 200_000;
/** Distinct vectors in flight: 0x20-0x7F spans three IRR words. */
const FIRST_VECTOR = 0x20;
const VECTORS = 96;
/** Shared counter words: per vector sent / received, then "sender done" and "receiver stop". */
const SENT = 0;
const RECEIVED = 256;
const DONE = 512;
const STUCK = 513;
const COUNTERS = 514;
/** How long the sender waits for one vector to be taken before it declares it lost. */
const STUCK_MS = 2000;

const WORKER_SOURCE = `
import { workerData, parentPort } from 'node:worker_threads';
import { lapicAcceptVector, lapicHasInterrupt } from './src-engine/machine/lapic-core';
import { lapicAcknowledge, lapicEoi, newLapicWriteOut } from './src-engine/machine/lapic';
const { role, region, counters, total, first, vectors } = workerData;
const r = new Int32Array(region);
const c = new Int32Array(counters);
if (role === 'hypervisor') {
  for (let i = 0; i < total; i++) {
    const v = first + (i % vectors);
    // Send v again only after the previous one was taken (IRR is one bit per vector).
    let spins = 0;
    const since = Date.now();
    while (Atomics.load(c, ${RECEIVED} + v) !== Atomics.load(c, ${SENT} + v)) {
      if ((++spins & 0xffff) === 0 && Date.now() - since > ${STUCK_MS}) {
        Atomics.store(c, ${STUCK}, v);
        parentPort.postMessage('stuck');
        process.exit(0);
      }
    }
    Atomics.add(c, ${SENT} + v, 1);
    lapicAcceptVector(r, v, false);
  }
  Atomics.store(c, ${DONE}, 1);
  parentPort.postMessage('done');
} else {
  const out = newLapicWriteOut();
  for (;;) {
    if (lapicHasInterrupt(r)) {
      const v = lapicAcknowledge(r);
      Atomics.add(c, ${RECEIVED} + v, 1);
      lapicEoi(r, out);
    } else if (Atomics.load(c, ${DONE}) === 1 || Atomics.load(c, ${STUCK}) !== 0) {
      if (!lapicHasInterrupt(r)) break;
    }
  }
  parentPort.postMessage('done');
}
`;

async function bundleWorker(): Promise<string> {
  const root = path.resolve(__dirname, '../../..');
  const result = await build({
    stdin: { contents: WORKER_SOURCE, resolveDir: root, loader: 'ts', sourcefile: 'lapic-irr-worker.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

function runWorker(code: string, data: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL('data:text/javascript,' + encodeURIComponent(code));
    const w = new Worker(url, { workerData: data });
    w.once('message', (m) => resolve(String(m)));
    w.once('error', reject);
  });
}

describe('local APIC IRR shared by two threads', () => {
  it('loses no interrupt while one thread sets IRR bits and the other takes and ends them', async () => {
    const code = await bundleWorker();
    const [r] = lapicRegions(new SharedArrayBuffer(lapicRegionsBytes(1)), 1);
    lapicPowerOn(r, { vcpu: 0 });
    lapicMmioWrite(r, 0xf0, 4, 0x1ff, 0, newLapicWriteOut());
    const counters = new SharedArrayBuffer(COUNTERS * 4);
    const common = { region: r.buffer, counters, total: TOTAL, first: FIRST_VECTOR, vectors: VECTORS };
    const [sender, receiver] = await Promise.all([
      runWorker(code, { ...common, role: 'hypervisor' }),
      runWorker(code, { ...common, role: 'pcpu' }),
    ]);
    const c = new Int32Array(counters);
    expect(sender).toBe('done');
    expect(receiver).toBe('done');
    expect(c[STUCK]).toBe(0);
    let sent = 0;
    let received = 0;
    for (let v = 0; v < 256; v++) {
      expect(c[RECEIVED + v]).toBe(c[SENT + v]);
      sent += c[SENT + v];
      received += c[RECEIVED + v];
    }
    expect(sent).toBe(TOTAL);
    expect(received).toBe(TOTAL);
  }, 120_000);
});
