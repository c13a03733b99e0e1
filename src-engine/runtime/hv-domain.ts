/**
 * A domain as the hypervisor thread keeps it: its memory (P2M over the machine pool), its
 * emulated PC devices, the shared state blocks of its VCPUs, console output waiting to be sent
 * to the toolstack, and counters of VM exits by reason.
 */
import type { CpuFeatures } from '../cpu/cpuid';
import { DEFAULT_FEATURES } from '../cpu/cpuid';
import { Cpu } from '../cpu/cpu';
import type { CpuOps } from '../cpu/ops';
import {
  EFLAGS_FIXED1, FAULT_MSG_BYTES, IF, MTRR_STATE_WORDS, S_A20_MASK, S_EFLAGS, S_FAULT_KIND, S_FAULT_MSG, S_INTR_LINE,
  S_ICOUNT_HI, S_ICOUNT_LO, S_LF_OP, S_MTRR, S_NMI_PENDING, S_RECENT_EIPS, S_RUNNING, STATE_BYTES,
} from '../cpu/state';
import type { MachineMemory } from '../hv/memory/machine-memory';
import { DomainMemory } from '../hv/memory/domain-memory';
import { createPcPlatform, type ComPort, type PcPlatform } from '../machine/platform-pc';
import type { Clock } from '../machine/device';
import { loadMultibootKernel, type MultibootLoadSummary } from '../boot/multiboot';
import { isLinuxBzImage, loadLinuxKernel, type LinuxLoadSummary } from '../boot/linux';
import { lapicRegions, lapicRegionsBytes } from '../machine/lapic-regs';
import { lapicHasInterrupt, lapicHasNmi, lapicStartupPending } from '../machine/lapic-core';
import { pcIoApicId } from '../machine/platform-pc';
import { e820Reserved, writePcTables } from '../firmware/tables/pc-tables';
import type { DomainShare, ShutdownReason } from './messages';
import { BootError, SaveImageError } from '../base/errors';
import { DomainBios, type BiosBootSpec, type DriveSpec, type HvServices } from './hv-bios';
import { loadPvhKernel, pvhMemoryMap, type PvhLoadSummary } from '../boot/pvh';
import type { E820Entry } from '../boot/e820';
import type { BlockBackend } from '../machine/block-backend';
import { WarpClock, advanceTscOffsets } from '../firmware/bios/hvm-firmware';
import type { BiosBootResult } from '../firmware/bios/bios';
import type { XenSaveState } from '../hv/xen/save/xen-save-state';
import { mapRom, type RomSpec } from './hv-rom';
import { newLsrCache } from '../machine/uart-lsr-cache';
import { DEBUGCON_STREAM } from '../machine/debugcon';

/** A module for direct multiboot boot. */
export interface ModuleSpec {
  data: Uint8Array;
  path: string;
  args: string;
}

/** The initial RAM disk of a Linux direct boot (QEMU -initrd, xl.cfg ramdisk=). */
export interface InitrdSpec {
  data: Uint8Array;
  path: string;
}

/** What the toolstack asks the hypervisor to build. */
export interface DomainSpec {
  name: string;
  uuid?: string;
  memoryMiB: number;
  vcpus: number;
  maxVcpus?: number;
  /**
   * Direct kernel boot (QEMU -kernel): a multiboot kernel with its modules, or a Linux bzImage
   * (told apart by its setup header) with its initrd.
   */
  kernel?: { data: Uint8Array; path: string; cmdline: string; modules: ModuleSpec[]; initrd?: InitrdSpec };
  /** Boot through the HVM BIOS from disks and CD-ROMs (used when there is no kernel). */
  bios?: BiosBootSpec;
  /** A raw system ROM as the only firmware (QEMU -bios; excludes `kernel` and `bios`): hv-rom.ts. */
  rom?: RomSpec;
  /**
   * A PVH guest (xl.cfg type = "pvh"): `kernel` is an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note,
   * its modules are the ramdisk; the guest talks to the engine's Xen interfaces.
   */
  pvh?: PvhSpec;
  /** Fit isa-debug-exit at 0xF4. */
  debugExit?: boolean;
  /** COM ports to fit (default COM1). */
  uarts?: ComPort[];
  /** QEMU conventions for test kernels (fw_cfg is always there; this adds pc-testdev). */
  machine?: 'pc' | 'qemu-testdev';
  /** Scheduling: pool, weight, cap, per-VCPU hard/soft affinity. */
  pool?: string | number;
  weight?: number;
  cap?: number;
  hard?: number[][];
  soft?: number[][];
}

/** A PV block device of a PVH domain (xl.cfg disk=). */
export interface PvhDiskSpec {
  /** Virtual device as written (xvda, hda, ...). */
  vdev: string;
  drive: DriveSpec;
}

/** What a PVH domain has besides its kernel. */
export interface PvhSpec {
  disks: PvhDiskSpec[];
  /** vif= entries: MAC addresses (xenstore nodes only; there is no network back end yet). */
  vifs: { mac: string }[];
  /** Xen's max_pages (xl maxmem), in pages. */
  maxPages?: number;
}

/** What a restored domain starts from (decoded save image parts). */
export interface DomainRestore {
  pages: { gfns: Uint32Array; data: Uint8Array };
  states: Uint8Array;
  /** Local APIC regions (absent in images of domains without them). */
  lapics?: Uint8Array;
  platform: unknown;
  exits: Record<string, number>;
  deadHalt: boolean[];
  /** A PVH domain's Xen state (event channels, grants, xenstore, back ends); it keeps its domid. */
  xen?: XenSaveState;
}

/** Why a domain is no longer running, once it isn't. */
export interface DomainShutdown {
  reason: ShutdownReason;
  code?: number;
  detail?: string;
}

/** A domain on the hypervisor thread. */
export class HvDomain {
  readonly memory: DomainMemory;
  readonly platform: PcPlatform;
  readonly states: SharedArrayBuffer;
  /** Byte offset of VCPU 0's state block in `states` (in the pool memory when it is one). */
  readonly statesOffset: number;
  readonly vcpuState: Int32Array[];
  /** Each VCPU's local APIC registers (shared with the pCPU running it). */
  readonly lapicBuffer: SharedArrayBuffer;
  readonly lapics: Int32Array[];
  /** The UARTs' line status as the pCPUs answer LSR reads (machine/uart-lsr-cache.ts). */
  readonly lsrCache = newLsrCache();
  /** VCPUs whose local APIC gained something (IPI, timer, IOAPIC, LINT0) since the loop looked. */
  readonly kicks = new Set<number>();
  readonly features: CpuFeatures;
  readonly uuid: string;
  readonly createdNs: number;
  /** Console bytes waiting to be posted, per COM port. */
  readonly consoleOut = new Map<number, number[]>();
  /** VM exits by reason. */
  readonly exits = new Map<string, number>();
  /** VCPUs halted with interrupts off and nothing pending: only a reset could revive them. */
  readonly deadHalt: boolean[];
  paused = true;
  shutdown: DomainShutdown | undefined;
  /** CPU seconds and pool when it left the scheduler (for listings after shutdown). */
  lastCpuSeconds = 0;
  lastPool = 'Pool-0';
  lastOnlineVcpus = 0;
  /** What the loader did (multiboot, Linux or PVH), for the toolstack. */
  bootSummary: MultibootLoadSummary | LinuxLoadSummary | PvhLoadSummary | undefined;
  /** When the devices next need tick() (ns). */
  nextTick = 0;
  /** The toolstack was told every VCPU is halted for good. */
  haltReported = false;
  /** The BIOS and its drives (BIOS-booted domains). */
  readonly firmware: DomainBios | undefined;
  /** The BIOS's power-on outcome. */
  biosBoot: BiosBootResult | undefined;
  /** Lines for the user (BIOS messages) waiting to be posted. */
  readonly messages: string[] = [];
  /** Block devices behind a PVH domain's PV disks (closed at destruction). */
  pvhDisks: BlockBackend[] = [];
  /** The memory map a PVH guest was given (hvm_start_info, XENMEM_memory_map). */
  pvhMemoryMap: E820Entry[] | undefined;
  /** The domain's clock: the host's, moved forward by GRUB's calibration shortcut. */
  readonly clock: WarpClock;
  /**
   * Set by the hypervisor: VCPU `v`'s registers or A20 changed behind its pCPU's back; the pCPU
   * must drop what it derived from them before the next instruction.
   */
  onVcpuReload: (v: number) => void = () => {};
  /**
   * Set by the toolstack (hv-vcpu-hotplug.ts): the guest released CPU `v`, which `xl vcpu-set`
   * had pulled out through ACPI; the VCPU may now leave the scheduler.
   */
  onCpuEject: (v: number) => void = () => {};

  constructor(
    readonly domid: number,
    readonly spec: DomainSpec,
    pool: MachineMemory,
    clock: Clock,
    nowNs: number,
    restore?: DomainRestore,
    services?: HvServices,
  ) {
    this.clock = new WarpClock(clock);
    clock = this.clock;
    this.uuid = spec.uuid ?? defaultUuid(domid);
    this.createdNs = nowNs;
    const nr = spec.maxVcpus ?? spec.vcpus;
    // A PVH guest sees Xen's CPUID leaves (hypervisor bit) and no emulated PC; an HVM guest a PC.
    this.features = spec.pvh ? { ...DEFAULT_FEATURES, hypervisor: true } : { ...DEFAULT_FEATURES, apic: true };
    this.memory = new DomainMemory(pool, `domain ${spec.name}`, { ramBytes: spec.memoryMiB * 2 ** 20 });
    try {
      // In the pool memory (WebAssembly regions work on them in place); Xen's PVH side wants offset 0.
      const st = spec.pvh === undefined ? pool.allocateStates(nr * STATE_BYTES) : { buffer: new SharedArrayBuffer(nr * STATE_BYTES), offset: 0 };
      this.states = st.buffer;
      this.statesOffset = st.offset;
      this.vcpuState = [];
      for (let v = 0; v < nr; v++) this.vcpuState.push(new Int32Array(this.states, this.statesOffset + v * STATE_BYTES, STATE_BYTES / 4));
      this.deadHalt = new Array<boolean>(nr).fill(false);
      this.lapicBuffer = new SharedArrayBuffer(lapicRegionsBytes(nr));
      this.lapics = lapicRegions(this.lapicBuffer, nr);
      this.platform = createPcPlatform({
        clock,
        ramBelow4G: spec.memoryMiB * 2 ** 20,
        cpus: nr,
        uarts: spec.uarts ?? [1],
        debugExit: spec.debugExit ?? false,
        smp: { lapics: this.lapics, kick: (v) => this.kicks.add(v), onlineCpus: Math.min(spec.vcpus, nr) },
        onCpuEject: (v) => this.onCpuEject(v),
        pcTestdev: spec.machine === 'qemu-testdev',
        onPowerOff: () => this.requestShutdown({ reason: 'poweroff', detail: 'ACPI S5 (soft off)' }),
        lsrCache: new Int32Array(this.lsrCache),
        onUartTransmit: (com, byte) => this.queueConsole(com, byte),
        onDebugcon: (byte) => this.queueConsole(DEBUGCON_STREAM, byte),
        onDebugExit: (status) => this.requestShutdown({ reason: 'debug-exit', code: status }),
        onResetRequest: (source) => this.requestShutdown({ reason: 'reboot', detail: `reset requested through ${source}` }),
        onA20Change: (enabled) => {
          // Translations made under the old mask must go: every VCPU reloads.
          this.vcpuState.forEach((s, v) => {
            s[S_A20_MASK] = enabled ? -1 : ~(1 << 20);
            this.onVcpuReload(v);
          });
        },
        // The 8259's INTR reaches the VCPUs through the local APICs' LINT0 (virtual wire).
      });
      if (spec.bios !== undefined && spec.kernel === undefined) {
        this.firmware = new DomainBios({
          spec: spec.bios,
          ramBytes: spec.memoryMiB * 2 ** 20,
          memory: this.memory,
          platform: this.platform,
          clock,
          states: this.states,
          statesOffset: this.statesOffset,
          nrVcpus: nr,
          features: this.features,
          services,
          message: (text) => void this.messages.push(text),
          reload: (v) => this.onVcpuReload(v),
          warped: (ns) => {
            this.clock.advance(ns);
            advanceTscOffsets(this.vcpuState, ns);
            this.nextTick = 0;
          },
          afterPost: () => this.writeFirmwareTables(true),
        });
      }
      if (spec.rom !== undefined) mapRom(this.memory, spec.rom);
      if (restore) this.applyRestore(restore);
      else this.initVcpus(clock.now());
    } catch (e) {
      this.firmware?.close();
      this.memory.release();
      throw e;
    }
  }

  /** A byte for console stream `stream` (a COM port, or the debug console). */
  private queueConsole(stream: number, byte: number): void {
    let q = this.consoleOut.get(stream);
    if (q === undefined) this.consoleOut.set(stream, (q = []));
    q.push(byte);
  }

  /** ACPI and MP tables (after the BIOS's POST, which clears the EBDA, or before a direct boot). */
  private writeFirmwareTables(vga: boolean) {
    const vcpus = this.vcpuState.length;
    return writePcTables(this.memory, { vcpus, onlineVcpus: Math.min(this.spec.vcpus, vcpus), ioApicId: pcIoApicId(vcpus), acpi: { vga } });
  }

  /** Releases the domain's memory and closes its drives (destruction). */
  release(): void {
    this.firmware?.close();
    for (const b of this.pvhDisks) {
      try {
        b.close();
      } catch (e) {
        this.messages.push(`Closing ${b.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.pvhDisks = [];
    this.memory.release();
  }

  private initVcpus(now: number): void {
    const spec = this.spec;
    // Reset every VCPU through a Cpu bound to its state block; APs wait for a startup IPI.
    const noOps = null as unknown as CpuOps;
    for (let v = 0; v < this.vcpuState.length; v++) {
      const cpu = new Cpu(this.states, this.statesOffset + v * STATE_BYTES, this.memory.physMemory, noOps, { features: this.features, vcpuId: v });
      cpu.reset();
      if (v > 0) cpu.s[S_RUNNING] = 0;
    }
    if (spec.pvh !== undefined) {
      if (spec.kernel === undefined) throw new BootError('boot.pvh-no-kernel', `Domain ${spec.name}: a PVH guest needs a kernel (kernel=).`, spec.name);
      const ram = spec.memoryMiB * 2 ** 20;
      this.pvhMemoryMap = pvhMemoryMap(ram);
      const r = loadPvhKernel({
        kernel: spec.kernel.data,
        kernelPath: spec.kernel.path,
        cmdline: spec.kernel.cmdline,
        modules: spec.kernel.modules.map((m) => ({ data: m.data, path: m.path, cmdline: m.args })),
        memory: this.memory,
        memoryMap: this.pvhMemoryMap,
      });
      this.bootSummary = r.summary;
      const cpu = new Cpu(this.states, this.statesOffset, this.memory.physMemory, noOps, { features: this.features, vcpuId: 0 });
      cpu.init(r.init);
    } else if (spec.kernel && isLinuxBzImage(spec.kernel.data)) {
      // The same firmware tables as a multiboot direct boot; the zero page points at the RSDP.
      const tables = this.writeFirmwareTables(false);
      if (spec.kernel.modules.length > 0) {
        throw new BootError('boot.linux-modules', `${spec.kernel.path}: a Linux kernel takes one initrd, not multiboot modules; give it as the initrd (--initrd, ramdisk=).`, spec.kernel.path);
      }
      const r = loadLinuxKernel({
        kernel: spec.kernel.data,
        kernelPath: spec.kernel.path,
        initrd: spec.kernel.initrd?.data,
        initrdPath: spec.kernel.initrd?.path,
        cmdline: spec.kernel.cmdline,
        memory: this.memory,
        extraReserved: e820Reserved(tables.ranges),
        acpiRsdp: tables.acpi.rsdpAddress,
      });
      this.platform.directBootSetup();
      this.bootSummary = r.summary;
      const cpu = new Cpu(this.states, this.statesOffset, this.memory.physMemory, noOps, { features: this.features, vcpuId: 0 });
      cpu.init(r.init);
    } else if (spec.kernel) {
      if (spec.kernel.initrd !== undefined) {
        throw new BootError('boot.initrd-not-linux', `${spec.kernel.path}: an initrd goes with a Linux bzImage; this kernel is not one. Give a multiboot kernel its files as modules.`, spec.kernel.path);
      }
      // Firmware tables first, so the loader's memory map reserves them.
      const tables = this.writeFirmwareTables(false);
      const r = loadMultibootKernel({
        kernel: spec.kernel.data,
        kernelPath: spec.kernel.path,
        cmdline: spec.kernel.cmdline,
        modules: spec.kernel.modules,
        memory: this.memory,
        extraReserved: e820Reserved(tables.ranges),
      });
      this.platform.directBootSetup();
      this.bootSummary = r.summary;
      const cpu = new Cpu(this.states, this.statesOffset, this.memory.physMemory, noOps, { features: this.features, vcpuId: 0 });
      cpu.init(r.init);
    } else if (this.firmware !== undefined) {
      this.biosBoot = this.firmware.powerOn();
    }
    if (spec.pvh === undefined) this.copyBspMtrrsToAps();
    void now;
    void EFLAGS_FIXED1;
    void S_LF_OP;
  }

  /**
   * Gives every AP the MTRRs the firmware (or the loader standing for it) set on the BSP, as a
   * BIOS does when it wakes the APs (SeaBIOS smp_setup). INIT leaves MTRRs alone (SDM Table 9-1),
   * so the APs keep them through the guest's INIT-SIPI-SIPI; without this Linux finds
   * "inconsistent MTRRdefType settings" and corrects them itself.
   */
  private copyBspMtrrsToAps(): void {
    const bsp = this.vcpuState[0].subarray(S_MTRR, S_MTRR + MTRR_STATE_WORDS);
    for (let v = 1; v < this.vcpuState.length; v++) this.vcpuState[v].set(bsp, S_MTRR);
  }

  private applyRestore(r: DomainRestore): void {
    if (r.states.length !== this.vcpuState.length * STATE_BYTES) {
      throw new SaveImageError('save.shape', `The image has ${r.states.length / STATE_BYTES} VCPU states; the domain has ${this.vcpuState.length}.`);
    }
    for (let k = 0; k < r.pages.gfns.length; k++) {
      const gfn = r.pages.gfns[k];
      if (!this.memory.isRam(gfn * 4096, 4096)) this.memory.populate(gfn);
      this.memory.write(gfn * 4096, r.pages.data.subarray(k * 4096, (k + 1) * 4096));
    }
    new Uint8Array(this.states, this.statesOffset, r.states.length).set(r.states);
    if (r.lapics && r.lapics.length === this.lapicBuffer.byteLength) new Uint8Array(this.lapicBuffer).set(r.lapics);
    this.platform.loadState(r.platform as Parameters<PcPlatform['loadState']>[0]);
    this.firmware?.aliasHigh();
    if (this.spec.pvh !== undefined) this.pvhMemoryMap = pvhMemoryMap(this.spec.memoryMiB * 2 ** 20);
    for (const [k, v] of Object.entries(r.exits)) this.exits.set(k, v);
    r.deadHalt.forEach((v, i) => (this.deadHalt[i] = v));
  }

  /**
   * The domain's memory, VCPU states and devices for a save image (the domain must be quiescent).
   * `skip` leaves out guest frames that are not the domain's own pages (a PVH domain's Xen
   * overlays: shared_info, grant frames, mapped grants).
   */
  snapshot(skip?: (gfn: number) => boolean): DomainRestore {
    const gfns: number[] = [];
    const p2m = this.memory.p2m;
    const mem32 = this.memory.pool.mem32;
    for (let g = 0; g < p2m.length; g++) {
      const m = p2m[g];
      if (m === 0 || this.memory.isAlias(g) || skip?.(g) === true) continue;
      const base = (m - 1) * 1024;
      let nonzero = false;
      for (let w = 0; w < 1024; w++) {
        if (mem32[base + w] !== 0) {
          nonzero = true;
          break;
        }
      }
      if (nonzero) gfns.push(g);
    }
    const data = new Uint8Array(gfns.length * 4096);
    gfns.forEach((g, k) => data.set(this.memory.read(g * 4096, 4096), k * 4096));
    return {
      pages: { gfns: Uint32Array.from(gfns), data },
      states: new Uint8Array(this.states, this.statesOffset, this.vcpuState.length * STATE_BYTES).slice(),
      lapics: new Uint8Array(this.lapicBuffer).slice(),
      platform: this.platform.saveState(),
      exits: Object.fromEntries(this.exits),
      deadHalt: [...this.deadHalt],
    };
  }

  /** What pCPU workers need to run this domain. */
  share(): DomainShare {
    return {
      domid: this.domid, nrVcpus: this.vcpuState.length, p2m: this.memory.p2mBuffer, states: this.states, statesOffset: this.statesOffset, lapics: this.lapicBuffer,
      features: this.features, pvh: this.spec.pvh !== undefined, lsrCache: this.lsrCache,
    };
  }

  /** Set by device callbacks; the hypervisor loop acts on it. */
  pendingShutdown: DomainShutdown | undefined;

  requestShutdown(s: DomainShutdown): void {
    if (this.shutdown === undefined && this.pendingShutdown === undefined) this.pendingShutdown = s;
  }

  countExit(reason: string): void {
    this.exits.set(reason, (this.exits.get(reason) ?? 0) + 1);
  }

  /** Instructions its VCPUs retired (as far as their state blocks were last brought up to date). */
  instructions(): number {
    let n = 0;
    for (const s of this.vcpuState) n += (s[S_ICOUNT_LO] >>> 0) + (s[S_ICOUNT_HI] >>> 0) * 4294967296;
    return n;
  }

  /** True if VCPU `v` can take an interrupt now (so HLT should not block it). */
  interruptDeliverable(v: number): boolean {
    const s = this.vcpuState[v];
    const r = this.lapics[v];
    return (
      s[S_NMI_PENDING] > 0 || lapicHasNmi(r) || lapicStartupPending(r) ||
      ((s[S_EFLAGS] & IF) !== 0 && (s[S_INTR_LINE] !== 0 || lapicHasInterrupt(r)))
    );
  }

  /** True if HLT on VCPU `v` can never end (interrupts off, no NMI or startup IPI pending). */
  haltIsFinal(v: number): boolean {
    const s = this.vcpuState[v];
    const r = this.lapics[v];
    return (s[S_EFLAGS] & IF) === 0 && s[S_NMI_PENDING] === 0 && !lapicHasNmi(r) && !lapicStartupPending(r);
  }

  /** True if every started VCPU is in a final halt. */
  allDeadHalted(): boolean {
    let started = 0;
    for (let v = 0; v < this.vcpuState.length; v++) {
      if (this.vcpuState[v][S_RUNNING] === 0) continue;
      started++;
      if (!this.deadHalt[v]) return false;
    }
    return started > 0;
  }

  /** The fault message a pCPU recorded in VCPU `v`'s state block, with recent EIPs. */
  faultDetail(v: number): string | undefined {
    const s = this.vcpuState[v];
    if (s[S_FAULT_KIND] === 0) return undefined;
    const bytes = new Uint8Array(FAULT_MSG_BYTES);
    for (let k = 0; k < FAULT_MSG_BYTES / 4; k++) {
      const w = s[S_FAULT_MSG + k];
      bytes[k * 4] = w & 0xff;
      bytes[k * 4 + 1] = (w >>> 8) & 0xff;
      bytes[k * 4 + 2] = (w >>> 16) & 0xff;
      bytes[k * 4 + 3] = (w >>> 24) & 0xff;
    }
    const end = bytes.indexOf(0);
    const text = new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
    const eips: string[] = [];
    for (let k = 0; k < 16; k++) {
      const e = s[S_RECENT_EIPS + k] >>> 0;
      if (e !== 0) eips.push(`0x${e.toString(16)}`);
    }
    return eips.length > 0 ? `${text} (last instructions at ${eips.join(' ')})` : text;
  }
}

/** A stable UUID for a domain that was given none (xl derives one randomly; we derive it). */
export function defaultUuid(domid: number): string {
  const h = (domid >>> 0).toString(16).padStart(8, '0');
  return `${h}-d0c5-4d0c-8000-${h}0000`;
}
