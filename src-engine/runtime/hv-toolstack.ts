/**
 * The toolstack operations on a running domain that go through the guest's own interfaces, as
 * libxl does them: attaching a PVH domain to the Xen host (shared_info, grants, xenstore, PV
 * console and block back ends), `xl shutdown`/`reboot` (xenstore control/shutdown for PVH, the
 * ACPI power button for HVM), `xl vcpu-set` (cpu/N/availability), `xl mem-set`/`mem-max`
 * (memory/target, memory/static-max and the physmap's maximum), domain 0's xenstore access
 * (xenstore-ls, -read, -write, -rm, -watch), a PVH guest's console output, the scheduler calls
 * the toolstack may make, and a domain's summary row. Lives on the hypervisor thread, beside
 * Hypervisor.
 */
import { DomusError } from '../base/errors';
import { vbdDeviceNumber } from '../hv/xen/backends/blkif';
import type { SchedCore } from '../hv/sched/core';
import type { XenConsoleSource, XenHost } from '../hv/xen/xen-host';
import type { BlockBackend } from '../machine/block-backend';
import { textScreen, type HvServices } from './hv-bios';
import type { DomainSpec, HvDomain } from './hv-domain';
import type { HvToHost } from './messages';
import type { XenSaveState } from '../hv/xen/save/xen-save-state';
import { pvhSnapshot } from './pvh-save';
import { hvmSetVcpus } from './hv-vcpu-hotplug';

/** 4 KiB pages per MiB. */
export const PAGES_PER_MIB = 256;
/** KiB per MiB (xenstore's memory nodes are in KiB). */
const KIB_PER_MIB = 1024;

/** SchedCore operations the toolstack may invoke through the 'sched' call. */
const SCHED_OPS = new Set([
  'setAffinity', 'getDomainParams', 'setDomainParams', 'getVcpuParams', 'setVcpuParams', 'createPool', 'destroyPool',
  'renamePool', 'poolAddCpu', 'poolRemoveCpu', 'migrateDomain', 'getPoolParams', 'setPoolParams', 'poolId', 'domainPool',
  'poolCpus', 'freeCpus', 'dump', 'vcpuInfo', 'vcpus', 'pcpus', 'domainIds', 'traceSince', 'xlList', 'xlVcpuList',
  'xlSchedCredit', 'xlSchedRtds', 'xlCpupoolList', 'setVcpuOnline',
]);

/** The toolstack calls on one domain that domainCall() serves. */
export const DOMAIN_CALLS: ReadonlySet<string> = new Set(['snapshot', 'stats', 'screen', 'power-button', 'shutdown-request', 'vcpu-set', 'mem-set', 'mem-max']);

/** A domain's balloon target and maximum (xl mem-set / mem-max), in MiB. */
export interface MemoryLimits {
  targetMiB: number;
  maxMiB: number;
}

/** What the operations need from the hypervisor thread. */
export interface HvToolstackDeps {
  readonly xen: XenHost;
  readonly sched: SchedCore;
  readonly services: HvServices | undefined;
  /** Engine time (ns). */
  nowNs(): number;
  /** Posts a message to the engine host. */
  post(m: HvToHost): void;
}

/** The PV toolstack side of the hypervisor thread. */
export class HvToolstack {
  private readonly memLimits = new Map<number, MemoryLimits>();
  /** Toolstack xenstore watches (xenstore.watch) by id: each entry removes its watch. */
  private readonly xsWatches = new Map<number, () => void>();
  /** The unfinished last line of each domain's console_io output. */
  private readonly consoleIoLine = new Map<number, string>();

  constructor(private readonly deps: HvToolstackDeps) {}

  /**
   * Makes a PVH domain Xen-capable: shared_info, grants, xenstore, PV console and block back
   * ends. On failure the domain's disks are closed and its memory released.
   */
  attachXen(d: HvDomain, pvh: NonNullable<DomainSpec['pvh']>, saved?: XenSaveState): void {
    const { xen, services } = this.deps;
    const disks: BlockBackend[] = [];
    try {
      const vbds = pvh.disks.map((disk) => {
        const devid = vbdDeviceNumber(disk.vdev);
        if (devid === undefined) {
          throw new DomusError('domain.vdev', `Domain ${d.spec.name}: "${disk.vdev}" is not a virtual disk name; use xvda, xvdb, ... (or hda, sda).`, disk.vdev);
        }
        if (services === undefined) throw new DomusError('domain.drive', `Cannot open ${disk.drive.path}: this engine has no file access.`, disk.drive.path);
        const backend = services.openBlock(disk.drive);
        disks.push(backend);
        return { devid, vdev: disk.vdev, disk: backend };
      });
      xen.createDomain({
        domid: d.domid,
        name: d.spec.name,
        uuid: d.uuid,
        memory: d.memory,
        states: d.states,
        nrVcpus: d.vcpuState.length,
        features: d.features,
        timeBaseNs: this.deps.nowNs(),
        memoryMap: d.pvhMemoryMap,
        maxPages: pvh.maxPages,
        vbds,
        vifs: pvh.vifs,
      }, saved);
      d.pvhDisks = disks;
      // libxl writes cpu/<n>/availability for every VCPU: online below vcpus=, offline above
      // (a restored domain has its own nodes back).
      if (saved === undefined) xen.setVcpuAvailability(d.domid, d.spec.vcpus);
    } catch (e) {
      for (const b of disks) b.close();
      d.release();
      throw e;
    }
  }

  /**
   * A toolstack call on domain `d` (one of DOMAIN_CALLS; `a` holds its arguments). `onPcpu` says
   * whether a pCPU still runs one of its VCPUs (a save must wait until none does).
   */
  domainCall(method: string, d: HvDomain, a: Record<string, unknown>, onPcpu: boolean): unknown {
    switch (method) {
      case 'snapshot':
        return this.snapshot(d, onPcpu);
      case 'stats':
        return { instructions: d.instructions(), exits: Object.fromEntries(d.exits), uptimeNs: this.deps.nowNs() - d.createdNs };
      case 'screen':
        return d.firmware === undefined ? null : textScreen(d.firmware);
      case 'power-button':
        d.platform.pressPowerButton();
        return null;
      case 'shutdown-request':
        return this.shutdownRequest(d, a.reason as 'poweroff' | 'reboot');
      case 'vcpu-set':
        return this.setVcpus(d, a.count as number);
      case 'mem-set':
        return this.setMemory(d, 'target', a.mib as number);
      case 'mem-max':
        return this.setMemory(d, 'max', a.mib as number);
      default:
        throw new DomusError('engine.unknown-call', `The hypervisor has no operation "${method}".`);
    }
  }

  /**
   * A paused domain's state for a save image; refuses (retry) while a pCPU still runs it. A PVH
   * domain's image also holds its Xen state and PV devices (pvhSnapshot, docs/xen-abi.md "Save
   * and restore": the save is transparent, the guest is not asked to suspend).
   */
  private snapshot(d: HvDomain, onPcpu: boolean): unknown {
    // A VCPU still on its pCPU when the pause came may have shut the domain down since.
    const down = d.shutdown ?? d.pendingShutdown;
    if (down !== undefined) throw new DomusError('domain.shut-down', `Domain ${d.spec.name} has shut down (${down.reason}); there is nothing to save.`, d.spec.name);
    if (!d.paused) throw new DomusError('domain.not-paused', `Domain ${d.spec.name} must be paused to be saved.`, d.spec.name);
    if (onPcpu) throw new DomusError('domain.busy', `Domain ${d.spec.name} is still leaving its pCPUs; try again.`, d.spec.name);
    const onlineVcpus = this.deps.sched.xlList().find((r) => r.domid === d.domid)?.vcpus ?? d.vcpuState.length;
    if (d.spec.pvh !== undefined) return { ...pvhSnapshot(this.deps.xen, d), uuid: d.uuid, onlineVcpus };
    return { ...d.snapshot(), uuid: d.uuid, onlineVcpus };
  }

  /** Forgets a destroyed domain's records. */
  forget(domid: number): void {
    this.memLimits.delete(domid);
    this.consoleIoLine.delete(domid);
  }

  /**
   * Console text from a PVH guest: the PV console becomes console 0's stream; Xen's emergency
   * console (console_io) goes to the engine log in whole lines.
   */
  consoleOutput(d: HvDomain, data: Uint8Array, source: XenConsoleSource): void {
    if (source === 'pv-console') {
      let q = d.consoleOut.get(0);
      if (q === undefined) d.consoleOut.set(0, (q = []));
      for (const b of data) q.push(b);
      return;
    }
    const text = (this.consoleIoLine.get(d.domid) ?? '') + new TextDecoder().decode(data);
    const lines = text.split('\n');
    this.consoleIoLine.set(d.domid, lines.pop() ?? '');
    for (const line of lines) d.messages.push(`console_io: ${line}`);
  }

  /** Scheduler operations the toolstack may call (spec/schedulers.md: pools, params, pinning). */
  schedOp(op: string, args: unknown[]): unknown {
    if (!SCHED_OPS.has(op)) throw new DomusError('engine.unknown-call', `The scheduler has no operation "${op}".`);
    const sched = this.deps.sched;
    const r = (sched as unknown as Record<string, (...x: unknown[]) => unknown>)[op].apply(sched, args);
    return r === undefined ? null : r;
  }

  /** A domain's row for the toolstack (xl list and more); a shut-down domain keeps its last figures. */
  summary(d: HvDomain): unknown {
    const row = d.shutdown ? undefined : this.deps.sched.xlList().find((r) => r.domid === d.domid);
    const lim = this.limitsOf(d);
    return {
      domid: d.domid,
      name: d.spec.name,
      uuid: d.uuid,
      paused: d.paused,
      shutdown: d.shutdown,
      running: row?.running ?? false,
      blocked: row?.blocked ?? false,
      cpuSeconds: row?.cpuSeconds ?? d.lastCpuSeconds,
      pool: row?.pool ?? d.lastPool,
      onlineVcpus: row?.vcpus ?? d.lastOnlineVcpus,
      maxVcpus: d.vcpuState.length,
      memoryMiB: d.memory.currentPages / PAGES_PER_MIB,
      targetMiB: lim.targetMiB,
      maxmemMiB: lim.maxMiB,
      instructions: d.instructions(),
      exits: Object.fromEntries(d.exits),
    };
  }

  /**
   * `xl shutdown` / `xl reboot`: a PVH guest is asked through xenstore (control/shutdown, as
   * libxl does); an HVM guest hears the ACPI power button (poweroff only: a PC has no reboot button).
   * Returns how the guest was asked.
   */
  shutdownRequest(d: HvDomain, reason: 'poweroff' | 'reboot'): string {
    if (d.shutdown) throw new DomusError('domain.shut-down', `Domain ${d.spec.name} has already shut down.`, d.spec.name);
    if (d.spec.pvh !== undefined) {
      this.deps.xen.requestShutdown(d.domid, reason);
      return 'xenstore control/shutdown';
    }
    if (reason === 'reboot') {
      throw new DomusError(
        'domain.no-pv-control',
        `Domain ${d.spec.name} is an HVM guest without PV drivers, so it cannot be asked to reboot (a PC has no reboot button); reboot it from inside, or destroy it and create it again.`,
        d.spec.name,
      );
    }
    d.platform.pressPowerButton();
    return 'ACPI power button';
  }

  /**
   * `xl vcpu-set`: a PVH guest is told through cpu/<n>/availability and brings its VCPUs up and
   * down itself; an HVM guest through ACPI CPU hotplug (hv-vcpu-hotplug.ts).
   */
  setVcpus(d: HvDomain, count: number): null {
    if (d.shutdown) throw new DomusError('domain.shut-down', `Domain ${d.spec.name} has shut down.`, d.spec.name);
    const max = d.vcpuState.length;
    if (!Number.isInteger(count) || count < 1 || count > max) {
      throw new DomusError('domain.vcpu-count', `Domain ${d.spec.name} has ${max} VCPU${max === 1 ? '' : 's'} (maxvcpus); ask for 1 to ${max}.`, d.spec.name);
    }
    if (d.spec.pvh === undefined) {
      hvmSetVcpus(d, count, this.deps.sched);
      return null;
    }
    this.deps.xen.setVcpuAvailability(d.domid, count);
    return null;
  }

  /**
   * `xl mem-set` (which = target) and `xl mem-max` (which = max), in MiB. The target may not
   * exceed the maximum, nor the maximum fall below the target (libxl's rules). A PVH guest's
   * balloon driver reads memory/target; its maximum bounds what it may populate. An HVM guest
   * without PV drivers keeps its memory, as under Xen; the values are still recorded and shown.
   */
  setMemory(d: HvDomain, which: 'target' | 'max', mib: number): null {
    if (d.shutdown) throw new DomusError('domain.shut-down', `Domain ${d.spec.name} has shut down.`, d.spec.name);
    const lim = this.limitsOf(d);
    if (!Number.isInteger(mib) || mib < 1) throw new DomusError('domain.memory', `${mib} MiB is not a memory size; give a whole number of MiB.`, String(mib));
    if (which === 'target') {
      if (mib > lim.maxMiB) {
        throw new DomusError('domain.memory', `Domain ${d.spec.name} may have at most ${lim.maxMiB} MiB (maxmem); raise it first with mem-max, or ask for less.`, d.spec.name);
      }
      if (d.spec.pvh !== undefined) this.deps.xen.setMemoryTarget(d.domid, mib * KIB_PER_MIB);
      lim.targetMiB = mib;
    } else {
      if (mib < lim.targetMiB) {
        throw new DomusError('domain.memory', `${mib} MiB is below domain ${d.spec.name}'s balloon target of ${lim.targetMiB} MiB; lower the target first with mem-set.`, d.spec.name);
      }
      if (d.spec.pvh !== undefined) this.deps.xen.setMaxPages(d.domid, mib * PAGES_PER_MIB);
      lim.maxMiB = mib;
    }
    return null;
  }

  /** A domain's balloon target and maximum (from its config until mem-set / mem-max change them). */
  limitsOf(d: HvDomain): MemoryLimits {
    let lim = this.memLimits.get(d.domid);
    if (lim === undefined) {
      const maxPages = d.spec.pvh?.maxPages ?? 0;
      lim = { targetMiB: d.spec.memoryMiB, maxMiB: Math.max(d.spec.memoryMiB, maxPages / PAGES_PER_MIB) };
      this.memLimits.set(d.domid, lim);
    }
    return lim;
  }

  /** Domain 0's xenstore access for the toolstack (xenstore-ls, -read, -write, -rm, -watch). */
  xenstoreOp(op: string, path: string, value: string | undefined, watchId: number | undefined): unknown {
    const xs = this.deps.xen.xs;
    switch (op) {
      case 'watch': {
        // Fires at once for the path, then for every change at or below it (xenstore-watch).
        const id = watchId ?? 0;
        this.xsWatches.get(id)?.();
        this.xsWatches.set(id, xs.watch(path, (p) => this.deps.post({ t: 'xenstore-watch', watchId: id, path: p })));
        return null;
      }
      case 'unwatch':
        this.xsWatches.get(watchId ?? 0)?.();
        this.xsWatches.delete(watchId ?? 0);
        return null;
      case 'ls':
        return xs.lsText(path);
      case 'read':
        return xs.read(path);
      case 'write':
        xs.write(path, value ?? '');
        return null;
      case 'rm':
        xs.rm(path);
        return null;
      default:
        throw new DomusError('engine.unknown-call', `xenstore has no operation "${op}".`);
    }
  }
}
