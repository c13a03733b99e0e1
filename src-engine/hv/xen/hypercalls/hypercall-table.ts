/**
 * The hypercall table: every hypercall number of xen.h, declared once with its name, header,
 * who may call it, its status in Domus and a note. Dispatch (dispatch.ts), docs/xen-abi.md and
 * the compatibility list are all derived from it (and from each family's sub-operation table).
 *
 * A PVH guest gets the HVM hypercall set: the PV-only calls (page tables, descriptor tables,
 * trap tables, iret...) answer -ENOSYS as Xen's HVM table does; control-domain calls answer
 * -EPERM because a Domus guest is never privileged (the toolstack lives in the engine).
 */
import { MEMOP_CMD_MASK, MEMORY_OPS } from './memory-op';
import { CONSOLE_IO_OPS } from './console-io';
import { EVTCHN_OPS } from './event-channel-op';
import { GRANT_OPS } from './grant-table-op';
import { HVM_OPS } from './hvm-op';
import { SCHED_OPS, setTimerOp } from './sched-op';
import { VCPU_OPS } from './vcpu-op';
import { XEN_VERSION_OPS } from './xen-version';
import { runSubop, type AbiCaller, type AbiStatus, type HypercallEntry, type SubOp } from './types';

function multiplexed(nr: number, name: string, header: string, status: AbiStatus, note: string, subops: readonly SubOp[], mask = -1): HypercallEntry {
  return { nr, name, header, caller: 'guest', status, note, subops, handler: (c) => runSubop(subops, c.args[0] & mask, c) };
}

function refused(nr: number, name: string, header: string, status: AbiStatus, note: string, caller: AbiCaller = 'guest'): HypercallEntry {
  return { nr, name, header, caller, status, note };
}

/** Every hypercall, by number. */
export const HYPERCALLS: readonly HypercallEntry[] = [
  refused(0, 'set_trap_table', 'xen.h', 'pv-only', 'PVH guests use their IDT'),
  refused(1, 'mmu_update', 'xen.h', 'pv-only', 'PVH guests own their page tables'),
  refused(2, 'set_gdt', 'xen.h', 'pv-only', ''),
  refused(3, 'stack_switch', 'xen.h', 'pv-only', ''),
  refused(4, 'set_callbacks', 'xen.h', 'pv-only', 'PVH uses HVM_PARAM_CALLBACK_IRQ; -ENOSYS as Xen answers PVH'),
  refused(5, 'fpu_taskswitch', 'xen.h', 'pv-only', ''),
  refused(6, 'sched_op_compat', 'xen.h', 'pv-only', 'pre-3.0.2 interface'),
  refused(7, 'platform_op', 'platform.h', 'privileged', 'control domain only', 'privileged'),
  refused(8, 'set_debugreg', 'xen.h', 'pv-only', ''),
  refused(9, 'get_debugreg', 'xen.h', 'pv-only', ''),
  refused(10, 'update_descriptor', 'xen.h', 'pv-only', ''),
  multiplexed(12, 'memory_op', 'memory.h', 'partial', 'reservations, ballooning, add_to_physmap, memory_map', MEMORY_OPS, MEMOP_CMD_MASK),
  refused(13, 'multicall', 'xen.h', 'not-yet', 'batches of hypercalls'),
  refused(14, 'update_va_mapping', 'xen.h', 'pv-only', ''),
  { nr: 15, name: 'set_timer_op', header: 'xen.h', caller: 'guest', status: 'supported', note: 'single-shot VIRQ_TIMER deadline in system time (32-bit: EBX low, ECX high)', handler: setTimerOp },
  refused(16, 'event_channel_op_compat', 'xen.h', 'pv-only', 'pre-3.0.2 interface'),
  multiplexed(17, 'xen_version', 'version.h', 'supported', '', XEN_VERSION_OPS),
  multiplexed(18, 'console_io', 'xen.h', 'supported', 'emergency console', CONSOLE_IO_OPS),
  refused(19, 'physdev_op_compat', 'xen.h', 'pv-only', 'pre-3.0.2 interface'),
  multiplexed(20, 'grant_table_op', 'grant_table.h', 'partial', 'v1 tables; map/unmap, copy, setup, query', GRANT_OPS),
  refused(21, 'vm_assist', 'xen.h', 'pv-only', ''),
  refused(22, 'update_va_mapping_otherdomain', 'xen.h', 'pv-only', ''),
  refused(23, 'iret', 'xen.h', 'pv-only', 'stub 23 of the hypercall page is ud2'),
  multiplexed(24, 'vcpu_op', 'vcpu.h', 'partial', 'SMP bring-up, timers, vcpu_info placement', VCPU_OPS),
  refused(25, 'set_segment_base', 'xen.h', 'pv-only', 'x86_64 PV only'),
  refused(26, 'mmuext_op', 'xen.h', 'pv-only', ''),
  refused(27, 'xsm_op', 'xsm/flask_op.h', 'not-yet', 'no XSM policy: -ENOSYS like Xen\'s dummy module'),
  refused(28, 'nmi_op', 'nmi.h', 'pv-only', ''),
  multiplexed(29, 'sched_op', 'sched.h', 'supported', 'yield, block, poll, shutdown', SCHED_OPS),
  refused(30, 'callback_op', 'callback.h', 'pv-only', ''),
  refused(31, 'xenoprof_op', 'xenoprof.h', 'not-yet', ''),
  multiplexed(32, 'event_channel_op', 'event_channel.h', 'supported', '2-level ABI', EVTCHN_OPS),
  refused(33, 'physdev_op', 'physdev.h', 'not-yet', 'a PVH domU has no physical devices'),
  multiplexed(34, 'hvm_op', 'hvm/hvm_op.h', 'partial', 'parameters, upcall vector, time', HVM_OPS),
  refused(35, 'sysctl', 'sysctl.h', 'privileged', 'toolstack interface', 'privileged'),
  refused(36, 'domctl', 'domctl.h', 'privileged', 'toolstack interface', 'privileged'),
  refused(37, 'kexec_op', 'kexec.h', 'privileged', '', 'privileged'),
  refused(38, 'tmem_op', 'xen.h', 'not-yet', 'removed from Xen'),
  refused(39, 'argo_op', 'argo.h', 'not-yet', ''),
  refused(40, 'xenpmu_op', 'pmu.h', 'not-yet', ''),
  refused(41, 'dm_op', 'hvm/dm_op.h', 'privileged', 'device models', 'privileged'),
  refused(42, 'hypfs_op', 'hypfs.h', 'privileged', '', 'privileged'),
];

const BY_NUMBER = new Map(HYPERCALLS.map((h) => [h.nr, h]));

/** The table entry for hypercall `nr`, if it has a number in xen.h. */
export function hypercallEntry(nr: number): HypercallEntry | undefined {
  return BY_NUMBER.get(nr);
}
