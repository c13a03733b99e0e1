/**
 * Priming the interpreter's block loop (exec-block.ts) once per thread, before any guest runs.
 *
 * Why: V8 optimises execInsns with the type feedback it has collected so far. A case of its
 * switch that has never run has none, and TurboFan compiles it as an unconditional deoptimisation:
 * when a guest first reaches that instruction form, the whole loop falls back to V8's baseline
 * tier (about a quarter of the speed) until TurboFan has compiled it again, which on a loaded
 * machine takes a while (one bench workload ran at 12 MIPS instead of 50). Running a small
 * program that reaches every fast kind, and the handler call with many different handlers, on a
 * scratch VCPU gives every site its feedback first.
 */
import { Cpu } from './cpu';
import { INERT_CPU_OPS, type PhysMemory } from './ops';
import { AR_CODE32_FLAT, AR_DATA32_FLAT } from './init-state';
import { jitOffConfig } from './jit/jit-config';
import { STATE_BYTES } from './state';

/** Pages of the scratch machine: code, data, stack. */
const PAGES = 4;
const PAGE = 4096;
const CODE = 0x0000;
const DATA = 0x1000;
const STACK_TOP = 0x3000;
/** CR0.PE: flat 32-bit protected mode. */
const CR0_PE = 1;
/** Selectors of the flat code and data segments (no GDT is read: the caches are set directly). */
const CODE_SEL = 0x08;
const DATA_SEL = 0x10;
/** Limit of a flat 4-GiB segment. */
const FLAT_LIMIT = 0xffffffff;
/** EFLAGS bit 1 (always set). */
const EFLAGS_FIXED = 2;
/** Instructions per run: about three times round the loop (V8 gives execBlocks its feedback vector after a few calls). */
const BUDGET = 800;

/** Jcc rel8 (0x70 | condition code) and the number of condition codes. */
const JCC_SHORT = 0x70;
const CONDITIONS = 16;
/** jmp $+2: ends a block. */
const JMP_NEXT = [0xeb, 0x00];

/** A dword as four little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/**
 * The program: every fast kind on its fast path (EBX points at DATA, ESI one byte past it, so
 * dword operands at ESI are unaligned and take the handler), Jcc after flag-setting forms, a
 * call and return, then a jump back to the start. Also a few instructions without a fast kind
 * (MUL, IMUL, SETcc, MOVSX, CDQ, RCL, BT) so the handler call site sees many targets.
 */
function program(): number[] {
  const body = [
    [0x89, 0xd8], [0xb8, ...le32(0x12345678)], [0x8d, 0x44, 0x9b, 0x08], [0x40], [0x48],
    [0xc1, 0xe0, 0x03], [0xc1, 0xe8, 0x02], [0x01, 0xc8], [0x09, 0xc8], [0x11, 0xc8], [0x19, 0xc8],
    [0x21, 0xc8], [0x29, 0xc8], [0x31, 0xc8], [0x39, 0xc8], [0x85, 0xc8], [0x83, 0xc0, 0x05],
    [0x83, 0xc8, 0x01], [0x83, 0xe0, 0x7f], [0x83, 0xe8, 0x01], [0x83, 0xf0, 0x11], [0x83, 0xf8, 0x03],
    [0xa9, ...le32(1)], [0x83, 0xd0, 0x01], [0x83, 0xd8, 0x01],
    [0x0f, 0xb6, 0xc3], [0x00, 0xd8], [0x80, 0xc3, 0x11], [0x8b, 0x03], [0x8a, 0x03], [0x0f, 0xb6, 0x03],
    [0x03, 0x03], [0x39, 0x03], [0x83, 0x3b, 0x05], [0x02, 0x03], [0x38, 0x03], [0x80, 0x3b, 0x05],
    [0xff, 0x33], [0x58], [0x89, 0x03], [0xc7, 0x03, ...le32(7)], [0x88, 0x03], [0xc6, 0x03, 0x09],
    [0x01, 0x03], [0x83, 0x03, 0x01], [0x00, 0x03], [0x80, 0x03, 0x01], [0x8b, 0x06], [0x01, 0x06],
    [0x50], [0x6a, 0x01], [0x5a], [0x5a], [0xf7, 0xe1], [0x0f, 0xaf, 0xc1], [0x0f, 0x94, 0xc0],
    [0x0f, 0xbe, 0xc3], [0x99], [0xd1, 0xd0], [0x0f, 0xa3, 0xc8],
  ].flat();
  // Fused pairs (CMP/SUB/TEST/AND with a register or an immediate, DEC, INC before a Jcc) with
  // every condition code, INC and DEC after SUB, ADD and 8-bit records, and branches after forms
  // that are not fused (ADC, OR, XOR, SHL, ADD), all to $+2: taken or not, the program goes on (a
  // taken one ends the superblock there).
  const jcc: number[] = [];
  // Each group ends with jmp $+2, so that a taken branch starts a short block: every block
  // started by one is decoded from there to its end (superblocks), and decoding is what priming
  // spends its time on.
  // CMP r32, r32 before every condition (the fused CMP forms share one switch on it); the other
  // fused forms test only Z and NZ inline.
  for (let cc = 0; cc < CONDITIONS; cc += 2) {
    jcc.push(0x39, 0xc8, JCC_SHORT | cc, 0, 0x39, 0xc8, JCC_SHORT | (cc + 1), 0, ...JMP_NEXT);
  }
  jcc.push(0x83, 0xf8, 0x05, 0x77, 0, 0x85, 0xc0, 0x7c, 0, ...JMP_NEXT, 0x41, 0x74, 0, 0x41, 0x7e, 0, ...JMP_NEXT);
  jcc.push(
    ...[0x29, 0xc8, 0x7f, 0x00], ...[0xa9, ...le32(1), 0x75, 0x00], ...[0x83, 0xe0, 0x7f, 0x74, 0x00],
    ...[0x21, 0xc8, 0x78, 0x00], ...[0x49, 0x74, 0x00], ...[0x39, 0xc8, 0x49, 0x75, 0x00], ...[0x01, 0xc8, 0x41, 0x72, 0x00],
    ...[0x28, 0xc8, 0x49, 0x73, 0x00], ...[0x28, 0xc8, 0x48], ...[0x39, 0xc8, 0x40], ...[0x10, 0xd8, 0x73, 0x00],
    ...[0x09, 0xc8, 0x74, 0x00], ...[0x31, 0xc8, 0x75, 0x00], ...[0xc1, 0xe0, 0x01, 0x72, 0x00], ...[0x01, 0xc8, 0x7c, 0x00],
  );
  // The forms with a flag-dead kind (fast-kinds.ts deadFlags): each once before a branch (flags
  // live, its own kind) and once before CMP (flags dead).
  const dead = [
    [0x40], [0x48], [0xc1, 0xe0, 0x03], [0xc1, 0xe8, 0x02], [0x01, 0xc8], [0x83, 0xc0, 0x05], [0x29, 0xc8], [0x83, 0xe8, 0x01],
    [0x21, 0xc8], [0x83, 0xe0, 0x7f], [0x09, 0xc8], [0x83, 0xc8, 0x01], [0x31, 0xc8], [0x83, 0xf0, 0x11],
  ];
  for (const form of dead) jcc.push(...form, ...JMP_NEXT);
  for (const form of dead) jcc.push(...form, 0x39, 0xc8);
  jcc.push(...JMP_NEXT);
  // A block with two successors, each taken: dec edx; jnz over nothing to the same place (both
  // links), jz likewise.
  jcc.push(0x4a, 0x75, 0x00, 0x4a, 0x74, 0x00);
  // Branches taken to a later instruction of the block (Insn.skip), fused and on their own:
  // cmp eax, eax; je over inc edx; xor edx, edx; jz over inc edx.
  jcc.push(0x39, 0xc0, 0x74, 0x01, 0x42, 0x31, 0xd2, 0x74, 0x01, 0x42, ...JMP_NEXT);
  // call L; jmp M; L: sub esp, 4; add esp, 4; ret (the epilogue kind); M:
  const call = [0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x07, 0x83, 0xec, 0x04, 0x83, 0xc4, 0x04, 0xc3];
  // mov edx, 4; L: dec edx; jnz L: a block that is its own successor, then falls through (the
  // successor links of both kinds, within one run of linked blocks).
  const counted = [0xba, ...le32(4), 0x4a, 0x75, 0xfd];
  // mov ebx, DATA (the body moves EBX off alignment); ADD, CMP, ADD-to, ADD imm and ADC on an
  // aligned dword: the memory ALU forms on their fast path.
  const aligned = [0xbb, ...le32(DATA), 0x03, 0x03, 0x39, 0x03, 0x01, 0x03, 0x83, 0x03, 0x01, 0x11, 0x03];
  // The flag-deferred forms (add eax, 5 and sub eax, 1, then a store, then cmp eax, ecx): the
  // store aligned (inline) and unaligned at ESI (its handler, after the deferred record).
  const deferred = [[0x89, 0x03], [0x89, 0x06]].flatMap((store) =>
    [[0x83, 0xc0, 0x05], [0x83, 0xe8, 0x01]].flatMap((form) => [...form, ...store, 0x39, 0xc8]));
  const code = [...counted, ...aligned, ...deferred, ...body, ...jcc, ...call];
  // call FAR_RET; jmp FAR_JMP, which jumps back to the start: a call and jumps to another page,
  // which the decoder does not follow (the ones above it does).
  const end = code.length;
  return [...code, 0xe8, ...le32(FAR_RET - (end + 5)), 0xe9, ...le32(FAR_JMP - (end + 10))];
}

/**
 * Code in the page above the stack (not the data page: a frame holding code takes every store
 * into it to the handlers): RET, and a JMP rel32 back to the start of the program.
 */
const FAR_RET = STACK_TOP;
const FAR_JMP = STACK_TOP + 0x10;
function farCode(): number[] {
  return [0xc3, ...new Array<number>(FAR_JMP - FAR_RET - 1).fill(0x90), 0xe9, ...le32(CODE - (FAR_JMP + 5))];
}


let primed = false;

/** Runs the priming program once per thread (later calls return at once). */
export function primeInterpreter(): void {
  if (primed) return;
  primed = true;
  try {
    const ram = new SharedArrayBuffer(PAGES * PAGE);
    const phys: PhysMemory = {
      mem8: new Uint8Array(ram),
      mem16: new Uint16Array(ram),
      mem32: new Int32Array(ram),
      p2m: Int32Array.from({ length: PAGES }, (_, g) => g + 1),
      codeMark: new Uint8Array(PAGES),
      codeGen: new Int32Array(PAGES),
    };
    phys.mem8.set(program(), CODE);
    phys.mem8.set(farCode(), FAR_RET);
    const cpu = new Cpu(new SharedArrayBuffer(STATE_BYTES), 0, phys, INERT_CPU_OPS);
    cpu.jit = jitOffConfig();
    const flat = (selector: number, access: number) => ({ selector, base: 0, limit: FLAT_LIMIT, access });
    cpu.init({
      cr0: CR0_PE, eip: CODE, esp: STACK_TOP, ebx: DATA, esi: DATA + 1, ecx: 3, eflags: EFLAGS_FIXED,
      cs: flat(CODE_SEL, AR_CODE32_FLAT), ds: flat(DATA_SEL, AR_DATA32_FLAT), es: flat(DATA_SEL, AR_DATA32_FLAT),
      ss: flat(DATA_SEL, AR_DATA32_FLAT), fs: flat(DATA_SEL, AR_DATA32_FLAT), gs: flat(DATA_SEL, AR_DATA32_FLAT),
    });
    cpu.run(BUDGET);
  } catch {
    // Priming only speeds things up: whatever went wrong, the guest's own run is unaffected.
  }
}
