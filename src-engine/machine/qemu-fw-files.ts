/**
 * fw_cfg files every QEMU PC machine offers and third-party firmware built for QEMU reads
 * (`--machine qemu-testdev`): the RAM map and the boot-failure policy.
 *
 * References: QEMU hw/i386/e820_memory_layout.h (struct e820_entry: u64 address, u64 length,
 * u32 type, packed, little-endian) and hw/i386/pc.c (RAM below and above 4 GiB as E820_RAM, the
 * file "etc/e820"); QEMU softmmu/vl.c and hw/nvram/fw_cfg.c (fw_cfg_reboot: "etc/boot-fail-wait",
 * a u32 in milliseconds, -1 when -boot reboot-timeout is not given). qboot panics without
 * "etc/e820" (extract_e820); SeaBIOS falls back to the CMOS RAM size without it, and without
 * "etc/boot-fail-wait" retries the boot after 60 s instead of waiting for ever.
 */

/** Bytes of one entry of "etc/e820". */
const E820_ENTRY_BYTES = 20;
/** E820 type 1: usable RAM. */
const E820_RAM = 1;
/** Where RAM above the 32-bit hole starts. */
const FOUR_GIB = 0x100000000;
/** "etc/boot-fail-wait" without -boot reboot-timeout: never retry (u32 -1). */
const BOOT_FAIL_WAIT_FOREVER = 0xffffffff;

/** A file for the fw_cfg device. */
export interface FwCfgFile {
  name: string;
  data: Uint8Array;
}

/** "etc/e820": RAM from 0 (and above 4 GiB), as QEMU's PC machines describe it. */
export function qemuE820File(ramBelow4G: number, ramAbove4G = 0): FwCfgFile {
  const entries: [number, number][] = [[0, ramBelow4G]];
  if (ramAbove4G > 0) entries.push([FOUR_GIB, ramAbove4G]);
  const data = new Uint8Array(entries.length * E820_ENTRY_BYTES);
  const view = new DataView(data.buffer);
  entries.forEach(([address, length], i) => {
    const at = i * E820_ENTRY_BYTES;
    view.setBigUint64(at, BigInt(address), true);
    view.setBigUint64(at + 8, BigInt(length), true);
    view.setUint32(at + 16, E820_RAM, true);
  });
  return { name: 'etc/e820', data };
}

/** The files of `--machine qemu-testdev`'s fw_cfg. */
export function qemuFwCfgFiles(ramBelow4G: number, ramAbove4G = 0): FwCfgFile[] {
  const wait = new Uint8Array(4);
  new DataView(wait.buffer).setUint32(0, BOOT_FAIL_WAIT_FOREVER, true);
  return [qemuE820File(ramBelow4G, ramAbove4G), { name: 'etc/boot-fail-wait', data: wait }];
}
