/**
 * Entry point of the hypervisor thread (bundled to dist/engine/hv-worker.cjs): loads the thread's
 * program, dist/engine/hv-thread.cjs, through the V8 code cache and starts it.
 */
import { startThreadBundle } from './thread-bundle';

/** Content hash of hv-thread.cjs, written in by scripts/build.mjs. */
declare const DOMUS_HV_THREAD_KEY: string;

startThreadBundle('hv-thread.cjs', DOMUS_HV_THREAD_KEY, 'startHvThread');
