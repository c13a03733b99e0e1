/**
 * A PCI host bridge with nothing behind it: configuration mechanism #1 ports that answer "no
 * device" everywhere, plus the PIIX reset control register at 0xCF9.
 *
 * References:
 * - PCI Local Bus Specification 3.0, 3.2.2.3.2 "Configuration mechanism #1": CONFIG_ADDRESS at
 *   0xCF8 is a 32-bit register (enable bit 31, bus 23-16, device 15-11, function 10-8, register
 *   7-2; bits 30-24 reserved read 0, bits 1-0 read 0) decoded only for dword accesses;
 *   CONFIG_DATA at 0xCFC-0xCFF. A configuration read of a function that does not exist ends in
 *   a master abort, which returns all ones (vendor ID 0xFFFF = no device).
 * - Intel 82371AB PIIX4 datasheet, Reset Control Register (I/O 0xCF9, byte): bit 1 SYS_RST
 *   (hard/soft), bit 2 RST_CPU (writing 1 resets the system). QEMU hw/isa/piix.c keeps only bit 1
 *   and resets on any write with bit 2 set; so do we. The FADT names 0xCF9/0x06 as the ACPI
 *   reset register.
 * Other byte or word accesses to 0xCF8-0xCFB are ordinary I/O that nobody claims (all ones).
 */
import type { IoSize, Persistent, PortDevice } from './device';
import { requireStateVersion } from './save-state';

/** CONFIG_ADDRESS port (dword accesses only). */
export const PCI_CONFIG_ADDRESS = 0xcf8;
/** CONFIG_DATA window (0xCFC-0xCFF). */
export const PCI_CONFIG_DATA = 0xcfc;
/** Ports the bridge decodes (0xCF8-0xCFF). */
export const PCI_HOST_PORTS = 8;
/** The PIIX reset control register (inside the CONFIG_ADDRESS dword, byte-wide). */
export const PCI_RESET_CONTROL = 0xcf9;
/** Reset control bit 1: SYS_RST (hard rather than soft reset). */
export const RCR_SYS_RST = 0x02;
/** Reset control bit 2: RST_CPU (writing 1 resets the system). */
export const RCR_RST_CPU = 0x04;
/** The value the ACPI reset register is written with (hard reset + reset CPU). */
export const PCI_RESET_VALUE = RCR_SYS_RST | RCR_RST_CPU;
/** CONFIG_ADDRESS bits that exist: enable (31) and bus/device/function/register (23-2). */
const CONFIG_ADDRESS_MASK = 0x80fffffc | 0;
const ONES: Readonly<Record<IoSize, number>> = { 1: 0xff, 2: 0xffff, 4: 0xffffffff };

/** Saved state of the host bridge. */
export interface PciHostState {
  version: 1;
  configAddress: number;
  resetControl: number;
}

/** Options of the host bridge. */
export interface PciHostConfig {
  /** The guest asked for a system reset through the reset control register. */
  onReset?: () => void;
}

/** The empty PCI host bridge. Register it at 0xCF8 for PCI_HOST_PORTS ports with width `any`. */
export class PciHost implements PortDevice, Persistent<PciHostState> {
  readonly name = 'pci-host';
  private configAddress = 0;
  private resetControl = 0;
  private readonly onReset: () => void;

  constructor(config: PciHostConfig = {}) {
    this.onReset = config.onReset ?? (() => {});
  }

  ioRead(port: number, size: IoSize): number {
    if (port === PCI_CONFIG_ADDRESS && size === 4) return this.configAddress >>> 0;
    if (port === PCI_RESET_CONTROL && size === 1) return this.resetControl;
    // CONFIG_DATA: no function exists, every configuration read is a master abort.
    return ONES[size];
  }

  ioWrite(port: number, size: IoSize, value: number): void {
    if (port === PCI_CONFIG_ADDRESS && size === 4) {
      this.configAddress = value & CONFIG_ADDRESS_MASK;
    } else if (port === PCI_RESET_CONTROL && size === 1) {
      if ((value & RCR_RST_CPU) !== 0) {
        this.onReset();
        return;
      }
      this.resetControl = value & RCR_SYS_RST;
    }
    // Configuration writes go nowhere.
  }

  reset(): void {
    this.configAddress = 0;
    this.resetControl = 0;
  }

  saveState(): PciHostState {
    return { version: 1, configAddress: this.configAddress, resetControl: this.resetControl };
  }

  loadState(state: PciHostState): void {
    requireStateVersion(state, 1, 'the PCI host bridge');
    this.configAddress = state.configAddress & CONFIG_ADDRESS_MASK;
    this.resetControl = state.resetControl & RCR_SYS_RST;
  }
}
