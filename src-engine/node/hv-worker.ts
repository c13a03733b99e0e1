/** Entry point of the hypervisor thread (bundled to dist/engine/hv-worker.js). */
import { parentPort, workerData } from 'node:worker_threads';
import { hvMain } from '../runtime/hv-main';
import { workerEnv } from './worker-host';
import { openFileBlockBackend } from './disk/file-block-backend';

if (parentPort) {
  hvMain(workerEnv(parentPort, workerData), {
    openBlock: (d) => openFileBlockBackend({ path: d.path, medium: d.medium, readOnly: d.readOnly }),
  });
}
