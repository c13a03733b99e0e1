/**
 * Disassembly for reports, through GNU objdump (binutils) when it is installed; hex otherwise.
 *   objdump -D -b binary -m i386 (or i8086 for real mode) -M intel --adjust-vma=ORIGIN
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One disassembled instruction. */
export interface DisasmLine {
  addr: number;
  bytes: number[];
  text: string;
}

let objdumpPresent: boolean | undefined;

/** True when objdump is on PATH. */
export function hasObjdump(): boolean {
  objdumpPresent ??= spawnSync('objdump', ['--version']).status === 0;
  return objdumpPresent;
}

/** Disassembles code placed at `origin`; undefined when objdump is missing. */
export function disassemble(code: Uint8Array, origin: number, realMode: boolean): DisasmLine[] | undefined {
  if (!hasObjdump() || code.length === 0) return code.length === 0 ? [] : undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'domus-disasm-'));
  try {
    const file = path.join(dir, 'code.bin');
    writeFileSync(file, code);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-m', realMode ? 'i8086' : 'i386', '-M', 'intel', '--insn-width=16', `--adjust-vma=0x${origin.toString(16)}`, file], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    const out: DisasmLine[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$/.exec(line);
      if (!m) continue;
      out.push({ addr: parseInt(m[1], 16), bytes: m[2].trim().split(' ').map((b) => parseInt(b, 16)), text: m[3].trim().replace(/\s+/g, ' ') });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Disassembly as text lines "addr: bytes  text", marking the instruction at `mark`. */
export function formatDisassembly(code: Uint8Array, origin: number, realMode: boolean, mark?: number): string[] {
  const lines = disassemble(code, origin, realMode);
  if (!lines) {
    return [`${origin.toString(16)}: ${Array.from(code, (b) => b.toString(16).padStart(2, '0')).join(' ')}  (objdump not installed: hex only)`];
  }
  return lines.map((l) => {
    const hex = l.bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    return `${l.addr === mark ? '>' : ' '} ${l.addr.toString(16).padStart(5, '0')}: ${hex.padEnd(30)} ${l.text}`;
  });
}
