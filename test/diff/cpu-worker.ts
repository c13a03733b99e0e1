/**
 * Worker-thread side of the CPU replayer: boots the runner on our CPU once, then replays the
 * cases the host sends. Running here lets the host stop a CPU that hangs inside step() (it
 * terminates the thread) and overlaps CPU work with QEMU's gdbstub I/O.
 *
 * workerData: { harnessUrl, elfPath, progress: SharedArrayBuffer (Int32 step index), inject? }
 * (inject: a known bug for the harness's self-tests, fault-injection.ts).
 * Messages in: { id, case, expected }; out: { id, divergence } or { id, error }; at start
 * { ready: true } or { fatal }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { CaseRecording, DiffCase } from './case';
import type { CreateCpuHarness } from './cpu-harness-api';
import { CpuReplayer } from './cpu-replay';
import { injectBug, type InjectedBug } from './fault-injection';
import { loadRunnerLayout } from './runner-layout';

interface WorkerInit {
  harnessUrl: string;
  elfPath: string;
  progress: SharedArrayBuffer;
  inject?: InjectedBug;
}

async function start(): Promise<void> {
  const init = workerData as WorkerInit;
  const port = parentPort!;
  const progress = new Int32Array(init.progress);
  let replayer: CpuReplayer;
  try {
    const mod = (await import(init.harnessUrl)) as { createCpuHarness: CreateCpuHarness };
    const create = init.inject ? injectBug(mod.createCpuHarness, init.inject) : mod.createCpuHarness;
    replayer = new CpuReplayer(create, loadRunnerLayout(init.elfPath), (step) => Atomics.store(progress, 0, step));
  } catch (err) {
    port.postMessage({ fatal: (err as Error).stack ?? String(err) });
    return;
  }
  port.on('message', (msg: { id: number; case: DiffCase; expected: CaseRecording }) => {
    Atomics.store(progress, 0, -1);
    try {
      port.postMessage({ id: msg.id, divergence: replayer.replay(msg.case, msg.expected) });
    } catch (err) {
      port.postMessage({ id: msg.id, error: (err as Error).stack ?? String(err) });
    }
  });
  port.postMessage({ ready: true });
}

void start();
