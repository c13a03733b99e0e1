/**
 * Where the high-level BIOS puts things: the trap port, the ROM segment and its IBM-compatible
 * entry points, the BIOS Data Area fields, the EBDA, and the boot hand-off state.
 *
 * Memory map below 1 MiB (guest-physical):
 *   0x00000-0x003FF  interrupt vector table (256 far pointers)
 *   0x00400-0x004FF  BIOS Data Area (BDA)
 *   0x00500-0x9FBFF  free for the guest (the BIOS keeps nothing here)
 *   0x07C00          boot sector / El Torito no-emulation image load address
 *   0x9FC00-0x9FFFF  Extended BIOS Data Area (1 KiB, E820 reserved)
 *   0xA0000-0xBFFFF  VGA window; 0xB8000 text buffer
 *   0xF0000-0xFFFFF  BIOS "ROM" (64 KiB of RAM the BIOS fills at POST; E820 reserved), also
 *                    seen at 0xFFFF0000-0xFFFFFFFF for the reset vector when the host aliases it
 *
 * References: IBM PC/AT Technical Reference (BDA layout, ROM entry points), Ralf Brown's
 * Interrupt List (BDA, INT 15h C0h configuration table), SeaBIOS src/std/bda.h and
 * src/romlayout.S (the same fixed entry points), spec/grub-iso-and-bios.md section 4.4.
 */

// ---- Trap port -------------------------------------------------------------------------------------

/**
 * The I/O port the BIOS's ROM stubs write to (`OUT 0xE0, AL`) to enter TypeScript. Ports
 * 0xE0-0xEF are unassigned on the PC/AT (none in platform-pc.ts; QEMU uses 0xE9 only for its
 * optional debug console). A write counts as a BIOS call only when the OUT instruction lies in
 * the BIOS ROM at a known stub; any other access reads 0xFF and is ignored.
 */
export const BIOS_TRAP_PORT = 0xe0;
/** Length of `OUT imm8, AL` (0xE6 ib): the trap site is EIP minus this. */
export const TRAP_INSN_BYTES = 2;

// ---- ROM ---------------------------------------------------------------------------------------------

/** Real-mode segment of the BIOS ROM. */
export const BIOS_SEGMENT = 0xf000;
/** Guest-physical start of the BIOS ROM. */
export const BIOS_BASE = 0xf0000;
/** Bytes of the BIOS ROM. */
export const BIOS_SIZE = 0x10000;
/** Where the top-of-4-GiB alias of the ROM starts (the reset vector lies at its end). */
export const BIOS_HIGH_ALIAS = 0xffff0000;

/** Fixed ROM offsets of the IBM PC/AT BIOS, kept by compatible BIOSes (SeaBIOS romlayout.S). */
export const ROM = {
  /** String table (OEM strings, VBE strings, banner). */
  strings: 0x0100,
  /** Free area for stubs without a fixed address. */
  extraStubs: 0xe000,
  /** POST entry (the reset vector jumps here). */
  post: 0xe05b,
  /** NMI handler. */
  nmi: 0xe2c3,
  /** INT 13h entry. */
  int13: 0xe3fe,
  /** Fixed disk parameter table of the first hard disk (INT 41h). */
  fdpt0: 0xe401,
  /** INT 19h entry (bootstrap loader). */
  int19: 0xe6f2,
  /** System configuration table (INT 15h AH=C0h). */
  configTable: 0xe6f5,
  /** INT 14h entry (serial). */
  int14: 0xe739,
  /** INT 16h entry (keyboard). */
  int16: 0xe82e,
  /** INT 09h entry (keyboard IRQ1). */
  int09: 0xe987,
  /** Diskette parameter table (INT 1Eh). */
  disketteParams: 0xefc7,
  /** INT 17h entry (printer). */
  int17: 0xefd2,
  /** INT 10h entry (video). */
  int10: 0xf065,
  /** INT 12h entry (memory size). */
  int12: 0xf841,
  /** INT 11h entry (equipment). */
  int11: 0xf84d,
  /** INT 15h entry (system services). */
  int15: 0xf859,
  /** INT 1Ah entry (time of day). */
  int1a: 0xfe6e,
  /** INT 08h entry (timer IRQ0). */
  int08: 0xfea5,
  /** Default IRET for unused vectors. */
  iret: 0xff53,
  /** Reset vector: JMP FAR F000:E05B. */
  reset: 0xfff0,
  /** BIOS release date "MM/DD/YY". */
  date: 0xfff5,
  /** System model byte. */
  model: 0xfffe,
} as const;

/** Model byte 0xFC: PC/AT and compatibles. */
export const MODEL_AT = 0xfc;
/** Submodel and BIOS revision in the configuration table. */
export const SUBMODEL = 0x00;
export const BIOS_REVISION = 0x01;
/** Release date shown at F000:FFF5. */
export const BIOS_DATE = '01/01/25';

// ---- Interrupt vectors -------------------------------------------------------------------------------

/** Vectors of the master PIC's IRQ 0-7 in real mode. */
export const IRQ_BASE_MASTER = 0x08;
/** Vectors of the slave PIC's IRQ 8-15 in real mode. */
export const IRQ_BASE_SLAVE = 0x70;
/** Vectors reserved for user programs (RBIL: 60h-67h), left zero. */
export const USER_VECTORS = [0x60, 0x67] as const;

// ---- BIOS Data Area (offsets from 0x400) -------------------------------------------------------------

/** Guest-physical start of the BDA (segment 0x40). */
export const BDA_BASE = 0x400;
/** First byte after the BDA: the guest's free conventional memory starts here. */
export const FREE_MEMORY_START = 0x500;
/** BDA segment. */
export const BDA_SEGMENT = 0x40;
/** BDA field offsets (relative to 0x400). */
export const BDA = {
  /** COM1-COM4 I/O bases (4 words). */
  comBases: 0x00,
  /** LPT1-LPT3 I/O bases (3 words). */
  lptBases: 0x08,
  /** EBDA segment (word). */
  ebdaSegment: 0x0e,
  /** Equipment word. */
  equipment: 0x10,
  /** Base memory in KiB (word). */
  baseMemoryKiB: 0x13,
  /** Keyboard shift flags 1 and 2 (bytes). */
  kbdFlags0: 0x17,
  kbdFlags1: 0x18,
  /** Keyboard buffer head and tail (offsets from 0x400). */
  kbdHead: 0x1a,
  kbdTail: 0x1c,
  /** The default keyboard buffer (16 words). */
  kbdBuffer: 0x1e,
  /** Current video mode (byte). */
  videoMode: 0x49,
  /** Columns on screen (word). */
  videoCols: 0x4a,
  /** Bytes per video page (word). */
  videoPageSize: 0x4c,
  /** Offset of the active page in video memory (word). */
  videoPageStart: 0x4e,
  /** Cursor position per page (8 words: low byte column, high byte row). */
  cursorPos: 0x50,
  /** Cursor shape (word: high byte start line, low byte end line). */
  cursorShape: 0x60,
  /** Active display page (byte). */
  activePage: 0x62,
  /** CRTC base port (word, 0x3D4). */
  crtcPort: 0x63,
  /** Mode control register value (byte). */
  modeControl: 0x65,
  /** Palette register value (byte). */
  palette: 0x66,
  /** Timer ticks since midnight (dword). */
  ticks: 0x6c,
  /** Timer overflow (midnight passed) flag (byte). */
  midnight: 0x70,
  /** Ctrl-Break flag (byte). */
  ctrlBreak: 0x71,
  /** Soft reset flag (word; 0x1234 = warm boot). */
  resetFlag: 0x72,
  /** Status of the last hard disk operation (byte). */
  diskLastStatus: 0x74,
  /** Number of hard disks (byte). */
  hdCount: 0x75,
  /** Keyboard buffer start and end (offsets from 0x400). */
  kbdBufStart: 0x80,
  kbdBufEnd: 0x82,
  /** Rows on screen minus one (byte). */
  videoRows: 0x84,
  /** Character height in scan lines (word). */
  charHeight: 0x85,
  /** EGA/VGA control bits (byte). */
  videoCtl: 0x87,
  /** EGA/VGA switches (byte). */
  videoSwitches: 0x88,
  /** VGA mode-set option flags (byte). */
  vgaFlags: 0x89,
  /** Display combination code index (byte). */
  dccIndex: 0x8a,
  /** Keyboard mode/type flags (byte; bit 4 = 101/102-key keyboard). */
  kbdMode: 0x96,
} as const;
/** End of the BDA keyboard buffer (exclusive, offset from 0x400). */
export const KBD_BUFFER_END = 0x3e;

// ---- EBDA ----------------------------------------------------------------------------------------------

/** EBDA segment (1 KiB just below 640 KiB, as SeaBIOS). */
export const EBDA_SEGMENT = 0x9fc0;
/** EBDA size in KiB (first byte of the EBDA). */
export const EBDA_SIZE_KIB = 1;

// ---- Boot hand-off (spec section 4.4: what SeaBIOS leaves at 0x7C00) -------------------------------------

/** Load address of a boot sector / El Torito default load segment 0x07C0. */
export const BOOT_LOAD_ADDR = 0x7c00;
/** Default El Torito load segment (load segment 0 in the catalog means this). */
export const ELTORITO_DEFAULT_SEGMENT = 0x07c0;
/** SS:SP at the hand-off: 0000:6F3C, where SeaBIOS 1.16 leaves its stack. */
export const BOOT_STACK_TOP = 0x6f3c;
/** AX at the hand-off: the boot signature. */
export const BOOT_AX = 0xaa55;
/** FLAGS at the hand-off: IF set (and the always-one bit 1). */
export const BOOT_FLAGS = 0x0202;
/** Boot sector signature bytes at offset 510. */
export const MBR_SIGNATURE = 0xaa55;
/** Offset of the signature in a 512-byte boot sector. */
export const MBR_SIGNATURE_OFFSET = 510;

// ---- BIOS drive numbers ----------------------------------------------------------------------------------

/** First hard disk. */
export const DRIVE_FIRST_HD = 0x80;
/** First CD-ROM (SeaBIOS EXTSTART_CD; >= 0x90 so GRUB knows it booted from a CD). */
export const DRIVE_FIRST_CD = 0xe0;
