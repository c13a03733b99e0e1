/**
 * Guest-physical memory as seen by loaders, firmware and device back ends (not by the CPU's
 * hot path, which reads machine memory directly through its TLB). Addresses are guest-physical.
 * Accesses outside the guest's RAM throw a MemoryError naming the address.
 */
export interface GuestPhysMemory {
  /** Bytes of RAM the guest has, starting at guest-physical 0 (MMIO holes excluded). */
  readonly ramSize: number;
  /** True if every byte of [addr, addr+len) is guest RAM. */
  isRam(addr: number, len: number): boolean;
  read(addr: number, len: number): Uint8Array;
  write(addr: number, data: Uint8Array): void;
  fill(addr: number, len: number, value: number): void;
  readU8(addr: number): number;
  readU16(addr: number): number;
  readU32(addr: number): number;
  writeU8(addr: number, value: number): void;
  writeU16(addr: number, value: number): void;
  writeU32(addr: number, value: number): void;
}
