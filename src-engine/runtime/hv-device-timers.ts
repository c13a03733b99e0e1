/**
 * Device timers of the HVM domains on the hypervisor thread: each pass ticks the domains whose
 * earliest device deadline is due (or whose timers moved) and notes every domain's next deadline,
 * keeping the earliest few (EarliestDeadlines), so that the hypervisor can sleep until the earliest
 * one no pCPU takes itself (timer offers, hv-pcpu-timer.ts) without a second loop over the domains.
 */
import type { HvDomain } from './hv-domain';

/** What ticking the domains needs from the hypervisor. */
export interface DeviceTimerHost {
  /** Local APICs of `d` gained something: poke or wake their VCPUs. */
  processKicks(d: HvDomain): void;
  /** A device of `d` asked for a shutdown (d.pendingShutdown): carry it out. */
  takeShutdown(d: HvDomain): void;
}

/**
 * Ticks every live HVM domain whose devices are due at engine time `now` or whose timers moved, and
 * notes each one's next device deadline in `early`; returns the earliest.
 */
export function runDeviceTimers(domains: Iterable<HvDomain>, now: number, early: EarliestDeadlines, host: DeviceTimerHost): number {
  let next = Infinity;
  early.reset();
  for (const d of domains) {
    if (d.shutdown || d.spec.pvh !== undefined) continue;
    if (now >= d.nextTick || d.platform.timersChanged) {
      // Device deadlines are in the domain's time, which may run ahead of the host's.
      const warp = d.clock.offsetNs;
      d.nextTick = d.platform.tick(now + warp) - warp;
      if (d.kicks.size > 0) host.processKicks(d);
      if (d.pendingShutdown) host.takeShutdown(d);
    }
    next = Math.min(next, d.nextTick);
    early.note(d, d.nextTick);
  }
  return next;
}

/**
 * The earliest device deadlines of the pass's domains, `size` of them (one more than the pCPUs, so
 * that the earliest of a domain without a timer offer is among them): the hypervisor's sleep is
 * bounded by that, without a second loop over every domain. No allocation after construction.
 */
export class EarliestDeadlines {
  private readonly at: number[];
  private readonly doms: (HvDomain | null)[];
  private n = 0;

  constructor(private readonly size: number) {
    this.at = new Array<number>(size).fill(Infinity);
    this.doms = new Array<HvDomain | null>(size).fill(null);
  }

  /** Forgets the deadlines of the last pass. */
  reset(): void {
    for (let i = 0; i < this.n; i++) this.doms[i] = null;
    this.n = 0;
  }

  /** Domain `d`'s next device deadline is `t`. */
  note(d: HvDomain, t: number): void {
    let i = this.n;
    if (i === this.size) {
      if (t >= this.at[i - 1]) return;
      i--;
    } else {
      this.n++;
    }
    for (; i > 0 && this.at[i - 1] > t; i--) {
      this.at[i] = this.at[i - 1];
      this.doms[i] = this.doms[i - 1];
    }
    this.at[i] = t;
    this.doms[i] = d;
  }

  /** The earliest deadline of a domain `covered` does not hold for (Infinity if none). */
  firstUncovered(covered: (d: HvDomain) => boolean): number {
    for (let i = 0; i < this.n; i++) if (!covered(this.doms[i] as HvDomain)) return this.at[i];
    // Every noted domain is covered; one more than the pCPUs were noted only if there were more.
    return this.n < this.size ? Infinity : this.at[this.n - 1];
  }
}
