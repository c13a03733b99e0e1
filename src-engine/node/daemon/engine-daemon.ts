/**
 * Starting an engine with its API on the local socket: what `domus daemon` runs, and what the
 * Electron app's utility process runs so the CLI works beside the GUI.
 */
import type net from 'node:net';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { EngineService, type EngineServiceOptions } from '../service/engine-service';
import { NodeEngineHost } from '../worker-host';
import { serveOnSocket } from './socket-carrier';
import { DOMUS_VERSION } from '../version';

/** A running engine daemon. */
export interface EngineDaemon {
  service: EngineService;
  server: net.Server;
  close(): Promise<void>;
}

/** Starts the engine and serves it on `options.paths.socketPath`. */
export async function startEngineDaemon(options: Omit<EngineServiceOptions, 'version'> & { version?: string }): Promise<EngineDaemon> {
  const service = new EngineService(new NodeEngineHost(), { ...options, version: options.version ?? DOMUS_VERSION });
  try {
    await service.engine.whenReady();
    const server = await serveOnSocket(service, options.paths.socketPath);
    writeFileSync(options.paths.pidFile, `${process.pid}\n`);
    let closed = false;
    return {
      service,
      server,
      async close() {
        if (closed) return;
        closed = true;
        await new Promise<void>((r) => server.close(() => r()));
        try {
          if (existsSync(options.paths.pidFile) && readFileSync(options.paths.pidFile, 'utf8').trim() === String(process.pid)) unlinkSync(options.paths.pidFile);
        } catch {
          // Already gone.
        }
        await service.close();
      },
    };
  } catch (e) {
    await service.close();
    throw e;
  }
}
