/**
 * Errors written for the user. Each area has its own subclass; the message says what was wrong and,
 * where there is one, what to do about it. `code` is a stable machine-readable tag for APIs and tests.
 */
export class DomusError extends Error {
  /** Stable identifier of the kind of failure, e.g. "boot.not-elf". */
  readonly code: string;
  /** The thing the error is about (a file path, a domain name, a config key), if any. */
  readonly subject: string | undefined;

  constructor(code: string, message: string, subject?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.subject = subject;
  }
}

/** A kernel, module, ELF or other boot input that cannot be loaded. */
export class BootError extends DomusError {}

/** A domain or xl.cfg configuration that is malformed or inconsistent. */
export class ConfigError extends DomusError {}

/** A request the machine memory pool cannot satisfy. */
export class MemoryError extends DomusError {}

/** A toolstack operation refused by the hypervisor (bad domain, bad pool, invalid parameter). */
export class HypervisorError extends DomusError {}

/** A saved domain image that cannot be restored. */
export class SaveImageError extends DomusError {}

/** A GRUB directory, ISO input or output that cannot be used. */
export class IsoError extends DomusError {}

/** Returns the user-facing message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
