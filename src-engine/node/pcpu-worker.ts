/**
 * Entry point of a pCPU worker thread (bundled to dist/engine/pcpu-worker.cjs): loads the thread's
 * program, dist/engine/pcpu-thread.cjs, through the V8 code cache and starts it.
 */
import { startThreadBundle } from './thread-bundle';

/** Content hash of pcpu-thread.cjs, written in by scripts/build.mjs. */
declare const DOMUS_PCPU_THREAD_KEY: string;

startThreadBundle('pcpu-thread.cjs', DOMUS_PCPU_THREAD_KEY, 'startPcpuThread');
