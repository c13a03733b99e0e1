/**
 * A few QEMU processes recording cases concurrently. The gdbstub round trip (~0.1-0.4 ms) is
 * mostly QEMU's event loop waiting, so two or three processes overlap that latency. A process
 * that fails (timeout, exit) is replaced and the case retried once on the new one.
 */
import type { CaseRecording, DiffCase } from './case';
import { correctQemuRecording } from './qemu-corrections';
import { QemuDriver } from './qemu-driver';
import { recordCase } from './record';
import type { RunnerLayout } from './runner-layout';

/** Default number of QEMU processes. */
export const DEFAULT_POOL_SIZE = 3;

/** A pool of QemuDrivers. */
export class QemuPool {
  private readonly layout: RunnerLayout;
  private readonly idle: QemuDriver[] = [];
  private readonly waiting: ((d: QemuDriver) => void)[] = [];
  private readonly all = new Set<QemuDriver>();
  /** Processes replaced after a failure. */
  restarts = 0;

  private constructor(layout: RunnerLayout) {
    this.layout = layout;
  }

  /** Starts `size` QEMU processes, each parked at the runner's ready label. */
  static async start(layout: RunnerLayout, size = DEFAULT_POOL_SIZE): Promise<QemuPool> {
    const pool = new QemuPool(layout);
    const drivers = await Promise.all(Array.from({ length: size }, () => QemuDriver.start(layout)));
    for (const d of drivers) {
      pool.all.add(d);
      pool.idle.push(d);
    }
    return pool;
  }

  /** Records a case on the next free QEMU, as QEMU does it (see also `recordCorrected`). */
  async record(c: DiffCase): Promise<CaseRecording> {
    let driver = await this.acquire();
    try {
      return await recordCase(driver, c, this.layout);
    } catch {
      driver = await this.replace(driver);
      return await recordCase(driver, c, this.layout);
    } finally {
      this.release(driver);
    }
  }

  /** Records a case and applies the documented corrections of QEMU's known deviations. */
  async recordCorrected(c: DiffCase): Promise<{ recording: CaseRecording; corrections: string[] }> {
    const recording = await this.record(c);
    return { recording, corrections: correctQemuRecording(c, recording, this.layout) };
  }

  /** Stops every QEMU. */
  async close(): Promise<void> {
    await Promise.all([...this.all].map((d) => d.close()));
    this.all.clear();
  }

  private acquire(): Promise<QemuDriver> {
    const d = this.idle.pop();
    if (d) return Promise.resolve(d);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(d: QemuDriver): void {
    if (!this.all.has(d)) return;
    const next = this.waiting.shift();
    if (next) next(d);
    else this.idle.push(d);
  }

  private async replace(d: QemuDriver): Promise<QemuDriver> {
    this.all.delete(d);
    this.restarts++;
    await d.close().catch(() => undefined);
    const fresh = await QemuDriver.start(this.layout);
    this.all.add(fresh);
    return fresh;
  }
}
