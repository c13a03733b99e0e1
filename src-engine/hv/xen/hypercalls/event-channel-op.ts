/**
 * event_channel_op (32): event_channel.h. arg1 = EVTCHNOP_*, arg2 = argument structure. The
 * port table and its rules are in event-channels.ts; this file reads and writes the structures.
 */
import { DOMID_SELF } from '../abi/xen-constants';
import { EINVAL, xenCheck } from '../abi/xen-errno';
import {
  EVTCHN_ALLOC_UNBOUND, EVTCHN_BIND_INTERDOMAIN, EVTCHN_BIND_IPI, EVTCHN_BIND_VCPU, EVTCHN_BIND_VIRQ, EVTCHN_PORT_ARG,
  EVTCHN_STATUS,
} from '../abi/layouts';
import { ECS_FREE, ECS_INTERDOMAIN, ECS_UNBOUND, ECS_VIRQ } from '../event-channels';
import { GuestStruct } from '../guest-struct';
import { requireSelf } from './util';
import { noSubop, type HypercallContext, type SubOp } from './types';

/** evtchn_status: first OUT byte (status), the union, and the end of the structure. */
const STATUS_OUT = EVTCHN_STATUS.fields.status.off32;
const STATUS_UNION = EVTCHN_STATUS.fields.virq.off32;
const STATUS_END = EVTCHN_STATUS.size32;

function portArg(c: HypercallContext): number {
  return GuestStruct.read(c.guest, c.args[1], EVTCHN_PORT_ARG, c.width).get('port');
}

/** Sub-operations of event_channel_op. */
export const EVTCHN_OPS: readonly SubOp[] = [
  {
    nr: 0, name: 'EVTCHNOP_bind_interdomain', status: 'supported', note: 'to an unbound port another domain offered us',
    handler: (c) => {
      const a = GuestStruct.read(c.guest, c.args[1], EVTCHN_BIND_INTERDOMAIN, c.width);
      const remote = a.get('remoteDom') === DOMID_SELF ? c.dom.domid : a.get('remoteDom');
      a.put('localPort', c.dom.evtchn.bindInterdomain(remote, a.get('remotePort')));
      return 0;
    },
  },
  {
    nr: 1, name: 'EVTCHNOP_bind_virq', status: 'supported', note: 'VIRQ_TIMER fires from set_timer_op and VCPUOP timers',
    handler: (c) => {
      const a = GuestStruct.read(c.guest, c.args[1], EVTCHN_BIND_VIRQ, c.width);
      a.put('port', c.dom.evtchn.bindVirq(a.get('virq'), a.get('vcpu')));
      return 0;
    },
  },
  noSubop(2, 'EVTCHNOP_bind_pirq', 'not-yet', 'PVH domUs have no physical IRQs'),
  {
    nr: 3, name: 'EVTCHNOP_close', status: 'supported', note: 'the interdomain peer becomes unbound',
    handler: (c) => {
      c.dom.evtchn.close(portArg(c));
      return 0;
    },
  },
  {
    nr: 4, name: 'EVTCHNOP_send', status: 'supported', note: 'interdomain (guests and engine back ends) and IPI ports',
    handler: (c) => {
      c.dom.evtchn.send(portArg(c));
      return 0;
    },
  },
  {
    nr: 5, name: 'EVTCHNOP_status', status: 'supported', note: '',
    handler: (c) => {
      const a = GuestStruct.read(c.guest, c.args[1], EVTCHN_STATUS, c.width);
      requireSelf(c, a.get('dom'));
      const ch = c.dom.evtchn.get(a.get('port'));
      xenCheck(ch !== undefined, EINVAL, `port ${a.get('port')} is out of range`);
      a.set('status', ch.state);
      a.set('vcpu', ch.vcpu);
      a.bytes.fill(0, STATUS_UNION, STATUS_END);
      if (ch.state === ECS_UNBOUND) a.set('unboundDom', ch.remoteDom);
      else if (ch.state === ECS_INTERDOMAIN) {
        a.set('remoteDom', ch.remoteDom);
        a.set('remotePort', ch.remotePort);
      } else if (ch.state === ECS_VIRQ) a.set('virq', ch.virq);
      c.guest.write((c.args[1] + STATUS_OUT) >>> 0, a.bytes.subarray(STATUS_OUT, STATUS_END));
      return 0;
    },
  },
  {
    nr: 6, name: 'EVTCHNOP_alloc_unbound', status: 'supported', note: 'for the caller only (dom = DOMID_SELF)',
    handler: (c) => {
      const a = GuestStruct.read(c.guest, c.args[1], EVTCHN_ALLOC_UNBOUND, c.width);
      requireSelf(c, a.get('dom'));
      const remote = a.get('remoteDom') === DOMID_SELF ? c.dom.domid : a.get('remoteDom');
      a.put('port', c.dom.evtchn.allocUnbound(remote));
      return 0;
    },
  },
  {
    nr: 7, name: 'EVTCHNOP_bind_ipi', status: 'supported', note: '',
    handler: (c) => {
      const a = GuestStruct.read(c.guest, c.args[1], EVTCHN_BIND_IPI, c.width);
      a.put('port', c.dom.evtchn.bindIpi(a.get('vcpu')));
      return 0;
    },
  },
  {
    nr: 8, name: 'EVTCHNOP_bind_vcpu', status: 'supported', note: '',
    handler: (c) => {
      const a = GuestStruct.read(c.guest, c.args[1], EVTCHN_BIND_VCPU, c.width);
      c.dom.evtchn.bindVcpu(a.get('port'), a.get('vcpu'));
      return 0;
    },
  },
  {
    nr: 9, name: 'EVTCHNOP_unmask', status: 'supported', note: 're-raises a pending port',
    handler: (c) => {
      const port = portArg(c);
      const ch = c.dom.evtchn.get(port);
      xenCheck(ch !== undefined && ch.state !== ECS_FREE, EINVAL, `port ${port} is not in use`);
      c.dom.unmask(port);
      return 0;
    },
  },
  noSubop(10, 'EVTCHNOP_reset', 'not-yet', ''),
  noSubop(11, 'EVTCHNOP_init_control', 'not-yet', 'FIFO ABI: guests fall back to 2-level'),
  noSubop(12, 'EVTCHNOP_expand_array', 'not-yet', 'FIFO ABI'),
  noSubop(13, 'EVTCHNOP_set_priority', 'not-yet', 'FIFO ABI'),
];
