// The CPU test guests (docs/test-guests.md): tiny multiboot v1 kernels that check the x86 CPU and
// print one line per check on COM1. This module lists them for the test runners (QEMU as the
// oracle in test/unit/guests-qemu.test.ts; Domus's own CPU through `domus run`) and parses what
// they print.
import { fileURLToPath } from 'node:url';
import { GUEST_CHECKS } from './manifest';

/** One test guest: where its ELF is and what it must print. */
export interface TestGuest {
  /** Guest name, as in its `DONE <name> pass=.. fail=..` line. */
  readonly name: string;
  /** Absolute path of the multiboot ELF (committed; test/guests/build.sh rebuilds it). */
  readonly elfPath: string;
  /** Every check the guest prints a PASS/FAIL line for. */
  readonly checks: readonly string[];
  /** Number of checks (= checks.length = pass + fail in the DONE line). */
  readonly checkCount: number;
  /** Checks where QEMU TCG 7.2 deviates from the SDM; the QEMU runner tolerates FAIL for these. */
  readonly qemuDeviations: readonly string[];
  /** Set when QEMU TCG cannot run the guest at all (why); the QEMU runner skips it. */
  readonly qemuUnusable?: string;
  /** What the guest is about (one line). */
  readonly theme: string;
}

/** What the runners must know about a guest besides its manifest entry. */
interface GuestInfo {
  readonly theme: string;
  /** Checks where QEMU TCG deviates from the SDM (docs/test-guests.md says how). */
  readonly qemuDeviations?: readonly string[];
  /** Why QEMU cannot run the guest at all (it crashes or hangs QEMU), if so. */
  readonly qemuUnusable?: string;
}

const GUEST_INFO: Readonly<Record<string, GuestInfo>> = {
  alu: { theme: 'ADD ADC SUB SBB AND OR XOR CMP TEST INC DEC NEG NOT, all forms, exact flags (host vectors)' },
  shift: { theme: 'SHL SHR SAR ROL ROR RCL RCR SHLD SHRD, counts 0..33 and beyond (host vectors)' },
  muldiv: { theme: 'MUL IMUL (1/2/3 operands) DIV IDIV with #DE (host vectors), #DE is a fault' },
  bcdbit: { theme: 'DAA DAS AAA AAS AAM AAD, BSF BSR, BT BTS BTR BTC incl. bit strings in memory (host vectors)' },
  condmov: {
    theme: 'SETcc CMOVcc Jcc, XCHG XADD CMPXCHG CMPXCHG8B, MOVZX MOVSX BSWAP CBW.., LAHF SAHF, LEA, XLAT',
  },
  string: { theme: 'MOVS CMPS SCAS LODS STOS, REP/REPE/REPNE, DF, ECX=0, overlap, 16-bit addressing, overrides' },
  control: {
    theme: 'PUSHF/POPF, PUSH/POP, PUSHA/POPA, ENTER/LEAVE, LOOPcc, JCXZ, near/far CALL RET JMP, INT INTO IRET, LOCK, prefixes',
    // QEMU 7.2 TCG accepts LOCK on MOV and BT; the SDM (and the host CPU) raise #UD
    qemuDeviations: ['lock.mov_ud', 'lock.bt_ud'],
  },
  segment: {
    theme: 'segment loads and protection (null, limit, type, present, DPL/RPL/CPL), caches, rings 0-3, IOPL, I/O bitmap',
    // QEMU 7.2 TCG checks descriptors when a segment register is loaded, but not the accesses made
    // through it: no segment limits, no read-only/execute-only/null-segment checks
    qemuDeviations: ['seg.null_ds_load_ok_use_gp', 'seg.write_to_read_only_gp', 'seg.write_through_cs_override_gp',
      'seg.read_execute_only_gp', 'seg.limit_expand_up', 'seg.limit_stack_ss', 'seg.limit_expand_down'],
  },
  exceptions: {
    theme: 'exceptions through the IDT: vectors, error codes, saved EIP, fault restart, #DB #DF #TS #NP #NM',
    // QEMU 7.2 TCG leaves the EXT bit out of error codes raised while delivering an exception
    qemuDeviations: ['exc.gp_error_code_ext_bit'],
  },
  paging: {
    theme: '4 KiB and 4 MiB pages, #PF error codes and CR2, WP, A/D bits, INVLPG, CR3 and PGE flushes, self-modifying code',
    // QEMU 7.2 TCG reports a reserved-bit #PF without the P bit, and flushes global entries on
    // every CR3 write (allowed: a TLB may drop any entry; Intel and AMD keep them)
    qemuDeviations: ['pg.pf_reserved_bit_in_4m_pde', 'pg.global_page_survives_cr3_write'],
  },
  system: {
    theme: 'CPUID consistency, RDTSC, RDMSR/WRMSR, PIC+PIT IRQ0, HLT, STI and MOV SS shadows, port I/O in all widths',
    // QEMU 7.2 TCG returns 0 (no #GP) for MSRs it does not implement or whose feature it does not
    // report, and its IA32_TIME_STAMP_COUNTER MSR is not the counter RDTSC reads
    qemuDeviations: ['cpuid.mtrr_mtrrcap_msr', 'cpuid.mca_mcg_cap_msr', 'msr.tsc_read_write',
      'msr.rdmsr_unimplemented_gp', 'msr.wrmsr_unimplemented_gp'],
  },
  edge: {
    theme: 'checks QEMU cannot run: IDIV INT_MIN/-1 (#DE), MOV CR4 reserved bit and CR0 PG without PE (#GP)',
    qemuUnusable: 'QEMU 7.2 TCG dies of SIGFPE on IDIV INT_MIN/-1, hangs on a #GP from MOV to CR4, '
      + 'and enables paging for CR0 = PG without PE',
  },
};

function guest(name: string): TestGuest {
  const checks = GUEST_CHECKS[name];
  const info = GUEST_INFO[name]!;
  if (!checks) throw new Error(`test/guests/manifest.ts has no guest "${name}": run test/guests/build.sh`);
  return {
    name,
    elfPath: fileURLToPath(new URL(`./build/${name}.elf`, import.meta.url)),
    checks,
    checkCount: checks.length,
    qemuDeviations: info.qemuDeviations ?? [],
    ...(info.qemuUnusable ? { qemuUnusable: info.qemuUnusable } : {}),
    theme: info.theme,
  };
}

/** All test guests, in the order the runners run them. */
export const TEST_GUESTS: readonly TestGuest[] = Object.keys(GUEST_INFO).map(guest);

/** QEMU's isa-debug-exit turns the guest's byte v on port 0xF4 into exit status (v << 1) | 1. */
export const QEMU_EXIT_ALL_PASSED = 1;
/** Exit status of QEMU when the guest wrote 1 (some check failed). */
export const QEMU_EXIT_SOME_FAILED = 3;

/** The command line that runs a guest under QEMU (what the guests are validated against). */
export function qemuArgs(elfPath: string): string[] {
  return ['-kernel', elfPath, '-display', 'none', '-serial', 'stdio', '-device',
    'isa-debug-exit,iobase=0xf4,iosize=4', '-no-reboot', '-m', '64'];
}

/** A FAIL line, split into its fields. */
export interface GuestFailure {
  readonly check: string;
  readonly expected: string;
  readonly got: string;
  /** Anything after got=.. (inputs of a vector, the source line of an EXPECT). */
  readonly detail: string;
}

/** What a guest printed. */
export interface GuestOutput {
  readonly passed: readonly string[];
  readonly failed: readonly GuestFailure[];
  /** The DONE line, if the guest got that far. */
  readonly done?: { readonly guest: string; readonly pass: number; readonly fail: number };
  /** Lines that are neither PASS, FAIL nor DONE (e.g. FATAL). */
  readonly other: readonly string[];
}

const PASS_RE = /^PASS (\S+)$/;
const FAIL_RE = /^FAIL (\S+) expected=(\S+) got=(\S+)\s*(.*)$/;
const DONE_RE = /^DONE (\S+) pass=(\d+) fail=(\d+)$/;

/** Parses a guest's serial output (CR/LF tolerant). */
export function parseGuestOutput(text: string): GuestOutput {
  const passed: string[] = [];
  const failed: GuestFailure[] = [];
  const other: string[] = [];
  let done: GuestOutput['done'];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') continue;
    let m = PASS_RE.exec(line);
    if (m) { passed.push(m[1]!); continue; }
    m = FAIL_RE.exec(line);
    if (m) { failed.push({ check: m[1]!, expected: m[2]!, got: m[3]!, detail: m[4]! }); continue; }
    m = DONE_RE.exec(line);
    if (m) { done = { guest: m[1]!, pass: Number(m[2]), fail: Number(m[3]) }; continue; }
    other.push(line);
  }
  return { passed, failed, done, other };
}

/** Problems with a guest's output, given the checks it may fail: empty when it is all good. */
export function judgeGuestOutput(guest: TestGuest, out: GuestOutput, tolerated: readonly string[] = []): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const c of [...out.passed, ...out.failed.map((f) => f.check)]) seen.set(c, (seen.get(c) ?? 0) + 1);
  for (const c of guest.checks) {
    const n = seen.get(c) ?? 0;
    if (n !== 1) problems.push(`${c}: printed ${n} times, expected once`);
  }
  for (const c of seen.keys()) if (!guest.checks.includes(c)) problems.push(`${c}: not a check of ${guest.name}`);
  for (const f of out.failed) {
    if (!tolerated.includes(f.check)) problems.push(`FAIL ${f.check} expected=${f.expected} got=${f.got} ${f.detail}`.trimEnd());
  }
  if (!out.done) problems.push(`no DONE line (${out.other.join(' | ') || 'output ended early'})`);
  else {
    if (out.done.guest !== guest.name) problems.push(`DONE names ${out.done.guest}, expected ${guest.name}`);
    if (out.done.pass !== out.passed.length || out.done.fail !== out.failed.length) {
      problems.push(`DONE pass=${out.done.pass} fail=${out.done.fail} disagrees with the lines printed`);
    }
  }
  return problems;
}
