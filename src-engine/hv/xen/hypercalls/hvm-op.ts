/**
 * hvm_op (34): hvm/hvm_op.h, hvm/params.h. arg1 = HVMOP_*, arg2 = argument structure.
 *
 * Parameters follow Xen's hvm_allow_set_param / hvm_allow_get_param for an unprivileged guest:
 * it may set the callback and a few device-model-free values, and read the console and
 * xenstore rings; anything else is EPERM, an index beyond HVM_NR_PARAMS EINVAL.
 * Setting HVM_PARAM_CALLBACK_IRQ latches the shared_info width (see xen-domain.ts).
 */
import {
  HVM_NR_PARAMS, HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_PAE_ENABLED,
  HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN, HVM_PARAM_TIMER_MODE,
} from '../abi/xen-constants';
import { EINVAL, ENOENT, EPERM, xenCheck } from '../abi/xen-errno';
import { XEN_HVM_PARAM } from '../abi/layouts';
import { GuestStruct } from '../guest-struct';
import { requireSelf } from './util';
import { noSubop, type HypercallContext, type SubOp } from './types';

/** HVM_PARAM_VM86_TSS, _ACPI_IOPORTS_LOCATION, _VM_GENERATION_ID_ADDR, _X87_FIP_WIDTH, _VM86_TSS_SIZED. */
const GUEST_SETTABLE_EXTRA = [15, 19, 34, 36, 37];
/** Parameters a domU may set. */
const GUEST_SETTABLE = new Set([HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_EVTCHN, ...GUEST_SETTABLE_EXTRA]);
/** HVM_PARAM_ALTP2M, HVM_PARAM_X87_FIP_WIDTH. */
const GUEST_GETTABLE_EXTRA = [35, 36];
/** Parameters a domU may read. */
const GUEST_GETTABLE = new Set([
  HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_CONSOLE_EVTCHN,
  HVM_PARAM_PAE_ENABLED, HVM_PARAM_TIMER_MODE, ...GUEST_GETTABLE_EXTRA,
]);
/** struct xen_hvm_get_time: one uint64_t. */
const HVM_GET_TIME_BYTES = 8;
/** struct xen_hvm_evtchn_upcall_vector: {vcpu u32, vector u8}. */
const UPCALL_VECTOR_BYTES = 8;
/** Vectors below this are exceptions (Xen refuses them for upcalls). */
const FIRST_INTERRUPT_VECTOR = 0x10;

function param(c: HypercallContext, set: boolean): number {
  const p = GuestStruct.read(c.guest, c.args[1], XEN_HVM_PARAM, c.width);
  requireSelf(c, p.get('domid'));
  const index = p.get('index');
  xenCheck(index < HVM_NR_PARAMS, EINVAL, `HVM parameter ${index} does not exist`);
  if (set) {
    xenCheck(GUEST_SETTABLE.has(index), EPERM, `a guest may not set HVM parameter ${index}`);
    c.dom.params.set(index, [p.lo('value'), p.hi('value')]);
    if (index === HVM_PARAM_CALLBACK_IRQ) {
      c.dom.latchWidth(c.vcpu.id);
      for (const v of c.dom.vcpus) c.dom.syncUpcallLine(v.id);
    }
    return 0;
  }
  xenCheck(GUEST_GETTABLE.has(index), EPERM, `a guest may not read HVM parameter ${index}`);
  const v = c.dom.params.get(index) ?? [0, 0];
  p.putHalves('value', v[0], v[1]);
  return 0;
}

/** Sub-operations of hvm_op. */
export const HVM_OPS: readonly SubOp[] = [
  { nr: 0, name: 'HVMOP_set_param', status: 'supported', note: 'CALLBACK_IRQ (vector type delivers upcalls), STORE/CONSOLE_EVTCHN', handler: (c) => param(c, true) },
  { nr: 1, name: 'HVMOP_get_param', status: 'supported', note: 'CALLBACK_IRQ, STORE_PFN/EVTCHN, CONSOLE_PFN/EVTCHN, PAE_ENABLED, TIMER_MODE', handler: (c) => param(c, false) },
  { nr: 2, name: 'HVMOP_set_pci_intx_level', status: 'privileged', note: 'device model', caller: 'privileged' },
  { nr: 3, name: 'HVMOP_set_isa_irq_level', status: 'privileged', note: 'device model', caller: 'privileged' },
  { nr: 4, name: 'HVMOP_set_pci_link_route', status: 'privileged', note: 'device model', caller: 'privileged' },
  noSubop(5, 'HVMOP_flush_tlbs', 'not-yet', 'deprecated in Xen'),
  noSubop(9, 'HVMOP_pagetable_dying', 'not-yet', 'shadow paging hint; no effect without shadow paging'),
  {
    nr: 10, name: 'HVMOP_get_time', status: 'supported', note: 'system time in ns',
    handler: (c) => {
      const t = c.dom.systemTime(c.now);
      const b = new Uint8Array(HVM_GET_TIME_BYTES);
      new DataView(b.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(t))), true);
      c.guest.write(c.args[1], b);
      return 0;
    },
  },
  noSubop(11, 'HVMOP_xentrace', 'not-yet', ''),
  { nr: 12, name: 'HVMOP_set_mem_access', status: 'privileged', note: '', caller: 'privileged' },
  noSubop(15, 'HVMOP_get_mem_type', 'not-yet', ''),
  {
    nr: 23, name: 'HVMOP_set_evtchn_upcall_vector', status: 'supported', note: 'per-VCPU upcall vector',
    handler: (c) => {
      const b = c.guest.read(c.args[1], UPCALL_VECTOR_BYTES);
      const v = new DataView(b.buffer).getUint32(0, true);
      const vector = b[4];
      xenCheck(vector >= FIRST_INTERRUPT_VECTOR, EINVAL, `vector ${vector} is an exception vector`);
      const vc = c.dom.vcpus[v];
      xenCheck(vc !== undefined, ENOENT, `no VCPU ${v}`);
      vc.upcallVector = vector;
      c.dom.syncUpcallLine(v);
      return 0;
    },
  },
  noSubop(24, 'HVMOP_guest_request_vm_event', 'not-yet', 'no monitor'),
  noSubop(25, 'HVMOP_altp2m', 'not-yet', ''),
];
