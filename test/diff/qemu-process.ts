/**
 * Starts Debian's qemu-system-i386 halted (-S) with its gdbstub on a free loopback port, connects a
 * GdbRspClient to it, and makes sure the process dies with ours (explicit stop, process exit or
 * signal). One QEMU process serves many differential cases.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { GdbRspClient, GdbRspError, type GdbRspClientConfig } from './gdb-rsp';

/** The emulator binary (Debian package qemu-system-x86). */
export const QEMU_BINARY = 'qemu-system-i386';
/** Guest RAM in MiB: the runner needs little; 16 keeps QEMU's start-up fast. */
export const QEMU_MEMORY_MB = 16;
/** How long QEMU may take to open its gdb port. */
const STARTUP_TIMEOUT_MS = 10_000;
/** Delay between connection attempts while QEMU starts. */
const CONNECT_RETRY_MS = 25;

/** Options for one QEMU instance. */
export interface QemuProcessConfig {
  /** Multiboot kernel passed with -kernel. */
  kernelPath: string;
  /** Extra command-line arguments. */
  extraArgs?: string[];
  /** Client options (timeouts). */
  rsp?: GdbRspClientConfig;
}

/** Returns the installed QEMU's version line, or undefined when qemu-system-i386 is missing. */
export function qemuVersion(): string | undefined {
  const r = spawnSync(QEMU_BINARY, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0];
}

/** Asks the kernel for a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** A running QEMU with a connected gdb client. */
export class QemuProcess {
  readonly client: GdbRspClient;
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly stderrBox: { text: string };

  private constructor(child: ChildProcess, client: GdbRspClient, port: number, stderr: { text: string }) {
    this.child = child;
    this.client = client;
    this.port = port;
    this.stderrBox = stderr;
  }

  /** Starts QEMU halted with the kernel loaded and returns once the gdb client is connected. */
  static async start(config: QemuProcessConfig): Promise<QemuProcess> {
    installExitHook();
    const port = await freePort();
    const args = [
      '-display', 'none', '-S', '-gdb', `tcp:127.0.0.1:${port}`, '-m', String(QEMU_MEMORY_MB),
      '-kernel', config.kernelPath, '-no-reboot', '-monitor', 'none', '-serial', 'none', '-parallel', 'none',
      ...(config.extraArgs ?? []),
    ];
    const child = spawn(QEMU_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    const stderr = { text: '' };
    child.stderr?.on('data', (d: Buffer) => {
      stderr.text += d.toString();
    });
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      live.delete(child);
      exited = `exited with ${signal ?? `status ${code}`}`;
    });
    child.once('error', (err) => {
      exited = `could not start: ${err.message}`;
    });
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (;;) {
      if (exited) {
        throw new GdbRspError('qemu.start', `${QEMU_BINARY} ${exited} before its gdbstub accepted a connection. ${stderr.text.trim()}`.trim());
      }
      try {
        const client = await GdbRspClient.connect('127.0.0.1', port, config.rsp);
        return new QemuProcess(child, client, port, stderr);
      } catch (err) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new GdbRspError('qemu.start', `${QEMU_BINARY} did not open its gdbstub on port ${port} within ${STARTUP_TIMEOUT_MS} ms: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, CONNECT_RETRY_MS));
      }
    }
  }

  /** What QEMU printed on stderr so far (for error messages). */
  get log(): string {
    return this.stderrBox.text;
  }

  /** Kills QEMU (via the gdb `k` packet, then SIGKILL) and waits for it to exit. */
  async stop(): Promise<void> {
    this.client.kill();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
      }, 1000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
