/**
 * The parts of timer interrupts taken on the pCPU that need no engine (docs/architecture.md,
 * "Timer interrupts on the pCPU"): what the 8259 pair and the PIT tell the hypervisor about the
 * next tick, the pCPU's edge arithmetic against the PIT's own edges, the pCPU's check of what the
 * guest posted since the offer, and the earliest-deadline list that bounds the hypervisor's sleep.
 */
import { describe, expect, it } from 'vitest';
import { Pic8259Pair } from '../../../src-engine/machine/pic-8259';
import { Pit8254 } from '../../../src-engine/machine/pit-8254';
import { PIT_FREQUENCY_HZ } from '../../../src-engine/machine/pit-8254';
import {
  P_POST_RING, P_TDOM, P_TEOIS, P_TFIRST, P_TLIMIT, P_TPERIOD_PS, P_TSEQ, P_TTAIL, P_TVCPU, P_TVECTOR, POST_ENTRY_WORDS, POST_SLOTS, PCPU_STRIDE,
  NO_DEADLINE, REQ_IO_OUT, REQ_SCHEDULE, REQ_TIMER_TAKEN, SCHED_HALTED, TSEQ_STEP, putF64, instantHi, instantLo, instantOf,
} from '../../../src-engine/runtime/control-block';
import { PcpuTimer, TIMER_TAKE_MARGIN_NS } from '../../../src-engine/runtime/pcpu-timer';
import { EarliestDeadlines } from '../../../src-engine/runtime/hv-device-timers';
import type { HvDomain } from '../../../src-engine/runtime/hv-domain';

/** tick.elf's 8259 set-up: ICW1-ICW4, vectors 0x20/0x28, everything but IRQ 0 masked. */
function tickPic(): Pic8259Pair {
  const pic = new Pic8259Pair();
  const w = (chip: 0 | 1, off: number, v: number) => (chip === 0 ? pic.master : pic.slave).ioWrite(off, 1, v);
  for (const [c, o, v] of [[0, 0, 0x11], [1, 0, 0x11], [0, 1, 0x20], [1, 1, 0x28], [0, 1, 0x04], [1, 1, 0x02], [0, 1, 0x01], [1, 1, 0x01], [0, 1, 0xfe], [1, 1, 0xff]] as const) w(c, o, v);
  return pic;
}

describe('the 8259 pair tells the vector of the next tick', () => {
  it('plain EOI mode, IRQ 0 unmasked: the master base, with IRQ 0 in service or not', () => {
    const pic = tickPic();
    expect(pic.timerTickVector()).toBe(0x20);
    expect(pic.irq0InService()).toBe(false);
    pic.setIrq(0, true);
    expect(pic.timerTickVector()).toBe(-1); // INTR is high: the request is already there
    expect(pic.acknowledge()).toBe(0x20);
    pic.setIrq(0, false);
    expect(pic.irq0InService()).toBe(true);
    expect(pic.timerTickVector()).toBe(0x20);
    pic.master.ioWrite(0, 1, 0x20); // non-specific EOI
    expect(pic.irq0InService()).toBe(false);
  });

  it('declines what it cannot tell: IRQ 0 masked, another request, automatic EOI, special mask mode', () => {
    const masked = tickPic();
    masked.master.ioWrite(1, 1, 0xff);
    expect(masked.timerTickVector()).toBe(-1);
    const other = tickPic();
    other.master.ioWrite(1, 1, 0xfc);
    other.setIrq(1, true);
    expect(other.timerTickVector()).toBe(-1);
    const aeoi = tickPic();
    aeoi.master.ioWrite(0, 1, 0x11);
    for (const v of [0x20, 0x04, 0x03]) aeoi.master.ioWrite(1, 1, v);
    expect(aeoi.timerTickVector()).toBe(-1);
    const smm = tickPic();
    smm.master.ioWrite(0, 1, 0x68);
    expect(smm.timerTickVector()).toBe(-1);
  });
});

describe('the PIT tells the period and next edge of IRQ 0, and the pCPU finds the same edges', () => {
  it('mode 2 at 100 Hz: edge j from the first edge and the period in picoseconds, within the take margin', () => {
    let now = 1_000_000;
    const clock = { now: () => now, wallMs: () => now / 1e6 };
    let rises = 0;
    let level = false;
    const pit = new Pit8254({ clock, irq0: { set: (l) => { if (l && !level) rises++; level = l; } } });
    pit.ioWrite(0x43, 1, 0x34);
    pit.ioWrite(0x40, 1, 11932 & 0xff);
    pit.ioWrite(0x40, 1, 11932 >> 8);
    expect(pit.irq0Period()).toBe(11932);
    rises = 0; // programming raised OUT; count the edges from here
    const first = pit.irq0NextEdge(now);
    const periodPs = Math.ceil((11932 * 1e12) / PIT_FREQUENCY_HZ);
    // The pCPU's instants of edges 0..999 (pcpu-timer.ts) are never before the PIT's edge and never a whole period late.
    for (let j = 0; j < 1000; j++) {
      const at = first + Math.ceil((j * periodPs) / 1000) + TIMER_TAKE_MARGIN_NS;
      now = at - TIMER_TAKE_MARGIN_NS - 2;
      const before = rises;
      pit.tick(now);
      now = at;
      pit.tick(now);
      expect(rises - before, `edge ${j}`).toBeLessThanOrEqual(1);
      expect(pit.irq0NextEdge(now) > at, `edge ${j}`).toBe(true);
    }
    expect(rises).toBe(1000);
    pit.ioWrite(0x43, 1, 0x30); // mode 0: one shot, not periodic
    expect(pit.irq0Period()).toBe(0);
  });
});

describe("the pCPU's check of what the guest posted since the offer", () => {
  const base = 0;
  function offer(cb: Int32Array, seq: number, eois: number, tail: number): void {
    cb[base + P_TDOM] = 3;
    cb[base + P_TVCPU] = 0;
    cb[base + P_TVECTOR] = 0x21;
    cb[base + P_TTAIL] = tail;
    cb[base + P_TEOIS] = eois;
    putF64(cb, base + P_TFIRST, 5_000_000);
    putF64(cb, base + P_TPERIOD_PS, 10_000_083_800);
    putF64(cb, base + P_TLIMIT, 900_000_000);
    Atomics.store(cb, base + P_TSEQ, seq);
  }
  function post(cb: Int32Array, i: number, kind: number, a0: number, a1: number, a2: number): void {
    const e = base + P_POST_RING + (i % POST_SLOTS) * POST_ENTRY_WORDS;
    cb.set([kind, a0, a1, a2], e);
  }

  it('takes after the owed EOI and a HLT, then edge by edge; refuses a UART write or a missing EOI', () => {
    const cb = new Int32Array(PCPU_STRIDE);
    const t = new PcpuTimer(cb, base);
    const seq = 5 * TSEQ_STEP;
    offer(cb, seq, 1, 10);
    post(cb, 10, REQ_SCHEDULE, SCHED_HALTED, 0, 0);
    expect(t.planTake(seq, 11)).toBe(false); // IRQ 0 still in service: the edge would raise nothing
    post(cb, 10, REQ_IO_OUT, 0x20, 1, 0x20);
    post(cb, 11, REQ_SCHEDULE, SCHED_HALTED, 0, 0);
    expect(t.planTake(seq, 12)).toBe(true);
    expect(t.plan).toMatchObject({ word: seq, at: 5_000_000 + TIMER_TAKE_MARGIN_NS, edge: 0, domid: 3, vcpu: 0, vector: 0x21 });
    expect(t.take(t.plan.at + 50_000)).toBe(true);
    expect(Atomics.load(cb, base + P_TSEQ)).toBe(seq + 1);
    post(cb, 12, REQ_TIMER_TAKEN, seq, instantLo(t.plan.at), instantHi(t.plan.at));
    t.tookAt(t.plan.at + 50_000, 13);
    // The next HLT without the handler's EOI: no take.
    post(cb, 13, REQ_SCHEDULE, SCHED_HALTED, 0, 0);
    expect(t.planTake(seq + 1, 14)).toBe(false);
    post(cb, 13, REQ_IO_OUT, 0x20, 1, 0x60);
    post(cb, 14, REQ_SCHEDULE, SCHED_HALTED, 0, 0);
    expect(t.planTake(seq + 1, 15)).toBe(true);
    expect(t.plan.edge).toBe(1);
    expect(t.plan.at).toBe(5_000_000 + Math.ceil(10_000_083_800 / 1000) + TIMER_TAKE_MARGIN_NS);
    // A character written to COM1 since: the edge is left to the hypervisor.
    post(cb, 15, REQ_IO_OUT, 0x3f8, 1, 0x41);
    expect(t.planTake(seq + 1, 16)).toBe(false);
    // A VCPU still running at the edge: its chunk ends there and the pCPU rings once.
    const due = t.dueNs();
    expect(due).toBe(t.plan.at);
    expect(t.edgePassed(due - 1)).toBe(false);
    expect(t.edgePassed(due)).toBe(true);
    expect(t.edgePassed(due + 1)).toBe(false);
    expect(t.dueNs()).toBe(NO_DEADLINE);
    // A take loses to the hypervisor ending the offer.
    Atomics.store(cb, base + P_TSEQ, 0);
    expect(t.take(t.plan.at)).toBe(false);
  });

  it('an instant survives the two posted words', () => {
    for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 61994296116179, 2 ** 52 + 3]) expect(instantOf(instantLo(v), instantHi(v))).toBe(v);
  });
});

describe('the earliest deadlines of the domains', () => {
  it('keeps the few earliest and skips domains with an offer', () => {
    const doms = Array.from({ length: 6 }, (_, i) => ({ domid: i }) as unknown as HvDomain);
    const e = new EarliestDeadlines(3);
    for (const [i, t] of [[0, 50], [1, 10], [2, 30], [3, 20], [4, 40], [5, 60]] as const) e.note(doms[i], t);
    expect(e.firstUncovered(() => false)).toBe(10);
    expect(e.firstUncovered((d) => d === doms[1])).toBe(20);
    expect(e.firstUncovered((d) => d === doms[1] || d === doms[3])).toBe(30);
    e.reset();
    expect(e.firstUncovered(() => false)).toBe(Infinity);
    e.note(doms[2], 7);
    expect(e.firstUncovered((d) => d === doms[2])).toBe(Infinity);
  });
});
