/**
 * The engine's utility process as main manages it: fork (dist/engine/electron-host.js, unpacked
 * from the asar so its worker threads load from real files), hand each window a MessagePort to it,
 * report its state to every window, and restart it on request. If it dies, windows are told why;
 * the library stays on disk and the GUI offers a restart.
 */
import path from 'node:path';
import { app, MessageChannelMain, utilityProcess, type UtilityProcess, type WebContents } from 'electron';
import { PUSH, type EngineProcessState } from './ipc-contract';

/** Lines of the engine's stderr kept to explain an exit. */
const STDERR_KEEP_LINES = 20;

/** Where the engine host bundle is (app.asar.unpacked when packaged). */
export function engineHostPath(): string {
  const root = app.isPackaged ? app.getAppPath().replace(/app\.asar$/, 'app.asar.unpacked') : app.getAppPath();
  return path.join(root, 'dist', 'engine', 'electron-host.js');
}

/** The engine process. */
export class EngineProcess {
  private child: UtilityProcess | undefined;
  private stderr: string[] = [];
  private generation = 0;
  state: EngineProcessState = { state: 'exited', message: 'not started', generation: 0 };
  private stopping = false;

  constructor(private readonly listeners: () => WebContents[]) {}

  /** Forks the engine (again). */
  start(): void {
    if (this.child) return;
    this.generation++;
    this.stderr = [];
    const hostFile = engineHostPath();
    const child = utilityProcess.fork(hostFile, [], {
      serviceName: 'Domus engine',
      stdio: 'pipe',
      env: { ...process.env, DOMUS_ENGINE_DIR: path.dirname(hostFile) },
    });
    this.child = child;
    this.setState({ state: 'starting', message: 'starting the engine', generation: this.generation });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr.push(...d.toString().split('\n').filter((l) => l.trim() !== ''));
      this.stderr.splice(0, Math.max(0, this.stderr.length - STDERR_KEEP_LINES));
    });
    child.stdout?.on('data', (d: Buffer) => process.stdout.write(d));
    child.on('message', (m: unknown) => {
      const r = m as { type?: string; message?: string; socket?: string };
      if (r?.type === 'ready') this.setState({ state: 'running', message: r.socket ? `engine running; CLI socket ${r.socket}` : 'engine running', generation: this.generation });
      else if (r?.type === 'failed') this.setState({ state: 'starting', message: r.message ?? 'the engine failed', generation: this.generation });
    });
    child.on('exit', (code) => {
      this.child = undefined;
      const why = this.stopping ? 'the engine was stopped' : `the engine process exited with code ${code}${this.stderr.length ? `: ${this.stderr[this.stderr.length - 1]}` : ''}`;
      this.setState({ state: 'exited', message: why, code, generation: this.generation });
    });
  }

  /** Stops the engine (domains die with it). */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    this.stopping = true;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.postMessage({ type: 'shutdown' });
    const timer = setTimeout(() => c.kill(), 5000);
    await gone;
    clearTimeout(timer);
    this.stopping = false;
  }

  /** Stops and starts again. */
  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  /** Gives a window a port to the engine. */
  connect(wc: WebContents, label: string): void {
    if (!this.child) this.start();
    const { port1, port2 } = new MessageChannelMain();
    this.child?.postMessage({ type: 'client', label }, [port1]);
    wc.postMessage(PUSH.enginePort, null, [port2]);
  }

  private setState(s: EngineProcessState): void {
    this.state = s;
    for (const wc of this.listeners()) if (!wc.isDestroyed()) wc.send(PUSH.engineState, s);
  }
}
