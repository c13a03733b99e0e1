/** Severity of an engine log record (the `domus dmesg` levels). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One engine log record. */
export interface LogRecord {
  /** Milliseconds since the Unix epoch. */
  time: number;
  level: LogLevel;
  /** Subsystem that wrote it, e.g. "sched", "hv", "dom3". */
  source: string;
  message: string;
}

/** Where engine code writes its log; the runtime collects it into the `domus dmesg` ring. */
export interface Logger {
  log(level: LogLevel, source: string, message: string): void;
}

/** A logger that drops everything (unit tests, tools). */
export const nullLogger: Logger = { log() {} };
