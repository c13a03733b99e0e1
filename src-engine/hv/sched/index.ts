/**
 * Public surface of the scheduling subsystem: the core the hypervisor thread owns, the types of
 * its API, the refusals it throws, the simulator and the GUI's what-if preview.
 * docs/schedulers.md explains how to drive it.
 */
export { SchedCore, type SchedCoreConfig, type SchedDomainConfig, type SchedHost, type ScheduleDecision, type VcpuConfig, type VcpuRef } from './core';
export type { PcpuInfo, VcpuInfo, VcpuRunState, XlCpupoolRow, XlListRow, XlSchedCreditPool, XlSchedRtdsPool, XlVcpuListRow } from './core-view';
export { POOL0_ID, POOL0_NAME } from './cpupool';
export { SchedError, STRERROR, XEN_ERRNO, type XenErrnoName } from './sched-error';
export {
  DEFAULT_BOOT_PARAMS,
  SCHED_ID,
  SCHED_NAMES,
  type Arinc653Entry,
  type Arinc653Schedule,
  type Credit2PoolParams,
  type Credit2Runqueue,
  type CreditDomainParams,
  type CreditPoolParams,
  type DomainSchedParams,
  type DomainSchedUpdate,
  type PoolSchedParams,
  type PoolSchedUpdate,
  type RtdsVcpuParams,
  type SchedBootParams,
  type SchedName,
  type SchedUnitState,
} from './sched-ops';
export type { SchedTraceEvent, SchedTraceListener, SchedTraceReason, SchedTraceRecord } from './sched-trace';
export { Simulator, type SimDomainConfig } from './sim/simulator';
export { checkInvariants, execIntervals, maxIdleWhileWaiting, runTime, shares, wakeLatencies, type ExecInterval } from './sim/trace-analysis';
export { whatIf, type WhatIfRequest, type WhatIfResult } from './sim/what-if';
export type { WorkloadSpec, WorkloadStep } from './sim/workloads';
