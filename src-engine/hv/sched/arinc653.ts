/**
 * ARINC 653: static cyclic time partitioning, Xen's xen/common/sched/arinc653.c, restated in
 * spec/schedulers.md section 4.
 *
 * Design
 * ------
 * - A major frame is played over and over; inside it, entries (domain UUID, vCPU, runtime) own
 *   back-to-back windows in array order, and the rest of the frame is idle. A vCPU runs only in its
 *   own windows and only if awake and runnable; otherwise its window idles (not work-conserving).
 * - Frame state is one per pool. A pCPU runs the window's vCPU only if that vCPU is assigned to
 *   it, so a pool effectively uses one pCPU (the first); extra pCPUs idle.
 * - Without an installed schedule the frame is 10 ms and empty, except that every vCPU of the
 *   control domain created in the pool is appended with 10 ms (the frame growing by 10 ms per
 *   vCPU after the first).
 * - Installing a schedule anchors the frame at the install instant. Deviation: Xen lets the
 *   running slice end first; we tickle the pool's pCPUs so the new frame starts exactly then
 *   (spec: "takes effect immediately").
 * - No per-domain parameters, no soft affinity, no yield hook. Deviation: placement stays inside
 *   hard affinity (Xen ignores it; spec P2 requires it).
 */
import { maskAnd, maskFirst, maskHas } from './cpumask';
import { schedRefuse } from './sched-error';
import {
  SCHED_ID,
  registerScheduler,
  type Arinc653Entry,
  type Arinc653Schedule,
  type PoolSchedParams,
  type PoolSchedUpdate,
  type SchedContext,
  type SchedDecision,
  type SchedOps,
  type SchedPeek,
  type SchedUnit,
} from './sched-ops';

/** DEFAULT_TIMESLICE: 10 ms. */
const A653_DEFAULT_TIMESLICE = 10_000_000;
/** ARINC653_MAX_DOMAINS_PER_SCHEDULE. */
export const ARINC653_MAX_ENTRIES = 64;

interface Arinc653Unit {
  unit: SchedUnit;
  awake: boolean;
}

interface Arinc653Slot extends Arinc653Entry {
  /** The vCPU this entry resolves to in the pool, if any. */
  resolved: SchedUnit | null;
}

/** Per-pool ARINC 653 state (a653sched_priv_t). */
export interface Arinc653State {
  ctx: SchedContext;
  schedule: Arinc653Slot[];
  majorFrame: number;
  nextMajorFrame: number;
  /** Runtime of entry 0 even when there is no entry (Xen initialises it to 10 ms). */
  firstRuntime: number;
  units: Arinc653Unit[];
  schedIndex: number;
  nextSwitchTime: number;
}

function a653u(unit: SchedUnit): Arinc653Unit {
  return unit.priv as Arinc653Unit;
}

/** update_schedule_units: re-resolve every entry against the pool's vCPUs. */
function arinc653UpdateUnits(s: Arinc653State): void {
  for (const e of s.schedule) {
    const found = s.units.find((a) => a.unit.domain.uuid === e.uuid && a.unit.vcpuId === e.vcpu);
    e.resolved = found ? found.unit : null;
  }
}

/** arinc653_sched_set's checks (Xen refuses with EINVAL). */
export function arinc653CheckSchedule(sched: Arinc653Schedule): void {
  const n = sched.entries.length;
  const bad = (why: string): never => {
    throw schedRefuse('sched.arinc653-schedule', 'EINVAL', `ARINC 653 schedule refused: ${why}. The previous schedule stays in force.`);
  };
  if (!(sched.majorFrame > 0)) bad(`major frame must be positive (got ${sched.majorFrame} ns)`);
  if (n < 1) bad('it needs at least one entry');
  if (n > ARINC653_MAX_ENTRIES) bad(`at most ${ARINC653_MAX_ENTRIES} entries are allowed (got ${n})`);
  let total = 0;
  for (const [i, e] of sched.entries.entries()) {
    if (!(e.runtime > 0)) bad(`entry ${i} has runtime ${e.runtime} ns; runtimes must be positive`);
    total += e.runtime;
  }
  if (total > sched.majorFrame) bad(`the runtimes add up to ${total} ns, more than the ${sched.majorFrame} ns major frame`);
}

/** a653sched_do_schedule. */
function arinc653DoSchedule(s: Arinc653State, cpu: number, _prev: SchedUnit | null, now: number, forceIdle: boolean): SchedDecision {
  const n = s.schedule.length;
  if (now >= s.nextMajorFrame) {
    const remainder = (now - s.nextMajorFrame) % s.majorFrame;
    s.schedIndex = 0;
    s.nextMajorFrame = now - remainder + s.majorFrame;
    s.nextSwitchTime = now - remainder + (n > 0 ? s.schedule[0].runtime : s.firstRuntime);
  }
  while (now >= s.nextSwitchTime && ++s.schedIndex < n) s.nextSwitchTime += s.schedule[s.schedIndex].runtime;
  if (s.schedIndex >= n) s.nextSwitchTime = s.nextMajorFrame;
  let next: SchedUnit | null = s.schedIndex < n ? s.schedule[s.schedIndex].resolved : null;
  if (next && !(a653u(next).awake && next.runnable())) next = null;
  const time = s.nextSwitchTime - now;
  if (forceIdle) next = null;
  if (next && next.pcpu !== cpu) next = null;
  return { next, time, migrated: false };
}

/** a653sched_do_schedule's window arithmetic at `t` on copies: [index, next switch, next major frame]. */
function arinc653WindowAt(s: Arinc653State, t: number): [number, number, number] {
  const n = s.schedule.length;
  let index = s.schedIndex;
  let nextSwitch = s.nextSwitchTime;
  let nextMajor = s.nextMajorFrame;
  if (t >= nextMajor) {
    const remainder = (t - nextMajor) % s.majorFrame;
    index = 0;
    nextMajor = t - remainder + s.majorFrame;
    nextSwitch = t - remainder + (n > 0 ? s.schedule[0].runtime : s.firstRuntime);
  }
  while (t >= nextSwitch && ++index < n) nextSwitch += s.schedule[index].runtime;
  if (index >= n) nextSwitch = nextMajor;
  return [index, nextSwitch, nextMajor];
}

/**
 * SchedOps.peekNext (not in Xen): the window position only moves forward with the stop instant,
 * so the same window at both ends of [from, until] is the same window throughout; the slice ends
 * with the window, and the shortest length is the one from `until`.
 */
function arinc653PeekNext(s: Arinc653State, cpu: number, _prev: SchedUnit, from: number, until: number): SchedPeek | undefined {
  const [i, sw, mj] = arinc653WindowAt(s, from);
  const [i2, sw2, mj2] = arinc653WindowAt(s, until);
  if (i !== i2 || sw !== sw2 || mj !== mj2) return undefined;
  let next: SchedUnit | null = i < s.schedule.length ? s.schedule[i].resolved : null;
  if (next && (!(a653u(next).awake && next.runnable()) || next.pcpu !== cpu)) next = null;
  return { next, time: sw - until };
}

/**
 * a653sched_pick_resource: stay if the current pCPU is in the pool, else the pool's first pCPU.
 * Deviation: Xen does not consult hard affinity here (nor anywhere in this scheduler); we restrict
 * the choice to hard affinity ∩ pool so that pinning is never violated (spec P2).
 */
function arinc653PickResource(s: Arinc653State, unit: SchedUnit): number {
  const allowed = maskAnd(s.ctx.cpus(), unit.hard);
  const first = maskFirst(allowed);
  return maskHas(allowed, unit.pcpu) || first < 0 ? unit.pcpu : first;
}

function arinc653InsertUnit(s: Arinc653State, unit: SchedUnit): void {
  if (unit.domain.isControl && s.schedule.length < ARINC653_MAX_ENTRIES) {
    const entry = s.schedule.length;
    s.schedule.push({ uuid: unit.domain.uuid, vcpu: unit.vcpuId, runtime: A653_DEFAULT_TIMESLICE, resolved: unit });
    if (entry > 0) s.majorFrame += A653_DEFAULT_TIMESLICE;
  }
  const a: Arinc653Unit = { unit, awake: false };
  unit.priv = a;
  s.ctx.setRes(unit, arinc653PickResource(s, unit));
  s.units.unshift(a);
  arinc653UpdateUnits(s);
}

function arinc653RemoveUnit(s: Arinc653State, unit: SchedUnit): void {
  s.units = s.units.filter((a) => a.unit !== unit);
  arinc653UpdateUnits(s);
}

function arinc653SetPoolParams(s: Arinc653State, p: PoolSchedUpdate): void {
  if (p.sched !== 'arinc653') return;
  arinc653CheckSchedule(p);
  s.schedule = p.entries.map((e) => ({ uuid: e.uuid, vcpu: e.vcpu, runtime: e.runtime, resolved: null }));
  s.majorFrame = p.majorFrame;
  arinc653UpdateUnits(s);
  s.nextMajorFrame = s.ctx.now();
  for (const c of s.ctx.cpus()) s.ctx.tickle(c);
}

function arinc653GetPoolParams(s: Arinc653State): PoolSchedParams {
  return {
    sched: 'arinc653',
    majorFrame: s.majorFrame,
    entries: s.schedule.map((e) => ({ uuid: e.uuid, vcpu: e.vcpu, runtime: e.runtime })),
  };
}

/** The ARINC 653 scheduler. */
export const arinc653Ops: SchedOps<Arinc653State> = {
  name: 'arinc653',
  id: SCHED_ID.arinc653,
  longName: 'ARINC 653 Scheduler',
  init: (ctx) => ({
    ctx,
    schedule: [],
    majorFrame: A653_DEFAULT_TIMESLICE,
    nextMajorFrame: 0,
    firstRuntime: A653_DEFAULT_TIMESLICE,
    units: [],
    schedIndex: 0,
    nextSwitchTime: 0,
  }),
  deinit: () => {},
  initPcpu: () => {},
  deinitPcpu: () => {},
  initDomain: () => {},
  destroyDomain: () => {},
  insertUnit: arinc653InsertUnit,
  removeUnit: arinc653RemoveUnit,
  sleep: (s, unit) => {
    a653u(unit).awake = false;
    if (s.ctx.curr(unit.pcpu) === unit) s.ctx.tickle(unit.pcpu);
  },
  wake: (s, unit) => {
    a653u(unit).awake = true;
    s.ctx.tickle(unit.pcpu);
  },
  doSchedule: arinc653DoSchedule,
  peekNext: arinc653PeekNext,
  pickResource: arinc653PickResource,
  getDomainParams: () => ({ sched: 'arinc653' }),
  setDomainParams: () => {},
  getPoolParams: arinc653GetPoolParams,
  setPoolParams: arinc653SetPoolParams,
  dump: (s) => [
    `arinc653 pool ${s.ctx.poolId}: major_frame=${s.majorFrame} entries=${s.schedule.length} index=${s.schedIndex} next_switch=${s.nextSwitchTime}`,
    ...s.schedule.map((e, i) => `  [${i}] ${e.uuid} v${e.vcpu} ${e.runtime}ns ${e.resolved ? `-> d${e.resolved.domid}` : '(unresolved)'}`),
  ],
  inspectUnit: (s, unit) => ({ awake: a653u(unit).awake, windows: s.schedule.filter((e) => e.resolved === unit).length }),
};

registerScheduler(arinc653Ops);
