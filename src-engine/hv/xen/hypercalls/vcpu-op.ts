/**
 * vcpu_op (24): vcpu.h, hvm/hvm_vcpu.h. arg1 = VCPUOP_*, arg2 = VCPU id, arg3 = argument.
 *
 * Secondary VCPUs of a PVH domain start down and uninitialised: VCPUOP_initialise loads a
 * vcpu_hvm_context (32-bit mode; the segment checks are Xen's check_segment), VCPUOP_up lets
 * the scheduler run it. Timers keep per-VCPU deadlines the hypervisor loop fires (VIRQ_TIMER).
 */
import { cr4Allowed } from '../../../cpu/cpuid';
import { AR_UNUSABLE, CR0_PE, CR0_PG, S_CPL, S_HALTED, S_LAST_PCPU, S_NMI_PENDING, S_RUNNING, S_TSC_OFFSET_F64 } from '../../../cpu/state';
import { applyInitState, resetState } from '../../../cpu/reset';
import type { SegmentInit } from '../../../cpu/init-state';
import { EEXIST, EINVAL, ENOENT, ETIME, XenFault, xenCheck } from '../abi/xen-errno';
import {
  VCPU_HVM_CONTEXT, VCPU_REGISTER_RUNSTATE, VCPU_REGISTER_VCPU_INFO, VCPU_RUNSTATE_INFO, VCPU_SET_PERIODIC_TIMER,
  VCPU_SET_SINGLESHOT_TIMER,
} from '../abi/layouts';
import { GuestStruct } from '../guest-struct';
import { setSingleshot } from './sched-op';
import { HcAfter, noSubop, type HypercallContext, type SubOp } from './types';
import type { XenVcpu } from '../xen-vcpu';

/** VCPU_HVM_MODE_32B. */
const VCPU_HVM_MODE_32B = 0;
/** VCPU_SSHOTTMR_future: fail with -ETIME if the deadline has passed. */
const VCPU_SSHOTTMR_FUTURE = 1;
/** Shortest periodic timer period Xen accepts (1 ms). */
const MIN_PERIOD_NS = 1_000_000;
/** RUNSTATE_running / _blocked / _offline. */
const RUNSTATE_RUNNING = 0;
const RUNSTATE_BLOCKED = 2;
const RUNSTATE_OFFLINE = 3;
/** hvm_vcpu.h segment attribute bits. */
const SEGATTR_S = 1 << 4;
const SEGATTR_P = 1 << 7;
const SEGATTR_DPL_SHIFT = 5;
const SEGTYPE_CODE = 0x8;
const SEGTYPE_WRITABLE_READABLE = 0x2;
/** SYS_DESC_tss_busy (32-bit). */
const SEGTYPE_TSS_BUSY = 0xb;
/** Attribute bits 12-15 must be blank. */
const SEGATTR_PAD = 0xf000;

type Seg = 'cs' | 'ds' | 'ss' | 'es' | 'tr';

/** Xen's check_segment for one segment of a vcpu_hvm_context; returns the VMX access rights. */
function checkSegment(seg: Seg, attr: number): number {
  xenCheck((attr & SEGATTR_PAD) === 0, EINVAL, `${seg}: attribute bits 12-15 are not zero`);
  if (attr === 0) {
    xenCheck(seg === 'ds' || seg === 'es', EINVAL, `null segment given for ${seg}`);
    return AR_UNUSABLE;
  }
  const type = attr & 0xf;
  const s = (attr & SEGATTR_S) !== 0;
  if (seg === 'tr') xenCheck(!s && type === SEGTYPE_TSS_BUSY, EINVAL, 'TR must be a busy 32-bit TSS');
  else xenCheck(s, EINVAL, `${seg} must be a code or data segment`);
  xenCheck((attr & SEGATTR_P) !== 0, EINVAL, `${seg} is not present`);
  if (seg === 'cs') xenCheck((type & SEGTYPE_CODE) !== 0, EINVAL, 'CS must be a code segment');
  if (seg === 'ss') xenCheck((type & SEGTYPE_CODE) === 0 && (type & SEGTYPE_WRITABLE_READABLE) !== 0, EINVAL, 'SS must be writable data');
  if (seg === 'ds' || seg === 'es') xenCheck((type & SEGTYPE_CODE) === 0 || (type & SEGTYPE_WRITABLE_READABLE) !== 0, EINVAL, `${seg} must be readable`);
  // hvm attr (avl 8, l 9, db 10, g 11) -> VMX access rights (avl 12, l 13, db 14, g 15).
  return (attr & 0xff) | ((attr & 0xf00) << 4);
}

function initialise(c: HypercallContext, target: XenVcpu): number {
  xenCheck(!target.initialised, EEXIST, `VCPU ${target.id} is already initialised`);
  const x = GuestStruct.read(c.guest, c.args[2], VCPU_HVM_CONTEXT, c.width);
  xenCheck(x.get('mode') === VCPU_HVM_MODE_32B, EINVAL, 'only 32-bit VCPU contexts are supported (the CPU has no long mode)');
  const seg = (name: Seg, base: number, limit: number, ar: number, dpl: number): SegmentInit => ({
    selector: dpl, base, limit, access: checkSegment(name, ar),
  });
  const csAr = x.get('csAr');
  const dpl = (csAr >>> SEGATTR_DPL_SHIFT) & 3;
  const cs = seg('cs', x.get('csBase'), x.get('csLimit'), csAr, dpl);
  const ds = seg('ds', x.get('dsBase'), x.get('dsLimit'), x.get('dsAr'), dpl);
  const ss = seg('ss', x.get('ssBase'), x.get('ssLimit'), x.get('ssAr'), dpl);
  const es = seg('es', x.get('esBase'), x.get('esLimit'), x.get('esAr'), dpl);
  const tr = seg('tr', x.get('trBase'), x.get('trLimit'), x.get('trAr'), 0);
  const cr0 = x.get('cr0');
  const cr4 = x.get('cr4');
  xenCheck((cr0 & CR0_PE) !== 0 || (cr0 & CR0_PG) === 0, EINVAL, 'CR0.PG without CR0.PE');
  xenCheck((cr4 & ~cr4Allowed(c.dom.features)) === 0, EINVAL, 'CR4 has bits this CPU does not implement');
  xenCheck(x.get('efer') === 0, EINVAL, 'EFER must be 0 (no long mode, no NX)');
  const s = target.s;
  const tsc = target.f64[S_TSC_OFFSET_F64 / 2];
  resetState(s);
  applyInitState(s, {
    eax: x.get('eax'), ecx: x.get('ecx'), edx: x.get('edx'), ebx: x.get('ebx'), esp: x.get('esp'), ebp: x.get('ebp'),
    esi: x.get('esi'), edi: x.get('edi'), eip: x.get('eip'), eflags: x.get('eflags'), cr0, cr3: x.get('cr3'), cr4,
    cs, ds, ss, es, fs: ds, gs: ds, tr,
  });
  s[S_CPL] = dpl;
  target.f64[S_TSC_OFFSET_F64 / 2] = tsc;
  // Down until VCPUOP_up; any pCPU's cached view of this VCPU is stale now.
  s[S_RUNNING] = 0;
  s[S_LAST_PCPU] = 0;
  target.initialised = true;
  return 0;
}

function runstate(vc: XenVcpu): number {
  if (vc.s[S_RUNNING] === 0) return RUNSTATE_OFFLINE;
  return vc.s[S_HALTED] !== 0 ? RUNSTATE_BLOCKED : RUNSTATE_RUNNING;
}

/** The VCPU named by arg2 (ENOENT if it does not exist). */
export function targetVcpu(c: HypercallContext): XenVcpu {
  const v = c.dom.vcpus[c.args[1]];
  if (v === undefined) throw new XenFault(ENOENT, `no VCPU ${c.args[1]}`);
  return v;
}

/** Sub-operations of vcpu_op. */
export const VCPU_OPS: readonly SubOp[] = [
  { nr: 0, name: 'VCPUOP_initialise', status: 'partial', note: 'vcpu_hvm_context, 32-bit mode only', handler: (c) => initialise(c, targetVcpu(c)) },
  {
    nr: 1, name: 'VCPUOP_up', status: 'supported', note: '',
    handler: (c) => {
      const t = targetVcpu(c);
      xenCheck(t.initialised, EINVAL, `VCPU ${t.id} has not been initialised`);
      if (t.s[S_RUNNING] === 0) c.host.setVcpuOnline(c.dom, t.id, true);
      return 0;
    },
  },
  {
    nr: 2, name: 'VCPUOP_down', status: 'supported', note: 'not the last online VCPU',
    handler: (c) => {
      const t = targetVcpu(c);
      if (t.s[S_RUNNING] === 0) return 0;
      xenCheck(c.dom.vcpus.some((o) => o !== t && o.s[S_RUNNING] !== 0), EINVAL, 'the last online VCPU cannot go down');
      c.host.setVcpuOnline(c.dom, t.id, false);
      if (t === c.vcpu) c.after = HcAfter.Reschedule;
      return 0;
    },
  },
  { nr: 3, name: 'VCPUOP_is_up', status: 'supported', note: '', handler: (c) => (targetVcpu(c).s[S_RUNNING] !== 0 ? 1 : 0) },
  {
    nr: 4, name: 'VCPUOP_get_runstate_info', status: 'partial', note: 'state only; the time counters are 0',
    handler: (c) => {
      const t = targetVcpu(c);
      const r = GuestStruct.read(c.guest, c.args[2], VCPU_RUNSTATE_INFO, c.width);
      r.bytes.fill(0);
      r.set('state', runstate(t));
      r.set('stateEntryTime', Math.max(0, c.dom.systemTime(c.now)));
      c.guest.write(c.args[2], r.bytes);
      return 0;
    },
  },
  {
    nr: 5, name: 'VCPUOP_register_runstate_memory_area', status: 'partial', note: 'accepted and written once; not updated on context switches',
    handler: (c) => {
      const t = targetVcpu(c);
      const addr = GuestStruct.read(c.guest, c.args[2], VCPU_REGISTER_RUNSTATE, c.width).lo('addr');
      t.runstateArea = addr;
      if (addr !== 0) {
        const size = c.width === 32 ? VCPU_RUNSTATE_INFO.size32 : VCPU_RUNSTATE_INFO.size64;
        const info = new Uint8Array(size);
        info[0] = runstate(t);
        c.guest.write(addr, info);
      }
      return 0;
    },
  },
  {
    nr: 6, name: 'VCPUOP_set_periodic_timer', status: 'supported', note: 'VIRQ_TIMER every period (>= 1 ms)',
    handler: (c) => {
      const t = targetVcpu(c);
      const p = GuestStruct.read(c.guest, c.args[2], VCPU_SET_PERIODIC_TIMER, c.width).get('periodNs');
      xenCheck(p >= MIN_PERIOD_NS && p < 2 ** 50, EINVAL, `period ${p} ns`);
      t.periodNs = p;
      t.periodicAt = c.now + p;
      return 0;
    },
  },
  {
    nr: 7, name: 'VCPUOP_stop_periodic_timer', status: 'supported', note: '',
    handler: (c) => {
      const t = targetVcpu(c);
      t.periodNs = 0;
      t.periodicAt = Infinity;
      return 0;
    },
  },
  {
    nr: 8, name: 'VCPUOP_set_singleshot_timer', status: 'supported', note: 'the calling VCPU only; VCPU_SSHOTTMR_future gives -ETIME for a past deadline',
    handler: (c) => {
      xenCheck(targetVcpu(c) === c.vcpu, EINVAL, 'single-shot timers are set by the VCPU itself');
      const t = GuestStruct.read(c.guest, c.args[2], VCPU_SET_SINGLESHOT_TIMER, c.width);
      const at = t.get('timeoutAbsNs');
      if ((t.get('flags') & VCPU_SSHOTTMR_FUTURE) !== 0 && c.dom.hostTime(at) < c.now) throw new XenFault(ETIME, 'deadline passed');
      setSingleshot(c, at === 0 ? 1 : at);
      return 0;
    },
  },
  {
    nr: 9, name: 'VCPUOP_stop_singleshot_timer', status: 'supported', note: 'the calling VCPU only',
    handler: (c) => {
      xenCheck(targetVcpu(c) === c.vcpu, EINVAL, 'single-shot timers are stopped by the VCPU itself');
      c.vcpu.singleshotAt = Infinity;
      return 0;
    },
  },
  {
    nr: 10, name: 'VCPUOP_register_vcpu_info', status: 'supported', note: 'moves vcpu_info to a guest frame (once per VCPU)',
    handler: (c) => {
      const t = targetVcpu(c);
      const r = GuestStruct.read(c.guest, c.args[2], VCPU_REGISTER_VCPU_INFO, c.width);
      c.host.registerVcpuInfo(c.dom, t, r.get('mfn'), r.get('offset'));
      return 0;
    },
  },
  {
    nr: 11, name: 'VCPUOP_send_nmi', status: 'supported', note: '',
    handler: (c) => {
      const t = targetVcpu(c);
      Atomics.add(t.s, S_NMI_PENDING, 1);
      c.host.kick(c.dom, t.id);
      return 0;
    },
  },
  {
    nr: 12, name: 'VCPUOP_get_physid', status: 'supported', note: '-EINVAL, as for any VCPU not pinned to a physical CPU',
    handler: (c) => {
      targetVcpu(c);
      throw new XenFault(EINVAL, 'not a hardware-domain pinned VCPU');
    },
  },
  noSubop(13, 'VCPUOP_register_vcpu_time_memory_area', 'not-yet', 'guests fall back to vcpu_info time'),
];
