/**
 * The engine host of the Electron app: the entry of the utility process that main forks
 * (dist/engine/electron-host.js). It starts the engine (one worker thread per pCPU, as everywhere),
 * serves the CLI's socket like `domus daemon` unless another engine already does, and serves every
 * renderer through the MessagePort main hands over. It never imports Electron: main and this
 * process speak the small protocol below over process.parentPort.
 *
 *   main -> host: { type: 'client', label } with one port   a renderer to serve
 *                 { type: 'shutdown' }                       stop the engine and exit
 *   host -> main: { type: 'ready', socket }                  the engine runs
 *                 { type: 'failed', message }                the engine could not start or died
 */
import { errorMessage } from '../../base/errors';
import { startEngineDaemon } from '../daemon/engine-daemon';
import { socketAlive } from '../daemon/socket-carrier';
import { EngineService } from '../service/engine-service';
import { domusPaths } from '../service/paths';
import { DOMUS_VERSION } from '../version';
import { NodeEngineHost } from '../worker-host';
import { parseHostCommand, type HostReport } from './host-protocol';
import { attachPort, type MessagePortMainLike } from './port-carrier';

/** Electron's process.parentPort as this process uses it. */
interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown; ports: MessagePortMainLike[] }) => void): unknown;
  postMessage(message: unknown): void;
}

/** Engine options from the environment main passes (DOMUS_PCPUS, DOMUS_MEMORY_POOL_MIB, DOMUS_SCHEDULER). */
function engineOptions(env: Record<string, string | undefined>) {
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  return { pcpus: num(env.DOMUS_PCPUS), memoryPoolMiB: num(env.DOMUS_MEMORY_POOL_MIB), scheduler: env.DOMUS_SCHEDULER || undefined, paths: domusPaths(env), version: DOMUS_VERSION };
}

async function main(): Promise<void> {
  const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (!parentPort) {
    process.stderr.write('electron-host: run me in an Electron utility process (main forks me); for a browser GUI use `domus serve`.\n');
    process.exit(2);
  }
  const report = (r: HostReport) => parentPort.postMessage(r);
  const opts = engineOptions(process.env);
  let service: EngineService;
  let stop: () => Promise<void>;
  let socket: string | undefined;
  // Renderers may connect before the engine is ready; serve them once it is.
  const waiting: { port: MessagePortMainLike; label: string }[] = [];
  let ready = false;
  parentPort.on('message', (e) => {
    const cmd = parseHostCommand(e.data);
    if (!cmd) return;
    if (cmd.type === 'shutdown') {
      void (stop?.() ?? Promise.resolve()).finally(() => process.exit(0));
      return;
    }
    const port = e.ports[0];
    if (!port) return;
    if (ready) attachPort(service, port, cmd.label);
    else waiting.push({ port, label: cmd.label });
  });
  try {
    if (await socketAlive(opts.paths.socketPath)) {
      const svc = new EngineService(new NodeEngineHost(), opts);
      await svc.engine.whenReady();
      svc.note('warn', 'engine', `another engine already serves ${opts.paths.socketPath}; domus verbs talk to that one, not to this app`);
      service = svc;
      stop = () => svc.close();
    } else {
      const d = await startEngineDaemon(opts);
      service = d.service;
      stop = () => d.close();
      socket = opts.paths.socketPath;
    }
  } catch (e) {
    report({ type: 'failed', message: `the engine did not start: ${errorMessage(e)}` });
    process.exit(1);
  }
  ready = true;
  for (const w of waiting.splice(0)) attachPort(service, w.port, w.label);
  report({ type: 'ready', socket });
  const quit = () => void stop().finally(() => process.exit(0));
  process.once('SIGTERM', quit);
  process.once('SIGINT', quit);
}

void main();
