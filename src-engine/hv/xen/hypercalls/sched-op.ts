/**
 * sched_op (29): sched.h, and set_timer_op (15): xen.h.
 *
 * SCHEDOP_block halts the VCPU until an event is raised for it: Xen's do_block sleeps, and
 * evtchn_set_pending -> vcpu_kick -> vcpu_unblock wakes an HVM/PVH VCPU on a new upcall whatever
 * EFLAGS.IF says, so a guest may block with interrupts off (the race-free idle: cli, check, block,
 * sti) and takes the upcall after its STI. SCHEDOP_poll halts it until one of the given ports is pending or the timeout passes,
 * whatever EFLAGS.IF says. Both return 0 at once; the halt happens when the VCPU next looks at its
 * state (the runtime must let the CPU look after each hypercall).
 */
import { S_HALTED } from '../../../cpu/state';
import { SHUTDOWN_MAX } from '../abi/xen-constants';
import { EINVAL, XenFault, xenCheck } from '../abi/xen-errno';
import { SCHED_POLL, SCHED_SHUTDOWN } from '../abi/layouts';
import { GuestStruct } from '../guest-struct';
import { HcAfter, noSubop, type HypercallContext, type SubOp } from './types';

/** Largest number of ports one SCHEDOP_poll may name (Xen: 128 for a domU). */
export const MAX_POLL_PORTS = 128;
/** Deadlines further than this in the future are treated as this far (Xen: 2^50 ns). */
export const TIMER_MAX_AHEAD_NS = 2 ** 50;

/** Sets the single-shot timer of the calling VCPU to system time `deadline` (0 cancels). */
export function setSingleshot(c: HypercallContext, deadline: number): void {
  const vc = c.vcpu;
  if (deadline === 0) {
    vc.singleshotAt = Infinity;
    return;
  }
  const at = c.dom.hostTime(deadline);
  vc.singleshotAt = Math.min(at, c.now + TIMER_MAX_AHEAD_NS);
  // A deadline already passed fires at once (the next timer run).
}

function shutdown(c: HypercallContext): number {
  const reason = GuestStruct.read(c.guest, c.args[1], SCHED_SHUTDOWN, c.width).get('reason');
  xenCheck(reason <= SHUTDOWN_MAX, EINVAL, `shutdown reason ${reason} does not exist`);
  c.host.shutdownDomain(c.dom, reason);
  c.after = HcAfter.Reschedule;
  return 0;
}

function poll(c: HypercallContext): number {
  const p = GuestStruct.read(c.guest, c.args[1], SCHED_POLL, c.width);
  const n = p.get('nrPorts');
  xenCheck(n <= MAX_POLL_PORTS, EINVAL, `at most ${MAX_POLL_PORTS} ports`);
  const bytes = c.guest.read(p.get('ports'), n * 4);
  const dv = new DataView(bytes.buffer);
  const ports: number[] = [];
  for (let k = 0; k < n; k++) {
    const port = dv.getUint32(k * 4, true);
    xenCheck(c.dom.evtchn.get(port) !== undefined, EINVAL, `port ${port} is out of range`);
    ports.push(port);
  }
  // Already pending: no wait (Xen checks after marking itself polling; same outcome).
  if (ports.some((q) => c.dom.shared.isPending(q))) return 0;
  const timeout = p.get('timeout');
  const vc = c.vcpu;
  vc.pollPorts = ports;
  vc.pollUntil = timeout === 0 ? Infinity : Math.min(c.dom.hostTime(timeout), c.now + TIMER_MAX_AHEAD_NS);
  vc.s[S_HALTED] = 1;
  return 0;
}

/** Sub-operations of sched_op. */
export const SCHED_OPS: readonly SubOp[] = [
  {
    nr: 0, name: 'SCHEDOP_yield', status: 'supported', note: 'the VCPU leaves its pCPU and stays runnable',
    handler: (c) => {
      c.after = HcAfter.Reschedule;
      return 0;
    },
  },
  {
    nr: 1, name: 'SCHEDOP_block', status: 'supported', note: 'halts until an event is raised for the VCPU (any EFLAGS.IF)',
    handler: (c) => {
      // An upcall already pending ends the block at once (Xen may return early; the guest
      // rechecks its condition). Otherwise the VCPU sleeps until deliver() raises an upcall.
      if (c.dom.upcallPending(c.vcpu.id)) return 0;
      c.vcpu.blocked = true;
      c.vcpu.s[S_HALTED] = 1;
      return 0;
    },
  },
  { nr: 2, name: 'SCHEDOP_shutdown', status: 'supported', note: 'poweroff, reboot, suspend, crash, watchdog, soft_reset', handler: shutdown },
  { nr: 3, name: 'SCHEDOP_poll', status: 'supported', note: 'halts until a listed port is pending or the timeout', handler: poll },
  { nr: 4, name: 'SCHEDOP_remote_shutdown', status: 'privileged', note: '', caller: 'privileged' },
  {
    nr: 5, name: 'SCHEDOP_shutdown_code', status: 'supported', note: 'records the reason for a later shutdown',
    handler: (c) => {
      const reason = GuestStruct.read(c.guest, c.args[1], SCHED_SHUTDOWN, c.width).get('reason');
      xenCheck(reason <= SHUTDOWN_MAX, EINVAL, `shutdown reason ${reason} does not exist`);
      c.dom.pendingShutdownCode = reason;
      return 0;
    },
  },
  noSubop(6, 'SCHEDOP_watchdog', 'not-yet', ''),
  { nr: 7, name: 'SCHEDOP_pin_override', status: 'privileged', note: '', caller: 'privileged' },
];

/** set_timer_op: arg1/arg2 = low/high 32 bits of the deadline (system time, ns); 0 cancels. */
export function setTimerOp(c: HypercallContext): number {
  const deadline = c.args[1] * 4294967296 + c.args[0];
  if (!Number.isFinite(deadline)) throw new XenFault(EINVAL);
  setSingleshot(c, deadline);
  return 0;
}
