// Event channels and upcalls on a XenDomain, without a CPU: the 2-level raise (pending, mask,
// selector, upcall_pending) in both shared_info layouts, the INTR line as a level that follows
// upcall_pending, unmask re-delivery, interdomain ports between domains and to engine back ends,
// SCHEDOP_block and SCHEDOP_poll wake-ups, VIRQ_TIMER from the timers, and the time record against the TSC.
import { describe, expect, it } from 'vitest';
import { EAX, EBX, IF, S_EFLAGS, S_HALTED, S_INTR_LINE, S_TSC_OFFSET_F64 } from '../../../src-engine/cpu/state';
import { HVM_PARAM_CALLBACK_IRQ, VIRQ_TIMER } from '../../../src-engine/hv/xen/abi/xen-constants';
import { ECS_INTERDOMAIN, ECS_UNBOUND } from '../../../src-engine/hv/xen/event-channels';
import { SHARED_INFO, VCPU_INFO } from '../../../src-engine/hv/xen/abi/layouts';
import { XenFault } from '../../../src-engine/hv/xen/abi/xen-errno';
import type { XenDomain } from '../../../src-engine/hv/xen/xen-domain';
import { makeHost } from './xen-fixture';

const VECTOR = 0x20;
/** HVM_PARAM_CALLBACK_IRQ value "vector 0x20" (type 2 in bits 63:56). */
const CALLBACK: [number, number] = [VECTOR, 2 << 24];

function bytes(d: XenDomain): Uint8Array {
  const base = d.sharedInfoFrame * 4096;
  return d.memory.pool.mem8.subarray(base, base + 4096);
}
function bit(d: XenDomain, field: 'evtchnPending' | 'evtchnMask', port: number): boolean {
  const off = d.width === 32 ? SHARED_INFO.fields[field].off32 : SHARED_INFO.fields[field].off64;
  return (bytes(d)[off + (port >> 3)] & (1 << (port & 7))) !== 0;
}
function setMask(d: XenDomain, port: number): void {
  const off = d.width === 32 ? SHARED_INFO.fields.evtchnMask.off32 : SHARED_INFO.fields.evtchnMask.off64;
  bytes(d)[off + (port >> 3)] |= 1 << (port & 7);
}
function selector(d: XenDomain, v: number): number {
  const off = v * 64 + (d.width === 32 ? VCPU_INFO.fields.pendingSel.off32 : VCPU_INFO.fields.pendingSel.off64);
  return new DataView(bytes(d).buffer, bytes(d).byteOffset + off, 8).getUint32(0, true);
}

describe('event delivery', () => {
  for (const width of [32, 64] as const) {
    it(`raises a port through pending, selector and upcall_pending (${width}-bit layout)`, () => {
      const t = makeHost();
      const dom = t.domain(1);
      dom.shared.width = width;
      dom.params.set(HVM_PARAM_CALLBACK_IRQ, CALLBACK);
      const port = dom.evtchn.bindIpi(0);
      dom.evtchn.send(port);
      expect(bit(dom, 'evtchnPending', port)).toBe(true);
      expect(selector(dom, 0)).toBe(1 << Math.floor(port / width));
      expect(dom.upcallPending(0)).toBe(true);
      expect(dom.vcpus[0].s[S_INTR_LINE]).toBe(1);
      expect(t.rec.kicks).toContain('1.0');
      // The line is a level: acknowledge answers the vector until the guest clears the flag.
      expect(dom.acknowledgeUpcall(0)).toBe(VECTOR);
      expect(dom.acknowledgeUpcall(0)).toBe(VECTOR);
      bytes(dom)[0] = 0;
      expect(dom.acknowledgeUpcall(0)).toBe(-1);
      expect(dom.vcpus[0].s[S_INTR_LINE]).toBe(0);
    });
  }

  it('keeps a masked port pending without an upcall, and unmask delivers it', () => {
    const t = makeHost();
    const dom = t.domain(1);
    dom.params.set(HVM_PARAM_CALLBACK_IRQ, CALLBACK);
    const port = dom.evtchn.bindIpi(0);
    setMask(dom, port);
    dom.evtchn.send(port);
    expect(bit(dom, 'evtchnPending', port)).toBe(true);
    expect(dom.upcallPending(0)).toBe(false);
    dom.unmask(port);
    expect(bit(dom, 'evtchnMask', port)).toBe(false);
    expect(dom.upcallPending(0)).toBe(true);
  });

  it('does not raise the INTR line without a callback vector, and a halted VCPU wakes only with IF set', () => {
    const t = makeHost();
    const dom = t.domain(1);
    const port = dom.evtchn.bindIpi(0);
    dom.vcpus[0].s[S_HALTED] = 1;
    dom.evtchn.send(port);
    expect(dom.vcpus[0].s[S_INTR_LINE]).toBe(0);
    expect(dom.wakeable(0)).toBe(false);
    dom.params.set(HVM_PARAM_CALLBACK_IRQ, CALLBACK);
    dom.syncUpcallLine(0);
    expect(dom.wakeable(0)).toBe(false);
    dom.vcpus[0].s[S_EFLAGS] |= IF;
    expect(dom.wakeable(0)).toBe(true);
  });

  it('connects ports of two domains and detaches them when one closes', () => {
    const t = makeHost();
    const a = t.domain(1);
    const b = t.domain(2);
    const pa = a.evtchn.allocUnbound(2);
    expect(() => b.evtchn.bindInterdomain(1, pa + 1)).toThrow(XenFault);
    const pb = b.evtchn.bindInterdomain(1, pa);
    expect(a.evtchn.get(pa)).toMatchObject({ state: ECS_INTERDOMAIN, remoteDom: 2, remotePort: pb });
    b.evtchn.send(pb);
    expect(bit(a, 'evtchnPending', pa)).toBe(true);
    b.evtchn.close(pb);
    expect(a.evtchn.get(pa)).toMatchObject({ state: ECS_UNBOUND, remoteDom: 2 });
    // A third domain cannot bind a port offered to domain 2.
    const c = t.domain(3);
    expect(() => c.evtchn.bindInterdomain(1, pa)).toThrow(XenFault);
  });

  it('ends a SCHEDOP_block with interrupts off when an event is raised, and returns at once with an upcall pending', () => {
    const t = makeHost();
    const dom = t.domain(1);
    dom.params.set(HVM_PARAM_CALLBACK_IRQ, CALLBACK);
    const port = dom.evtchn.bindIpi(0);
    const vc = dom.vcpus[0];
    const block = (): number => {
      vc.s[EAX] = 29; // sched_op
      vc.s[EBX] = 1; // SCHEDOP_block
      t.host.hypercall(1, 0);
      return vc.s[EAX];
    };
    vc.s[S_EFLAGS] &= ~IF;
    expect(block()).toBe(0);
    expect(vc.s[S_HALTED]).toBe(1);
    // Blocked is not a dead halt, although IF is clear: the next event ends it.
    expect(dom.haltIsFinal(0)).toBe(false);
    expect(dom.wakeable(0)).toBe(false);
    dom.evtchn.send(port);
    expect(vc.s[S_HALTED]).toBe(0);
    expect(vc.s[S_INTR_LINE]).toBe(1);
    expect(dom.wakeable(0)).toBe(true);
    // Still pending (not acknowledged): block does not sleep.
    expect(block()).toBe(0);
    expect(vc.s[S_HALTED]).toBe(0);
    // A plain HLT with IF clear stays a dead halt.
    bytes(dom)[0] = 0;
    vc.s[S_HALTED] = 1;
    expect(dom.haltIsFinal(0)).toBe(true);
  });

  it('ends a SCHEDOP_poll when a polled port becomes pending, even masked', () => {
    const t = makeHost();
    const dom = t.domain(1);
    const port = dom.evtchn.bindIpi(0);
    setMask(dom, port);
    const vc = dom.vcpus[0];
    vc.pollPorts = [port];
    vc.s[S_HALTED] = 1;
    dom.evtchn.send(port);
    expect(vc.pollPorts).toBeNull();
    expect(vc.s[S_HALTED]).toBe(0);
  });

  it('fires VIRQ_TIMER from the single-shot and periodic timers', () => {
    const t = makeHost();
    const dom = t.domain(1);
    const port = dom.evtchn.bindVirq(VIRQ_TIMER, 0);
    const vc = dom.vcpus[0];
    vc.singleshotAt = t.clock.now + 1000;
    expect(dom.nextDeadline()).toBe(t.clock.now + 1000);
    dom.runTimers(t.clock.now + 999);
    expect(bit(dom, 'evtchnPending', port)).toBe(false);
    dom.runTimers(t.clock.now + 1000);
    expect(bit(dom, 'evtchnPending', port)).toBe(true);
    expect(vc.singleshotAt).toBe(Infinity);
    vc.periodNs = 1_000_000;
    vc.periodicAt = t.clock.now + 1_000_000;
    dom.runTimers(t.clock.now + 3_500_000);
    expect(vc.periodicAt).toBe(t.clock.now + 4_000_000);
  });

  it('writes vcpu_time_info so that the guest formula on the TSC gives system time', () => {
    const t = makeHost();
    const dom = t.domain(1);
    const vc = dom.vcpus[0];
    vc.f64[S_TSC_OFFSET_F64 / 2] = -123_456_789;
    dom.refreshTime(0, t.clock.now);
    const dv = new DataView(bytes(dom).buffer, bytes(dom).byteOffset + 32, 32);
    const version = dv.getUint32(0, true);
    const tscStamp = Number(dv.getBigUint64(8, true));
    const sys = Number(dv.getBigUint64(16, true));
    const mul = dv.getUint32(24, true);
    const shift = dv.getInt8(28);
    expect(version % 2).toBe(0);
    // 5 ms later: TSC = host ns + offset; the guest computes system_time + ((delta << shift) * mul) >> 32.
    const later = t.clock.now + 5_000_000;
    const delta = BigInt(vc.tscAt(later) - tscStamp);
    const ns = sys + Number(((delta << BigInt(shift)) * BigInt(mul)) >> 32n);
    expect(ns).toBe(dom.systemTime(later));
  });
});
