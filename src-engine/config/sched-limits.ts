/**
 * The range checks libxl applies before it asks Xen to change scheduler parameters
 * (tools/libs/light/libxl_sched.c), with libxl's messages, and the limits from
 * xen/include/public/sysctl.h. Each check returns the error text, or undefined when valid.
 * The toolstack calls them for `xl sched-*` and for xl.cfg cpu_weight=/cap=/period=.
 */

/** XEN_SYSCTL_CSCHED_TSLICE_MIN: shortest credit time slice, ms. */
export const CREDIT_TSLICE_MIN_MS = 1;
/** XEN_SYSCTL_CSCHED_TSLICE_MAX: longest credit time slice, ms. */
export const CREDIT_TSLICE_MAX_MS = 1000;
/** XEN_SYSCTL_SCHED_RATELIMIT_MIN: smallest non-zero ratelimit, us (0 = off). */
export const SCHED_RATELIMIT_MIN_US = 100;
/** XEN_SYSCTL_SCHED_RATELIMIT_MAX: largest ratelimit, us. */
export const SCHED_RATELIMIT_MAX_US = 500000;
/** XEN_SYSCTL_CSCHED_MGR_DLY_MAX_US: credit vCPU migration delay, us. */
export const CREDIT_MIGRATION_DELAY_MAX_US = 100 * 1000;
/** Smallest credit/credit2 weight (libxl sched_credit*_domain_set). */
export const SCHED_WEIGHT_MIN = 1;
/** Largest credit/credit2 weight. */
export const SCHED_WEIGHT_MAX = 65535;
/** A cap is in % of one pCPU; the largest allowed is this times the domain's vCPUs. */
export const SCHED_CAP_PER_VCPU = 100;
/** Microseconds per millisecond (ratelimit is compared with the time slice). */
const US_PER_MS = 1000;

/** libxl sched_ratelimit_check. */
export function checkRatelimit(ratelimitUs: number): string | undefined {
  if (ratelimitUs !== 0 && (ratelimitUs < SCHED_RATELIMIT_MIN_US || ratelimitUs > SCHED_RATELIMIT_MAX_US)) {
    return `Ratelimit out of range, valid range is from ${SCHED_RATELIMIT_MIN_US} to ${SCHED_RATELIMIT_MAX_US}`;
  }
  return undefined;
}

/** libxl_sched_credit_params_set: the whole set of credit pool parameters. */
export function checkCreditParams(p: { tsliceMs: number; ratelimitUs: number; migrationDelayUs: number }): string | undefined {
  if (p.tsliceMs < CREDIT_TSLICE_MIN_MS || p.tsliceMs > CREDIT_TSLICE_MAX_MS) {
    return `Time slice out of range, valid range is from ${CREDIT_TSLICE_MIN_MS} to ${CREDIT_TSLICE_MAX_MS}`;
  }
  const r = checkRatelimit(p.ratelimitUs);
  if (r) return r;
  if (p.ratelimitUs > p.tsliceMs * US_PER_MS) return 'Ratelimit cannot be greater than timeslice';
  if (p.migrationDelayUs < 0 || p.migrationDelayUs > CREDIT_MIGRATION_DELAY_MAX_US) {
    return `vcpu migration delay should be >= 0 and <= ${CREDIT_MIGRATION_DELAY_MAX_US}us`;
  }
  return undefined;
}

/** libxl sched_credit*_domain_set: weight and cap of a domain with `vcpus` vCPUs (max_vcpu_id + 1). */
export function checkWeightCap(p: { weight?: number; cap?: number }, vcpus: number): string | undefined {
  if (p.weight !== undefined && (p.weight < SCHED_WEIGHT_MIN || p.weight > SCHED_WEIGHT_MAX)) {
    return `Cpu weight out of range, valid values are within range from ${SCHED_WEIGHT_MIN} to ${SCHED_WEIGHT_MAX}`;
  }
  const maxCap = vcpus * SCHED_CAP_PER_VCPU;
  if (p.cap !== undefined && (p.cap < 0 || p.cap > maxCap)) {
    return `Cpu cap out of range, valid range is from 0 to ${maxCap} for specified number of vcpus`;
  }
  return undefined;
}

/** libxl sched_rtds_validate_params: period and budget of one vCPU, us. */
export function checkRtdsParams(periodUs: number, budgetUs: number): string | undefined {
  if (periodUs < 1) return `Invalid VCPU period of ${periodUs} (it should be >= 1)`;
  if (budgetUs < 1) return `Invalid VCPU budget of ${budgetUs} (it should be >= 1)`;
  if (budgetUs > periodUs) return `VCPU budget must be smaller than or equal to period, but ${budgetUs} > ${periodUs}`;
  return undefined;
}
