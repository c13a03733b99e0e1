/**
 * The demo guest (resources/guests/demo): the committed demo.elf booted directly on the in-process
 * PC of demo-machine.ts (the same devices, tables and loader as `domus run --kernel`), driven
 * through COM1 and read back from COM1 and the VGA text screen; once in the real engine through
 * `domus run` for the ACPI power-off path; and rebuilt from source to check that the committed
 * ELF is what build.sh makes.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IF, S_EFLAGS, S_HALTED } from '../../../src-engine/cpu/state';
import { bootDemo, plainText, type DemoMachine } from './demo-machine';

const DEMO_DIR = path.resolve('resources/guests/demo');
const ELF = new Uint8Array(readFileSync(path.join(DEMO_DIR, 'demo.elf')));
const MEMORY_MIB = 48;
const PROMPT = 'demo> ';
/** Instruction budgets: boot to the prompt, one short command. */
const BOOT_BUDGET = 20_000_000;
const COMMAND_BUDGET = 60_000_000;

/** Boots the demo and runs it to its first prompt. */
function bootToPrompt(cmdline = 'console=demo'): DemoMachine {
  const m = bootDemo({ elf: ELF, memoryMiB: MEMORY_MIB, cmdline });
  expect(m.run({ until: () => m.text().endsWith(PROMPT), maxInstructions: BOOT_BUDGET })).toBe('condition');
  return m;
}

/** Types a command line and runs until the next prompt; returns what the command printed. */
function command(m: DemoMachine, line: string, budget = COMMAND_BUDGET): string {
  const before = m.text().length;
  m.type(`${line}\r`);
  const stop = m.run({ until: () => m.text().length > before + line.length + 1 && m.text().endsWith(PROMPT), maxInstructions: budget });
  expect(stop, `"${line}" did not come back to the prompt`).toBe('condition');
  const echoed = m.text().slice(before);
  expect(echoed.startsWith(`${line}\n`)).toBe(true);
  return echoed.slice(line.length + 1, -PROMPT.length);
}

/** The bench loop of src/cmd-work.c, in 32-bit TypeScript arithmetic. */
function benchChecksum(loops: number): number {
  let a = 0x12345678;
  let b = 0x9e3779b9;
  let sum = 0;
  for (let i = 0; i < loops; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    b = (b ^ (b << 13)) >>> 0;
    b = (b ^ (b >>> 17)) >>> 0;
    b = (b ^ (b << 5)) >>> 0;
    sum = (sum + ((a ^ b) >>> (i & 7))) >>> 0;
    sum = ((sum << 3) | (sum >>> 29)) >>> 0;
    sum = (sum ^ Math.floor(a / ((b & 0xff) | 1))) >>> 0;
  }
  return (sum ^ a ^ b) >>> 0;
}

/** The checksum `mem` computes over `mib` MiB of its pattern (src/cmd-work.c). */
function memChecksum(mib: number): number {
  let v = 0xa5a5a5a5;
  let sum = 0;
  for (let i = 0; i < mib * 2 ** 18; i++) {
    sum = (((sum << 5) | (sum >>> 27)) ^ v) >>> 0;
    v = (v + 0x9e3779b9) >>> 0;
  }
  return sum;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

describe('demo guest on the in-process PC (direct multiboot boot)', () => {
  const m = bootToPrompt();

  it('prints the banner and the prompt on COM1', () => {
    const text = m.text();
    expect(text).toContain('Domus demo guest');
    expect(text).toMatch(/CPU: +GenuineIntel, Domus virtual x86 CPU\n/);
    expect(text).toMatch(new RegExp(`Memory: +${MEMORY_MIB} MiB \\(lower 639 KiB`));
    expect(text).toMatch(/Command: +console=demo\n/);
    // The virtual machine retires one instruction per nanosecond: the TSC measures 1 GHz.
    expect(text).toMatch(/TSC: +1000\.000 MHz/);
    expect(text.endsWith(`\n${PROMPT}`)).toBe(true);
    expect(m.serial()).toContain('\x1b[');
  });

  it('mirrors the console on the VGA text screen with the cursor after the prompt', () => {
    const lines = m.vga.lines();
    expect(lines.some((l) => l.startsWith('Domus demo guest'))).toBe(true);
    expect(lines.some((l) => l.includes(`Memory:   ${MEMORY_MIB} MiB`))).toBe(true);
    const row = lines.findIndex((l) => l === PROMPT.trimEnd());
    expect(row).toBeGreaterThan(0);
    expect(m.vga.cursor()).toMatchObject({ row, col: PROMPT.length, visible: true });
  });

  it('waits for input in HLT with interrupts on, running only the timer interrupts', () => {
    const start = m.now();
    const before = m.cpu.icount;
    expect(m.run({ until: () => m.now() - start >= 1e9, maxInstructions: 5_000_000 })).toBe('condition');
    // 100 timer interrupts in the virtual second, a few hundred instructions each.
    expect(m.cpu.icount - before).toBeLessThan(100_000);
    expect(m.cpu.s[S_HALTED]).not.toBe(0);
    expect(m.cpu.s[S_EFLAGS] & IF).toBe(IF);
  });

  it('echoes typed characters and runs echo', () => {
    expect(command(m, 'echo hi')).toBe('hi\n');
    expect(m.vga.lines()).toContain('hi');
  });

  it('edits the line: Backspace and DEL erase, Ctrl-C drops the line, arrow keys are ignored', () => {
    const before = m.text().length;
    m.type('echo nope\x03');
    m.run({ until: () => m.text().endsWith(PROMPT) && m.text().length > before + 5, maxInstructions: COMMAND_BUDGET });
    expect(m.text().slice(before)).toBe(`echo nope^C\n${PROMPT}`);
    const start = m.text().length;
    m.type('echo ab\x08\x7fok\x1b[A\x1b[D\r');
    m.run({ until: () => m.text().length > start + 10 && m.text().endsWith(PROMPT), maxInstructions: COMMAND_BUDGET });
    expect(m.text().slice(start)).toBe(`echo ab\b \b\b \bok\nok\n${PROMPT}`);
  });

  it('answers an unknown command with a pointer to help', () => {
    expect(command(m, 'frobnicate now')).toBe('frobnicate: unknown command; type help for the list.\n');
    const help = command(m, 'help');
    for (const name of ['info', 'uptime', 'date', 'load', 'bench', 'ticks', 'mem', 'echo', 'clear', 'reboot', 'poweroff']) {
      expect(help).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
  });

  it('info: CPUID, the memory size and map from the multiboot information, the command line', () => {
    const info = command(m, 'info');
    expect(info).toMatch(/vendor +GenuineIntel \(CPUID leaf 0: max leaf \d+; max extended leaf 8000000[4-9a-f]\)/);
    expect(info).toMatch(/brand +Domus virtual x86 CPU/);
    expect(info).toMatch(/EDX .*\btsc\b.*\bcmov\b/);
    expect(info).toContain(`RAM       ${MEMORY_MIB} MiB`);
    expect(info).toMatch(new RegExp(`0000000000100000-${(MEMORY_MIB * 2 ** 20 - 1).toString(16).padStart(16, '0')} available +${MEMORY_MIB * 1024 - 1024} KiB`));
    expect(info).toMatch(/00000000000e0000-[0-9a-f]{16} ACPI reclaimable/);
    expect(info).toMatch(/command +console=demo\n/);
    expect(info).toMatch(/loader +Domus\n/);
  });

  it('bench: the checksum equals the same loop computed in TypeScript', () => {
    const out = command(m, 'bench 1');
    const match = /bench: 1000000 loops in \d+\.\d\d s = (\d+\.\d\d) million loops\/s, checksum ([0-9a-f]{8})/.exec(out);
    expect(match, out).not.toBeNull();
    expect(match?.[2]).toBe(hex8(benchChecksum(1_000_000)));
    expect(Number(match?.[1])).toBeGreaterThan(0);
    expect(command(m, 'bench lots')).toBe('bench: give a whole number from 1 to 1000 (not "lots")\n');
  });

  it('ticks: counts 100 timer interrupts a second for 5 s', () => {
    const out = command(m, 'ticks');
    const deltas = [...out.matchAll(/^ticks: \d+ \(\+(\d+)\)$/gm)].map((x) => Number(x[1]));
    expect(deltas).toEqual([100, 100, 100, 100, 100]);
  });

  it('uptime and date follow the PIT, the TSC and the CMOS clock', () => {
    const up = command(m, 'uptime');
    const ticks = Number(/\((\d+) timer ticks at 100 Hz\)/.exec(up)?.[1]);
    const tsc = Number(/TSC: (\d+\.\d+) s since the timer started/.exec(up)?.[1]);
    // Both clocks count from the PIT's start: the TSC time lies within the tick the count stands in
    // (a tick is 11932 periods of the 1.193182 MHz PIT input clock), give or take 1 ms.
    const tick = 11932 / 1193182;
    expect(tsc).toBeGreaterThan(ticks * tick - 0.001);
    expect(tsc).toBeLessThan((ticks + 1) * tick + 0.001);
    const date = command(m, 'date');
    const shown = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \(CMOS real-time clock\)\n$/.exec(date);
    expect(shown, date).not.toBeNull();
    const [, y, mo, d, h, mi, s] = (shown as RegExpExecArray).map(Number);
    const expected = new Date(Date.UTC(2024, 4, 6, 7, 8, 9) + m.now() / 1e6);
    expect(Math.abs(Date.UTC(y, mo - 1, d, h, mi, s) - expected.getTime())).toBeLessThan(2000);
  });

  it('mem: writes, reads back and checksums RAM above the kernel', () => {
    const out = command(m, 'mem 2');
    expect(out).toContain('mem: 2 MiB at 00200000-003fffff');
    expect(out).toMatch(new RegExp(`checksum ${hex8(memChecksum(2))}, 0 errors`));
    expect(command(m, `mem ${MEMORY_MIB}`)).toBe(`mem: give a whole number from 1 to ${MEMORY_MIB - 2} (not "${MEMORY_MIB}")\n`);
  });

  it('load: burns the CPU until a key stops it', () => {
    const before = m.text().length;
    m.type('load 30\r');
    m.run({ until: () => m.text().includes('press any key to stop', before), maxInstructions: COMMAND_BUDGET });
    const busy = m.cpu.icount;
    m.run({ until: () => m.cpu.icount - busy > 2_000_000, maxInstructions: COMMAND_BUDGET });
    expect(m.cpu.s[S_HALTED]).toBe(0);
    m.type('x');
    m.run({ until: () => m.text().endsWith(PROMPT), maxInstructions: COMMAND_BUDGET });
    expect(m.text().slice(before)).toMatch(/\nload: stopped by a key after \d+ ms\n/);
    expect(command(m, 'echo still here')).toBe('still here\n');
  });

  it('clear: clears the VGA screen and sends ANSI erase to the terminal', () => {
    const raw = m.serial().length;
    command(m, 'clear');
    expect(m.serial().slice(raw)).toContain('\x1b[2J\x1b[H');
    expect(m.vga.lines()[0]).toBe(PROMPT.trimEnd());
    expect(m.vga.lines().slice(1).every((l) => l === '')).toBe(true);
  });

  it('loses nothing of a paste longer than its input ring: it holds the rest back in the UART', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `echo paste ${i}`);
    const paste = lines.map((l) => `${l}\r`).join('');
    expect(paste.length).toBeGreaterThan(256);
    const before = m.text().length;
    m.type(paste);
    const last = `paste 39\n${PROMPT}`;
    expect(m.run({ until: () => m.text().endsWith(last), maxInstructions: COMMAND_BUDGET * 4 })).toBe('condition');
    expect(m.text().slice(before)).toBe(lines.map((l) => `${l}\n${l.slice('echo '.length)}\n${PROMPT}`).join(''));
  });

  it('survives garbage on the console', () => {
    // 600 pseudo-random bytes (more than the guest's 256-byte input ring takes at once), with every
    // control byte and escape sequence but CR, LF and Ctrl-C (they would end the line).
    const lineEnders = new Set([0x03, 0x0a, 0x0d]);
    let seed = 12345;
    let junk = '';
    for (let i = 0; i < 600; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const byte = (seed >>> 16) & 0xff;
      junk += lineEnders.has(byte) ? ' ' : String.fromCharCode(byte);
    }
    m.type(junk);
    m.type('\x03');
    m.run({ until: () => m.text().endsWith(`^C\n${PROMPT}`), maxInstructions: COMMAND_BUDGET });
    expect(command(m, 'echo ok')).toBe('ok\n');
  });
});

describe('demo guest: power and faults', () => {
  it('poweroff: finds the FADT and \\_S5 and enters S5 through PM1a_CNT', () => {
    const m = bootToPrompt();
    m.type('poweroff\r');
    expect(m.run({ maxInstructions: COMMAND_BUDGET })).toBe('poweroff');
    expect(m.poweredOff).toBe(true);
    expect(m.text()).toMatch(/poweroff: ACPI RSDP 000e0000, FADT [0-9a-f]{8}, PM1a_CNT port 604, \\_S5 SLP_TYP 0\n/);
    expect(m.text()).not.toContain('failed');
  });

  it('reboot: asks for a reset through the 8042', () => {
    const m = bootToPrompt();
    m.type('reboot\r');
    expect(m.run({ maxInstructions: COMMAND_BUDGET })).toBe('reset');
    expect(m.resetSource).toBe('i8042');
  });

  it.each([
    ['ud', 6, '#UD invalid opcode'],
    ['de', 0, '#DE divide error'],
    ['gp', 13, '#GP general protection'],
  ])('fault %s: reports exception %i with its EIP and stops in cli; hlt', (kind, vector, name) => {
    const m = bootToPrompt();
    m.type(`fault ${kind}\r`);
    expect(m.run({ maxInstructions: COMMAND_BUDGET })).toBe('halted');
    const report = new RegExp(`\\*\\*\\* CPU exception ${vector} \\(${name}\\) at EIP=(001[0-9a-f]{5})\\n`).exec(m.text());
    expect(report, m.text()).not.toBeNull();
    expect(m.text()).toContain('The demo kernel has stopped (cli; hlt)');
    expect(m.vga.lines().some((l) => l.startsWith(`*** CPU exception ${vector}`))).toBe(true);
    expect(m.cpu.s[S_EFLAGS] & IF).toBe(0);
  });

  it('runs the commands after "--" on the kernel command line', () => {
    const m = bootDemo({ elf: ELF, memoryMiB: MEMORY_MIB, cmdline: 'quiet -- echo one;echo two ; poweroff' });
    expect(m.run({ maxInstructions: BOOT_BUDGET })).toBe('poweroff');
    expect(m.text()).toContain(`${PROMPT}echo one\none\n${PROMPT}echo two\ntwo\n${PROMPT}poweroff\n`);
  });
});

const CLI = path.resolve('dist/node/cli.js');
const hasCli = existsSync(CLI);
if (!hasCli) console.warn('dist/node/cli.js is missing (run node scripts/build.mjs): the domus run test of the demo guest is skipped');

describe('demo guest in the engine', () => {
  it.skipIf(!hasCli)('domus run --kernel: boots to the banner and powers off through ACPI S5 with exit code 0', () => {
    const r = spawnSync(process.execPath, ['bin/domus', 'run', '--kernel', path.join(DEMO_DIR, 'demo.elf'), '--append', '-- echo engine; poweroff', '--timeout', '20'], {
      encoding: 'latin1',
      timeout: 60_000,
    });
    const out = plainText(r.stdout);
    expect(out).toContain('Domus demo guest');
    expect(out).toContain(`${PROMPT}echo engine\nengine\n`);
    expect(out).toContain('poweroff: entering S5 (soft off). Goodbye.');
    expect(out).not.toContain('failed');
    expect(r.status).toBe(0);
  }, 60_000);
});

const hasToolchain =
  spawnSync('nasm', ['-v']).status === 0 &&
  spawnSync('sh', ['-c', 'echo "int x;" | gcc -m32 -ffreestanding -c -x c -o /dev/null -']).status === 0;
if (!hasToolchain) console.warn('nasm or gcc -m32 (gcc-multilib) is missing: the demo guest rebuild test is skipped');

describe('demo guest build', () => {
  it.skipIf(!hasToolchain)('build.sh makes the committed demo.elf byte for byte', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'domus-demo-build-'));
    try {
      const r = spawnSync('sh', [path.join(DEMO_DIR, 'build.sh'), out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const rebuilt = new Uint8Array(readFileSync(path.join(out, 'demo.elf')));
      expect(rebuilt.length).toBeLessThan(64 * 1024);
      expect(Buffer.from(rebuilt).equals(Buffer.from(ELF))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
