/**
 * One BIOS call as a service sees it: the calling VCPU's registers (8/16/32-bit views), its
 * segments, the FLAGS image the INT pushed (what IRET will restore, so CF/ZF results go there),
 * and real-mode memory addressed as segment:offset.
 *
 * The caller's stack at the trap holds the interrupt frame IP, CS, FLAGS (16-bit each) at SS:SP.
 * Services never change CS or IP of the caller; when one loads a segment register it does so with
 * real-mode semantics (selector, base = selector * 16, limit and rights unchanged, as MOV does in
 * real mode) and the BIOS asks the host to reload the VCPU's cached state.
 */
import type { Cpu } from '../../cpu/cpu';
import { getFlags, setArithFlags } from '../../cpu/lazy-flags';
import {
  AR_DB, CF, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP, S_A20_MASK, S_SEG_AR, S_SEG_BASE, S_SEG_SEL, SEG_SS, ZF,
} from '../../cpu/state';
import type { GuestPhysMemory } from '../../machine/guest-memory';

/** Real-mode offsets wrap at 64 KiB. */
const OFFSET_MASK = 0xffff;
/** Real-mode segment -> base shift. */
const PARAGRAPH_SHIFT = 4;
/** Offset of the FLAGS image in the interrupt frame (IP, CS, FLAGS). */
const FRAME_FLAGS = 4;
/** Byte index of a register's low and high byte in the Cpu's 8-bit view. */
const LOW = (reg: number) => reg * 4;
const HIGH = (reg: number) => reg * 4 + 1;

/** The calling context of one BIOS service. */
export class BiosCall {
  /** Set by a service that changed a segment register (the host must reload the VCPU). */
  segmentsChanged = false;

  constructor(
    readonly cpu: Cpu,
    readonly mem: GuestPhysMemory,
    /** The interrupt vector the caller invoked (or the pseudo-vector of an internal service). */
    readonly vector: number,
  ) {}

  // ---- Registers -----------------------------------------------------------------------------------

  get al(): number { return this.cpu.r8[LOW(EAX)]; }
  set al(v: number) { this.cpu.r8[LOW(EAX)] = v; }
  get ah(): number { return this.cpu.r8[HIGH(EAX)]; }
  set ah(v: number) { this.cpu.r8[HIGH(EAX)] = v; }
  get bl(): number { return this.cpu.r8[LOW(EBX)]; }
  set bl(v: number) { this.cpu.r8[LOW(EBX)] = v; }
  get bh(): number { return this.cpu.r8[HIGH(EBX)]; }
  set bh(v: number) { this.cpu.r8[HIGH(EBX)] = v; }
  get cl(): number { return this.cpu.r8[LOW(ECX)]; }
  set cl(v: number) { this.cpu.r8[LOW(ECX)] = v; }
  get ch(): number { return this.cpu.r8[HIGH(ECX)]; }
  set ch(v: number) { this.cpu.r8[HIGH(ECX)] = v; }
  get dl(): number { return this.cpu.r8[LOW(EDX)]; }
  set dl(v: number) { this.cpu.r8[LOW(EDX)] = v; }
  get dh(): number { return this.cpu.r8[HIGH(EDX)]; }
  set dh(v: number) { this.cpu.r8[HIGH(EDX)] = v; }

  get ax(): number { return this.cpu.r16[EAX * 2]; }
  set ax(v: number) { this.cpu.r16[EAX * 2] = v; }
  get bx(): number { return this.cpu.r16[EBX * 2]; }
  set bx(v: number) { this.cpu.r16[EBX * 2] = v; }
  get cx(): number { return this.cpu.r16[ECX * 2]; }
  set cx(v: number) { this.cpu.r16[ECX * 2] = v; }
  get dx(): number { return this.cpu.r16[EDX * 2]; }
  set dx(v: number) { this.cpu.r16[EDX * 2] = v; }
  get si(): number { return this.cpu.r16[ESI * 2]; }
  set si(v: number) { this.cpu.r16[ESI * 2] = v; }
  get di(): number { return this.cpu.r16[EDI * 2]; }
  set di(v: number) { this.cpu.r16[EDI * 2] = v; }
  get bp(): number { return this.cpu.r16[EBP * 2]; }
  set bp(v: number) { this.cpu.r16[EBP * 2] = v; }

  get eax(): number { return this.cpu.s[EAX] >>> 0; }
  set eax(v: number) { this.cpu.s[EAX] = v | 0; }
  get ebx(): number { return this.cpu.s[EBX] >>> 0; }
  set ebx(v: number) { this.cpu.s[EBX] = v | 0; }
  get ecx(): number { return this.cpu.s[ECX] >>> 0; }
  set ecx(v: number) { this.cpu.s[ECX] = v | 0; }
  get edx(): number { return this.cpu.s[EDX] >>> 0; }
  set edx(v: number) { this.cpu.s[EDX] = v | 0; }
  get edi(): number { return this.cpu.s[EDI] >>> 0; }

  // ---- Segments ------------------------------------------------------------------------------------

  /** Selector of segment register `seg` (SEG_ES ... SEG_GS from cpu/state). */
  sel(seg: number): number {
    return this.cpu.s[S_SEG_SEL + seg] & 0xffff;
  }

  /** Loads a segment register as MOV does in real mode (selector and base only). */
  loadSegment(seg: number, selector: number): void {
    const s = this.cpu.s;
    s[S_SEG_SEL + seg] = selector & 0xffff;
    s[S_SEG_BASE + seg] = (selector & 0xffff) << PARAGRAPH_SHIFT;
    this.segmentsChanged = true;
  }

  // ---- Memory --------------------------------------------------------------------------------------

  /** Guest-physical address of seg:off (offset wraps at 64 KiB; the A20 gate applies). */
  linear(segment: number, offset: number): number {
    const addr = ((segment & 0xffff) << PARAGRAPH_SHIFT) + (offset & OFFSET_MASK);
    return (addr & this.cpu.s[S_A20_MASK]) >>> 0;
  }

  read(segment: number, offset: number, len: number): Uint8Array {
    return this.mem.read(this.linear(segment, offset), len);
  }

  write(segment: number, offset: number, data: Uint8Array): void {
    this.mem.write(this.linear(segment, offset), data);
  }

  readU8(segment: number, offset: number): number {
    return this.mem.readU8(this.linear(segment, offset));
  }

  readU16(segment: number, offset: number): number {
    return this.mem.readU16(this.linear(segment, offset));
  }

  readU32(segment: number, offset: number): number {
    return this.mem.readU32(this.linear(segment, offset));
  }

  writeU8(segment: number, offset: number, value: number): void {
    this.mem.writeU8(this.linear(segment, offset), value);
  }

  writeU16(segment: number, offset: number, value: number): void {
    this.mem.writeU16(this.linear(segment, offset), value);
  }

  writeU32(segment: number, offset: number, value: number): void {
    this.mem.writeU32(this.linear(segment, offset), value);
  }

  // ---- The FLAGS image on the caller's stack -------------------------------------------------------

  /** Guest-physical address of the stacked FLAGS word. */
  private flagsAddr(): number {
    const s = this.cpu.s;
    const big = (s[S_SEG_AR + SEG_SS] & AR_DB) !== 0;
    const sp = big ? (s[ESP] >>> 0) + FRAME_FLAGS : (s[ESP] + FRAME_FLAGS) & OFFSET_MASK;
    return ((s[S_SEG_BASE + SEG_SS] + sp) & s[S_A20_MASK]) >>> 0;
  }

  /** The caller's FLAGS as IRET will restore them. */
  get callerFlags(): number {
    return this.mem.readU16(this.flagsAddr());
  }

  /** Sets or clears flag bits in the FLAGS image IRET will restore. */
  setCallerFlag(mask: number, on: boolean): void {
    const addr = this.flagsAddr();
    const f = this.mem.readU16(addr);
    this.mem.writeU16(addr, on ? f | mask : f & ~mask);
  }

  /** CF as the caller will see it after IRET. */
  set carry(on: boolean) {
    this.setCallerFlag(CF, on);
  }

  get carry(): boolean {
    return (this.callerFlags & CF) !== 0;
  }

  /** ZF as the caller will see it after IRET. */
  set zero(on: boolean) {
    this.setCallerFlag(ZF, on);
  }

  get zero(): boolean {
    return (this.callerFlags & ZF) !== 0;
  }

  /** The usual status return: AH = code, CF = (code != 0). */
  status(code: number): void {
    this.ah = code;
    this.carry = code !== 0;
  }

  // ---- Live flags (read by the stub's retry test right after the trap) -------------------------------

  /** Sets the live CF/ZF the ROM stub tests after the trap (CF=1: call again; ZF=1: halt first). */
  setStubFlags(again: boolean, halt: boolean): void {
    setArithFlags(this.cpu, CF | ZF, (again ? CF : 0) | (halt ? ZF : 0));
  }

  /** The live flags (tests). */
  liveFlags(): number {
    return getFlags(this.cpu);
  }
}
