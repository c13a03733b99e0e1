/**
 * The toolstack's configuration layer: the xl.cfg language (parse, write, round trip), the typed
 * DomainConfig, xl-disk-configuration and vif specs, xl's output layouts and xl's argument
 * parsing for vcpu-pin, sched-* and create. Pure code: callers read and write the files.
 */
export * from './c-format';
export * from './cpupool-config';
export * from './disk-spec';
export * from './domain-config-devices';
export * from './domain-config-parse';
export type * from '../api/domain-config';
export * from './domain-config-write';
export * from './sched-limits';
export * from './vif-spec';
export * from './xl-args-sched';
export * from './xl-args-vcpu';
export * from './xl-getopt';
export * from './xl-output-domains';
export * from './xl-output-info';
export * from './xl-output-sched';
export type * from './xlcfg-ast';
export * from './xlcfg-doc';
export * from './xlcfg-keys';
export * from './xlcfg-parser';
export * from './xlcfg-problems';
export * from './xlcfg-reader';
export * from './xlcfg-strings';
export * from './xlcfg-writer';
