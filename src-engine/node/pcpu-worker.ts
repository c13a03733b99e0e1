/** Entry point of a pCPU worker thread (bundled to dist/engine/pcpu-worker.js). */
import { parentPort, workerData } from 'node:worker_threads';
import { pcpuMain } from '../runtime/pcpu-main';
import { workerEnv } from './worker-host';

if (parentPort) pcpuMain(workerEnv(parentPort, workerData));
