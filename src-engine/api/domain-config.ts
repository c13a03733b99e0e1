/**
 * The typed domain configuration: one model for the engine, the CLI and the GUI, read from and
 * written to xl.cfg (docs/xl-cfg.md lists every key and its status). Plain data only (JSON-safe,
 * no imports), so it can travel over IPC and be moved into src-engine/api unchanged.
 *
 * Units are xl's: memory in MiB, RTDS period in microseconds, cap in percent of one pCPU.
 */

/** Guest types Domus runs. Classic PV ("pv") is refused as not supported yet. */
export type DomainGuestType = 'hvm' | 'pvh';

/** What happens when the guest powers off, reboots, crashes or its watchdog fires (xl.cfg on_*). */
export type ShutdownAction = 'destroy' | 'restart' | 'rename-restart' | 'preserve';

/** xl.cfg tsc_mode names (libxl_types.idl libxl_tsc_mode). */
export type TscMode = 'default' | 'always_emulate' | 'native' | 'native_paravirt';

/** Disk image formats of xl-disk-configuration(5); "empty" is a CD-ROM drive with no medium. */
export type DiskFormat = 'raw' | 'qcow' | 'qcow2' | 'vhd' | 'qed' | 'empty';

/** One `disk=` entry (xl-disk-configuration(5)). */
export interface DiskConfig {
  /** Image file or block device; undefined for an empty CD-ROM drive. */
  target: string | undefined;
  format: DiskFormat;
  /** Virtual device as the guest sees it: hda..hdd (IDE), xvdX, sdX, ... */
  vdev: string;
  /** access=ro/r (always true for a CD-ROM). */
  readOnly: boolean;
  /** devtype=cdrom, the `cdrom` flag or the deprecated `vdev:cdrom` suffix. */
  cdrom: boolean;
  /** backend=DOMAIN (driver domain); kept, Domus always serves disks itself. */
  backend?: string;
  backendType?: 'phy' | 'tap' | 'qdisk' | 'standalone';
  specification?: 'xen' | 'virtio';
  /** script=, or block-iscsi etc. from a deprecated prefix; kept, not run. */
  script?: string;
  /** Other flags as written: discard, no-discard, trusted, untrusted, direct-io-safe, colo..., grant_usage=N. */
  flags?: string[];
  /** The DISKSPEC text this came from; written back unchanged while it still means the same. */
  spec?: string;
}

/** One `vif=` entry: kept as parsed (xl-network-configuration(5)); Domus has no network yet. */
export interface VifConfig {
  /** key=value pairs in order of appearance (mac, bridge, model, type, ...). */
  params: Record<string, string>;
  /** Bare words: trusted, untrusted (and unknown ones, reported as warnings). */
  flags: string[];
  /** The NET_SPEC_STRING as written. */
  spec: string;
}

/** One emulated serial port (xl.cfg `serial=`, QEMU character device syntax subset). */
export type SerialConfig =
  | { kind: 'file'; path: string }
  | { kind: 'pty' }
  | { kind: 'stdio' }
  | { kind: 'none' };

/**
 * vCPU affinity as written in xl.cfg: one CPU-list string for every vCPU, or one string per vCPU
 * (vCPU i gets element i; vCPUs past the end get "all"). Resolved against the host topology when
 * the domain is built (src-engine/base/cpulist.ts).
 */
export type CpuAffinityConfig = string | string[];

/** A value of a key Domus keeps but does not interpret (unknown and not-yet-supported keys). */
export type OtherSettingValue = string | number | boolean | readonly OtherSettingValue[];

/** A complete, validated domain configuration with xl's defaults filled in. */
export interface DomainConfig {
  name: string;
  /** 8-4-4-4-12 hex; undefined means "generate one at creation", as xl does. */
  uuid: string | undefined;
  type: DomainGuestType;
  /** Initial memory (xl.cfg memory=), MiB. */
  memoryMiB: number;
  /** Maximum memory (maxmem=, default = memory), MiB; above memory the guest starts ballooned. */
  maxmemMiB: number;
  /** vCPUs online at start (vcpus=, default 1). */
  vcpus: number;
  /** vCPUs that exist (maxvcpus=, default = vcpus); vcpus..maxvcpus-1 start offline. */
  maxvcpus: number;
  /** Hard affinity (cpus=); undefined = all pCPUs. */
  cpus: CpuAffinityConfig | undefined;
  /** Soft affinity (cpus_soft=); undefined = all pCPUs. */
  cpusSoft: CpuAffinityConfig | undefined;
  /** Credit/credit2 weight, 1..65535 (cpu_weight=, default 256). */
  cpuWeight: number;
  /** Credit/credit2 cap in % of one pCPU, 0 = none (cap=). */
  cap: number;
  /** Cpupool to create the domain in (pool=); undefined = Pool-0. */
  pool: string | undefined;
  /** RTDS period for every vCPU, microseconds (period=); undefined = scheduler default 10000. */
  rtdsPeriodUs: number | undefined;
  /** RTDS extratime flag (extratime=); undefined = scheduler default (on). */
  rtdsExtratime: boolean | undefined;
  /** Kernel for direct boot (kernel=): PVH always, HVM like QEMU -kernel. */
  kernel: string | undefined;
  ramdisk: string | undefined;
  /** The three command-line keys as written; see effectiveCmdline() for what the guest gets. */
  cmdline: string | undefined;
  root: string | undefined;
  extra: string | undefined;
  /** HVM boot order: c (disk), d (CD-ROM), n (network), tried in order (boot=, default "cd"). */
  boot: string;
  disks: DiskConfig[];
  vifs: VifConfig[];
  serial: SerialConfig[];
  /** No graphical console (nographic=). */
  nographic: boolean;
  onPoweroff: ShutdownAction;
  onReboot: ShutdownAction;
  onWatchdog: ShutdownAction;
  onCrash: ShutdownAction;
  tscMode: TscMode;
  /**
   * Keys Domus keeps but does not use (unknown ones and ones not supported yet), in file order;
   * they are written back so nothing is lost on round trip.
   */
  otherSettings: Record<string, OtherSettingValue>;
}
