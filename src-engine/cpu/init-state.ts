/**
 * The register state a loader, firmware or the hypervisor hands to a VCPU before it first runs.
 * Anything not given takes its reset value (real mode at F000:FFF0 for a fresh HVM VCPU).
 */

/**
 * A segment register with its hidden descriptor cache. `access` uses the VMX "access rights"
 * layout: bits 0-3 type, 4 S, 5-6 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G; e.g. 0xC09B is a flat
 * 32-bit execute/read code segment, 0xC093 flat read/write data, 0x008B a busy 32-bit TSS.
 * `limit` is the byte-granular limit (already scaled by G).
 */
export interface SegmentInit {
  selector: number;
  base: number;
  limit: number;
  access: number;
}

/** A descriptor-table register (GDTR, IDTR). */
export interface TableRegInit {
  base: number;
  limit: number;
}

/** Initial VCPU state. Omitted fields keep their reset values. */
export interface CpuInitState {
  eax?: number;
  ecx?: number;
  edx?: number;
  ebx?: number;
  esp?: number;
  ebp?: number;
  esi?: number;
  edi?: number;
  eip?: number;
  eflags?: number;
  cr0?: number;
  cr3?: number;
  cr4?: number;
  cs?: SegmentInit;
  ds?: SegmentInit;
  es?: SegmentInit;
  fs?: SegmentInit;
  gs?: SegmentInit;
  ss?: SegmentInit;
  tr?: SegmentInit;
  ldtr?: SegmentInit;
  gdtr?: TableRegInit;
  idtr?: TableRegInit;
}

/** Access rights of a flat 32-bit execute/read code segment (accessed, DPL 0, G, D). */
export const AR_CODE32_FLAT = 0xc09b;
/** Access rights of a flat 32-bit read/write data segment (accessed, DPL 0, G, B). */
export const AR_DATA32_FLAT = 0xc093;
/** Access rights of a busy 32-bit TSS. */
export const AR_TSS32_BUSY = 0x008b;
