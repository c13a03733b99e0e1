/**
 * Catalogue of xl.cfg keys with their status in Domus (STYLE.md item 14). Every key xl itself
 * reads (tools/xl/xl_parse.c) is listed, so a file written for Xen never meets "unknown key" for
 * a real xl key; docs/xl-cfg.md is generated from this table (renderXlCfgDoc).
 *
 *   supported  read, validated and used
 *   partial    read and validated; some values or effects are not implemented (see note)
 *   not-yet    kept on round trip and reported as a warning, otherwise ignored
 */

/** Implementation status of an xl.cfg key in Domus. */
export type XlKeyStatus = 'supported' | 'partial' | 'not-yet';

/** One catalogue entry. */
export interface XlKeyInfo {
  key: string;
  status: XlKeyStatus;
  /** What the key means in xl.cfg(5), in a few words. */
  summary: string;
  /** What Domus does differently or does not do yet. */
  note?: string;
}

type Row = [key: string, status: XlKeyStatus, summary: string, note?: string];

// prettier-ignore
const ROWS: Row[] = [
  // Identity and type
  ['name', 'supported', 'domain name (mandatory)'],
  ['uuid', 'supported', 'domain UUID; generated when absent'],
  ['type', 'partial', 'guest type: hvm, pvh or pv', 'pv (the x86 default when type= is absent) is refused: not supported yet'],
  ['builder', 'partial', 'deprecated type selector: hvm or generic (= pv)', 'generic is refused like type="pv"'],
  // Memory and CPUs
  ['memory', 'supported', 'initial memory, MiB (default 32 with maxmem)'],
  ['maxmem', 'supported', 'maximum memory, MiB (default = memory); more than memory starts ballooned'],
  ['vcpus', 'supported', 'vCPUs online at start (default 1; values below 1 become 1)'],
  ['maxvcpus', 'supported', 'vCPUs that exist (default = vcpus); extra ones start offline'],
  ['cpus', 'supported', 'hard affinity: one CPU list, or a list with one CPU list per vCPU'],
  ['cpus_soft', 'supported', 'soft affinity, same syntax as cpus'],
  ['cpu_weight', 'supported', 'credit/credit2 weight, 1..65535 (default 256)'],
  ['cap', 'supported', 'credit/credit2 cap in % of one pCPU, 0 = none (at most 100 x maxvcpus)'],
  ['pool', 'supported', 'cpupool to create the domain in'],
  ['period', 'supported', 'RTDS period in microseconds for every vCPU', 'xl has no budget= key: the budget stays 4000 us, so period must be at least 4000 in an RTDS pool'],
  ['extratime', 'supported', 'RTDS extratime flag (0/1)'],
  ['slice', 'not-yet', 'obsolete SEDF parameter, parsed and ignored by xl'],
  ['latency', 'not-yet', 'obsolete SEDF parameter, parsed and ignored by xl'],
  ['vnuma', 'not-yet', 'virtual NUMA topology'],
  ['llc_colors', 'not-yet', 'last-level cache colouring (Arm)'],
  // Boot
  ['kernel', 'supported', 'kernel for direct boot (PVH; HVM boots it like QEMU -kernel)'],
  ['ramdisk', 'supported', 'initial ramdisk (module) for the kernel'],
  ['cmdline', 'supported', 'kernel command line; overrides root= and extra='],
  ['root', 'supported', 'adds root=STRING to the command line'],
  ['extra', 'supported', 'appended to the command line'],
  ['boot', 'supported', 'HVM boot order: c disk, d CD-ROM, n network (default cd)', 'a/b (floppy) refused: there is no floppy drive'],
  ['firmware', 'not-yet', 'HVM firmware (bios, uefi, seabios, ovmf, path) or PV pvgrub'],
  ['bios', 'not-yet', 'HVM firmware selection (rombios, seabios, ovmf)'],
  ['bios_path_override', 'not-yet', 'custom HVM firmware file'],
  ['firmware_override', 'not-yet', 'custom hvmloader'],
  ['bootloader', 'not-yet', 'PV bootloader program (pygrub)'],
  ['bootloader_args', 'not-yet', 'arguments of the bootloader'],
  ['bootloader_restrict', 'not-yet', 'run the bootloader restricted'],
  ['bootloader_user', 'not-yet', 'user to run the bootloader as'],
  ['device_tree', 'not-yet', 'device tree for the guest (Arm)'],
  ['pvshim', 'not-yet', 'run a PV guest inside a PVH shim'],
  ['pvshim_path', 'not-yet', 'shim kernel'],
  ['pvshim_cmdline', 'not-yet', 'shim command line'],
  ['pvshim_extra', 'not-yet', 'extra shim command line'],
  // Events
  ['on_poweroff', 'partial', 'action on power-off (default destroy)', 'destroy, restart, rename-restart, preserve; coredump-* and soft-reset refused'],
  ['on_reboot', 'partial', 'action on reboot (default restart)', 'as on_poweroff'],
  ['on_watchdog', 'partial', 'action on watchdog timeout (default destroy)', 'as on_poweroff'],
  ['on_crash', 'partial', 'action on crash (default destroy)', 'as on_poweroff'],
  ['on_soft_reset', 'not-yet', 'action on soft reset (default soft-reset)'],
  // Devices
  ['disk', 'supported', 'block devices, xl-disk-configuration(5) syntax'],
  ['vif', 'partial', 'network interfaces, xl-network-configuration(5) syntax', 'parsed and kept; no network device yet'],
  ['serial', 'partial', 'HVM serial ports (string or list): file:PATH, pty, stdio, none', 'other QEMU character devices refused'],
  ['nographic', 'supported', 'no graphical console (0/1)'],
  ['vif2', 'not-yet', 'netchannel2, deprecated and unsupported by xl'],
  ['vtpm', 'not-yet', 'virtual TPMs'],
  ['p9', 'not-yet', '9pfs shares'],
  ['pvcalls', 'not-yet', 'PV calls back ends'],
  ['vfb', 'not-yet', 'PV framebuffers'],
  ['vkb', 'not-yet', 'PV keyboards'],
  ['vdispl', 'not-yet', 'PV displays'],
  ['vsnd', 'not-yet', 'PV sound cards'],
  ['virtio', 'not-yet', 'virtio devices'],
  ['channel', 'not-yet', 'PV channels'],
  ['pci', 'not-yet', 'PCI passthrough devices'],
  ['pci_msitranslate', 'not-yet', 'PCI passthrough MSI translation'],
  ['pci_power_mgmt', 'not-yet', 'PCI passthrough power management'],
  ['pci_permissive', 'not-yet', 'PCI passthrough permissive mode'],
  ['pci_seize', 'not-yet', 'seize PCI devices from dom0'],
  ['rdm', 'not-yet', 'reserved device memory policy'],
  ['rdm_mem_boundary', 'not-yet', 'reserved device memory boundary'],
  ['dtdev', 'not-yet', 'device-tree passthrough'],
  ['ioports', 'not-yet', 'I/O port passthrough'],
  ['irqs', 'not-yet', 'IRQ passthrough'],
  ['iomem', 'not-yet', 'I/O memory passthrough'],
  ['passthrough', 'not-yet', 'IOMMU page-table mode for passthrough'],
  ['usb', 'not-yet', 'emulated USB controller'],
  ['usbversion', 'not-yet', 'USB controller version'],
  ['usbdevice', 'not-yet', 'emulated USB devices'],
  ['usbctrl', 'not-yet', 'PV USB controllers'],
  ['usbdev', 'not-yet', 'USB passthrough devices'],
  ['soundhw', 'not-yet', 'emulated sound hardware'],
  ['vkb_device', 'not-yet', 'PV keyboard for HVM'],
  ['vga', 'not-yet', 'emulated VGA: stdvga, cirrus, qxl, none'],
  ['stdvga', 'not-yet', 'deprecated VGA selector'],
  ['videoram', 'not-yet', 'video memory, MiB'],
  ['gfx_passthru', 'not-yet', 'graphics passthrough'],
  ['hdtype', 'not-yet', 'emulated disk controller: ide or ahci'],
  ['vnc', 'not-yet', 'VNC console'],
  ['vnclisten', 'not-yet', 'VNC listen address'],
  ['vncdisplay', 'not-yet', 'VNC display number'],
  ['vncunused', 'not-yet', 'VNC picks a free display'],
  ['vncpasswd', 'not-yet', 'VNC password'],
  ['vncviewer', 'not-yet', 'ignored by xl (use xl create -V)'],
  ['sdl', 'not-yet', 'SDL console window'],
  ['opengl', 'not-yet', 'OpenGL for SDL'],
  ['display', 'not-yet', 'X display for SDL'],
  ['xauthority', 'not-yet', 'X authority file for SDL'],
  ['keymap', 'not-yet', 'keyboard layout'],
  ['spice', 'not-yet', 'SPICE console'],
  ['spicehost', 'not-yet', 'SPICE listen address'],
  ['spiceport', 'not-yet', 'SPICE port'],
  ['spicetls_port', 'not-yet', 'SPICE TLS port'],
  ['spicedisable_ticketing', 'not-yet', 'SPICE without password'],
  ['spicepasswd', 'not-yet', 'SPICE password'],
  ['spiceagent_mouse', 'not-yet', 'SPICE agent mouse'],
  ['spicevdagent', 'not-yet', 'SPICE vdagent'],
  ['spice_clipboard_sharing', 'not-yet', 'SPICE clipboard sharing'],
  ['spiceusbredirection', 'not-yet', 'SPICE USB redirection channels'],
  ['spice_image_compression', 'not-yet', 'SPICE image compression'],
  ['spice_streaming_video', 'not-yet', 'SPICE video streaming'],
  // Platform and timing
  ['tsc_mode', 'partial', 'TSC mode: default, always_emulate, native, native_paravirt (integers deprecated)', 'always_emulate and native_paravirt run as native'],
  ['timer_mode', 'not-yet', 'HVM timer mode'],
  ['rtc_timeoffset', 'not-yet', 'RTC offset from UTC, seconds'],
  ['localtime', 'not-yet', 'RTC in local time'],
  ['acpi', 'not-yet', 'ACPI tables'],
  ['acpi_s3', 'not-yet', 'ACPI S3 state'],
  ['acpi_s4', 'not-yet', 'ACPI S4 state'],
  ['acpi_laptop_slate', 'not-yet', 'ACPI laptop/slate switch'],
  ['acpi_firmware', 'not-yet', 'extra ACPI tables'],
  ['apic', 'not-yet', 'local APIC'],
  ['pae', 'not-yet', 'PAE for HVM'],
  ['nx', 'not-yet', 'NX bit'],
  ['hpet', 'not-yet', 'HPET'],
  ['hap', 'not-yet', 'hardware-assisted paging'],
  ['oos', 'not-yet', 'out-of-sync shadow page tables'],
  ['shadow_memory', 'not-yet', 'shadow page-table memory, MiB'],
  ['mmio_hole', 'not-yet', 'MMIO hole size, MiB'],
  ['nestedhvm', 'not-yet', 'nested virtualisation'],
  ['altp2m', 'not-yet', 'alternate P2M mode'],
  ['altp2mhvm', 'not-yet', 'deprecated altp2m switch'],
  ['altp2m_count', 'not-yet', 'number of alternate P2Ms'],
  ['viridian', 'not-yet', 'Hyper-V enlightenments'],
  ['vpt_align', 'not-yet', 'align virtual timers'],
  ['hvm_pirq', 'not-yet', 'PV IRQs for HVM'],
  ['xen_platform_pci', 'not-yet', 'Xen platform PCI device'],
  ['xen_platform_pci_bar_uc', 'not-yet', 'platform PCI BAR uncached'],
  ['vendor_device', 'not-yet', 'Xen vendor PCI device'],
  ['smbios', 'not-yet', 'SMBIOS strings'],
  ['smbios_firmware', 'not-yet', 'SMBIOS table file'],
  ['ms_vm_genid', 'not-yet', 'Microsoft VM generation ID'],
  ['mca_caps', 'not-yet', 'machine-check capabilities'],
  ['cpuid', 'not-yet', 'CPUID policy'],
  ['msr_relaxed', 'not-yet', 'relaxed MSR access'],
  ['vpmu', 'not-yet', 'virtual PMU'],
  ['vmtrace_buf_kb', 'not-yet', 'processor-trace buffer, KiB'],
  ['e820_host', 'not-yet', 'host E820 map for PV'],
  ['vuart', 'not-yet', 'virtual UART (Arm)'],
  ['gic_version', 'not-yet', 'GIC version (Arm)'],
  ['tee', 'not-yet', 'TEE mediator (Arm)'],
  ['sve', 'not-yet', 'SVE vector length (Arm)'],
  ['nr_spis', 'not-yet', 'number of SPIs (Arm)'],
  ['trap_unmapped_accesses', 'not-yet', 'trap unmapped MMIO (Arm)'],
  ['arm_sci', 'not-yet', 'SCI mediator (Arm)'],
  // Limits, security, device model
  ['max_grant_frames', 'not-yet', 'grant table frames'],
  ['max_maptrack_frames', 'not-yet', 'maptrack frames'],
  ['max_grant_version', 'not-yet', 'highest grant table version'],
  ['max_event_channels', 'not-yet', 'event channel limit'],
  ['nomigrate', 'not-yet', 'forbid migration'],
  ['driver_domain', 'not-yet', 'domain serves back ends'],
  ['seclabel', 'not-yet', 'XSM security label'],
  ['init_seclabel', 'not-yet', 'XSM label during build'],
  ['xend_suspend_evtchn_compat', 'not-yet', 'xend suspend event channel'],
  ['xenstore_feature_mask', 'not-yet', 'Xenstore features offered'],
  ['xenstore_quota', 'not-yet', 'Xenstore quotas'],
  ['device_model', 'not-yet', 'deprecated device model path'],
  ['device_model_version', 'not-yet', 'device model: qemu-xen or qemu-xen-traditional'],
  ['device_model_override', 'not-yet', 'device model binary'],
  ['device_model_args', 'not-yet', 'extra device model arguments'],
  ['device_model_args_pv', 'not-yet', 'extra device model arguments (PV)'],
  ['device_model_args_hvm', 'not-yet', 'extra device model arguments (HVM)'],
  ['device_model_stubdomain_override', 'not-yet', 'device model in a stub domain'],
  ['device_model_stubdomain_seclabel', 'not-yet', 'stub domain security label'],
  ['device_model_user', 'not-yet', 'user for the device model'],
  ['dm_restrict', 'not-yet', 'restrict the device model'],
  ['stubdomain_kernel', 'not-yet', 'stub domain kernel'],
  ['stubdomain_cmdline', 'not-yet', 'stub domain command line'],
  ['stubdomain_ramdisk', 'not-yet', 'stub domain ramdisk'],
  ['stubdomain_memory', 'not-yet', 'stub domain memory, MiB'],
];

/** Every xl.cfg key xl reads, with its status in Domus, in catalogue order. */
export const XL_CFG_KEYS: readonly XlKeyInfo[] = ROWS.map(([key, status, summary, note]) =>
  note === undefined ? { key, status, summary } : { key, status, summary, note },
);

const BY_KEY = new Map(XL_CFG_KEYS.map((k) => [k.key, k]));

/** The catalogue entry of a key, or undefined for a key xl does not know. */
export function xlKeyInfo(key: string): XlKeyInfo | undefined {
  return BY_KEY.get(key);
}
