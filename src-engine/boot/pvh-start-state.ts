/**
 * The register state a PVH guest starts with (docs/misc/pvh.pandoc and what Xen's domain builder
 * sets): 32-bit protected mode, paging off; CR0 = PE | ET, CR4 = 0, EFER = 0; CS a flat 32-bit
 * execute/read code segment, DS/ES/SS (and here FS/GS) flat read/write data, TR a busy 32-bit TSS
 * at 0 with limit 0x67; EFLAGS = 0x2 (IF clear); EBX = the hvm_start_info address; EIP = the
 * PHYS32_ENTRY value. Selectors are unspecified (Xen leaves them 0); GDTR/IDTR are not valid - the
 * guest loads its own.
 */
import { AR_CODE32_FLAT, AR_DATA32_FLAT, AR_TSS32_BUSY, type CpuInitState, type SegmentInit } from '../cpu/init-state';

/** CR0.PE | CR0.ET. */
export const PVH_CR0 = 0x11;
/** EFLAGS with only the always-one bit. */
export const PVH_EFLAGS = 0x2;
/** TR limit: a 32-bit TSS (104 bytes). */
export const PVH_TSS_LIMIT = 0x67;
/** A 4 GiB byte-granular limit. */
const FLAT_LIMIT = 0xffffffff;

const flat = (access: number): SegmentInit => ({ selector: 0, base: 0, limit: FLAT_LIMIT | 0, access });

/** The boot VCPU's state for entry `entry` with hvm_start_info at `startInfo`. */
export function pvhInitialState(entry: number, startInfo: number): CpuInitState {
  const data = flat(AR_DATA32_FLAT);
  return {
    eip: entry,
    ebx: startInfo,
    eflags: PVH_EFLAGS,
    cr0: PVH_CR0,
    cr4: 0,
    cs: flat(AR_CODE32_FLAT),
    ds: data,
    es: data,
    ss: data,
    fs: data,
    gs: data,
    tr: { selector: 0, base: 0, limit: PVH_TSS_LIMIT, access: AR_TSS32_BUSY },
  };
}
