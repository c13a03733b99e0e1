/**
 * Parses what the mbdump probe kernel (fixtures/mbdump.asm) prints on COM1: "R name value"
 * registers, "R gdtr base/limit", "D name addr len" dump headers followed by "M addr bytes" lines.
 * The dumped bytes form a sparse memory image that mbi-reader can decode like guest RAM.
 */
import type { ByteSource } from './mbi-reader';

export interface ProbeDump {
  name: string;
  addr: number;
  len: number;
}

export interface ProbeOutput {
  regs: Record<string, number>;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  dumps: ProbeDump[];
  memory: ByteSource;
  done: boolean;
}

/** Removes terminal escape sequences and carriage returns from captured serial output. */
export function cleanSerial(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
}

export function parseProbeOutput(text: string): ProbeOutput {
  const regs: Record<string, number> = {};
  const tables: Record<string, { base: number; limit: number }> = {};
  const dumps: ProbeDump[] = [];
  const bytes = new Map<number, number>();
  let done = false;
  for (const line of cleanSerial(text).split('\n')) {
    const f = line.trim().split(' ');
    if (f[0] === 'R' && f[2]?.includes('/')) {
      const [base, limit] = f[2].split('/').map((x) => parseInt(x, 16));
      tables[f[1]] = { base, limit };
    } else if (f[0] === 'R') {
      regs[f[1]] = parseInt(f[2], 16);
    } else if (f[0] === 'D') {
      dumps.push({ name: f[1], addr: parseInt(f[2], 16), len: parseInt(f[3], 16) });
    } else if (f[0] === 'M') {
      const addr = parseInt(f[1], 16);
      const hex = f[2] ?? '';
      for (let i = 0; i < hex.length / 2; i++) bytes.set(addr + i, parseInt(hex.slice(2 * i, 2 * i + 2), 16));
    } else if (f[0] === 'PROBE-DONE') {
      done = true;
    }
  }
  const memory: ByteSource = {
    read(addr, len) {
      const out = new Uint8Array(len);
      for (let i = 0; i < len; i++) {
        const b = bytes.get(addr + i);
        if (b === undefined) throw new Error(`the probe did not dump 0x${(addr + i).toString(16)}`);
        out[i] = b;
      }
      return out;
    },
  };
  return { regs, gdtr: tables.gdtr, idtr: tables.idtr, dumps, memory, done };
}
