/**
 * A small xl.cfg(5) emitter for "boot this GRUB ISO as an HVM guest" (the MISSION's xl create
 * workflow). Temporary: the lead will switch it to the shared writer in src-engine/config.
 * Strings are written the way libxlu's lexer reads them back (quotes with \\, \" and \' escapes).
 */
import { IsoError } from '../base/errors';
import type { IsoConsole } from './grub-cfg';

/** What the guest config says. */
export interface XlCfgSpec {
  /** Domain name. */
  name: string;
  /** Path of the ISO on the Xen host (as written into the disk spec). */
  isoPath: string;
  /** Guest memory in MiB. */
  memoryMb: number;
  vcpus: number;
  /** GRUB's console: with a serial console the guest gets `nographic = 1` and a serial device on that COM port. */
  console: IsoConsole;
  /** Where the guest serial line goes: "pty" (xl console) or a file path. Default "pty". */
  serialTarget?: string;
}

/** Quotes a string for xl.cfg with the given quote character. */
export function xlQuote(text: string, quote: '"' | "'" = '"'): string {
  let out = quote;
  for (const c of text) {
    if (c === '\\' || c === '"' || c === "'") out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else out += c;
  }
  return out + quote;
}

function positiveInt(v: number, what: string, key: string): void {
  if (!Number.isInteger(v) || v < 1) throw new IsoError('iso.bad-xl', `${what} must be a whole number of at least 1; got ${v}.`, key);
}

/** Emits the xl.cfg text. */
export function emitXlCfg(spec: XlCfgSpec): string {
  if (spec.name === '' || /[\s/\\'"]/.test(spec.name) || /^\d+$/.test(spec.name)) {
    throw new IsoError('iso.bad-xl', `"${spec.name}" cannot be a domain name: use letters, digits, "-", "_" or "." (not only digits, no blanks).`, 'name');
  }
  positiveInt(spec.memoryMb, 'memory (MiB)', 'memory');
  positiveInt(spec.vcpus, 'vcpus', 'vcpus');
  if (spec.isoPath.includes(',')) {
    throw new IsoError('iso.bad-xl', `The ISO path "${spec.isoPath}" contains ",", which xl's disk syntax cannot hold; move or rename the ISO.`, 'disk');
  }
  const lines = [
    `# xl.cfg written by Domus: boots ${spec.isoPath} (GRUB ISO) as an HVM guest.`,
    `name = ${xlQuote(spec.name)}`,
    'type = "hvm"',
    `memory = ${spec.memoryMb}`,
    `vcpus = ${spec.vcpus}`,
    `disk = [ ${xlQuote(`file:${spec.isoPath},hdc:cdrom,r`, "'")} ]`,
    'boot = "d"',
  ];
  if (spec.console.kind === 'serial') {
    const target = spec.serialTarget ?? 'pty';
    const entry = target === 'pty' ? 'pty' : `file:${target}`;
    // The list maps to COM1, COM2, ... in order; earlier ports are left unconnected.
    const ports = [...Array<string>(spec.console.port - 1).fill('none'), entry].map((s) => xlQuote(s));
    lines.push(`serial = [ ${ports.join(', ')} ]`, 'nographic = 1');
  }
  return lines.join('\n') + '\n';
}
