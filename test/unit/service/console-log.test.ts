import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendConsoleLog, ConsoleRing } from '../../../src-engine/node/service/console-ring';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('console log and scrollback', () => {
  it('appends to the log and the serial file, and rotates a log past 1 MiB to LOG.1', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'domus-conlog-'));
    try {
      const log = path.join(dir, 'vm.log');
      const serial = path.join(dir, 'serial.txt');
      appendConsoleLog(log, serial, bytes('hello '));
      appendConsoleLog(log, undefined, bytes('world'));
      expect(readFileSync(log, 'utf8')).toBe('hello world');
      expect(readFileSync(serial, 'utf8')).toBe('hello ');
      writeFileSync(log, Buffer.alloc((1 << 20) + 1, 0x41));
      appendConsoleLog(log, undefined, bytes('after'));
      expect(readFileSync(log, 'utf8')).toBe('after');
      expect(readFileSync(`${log}.1`).length).toBe((1 << 20) + 1);
      expect(() => appendConsoleLog(path.join(dir, 'no', 'such', 'dir.log'), undefined, bytes('x'))).toThrow(/ENOENT/);
      expect(existsSync(path.join(dir, 'no'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the last bytes of a console in its ring', () => {
    const r = new ConsoleRing(8);
    r.push(bytes('abcdef'));
    r.push(bytes('ghij'));
    expect(new TextDecoder().decode(r.contents())).toBe('cdefghij');
  });
});
