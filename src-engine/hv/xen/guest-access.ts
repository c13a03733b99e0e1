/**
 * copy_from_guest / copy_to_guest for one VCPU: hypercall pointers are guest-virtual (linear)
 * addresses, translated through the guest's page tables as they are at the time of the call.
 *
 * Design. A Cpu object on the hypervisor thread is bound to the VCPU's shared state block and
 * the domain's P2M; its MMU walks the guest's page tables (the same code the pCPU uses, so
 * 2-level, PSE and PAE paging - with the PDPTE registers from the state block - all behave
 * identically). Every translation is a fresh walk (cpu/mmu translate()), never a TLB lookup, so
 * nothing cached can go stale between calls. A walk that faults does not touch the guest:
 * CR2 (which the MMU writes on a page fault) is restored and the copy fails with EFAULT. Only
 * frames named by the domain's P2M are ever read or written; anything that is not RAM (an MMIO
 * hole, an unpopulated frame) is EFAULT too. Supervisor access rules apply (CR0.WP honoured), as
 * for Xen's copy_to_guest on an HVM vCPU.
 *
 * Writes go straight into machine memory and invalidate decoded code in the frames they touch,
 * like a guest store would (codeMark/codeGen).
 */
import { Cpu } from '../../cpu/cpu';
import { INERT_CPU_OPS, type CpuOps } from '../../cpu/ops';
import type { CpuFeatures } from '../../cpu/cpuid';
import { FAULT } from '../../cpu/fault';
import { flushTlb, gpaToMachine, NOT_RAM, TLB_SIZE, translate } from '../../cpu/mmu';
import { S_CR2, STATE_BYTES } from '../../cpu/state';
import type { DomainMemory } from '../memory/domain-memory';
import { EFAULT, XenFault } from './abi/xen-errno';
import { touchFrames } from './mem-util';

/** Bytes per page. */
const PAGE = 4096;
/** Filled TLB slots after which begin() empties the walk-only Cpu's TLB. */
const TLB_REFILL_LIMIT = TLB_SIZE / 2;
/** Largest single copy a hypercall may ask for (bounds work done for one call). */
export const MAX_GUEST_COPY = 1 << 20;

/** CpuOps for a Cpu that only walks page tables: non-RAM reads as all ones, nothing else exists. */
const WALK_ONLY_OPS: CpuOps = {
  ...INERT_CPU_OPS,
  ioRead: () => 0xffffffff,
  mmioRead: (_a, size) => (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff),
};

/** Guest memory as seen by one VCPU during a hypercall. */
export class GuestAccess {
  private readonly cpu: Cpu;
  private readonly mem8: Uint8Array;
  private readonly codeMark: Uint8Array;
  private readonly codeGen: Int32Array;

  constructor(states: SharedArrayBuffer, vcpu: number, readonly memory: DomainMemory, features: CpuFeatures) {
    this.cpu = new Cpu(states, vcpu * STATE_BYTES, memory.physMemory, WALK_ONLY_OPS, { features, vcpuId: vcpu });
    this.mem8 = memory.physMemory.mem8;
    this.codeMark = memory.physMemory.codeMark;
    this.codeGen = memory.physMemory.codeGen;
  }

  /**
   * Call at the start of each hypercall. Translations are never cached (see the file comment),
   * so there is nothing to drop; the TLB the walks fill is only emptied when it gets full.
   */
  begin(): void {
    if (this.cpu.tlbUsed[TLB_SIZE] > TLB_REFILL_LIMIT) flushTlb(this.cpu, false);
  }

  /** Machine byte offset of linear `lin` for a read or write, or throws EFAULT. */
  machineOffset(lin: number, write: boolean): number {
    const s = this.cpu.s;
    const cr2 = s[S_CR2];
    let gpa: number;
    try {
      gpa = translate(this.cpu, lin | 0, write, false);
    } catch (e) {
      if (e !== FAULT) throw e;
      s[S_CR2] = cr2;
      throw new XenFault(EFAULT, `linear 0x${(lin >>> 0).toString(16)} does not translate`);
    }
    const off = gpaToMachine(this.cpu, gpa);
    if (off === NOT_RAM) throw new XenFault(EFAULT, `guest-physical 0x${gpa.toString(16)} is not RAM`);
    return off;
  }

  /** Checks that `len` bytes at `lin` are accessible (every page walked) before anything is done. */
  check(lin: number, len: number, write: boolean): void {
    this.pages(lin, len, write, () => {});
  }

  /** copy_from_guest: `len` bytes at linear `lin`. */
  read(lin: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.pages(lin, len, false, (off, k, n) => out.set(this.mem8.subarray(off, off + n), k));
    return out;
  }

  /** copy_to_guest: writes `data` at linear `lin` (all pages are checked first). */
  write(lin: number, data: Uint8Array): void {
    this.pages(lin, data.length, true, (off, k, n) => {
      this.mem8.set(data.subarray(k, k + n), off);
      touchFrames(this.codeMark, this.codeGen, off, n);
    });
  }

  readU8(lin: number): number {
    return this.mem8[this.machineOffset(lin, false)];
  }

  readU16(lin: number): number {
    const b = this.read(lin, 2);
    return b[0] | (b[1] << 8);
  }

  readU32(lin: number): number {
    const b = this.read(lin, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  writeU32(lin: number, v: number): void {
    this.write(lin, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
  }

  /** A NUL-terminated string of at most `max` bytes (EFAULT if unterminated within `max`). */
  readCString(lin: number, max: number): string {
    const bytes: number[] = [];
    for (let k = 0; k < max; k++) {
      const b = this.readU8((lin + k) | 0);
      if (b === 0) return new TextDecoder().decode(Uint8Array.from(bytes));
      bytes.push(b);
    }
    throw new XenFault(EFAULT, 'string is not terminated');
  }

  /**
   * Walks [lin, lin+len) page by page: translates every page first (so a fault leaves no partial
   * copy), then calls `fn` for each piece.
   */
  private pages(lin: number, len: number, write: boolean, fn: (off: number, k: number, n: number) => void): void {
    if (!Number.isInteger(len) || len < 0 || len > MAX_GUEST_COPY) throw new XenFault(EFAULT, `copy of ${len} bytes`);
    const offs: number[] = [];
    let k = 0;
    while (k < len) {
      const a = ((lin >>> 0) + k) % 2 ** 32;
      const n = Math.min(len - k, PAGE - (a % PAGE));
      offs.push(this.machineOffset(a, write));
      k += n;
    }
    k = 0;
    let i = 0;
    while (k < len) {
      const a = ((lin >>> 0) + k) % 2 ** 32;
      const n = Math.min(len - k, PAGE - (a % PAGE));
      fn(offs[i++], k, n);
      k += n;
    }
  }
}
