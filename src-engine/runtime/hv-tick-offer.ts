/**
 * Whether a tick VCPU's next wake source is its domain's PIT through the 8259, and when its edges
 * come (docs/architecture.md, "Timer interrupts on the pCPU"): the side-effect-free checks behind
 * both kinds of offer, an idle pCPU's timer offer (hv-pcpu-timer.ts) and a busy pCPU's edge table
 * (hv-pcpu-edges.ts). Nothing here changes a device.
 */
import { IF, S_EFLAGS, S_INJECT_VECTOR, S_NMI_PENDING, S_SHADOW } from '../cpu/state';
import { lapicHasNmi, lapicLint0High, lapicLint0IsExtInt, lapicPendingVector, lapicStartupPending } from '../machine/lapic-core';
import { W_EXTINT_REQ } from '../machine/lapic-regs';
import { PIT_FREQUENCY_HZ } from '../machine/pit-8254';
import type { HvDomain } from './hv-domain';
import { TIMER_TAKE_MARGIN_NS } from './pcpu-timer';

/** Longest an offer stands (ns): the hypervisor wakes at least this often anyway (MAX_SLEEP_MS). */
export const TIMER_OFFER_SPAN_NS = 1_000_000_000;
/** Picoseconds per second, for the PIT period. */
const PS_PER_SECOND = 1e12;
/** The IOAPIC pin ISA IRQ 0 arrives on (the MADT's interrupt source override on a PC). */
const IOAPIC_PIN_IRQ0 = 2;
/** IOAPIC redirection entry, low word: the mask bit (82093AA, bit 16). */
const IOAPIC_RTE_MASKED = 0x10000;
/** HPET general configuration register offset and its LEG_RT_CNF bit (legacy replacement cuts the PIT's IRQ 0). */
const HPET_GENERAL_CONFIG = 0x10;
const HPET_LEG_RT_CNF = 0x2;
/** Bytes of a 32-bit MMIO read. */
const DWORD = 4;

/** What tickOffer found (one reused object per caller). */
export interface TickOffer {
  /** The vector the 8259's INTA cycle will give for IRQ 0. */
  vector: number;
  /** The PIT's next edge (engine ns) and period (picoseconds, an integer). */
  first: number;
  periodPs: number;
  /** The latest instant an edge may be taken at (engine ns): the domain's other devices stay quiet until then. */
  limit: number;
  /** IRQ 0 is in service: the guest owes the 8259 an EOI before the next edge does anything. */
  eoiOwed: boolean;
}

/** A fresh TickOffer. */
export function newTickOffer(): TickOffer {
  return { vector: 0, first: 0, periodPs: 0, limit: 0, eoiOwed: false };
}

/** True if VCPU `vcpu` of `d`, blocked in HLT, takes an interrupt at once when one comes (IF set, no shadow, nothing injected). */
export function haltedTakesInterrupt(d: HvDomain, vcpu: number): boolean {
  const s = d.vcpuState[vcpu];
  return (s[S_EFLAGS] & IF) !== 0 && s[S_SHADOW] === 0 && s[S_INJECT_VECTOR] === 0;
}

/**
 * True (with `out` filled) if VCPU `vcpu` of `d` at engine time `now` waits for nothing but its
 * domain's PIT through the 8259: a single-VCPU HVM domain, running or not paused; nothing pending in its
 * local APIC, LINT0 low and routed as ExtINT; IRQ 0's IOAPIC pin masked, no HPET legacy
 * replacement; the 8259 pair in plain EOI mode with IRQ 0 the only possible request
 * (Pic8259Pair.timerTickVector); PIT channel 0 periodic with its next edge the domain's earliest
 * device deadline; and an edge before the limit (`schedNext`, the domain's other devices, the span).
 * `raised`: the edge before is raised already and will be injected, the vector plus one the INTA
 * cycle will give (extIntPreAnswer); LINT0 and the 8259's request are then that edge's.
 */
export function tickOffer(d: HvDomain, vcpu: number, now: number, schedNext: number, out: TickOffer, raised = 0): boolean {
  if (d.shutdown || d.paused || d.pendingShutdown !== undefined || d.spec.pvh !== undefined || d.vcpuState.length !== 1 || d.kicks.size > 0) return false;
  const pl = d.platform;
  if (pl.timersChanged) return false;
  const s = d.vcpuState[vcpu];
  const r = d.lapics[vcpu];
  if (s[S_NMI_PENDING] !== 0 || lapicHasNmi(r) || lapicStartupPending(r) || lapicPendingVector(r) >= 0) return false;
  if (!lapicLint0IsExtInt(r) || (raised === 0 && (Atomics.load(r, W_EXTINT_REQ) !== 0 || lapicLint0High(r)))) return false;
  if (pl.ioapic !== undefined && (pl.ioapic.entry(IOAPIC_PIN_IRQ0)[0] & IOAPIC_RTE_MASKED) === 0) return false;
  if (pl.hpet !== undefined && (pl.hpet.mmioRead(HPET_GENERAL_CONFIG, DWORD) & HPET_LEG_RT_CNF) !== 0) return false;
  const vector = raised !== 0 ? raised - 1 : pl.pic.timerTickVector();
  if (vector < 0) return false;
  const clocks = pl.pit.irq0Period();
  if (clocks === 0) return false;
  const warp = d.clock.offsetNs;
  const first = pl.pit.irq0NextEdge(now + warp) - warp;
  if (!(first > now) || first !== d.nextTick) return false;
  // The domain's other devices must stay quiet until the last edge taken.
  const dnow = now + warp;
  let other = Math.min(pl.rtc.tick(dnow), pl.lapicBus?.tick(dnow) ?? Infinity, pl.hpet?.tick(dnow) ?? Infinity, pl.acpiPm?.tick(dnow) ?? Infinity);
  for (const u of pl.uarts.values()) other = Math.min(other, u.tick(dnow));
  if (d.kicks.size > 0) return false;
  const limit = Math.min(other - warp, schedNext, now + TIMER_OFFER_SPAN_NS) - 1;
  if (!(limit > first + TIMER_TAKE_MARGIN_NS)) return false;
  out.vector = vector;
  out.first = first;
  out.periodPs = Math.ceil((clocks * PS_PER_SECOND) / PIT_FREQUENCY_HZ);
  out.limit = Math.floor(limit);
  out.eoiOwed = pl.pic.irq0InService();
  return true;
}
