/**
 * pCPU-mask helpers for the schedulers: the small subset of Xen's cpumask API they use
 * (xen/include/xen/cpumask.h: cpumask_test_cpu, cpumask_and, cpumask_cycle, ...) and the
 * affinity rules of xen/common/sched/private.h (has_soft_affinity, affinity_balance_cpumask).
 *
 * Masks are `CpuSet`s from base/cpulist: sorted arrays without duplicates. Pools hold at most a
 * few dozen pCPUs, so linear scans are cheaper than any cleverer structure.
 */
import type { CpuSet } from '../../base/cpulist';

/** A balance step: schedulers try the soft-affinity step first, then the hard-affinity step. */
export type BalanceStep = 'soft' | 'hard';

/** Both steps in the order Xen's for_each_affinity_balance_step visits them. */
export const BALANCE_STEPS: readonly BalanceStep[] = ['soft', 'hard'];

/** cpumask_test_cpu. */
export function maskHas(mask: CpuSet, cpu: number): boolean {
  for (const c of mask) {
    if (c === cpu) return true;
    if (c > cpu) return false;
  }
  return false;
}

/** cpumask_and. */
export function maskAnd(a: CpuSet, b: CpuSet): CpuSet {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]);
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return out;
}

/** cpumask_andnot: a minus b. */
export function maskAndNot(a: CpuSet, b: CpuSet): CpuSet {
  return a.filter((c) => !maskHas(b, c));
}

/** cpumask_or. */
export function maskOr(a: CpuSet, b: CpuSet): CpuSet {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** cpumask_intersects. */
export function maskIntersects(a: CpuSet, b: CpuSet): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) return true;
    if (a[i] < b[j]) i++;
    else j++;
  }
  return false;
}

/** cpumask_subset: every pCPU of a is in b. */
export function maskSubset(a: CpuSet, b: CpuSet): boolean {
  return a.every((c) => maskHas(b, c));
}

/** Returned by maskCycle/maskFirst when the mask is empty (Xen's nr_cpu_ids). */
export const NO_CPU = -1;

/** cpumask_first: lowest pCPU or NO_CPU. */
export function maskFirst(mask: CpuSet): number {
  return mask.length > 0 ? mask[0] : NO_CPU;
}

/** cpumask_cycle: the next pCPU after n, wrapping; n itself only if it is the sole member. */
export function maskCycle(n: number, mask: CpuSet): number {
  if (mask.length === 0) return NO_CPU;
  for (const c of mask) if (c > n) return c;
  return mask[0];
}

/** cpumask_test_or_cycle: n if it is in the mask, else the next one after it. */
export function maskTestOrCycle(n: number, mask: CpuSet): number {
  return maskHas(mask, n) ? n : maskCycle(n, mask);
}

/** A set with one pCPU added (kept sorted). */
export function maskWith(mask: CpuSet, cpu: number): CpuSet {
  return maskHas(mask, cpu) ? mask : maskOr(mask, [cpu]);
}

/** A set with one pCPU removed. */
export function maskWithout(mask: CpuSet, cpu: number): CpuSet {
  return mask.filter((c) => c !== cpu);
}

/** The affinity view the helpers below need from a vCPU. */
export interface AffinityView {
  readonly hard: CpuSet;
  readonly soft: CpuSet;
}

/**
 * Xen's unit->soft_aff_effective, computed by sched_set_affinity: soft affinity is worth
 * looking at only if hard is not a subset of soft and the two intersect.
 */
export function softAffinityEffective(hard: CpuSet, soft: CpuSet): boolean {
  return !maskSubset(hard, soft) && maskIntersects(soft, hard);
}

/**
 * private.h has_soft_affinity: soft affinity is used only when it is effective and the pool's
 * pCPUs are not all inside it (then it would not prefer anything).
 */
export function hasSoftAffinity(v: AffinityView, poolCpus: CpuSet): boolean {
  return softAffinityEffective(v.hard, v.soft) && !maskSubset(poolCpus, v.soft);
}

/**
 * private.h affinity_balance_cpumask: the soft step uses soft ∩ hard (hard if that is empty),
 * the hard step the hard mask. The result is not yet restricted to the pool.
 */
export function balanceMask(v: AffinityView, step: BalanceStep): CpuSet {
  if (step === 'hard') return v.hard;
  const both = maskAnd(v.soft, v.hard);
  return both.length > 0 ? both : v.hard;
}
