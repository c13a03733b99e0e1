/** Entry point of the hypervisor thread (bundled to dist/engine/hv-worker.js). */
import { parentPort, workerData } from 'node:worker_threads';
import { hvMain } from '../runtime/hv-main';
import { workerEnv } from './worker-host';

if (parentPort) hvMain(workerEnv(parentPort, workerData));
