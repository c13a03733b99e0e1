/**
 * Every guest-visible structure the hypercall layer reads or writes, as one table: the C name,
 * the public header it comes from (xen/include/public/...), its size and each field's type and
 * offset for both guest widths. "32" is the layout a 32-bit guest (and Xen's compat code) uses,
 * "64" the native x86_64 one: xen_ulong_t, xen_pfn_t and guest handles are 4 bytes in the first
 * and 8 in the second, and uint64_t is only 4-aligned in the first.
 *
 * test/unit/xen/layouts.test.ts compiles the real headers with gcc -m32 and -m64 and checks
 * every offset and size here against offsetof/sizeof.
 */

/**
 * Field types. `ulong` is xen_ulong_t / xen_pfn_t / unsigned long, `ptr` a guest handle: both
 * follow the width. `i16` is a signed 16-bit status.
 */
export type FieldType = 'u8' | 'u16' | 'i16' | 'u32' | 'u64' | 'ulong' | 'ptr';

/** Guest width: which column of the table applies. */
export type GuestWidth = 32 | 64;

/** One field: type, offset in the 32-bit layout, offset in the 64-bit layout, C member path. */
export interface FieldSpec {
  readonly type: FieldType;
  readonly off32: number;
  readonly off64: number;
  /** The C member designator when it differs from the key (e.g. "u.interdomain.port"). */
  readonly c?: string;
}

/** A structure: C name, header, sizes and fields. */
export interface StructLayout<F extends string = string> {
  readonly name: string;
  readonly header: string;
  readonly size32: number;
  readonly size64: number;
  readonly fields: Readonly<Record<F, FieldSpec>>;
}

type Row = readonly [FieldType, number, number, string?];

function struct<F extends string>(name: string, header: string, size32: number, size64: number, rows: Record<F, Row>): StructLayout<F> {
  const fields = {} as Record<F, FieldSpec>;
  for (const k of Object.keys(rows) as F[]) {
    const [type, off32, off64, c] = rows[k];
    fields[k] = { type, off32, off64, c };
  }
  return { name, header, size32, size64, fields };
}

/** Bytes a field of `type` occupies at `width`. */
export function fieldSize(type: FieldType, width: GuestWidth): number {
  switch (type) {
    case 'u8':
      return 1;
    case 'u16':
    case 'i16':
      return 2;
    case 'u32':
      return 4;
    case 'u64':
      return 8;
    default:
      return width === 32 ? 4 : 8;
  }
}

// ---- hvm/hvm_op.h
/** HVMOP_set_param / HVMOP_get_param argument. */
export const XEN_HVM_PARAM = struct('xen_hvm_param', 'hvm/hvm_op.h', 16, 16, {
  domid: ['u16', 0, 0], index: ['u32', 4, 4], value: ['u64', 8, 8],
});

// ---- memory.h
/** XENMEM_add_to_physmap argument. */
export const XEN_ADD_TO_PHYSMAP = struct('xen_add_to_physmap', 'memory.h', 16, 24, {
  domid: ['u16', 0, 0], size: ['u16', 2, 2], space: ['u32', 4, 4], idx: ['ulong', 8, 8], gpfn: ['ulong', 12, 16],
});
/** XENMEM_remove_from_physmap argument. */
export const XEN_REMOVE_FROM_PHYSMAP = struct('xen_remove_from_physmap', 'memory.h', 8, 16, {
  domid: ['u16', 0, 0], gpfn: ['ulong', 4, 8],
});
/** XENMEM_increase/decrease_reservation and populate_physmap argument. */
export const XEN_MEMORY_RESERVATION = struct('xen_memory_reservation', 'memory.h', 20, 32, {
  extentStart: ['ptr', 0, 0, 'extent_start'], nrExtents: ['ulong', 4, 8, 'nr_extents'],
  extentOrder: ['u32', 8, 16, 'extent_order'], memFlags: ['u32', 12, 20, 'mem_flags'], domid: ['u16', 16, 24],
});
/** XENMEM_memory_map argument. */
export const XEN_MEMORY_MAP = struct('xen_memory_map', 'memory.h', 8, 16, {
  nrEntries: ['u32', 0, 0, 'nr_entries'], buffer: ['ptr', 4, 8],
});

// ---- version.h
/** XENVER_get_features argument. */
export const XEN_FEATURE_INFO = struct('xen_feature_info', 'version.h', 8, 8, {
  submapIdx: ['u32', 0, 0, 'submap_idx'], submap: ['u32', 4, 4],
});
/** XENVER_platform_parameters result. */
export const XEN_PLATFORM_PARAMETERS = struct('xen_platform_parameters', 'version.h', 4, 8, {
  virtStart: ['ulong', 0, 0, 'virt_start'],
});

// ---- event_channel.h
/** EVTCHNOP_alloc_unbound argument. */
export const EVTCHN_ALLOC_UNBOUND = struct('evtchn_alloc_unbound', 'event_channel.h', 8, 8, {
  dom: ['u16', 0, 0], remoteDom: ['u16', 2, 2, 'remote_dom'], port: ['u32', 4, 4],
});
/** EVTCHNOP_bind_interdomain argument. */
export const EVTCHN_BIND_INTERDOMAIN = struct('evtchn_bind_interdomain', 'event_channel.h', 12, 12, {
  remoteDom: ['u16', 0, 0, 'remote_dom'], remotePort: ['u32', 4, 4, 'remote_port'], localPort: ['u32', 8, 8, 'local_port'],
});
/** EVTCHNOP_bind_virq argument. */
export const EVTCHN_BIND_VIRQ = struct('evtchn_bind_virq', 'event_channel.h', 12, 12, {
  virq: ['u32', 0, 0], vcpu: ['u32', 4, 4], port: ['u32', 8, 8],
});
/** EVTCHNOP_bind_ipi argument. */
export const EVTCHN_BIND_IPI = struct('evtchn_bind_ipi', 'event_channel.h', 8, 8, {
  vcpu: ['u32', 0, 0], port: ['u32', 4, 4],
});
/** EVTCHNOP_send / close / unmask argument (all three are one port). */
export const EVTCHN_PORT_ARG = struct('evtchn_send', 'event_channel.h', 4, 4, {
  port: ['u32', 0, 0],
});
/** EVTCHNOP_status argument. */
export const EVTCHN_STATUS = struct('evtchn_status', 'event_channel.h', 24, 24, {
  dom: ['u16', 0, 0], port: ['u32', 4, 4], status: ['u32', 8, 8], vcpu: ['u32', 12, 12],
  unboundDom: ['u16', 16, 16, 'u.unbound.dom'], remoteDom: ['u16', 16, 16, 'u.interdomain.dom'],
  remotePort: ['u32', 20, 20, 'u.interdomain.port'], virq: ['u32', 16, 16, 'u.virq'],
});
/** EVTCHNOP_bind_vcpu argument. */
export const EVTCHN_BIND_VCPU = struct('evtchn_bind_vcpu', 'event_channel.h', 8, 8, {
  port: ['u32', 0, 0], vcpu: ['u32', 4, 4],
});

// ---- grant_table.h
/** GNTTABOP_setup_table argument. */
export const GNTTAB_SETUP_TABLE = struct('gnttab_setup_table', 'grant_table.h', 16, 24, {
  dom: ['u16', 0, 0], nrFrames: ['u32', 4, 4, 'nr_frames'], status: ['i16', 8, 8], frameList: ['ptr', 12, 16, 'frame_list'],
});
/** GNTTABOP_query_size argument. */
export const GNTTAB_QUERY_SIZE = struct('gnttab_query_size', 'grant_table.h', 16, 16, {
  dom: ['u16', 0, 0], nrFrames: ['u32', 4, 4, 'nr_frames'], maxNrFrames: ['u32', 8, 8, 'max_nr_frames'], status: ['i16', 12, 12],
});
/** GNTTABOP_map_grant_ref argument. */
export const GNTTAB_MAP_GRANT_REF = struct('gnttab_map_grant_ref', 'grant_table.h', 32, 32, {
  hostAddr: ['u64', 0, 0, 'host_addr'], flags: ['u32', 8, 8], ref: ['u32', 12, 12], dom: ['u16', 16, 16],
  status: ['i16', 18, 18], handle: ['u32', 20, 20], devBusAddr: ['u64', 24, 24, 'dev_bus_addr'],
});
/** GNTTABOP_unmap_grant_ref argument. */
export const GNTTAB_UNMAP_GRANT_REF = struct('gnttab_unmap_grant_ref', 'grant_table.h', 24, 24, {
  hostAddr: ['u64', 0, 0, 'host_addr'], devBusAddr: ['u64', 8, 8, 'dev_bus_addr'], handle: ['u32', 16, 16], status: ['i16', 20, 20],
});
/** GNTTABOP_copy argument. */
export const GNTTAB_COPY = struct('gnttab_copy', 'grant_table.h', 24, 40, {
  srcRef: ['ulong', 0, 0, 'source.u.gmfn'], srcDom: ['u16', 4, 8, 'source.domid'], srcOffset: ['u16', 6, 10, 'source.offset'],
  dstRef: ['ulong', 8, 16, 'dest.u.gmfn'], dstDom: ['u16', 12, 24, 'dest.domid'], dstOffset: ['u16', 14, 26, 'dest.offset'],
  len: ['u16', 16, 32], flags: ['u16', 18, 34], status: ['i16', 20, 36],
});
/** GNTTABOP_get_version argument. */
export const GNTTAB_GET_VERSION = struct('gnttab_get_version', 'grant_table.h', 8, 8, {
  dom: ['u16', 0, 0], version: ['u32', 4, 4],
});
/** GNTTABOP_set_version argument. */
export const GNTTAB_SET_VERSION = struct('gnttab_set_version', 'grant_table.h', 4, 4, {
  version: ['u32', 0, 0],
});
/** A v1 grant entry in the guest's grant table frames. */
export const GRANT_ENTRY_V1 = struct('grant_entry_v1', 'grant_table.h', 8, 8, {
  flags: ['u16', 0, 0], domid: ['u16', 2, 2], frame: ['u32', 4, 4],
});

// ---- sched.h
/** SCHEDOP_shutdown argument. */
export const SCHED_SHUTDOWN = struct('sched_shutdown', 'sched.h', 4, 4, {
  reason: ['u32', 0, 0],
});
/** SCHEDOP_poll argument. */
export const SCHED_POLL = struct('sched_poll', 'sched.h', 16, 24, {
  ports: ['ptr', 0, 0], nrPorts: ['u32', 4, 8, 'nr_ports'], timeout: ['u64', 8, 16],
});
/** SCHEDOP_remote_shutdown argument. */
export const SCHED_REMOTE_SHUTDOWN = struct('sched_remote_shutdown', 'sched.h', 8, 8, {
  domainId: ['u16', 0, 0, 'domain_id'], reason: ['u32', 4, 4],
});

// ---- vcpu.h
/** VCPUOP_set_periodic_timer argument. */
export const VCPU_SET_PERIODIC_TIMER = struct('vcpu_set_periodic_timer', 'vcpu.h', 8, 8, {
  periodNs: ['u64', 0, 0, 'period_ns'],
});
/** VCPUOP_set_singleshot_timer argument. */
export const VCPU_SET_SINGLESHOT_TIMER = struct('vcpu_set_singleshot_timer', 'vcpu.h', 12, 16, {
  timeoutAbsNs: ['u64', 0, 0, 'timeout_abs_ns'], flags: ['u32', 8, 8],
});
/** VCPUOP_register_vcpu_info argument. */
export const VCPU_REGISTER_VCPU_INFO = struct('vcpu_register_vcpu_info', 'vcpu.h', 16, 16, {
  mfn: ['u64', 0, 0], offset: ['u32', 8, 8], rsvd: ['u32', 12, 12],
});
/** VCPUOP_register_runstate_memory_area argument. */
export const VCPU_REGISTER_RUNSTATE = struct('vcpu_register_runstate_memory_area', 'vcpu.h', 8, 8, {
  addr: ['u64', 0, 0, 'addr.p'],
});
/** VCPUOP_get_runstate_info result and the registered runstate area. */
export const VCPU_RUNSTATE_INFO = struct('vcpu_runstate_info', 'vcpu.h', 44, 48, {
  state: ['u32', 0, 0], stateEntryTime: ['u64', 4, 8, 'state_entry_time'],
  time0: ['u64', 12, 16, 'time[0]'], time1: ['u64', 20, 24, 'time[1]'], time2: ['u64', 28, 32, 'time[2]'], time3: ['u64', 36, 40, 'time[3]'],
});

// ---- hvm/hvm_vcpu.h: VCPUOP_initialise for HVM/PVH guests (vcpu_hvm_context, 32-bit mode part)
/** VCPUOP_initialise argument of an HVM/PVH guest (mode + the 32-bit register set). */
export const VCPU_HVM_CONTEXT = struct('vcpu_hvm_context', 'hvm/hvm_vcpu.h', 128, 128, {
  mode: ['u32', 0, 0],
  eax: ['u32', 8, 8, 'cpu_regs.x86_32.eax'], ecx: ['u32', 12, 12, 'cpu_regs.x86_32.ecx'],
  edx: ['u32', 16, 16, 'cpu_regs.x86_32.edx'], ebx: ['u32', 20, 20, 'cpu_regs.x86_32.ebx'],
  esp: ['u32', 24, 24, 'cpu_regs.x86_32.esp'], ebp: ['u32', 28, 28, 'cpu_regs.x86_32.ebp'],
  esi: ['u32', 32, 32, 'cpu_regs.x86_32.esi'], edi: ['u32', 36, 36, 'cpu_regs.x86_32.edi'],
  eip: ['u32', 40, 40, 'cpu_regs.x86_32.eip'], eflags: ['u32', 44, 44, 'cpu_regs.x86_32.eflags'],
  cr0: ['u32', 48, 48, 'cpu_regs.x86_32.cr0'], cr3: ['u32', 52, 52, 'cpu_regs.x86_32.cr3'],
  cr4: ['u32', 56, 56, 'cpu_regs.x86_32.cr4'], efer: ['u64', 64, 64, 'cpu_regs.x86_32.efer'],
  csBase: ['u32', 72, 72, 'cpu_regs.x86_32.cs_base'], dsBase: ['u32', 76, 76, 'cpu_regs.x86_32.ds_base'],
  ssBase: ['u32', 80, 80, 'cpu_regs.x86_32.ss_base'], esBase: ['u32', 84, 84, 'cpu_regs.x86_32.es_base'],
  trBase: ['u32', 88, 88, 'cpu_regs.x86_32.tr_base'], csLimit: ['u32', 92, 92, 'cpu_regs.x86_32.cs_limit'],
  dsLimit: ['u32', 96, 96, 'cpu_regs.x86_32.ds_limit'], ssLimit: ['u32', 100, 100, 'cpu_regs.x86_32.ss_limit'],
  esLimit: ['u32', 104, 104, 'cpu_regs.x86_32.es_limit'], trLimit: ['u32', 108, 108, 'cpu_regs.x86_32.tr_limit'],
  csAr: ['u16', 112, 112, 'cpu_regs.x86_32.cs_ar'], dsAr: ['u16', 114, 114, 'cpu_regs.x86_32.ds_ar'],
  ssAr: ['u16', 116, 116, 'cpu_regs.x86_32.ss_ar'], esAr: ['u16', 118, 118, 'cpu_regs.x86_32.es_ar'],
  trAr: ['u16', 120, 120, 'cpu_regs.x86_32.tr_ar'],
});

// ---- xen.h: shared_info, vcpu_info, vcpu_time_info (offsets inside the shared page)
/** struct vcpu_info (64 bytes; 32 of them at the start of shared_info). */
export const VCPU_INFO = struct('vcpu_info', 'xen.h', 64, 64, {
  upcallPending: ['u8', 0, 0, 'evtchn_upcall_pending'], upcallMask: ['u8', 1, 1, 'evtchn_upcall_mask'],
  pendingSel: ['ulong', 4, 8, 'evtchn_pending_sel'], cr2: ['ulong', 8, 16, 'arch.cr2'],
  timeVersion: ['u32', 32, 32, 'time.version'], tscTimestamp: ['u64', 40, 40, 'time.tsc_timestamp'],
  systemTime: ['u64', 48, 48, 'time.system_time'], tscToSystemMul: ['u32', 56, 56, 'time.tsc_to_system_mul'],
  tscShift: ['u8', 60, 60, 'time.tsc_shift'], timeFlags: ['u8', 61, 61, 'time.flags'],
});
/** struct shared_info (only the fields Domus writes; the rest of the page stays zero). */
export const SHARED_INFO = struct('shared_info', 'xen.h', 2344, 3136, {
  evtchnPending: ['ulong', 2048, 2048, 'evtchn_pending[0]'], evtchnMask: ['ulong', 2176, 2560, 'evtchn_mask[0]'],
  wcVersion: ['u32', 2304, 3072, 'wc_version'], wcSec: ['u32', 2308, 3076, 'wc_sec'], wcNsec: ['u32', 2312, 3080, 'wc_nsec'],
  wcSecHi: ['u32', 2340, 3084, 'xen_wc_sec_hi'], maxPfn: ['ulong', 2316, 3088, 'arch.max_pfn'],
});

/** Every table entry, for the header cross-check and the documentation. */
export const ALL_LAYOUTS: readonly StructLayout[] = [
  XEN_HVM_PARAM, XEN_ADD_TO_PHYSMAP, XEN_REMOVE_FROM_PHYSMAP, XEN_MEMORY_RESERVATION, XEN_MEMORY_MAP,
  XEN_FEATURE_INFO, XEN_PLATFORM_PARAMETERS, EVTCHN_ALLOC_UNBOUND, EVTCHN_BIND_INTERDOMAIN, EVTCHN_BIND_VIRQ,
  EVTCHN_BIND_IPI, EVTCHN_PORT_ARG, EVTCHN_STATUS, EVTCHN_BIND_VCPU, GNTTAB_SETUP_TABLE, GNTTAB_QUERY_SIZE,
  GNTTAB_MAP_GRANT_REF, GNTTAB_UNMAP_GRANT_REF, GNTTAB_COPY, GNTTAB_GET_VERSION, GNTTAB_SET_VERSION, GRANT_ENTRY_V1,
  SCHED_SHUTDOWN, SCHED_POLL, SCHED_REMOTE_SHUTDOWN, VCPU_SET_PERIODIC_TIMER, VCPU_SET_SINGLESHOT_TIMER,
  VCPU_REGISTER_VCPU_INFO, VCPU_REGISTER_RUNSTATE, VCPU_RUNSTATE_INFO, VCPU_HVM_CONTEXT, VCPU_INFO, SHARED_INFO,
];
