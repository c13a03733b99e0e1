/**
 * VGA text mode as a screen model: the 80x25 character/attribute buffer at 0xB8000 (plain guest
 * RAM, read when someone looks) and the VGA register file at ports 0x3C0-0x3DF, of which the CRTC
 * cursor and start-address registers give the cursor and the visible page. Enough for the BIOS's
 * INT 10h text output, GRUB's console and Linux's vgacon; no graphics modes, fonts or planes.
 *
 * References:
 * - IBM VGA Technical Reference: CRTC index 0x3D4 / data 0x3D5 (colour addressing); registers 0x0A
 *   cursor start (bit 5 = cursor off), 0x0B cursor end, 0x0C/0x0D start address, 0x0E/0x0F cursor
 *   location (in character cells from the start of video memory); input status 1 at 0x3DA
 *   (bit 0 display disabled, bit 3 vertical retrace; reading it resets the attribute flip-flop);
 *   attribute controller 0x3C0 (index/data flip-flop) and 0x3C1; sequencer 0x3C4/0x3C5;
 *   DAC 0x3C7-0x3C9; misc output write 0x3C2 / read 0x3CC; graphics controller 0x3CE/0x3CF.
 * - Text cells: 16-bit words, low byte = code point in code page 437, high byte = attribute
 *   (bits 0-3 foreground, 4-6 background, 7 blink).
 *
 * The device does not know where it sits: registerVgaText places it on a bus at the standard
 * ports. Memory is reached through the GuestPhysMemory it is given.
 */
import type { IoSize, Persistent, PortDevice } from './device';
import type { GuestPhysMemory } from './guest-memory';
import type { IoBus } from './io-bus';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Constants -----------------------------------------------------------------------------------

/** Guest-physical address of colour text-mode video memory. */
export const VGA_TEXT_BASE = 0xb8000;
/** Bytes of the colour text window (0xB8000-0xBFFFF: 8 pages of 80x25). */
export const VGA_TEXT_WINDOW = 0x8000;
/** Columns of mode 3. */
export const VGA_TEXT_COLS = 80;
/** Rows of mode 3. */
export const VGA_TEXT_ROWS = 25;
/** First port of the VGA register file. */
export const VGA_PORT_BASE = 0x3c0;
/** Ports of the VGA register file (0x3C0-0x3DF). */
export const VGA_PORT_COUNT = 0x20;

/** Attribute controller index/data (write) port. */
const PORT_ATTR = 0x3c0;
/** Attribute controller data read port. */
const PORT_ATTR_READ = 0x3c1;
/** Misc output register, write side. */
const PORT_MISC_WRITE = 0x3c2;
const PORT_SEQ_INDEX = 0x3c4;
const PORT_SEQ_DATA = 0x3c5;
/** DAC read index (write) / DAC state (read). */
const PORT_DAC_READ_INDEX = 0x3c7;
const PORT_DAC_WRITE_INDEX = 0x3c8;
const PORT_DAC_DATA = 0x3c9;
/** Misc output register, read side. */
const PORT_MISC_READ = 0x3cc;
const PORT_GC_INDEX = 0x3ce;
const PORT_GC_DATA = 0x3cf;
/** CRTC index and data (colour addressing). */
export const VGA_CRTC_INDEX = 0x3d4;
export const VGA_CRTC_DATA = 0x3d5;
/** Input status register 1 (colour addressing). */
const PORT_STATUS1 = 0x3da;

/** CRTC register: cursor start scan line; bit 5 turns the cursor off. */
export const CRTC_CURSOR_START = 0x0a;
/** CRTC register: cursor end scan line. */
export const CRTC_CURSOR_END = 0x0b;
/** CRTC registers: display start address, high and low byte (in cells). */
export const CRTC_START_HIGH = 0x0c;
export const CRTC_START_LOW = 0x0d;
/** CRTC registers: cursor location, high and low byte (in cells from the start of video memory). */
export const CRTC_CURSOR_HIGH = 0x0e;
export const CRTC_CURSOR_LOW = 0x0f;
/** Cursor start bit that hides the cursor. */
export const CURSOR_DISABLE = 0x20;
/** Scan-line mask of the cursor start/end registers. */
const SCANLINE_MASK = 0x1f;
/** CRTC registers that exist (0x00-0x18). */
const CRTC_REGS = 0x19;
const SEQ_REGS = 5;
const GC_REGS = 9;
const ATTR_REGS = 0x15;
/** Attribute index bit 5: palette address source (screen on). */
const ATTR_PAS = 0x20;
const ATTR_INDEX_MASK = 0x1f;
/** DAC entries x 3 colour components. */
const DAC_BYTES = 256 * 3;
/** Input status 1 bits: display disabled (horizontal/vertical blank) and vertical retrace. */
const STATUS_DISPLAY_DISABLED = 0x01;
const STATUS_VRETRACE = 0x08;
/** Misc output at power-on in mode 3: colour addressing, 28 MHz clock, RAM enabled, sync polarity. */
const MISC_MODE3 = 0x67;
/** CRTC values of mode 3 that matter here: cursor scan lines 14-15 (underline), start 0, cursor 0. */
const MODE3_CURSOR_START = 0x0e;
const MODE3_CURSOR_END = 0x0f;
/** Attribute of a blank cell in mode 3: light grey on black. */
export const VGA_DEFAULT_ATTR = 0x07;
/** A blank cell: space with the default attribute. */
export const VGA_BLANK_CELL = (VGA_DEFAULT_ATTR << 8) | 0x20;

// ---- Code page 437 -------------------------------------------------------------------------------

/** Unicode for each byte of code page 437 (0x00 shown as a space; 0xFF is a no-break space). */
export const CP437 =
  ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼' +
  ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~⌂' +
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»' +
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

// ---- State ---------------------------------------------------------------------------------------

/** The cursor as the screen shows it. */
export interface VgaCursor {
  row: number;
  col: number;
  visible: boolean;
  /** Scan lines the cursor block covers (0-15 in a 16-line cell). */
  startLine: number;
  endLine: number;
}

/** One look at the text screen. */
export interface VgaTextScreen {
  cols: number;
  rows: number;
  /** rows x cols cells, row-major: low byte CP437 code, high byte attribute. */
  cells: Uint16Array;
  cursor: VgaCursor;
}

/** Saved register file. */
export interface VgaTextState {
  version: 1;
  crtcIndex: number;
  crtc: number[];
  seqIndex: number;
  seq: number[];
  gcIndex: number;
  gc: number[];
  attrIndex: number;
  attrFlipFlopData: boolean;
  attr: number[];
  misc: number;
  dacReadIndex: number;
  dacWriteIndex: number;
  dacComponent: number;
  dac: number[];
}

/** What the model needs. */
export interface VgaTextConfig {
  /** Guest memory holding the text buffer at 0xB8000. */
  memory: GuestPhysMemory;
}

/** The VGA text screen and register file. */
export class VgaText implements PortDevice, Persistent<VgaTextState> {
  readonly name = 'vga';
  private readonly memory: GuestPhysMemory;
  private s!: VgaTextState;
  /** Toggles on every status read so polling loops see retrace come and go. */
  private retraceToggle = false;
  private last: VgaTextScreen | undefined;

  constructor(config: VgaTextConfig) {
    this.memory = config.memory;
    this.reset();
  }

  /** Registers as in mode 3 after a VGA BIOS set it up; the text buffer is not touched. */
  reset(): void {
    const crtc = new Array<number>(CRTC_REGS).fill(0);
    crtc[CRTC_CURSOR_START] = MODE3_CURSOR_START;
    crtc[CRTC_CURSOR_END] = MODE3_CURSOR_END;
    this.s = {
      version: 1,
      crtcIndex: 0,
      crtc,
      seqIndex: 0,
      seq: new Array<number>(SEQ_REGS).fill(0),
      gcIndex: 0,
      gc: new Array<number>(GC_REGS).fill(0),
      attrIndex: ATTR_PAS,
      attrFlipFlopData: false,
      attr: new Array<number>(ATTR_REGS).fill(0),
      misc: MISC_MODE3,
      dacReadIndex: 0,
      dacWriteIndex: 0,
      dacComponent: 0,
      dac: new Array<number>(DAC_BYTES).fill(0),
    };
    this.last = undefined;
  }

  // ---- The screen --------------------------------------------------------------------------------

  /** Display start offset in cells (CRTC 0x0C/0x0D). */
  startOffset(): number {
    return (this.s.crtc[CRTC_START_HIGH] << 8) | this.s.crtc[CRTC_START_LOW];
  }

  /** The cursor, relative to the displayed page. */
  cursor(): VgaCursor {
    const c = this.s.crtc;
    const at = ((c[CRTC_CURSOR_HIGH] << 8) | c[CRTC_CURSOR_LOW]) - this.startOffset();
    const startLine = c[CRTC_CURSOR_START] & SCANLINE_MASK;
    const endLine = c[CRTC_CURSOR_END] & SCANLINE_MASK;
    const inside = at >= 0 && at < VGA_TEXT_COLS * VGA_TEXT_ROWS;
    return {
      row: inside ? Math.floor(at / VGA_TEXT_COLS) : 0,
      col: inside ? at % VGA_TEXT_COLS : 0,
      visible: inside && (c[CRTC_CURSOR_START] & CURSOR_DISABLE) === 0 && startLine <= endLine,
      startLine,
      endLine,
    };
  }

  /** The displayed 80x25 cells and the cursor. Cells outside guest RAM read as blanks. */
  snapshot(): VgaTextScreen {
    const cells = new Uint16Array(VGA_TEXT_COLS * VGA_TEXT_ROWS);
    const start = VGA_TEXT_BASE + ((this.startOffset() * 2) % VGA_TEXT_WINDOW);
    const bytes = cells.length * 2;
    if (this.memory.isRam(start, bytes)) {
      const raw = this.memory.read(start, bytes);
      for (let i = 0; i < cells.length; i++) cells[i] = raw[2 * i] | (raw[2 * i + 1] << 8);
    } else {
      cells.fill(VGA_BLANK_CELL);
    }
    return { cols: VGA_TEXT_COLS, rows: VGA_TEXT_ROWS, cells, cursor: this.cursor() };
  }

  /** A snapshot if the cells or the cursor changed since the last call, else undefined (GUI polling). */
  snapshotIfChanged(): VgaTextScreen | undefined {
    const now = this.snapshot();
    const prev = this.last;
    this.last = now;
    if (prev === undefined) return now;
    const c0 = prev.cursor;
    const c1 = now.cursor;
    const cursorSame = c0.row === c1.row && c0.col === c1.col && c0.visible === c1.visible && c0.startLine === c1.startLine && c0.endLine === c1.endLine;
    if (cursorSame && prev.cells.every((v, i) => v === now.cells[i])) return undefined;
    return now;
  }

  /** The screen as text lines (CP437 decoded, trailing blanks trimmed). */
  lines(screen: VgaTextScreen = this.snapshot()): string[] {
    const out: string[] = [];
    for (let r = 0; r < screen.rows; r++) {
      let line = '';
      for (let c = 0; c < screen.cols; c++) line += CP437[screen.cells[r * screen.cols + c] & 0xff];
      out.push(line.replace(/[ \u00a0]+$/, ''));
    }
    return out;
  }

  // ---- Ports -------------------------------------------------------------------------------------

  ioRead(port: number, _size: IoSize): number {
    const s = this.s;
    switch (port) {
      case PORT_ATTR:
        return s.attrIndex;
      case PORT_ATTR_READ:
        return s.attr[s.attrIndex & ATTR_INDEX_MASK] ?? 0;
      case PORT_MISC_READ:
        return s.misc;
      case PORT_SEQ_INDEX:
        return s.seqIndex;
      case PORT_SEQ_DATA:
        return s.seq[s.seqIndex] ?? 0;
      case PORT_GC_INDEX:
        return s.gcIndex;
      case PORT_GC_DATA:
        return s.gc[s.gcIndex] ?? 0;
      case VGA_CRTC_INDEX:
        return s.crtcIndex;
      case VGA_CRTC_DATA:
        return s.crtc[s.crtcIndex] ?? 0;
      case PORT_DAC_WRITE_INDEX:
        return s.dacWriteIndex;
      case PORT_DAC_DATA: {
        const v = s.dac[(s.dacReadIndex * 3 + s.dacComponent) % DAC_BYTES];
        this.nextDacComponent('read');
        return v;
      }
      case PORT_STATUS1:
        s.attrFlipFlopData = false;
        this.retraceToggle = !this.retraceToggle;
        return this.retraceToggle ? STATUS_DISPLAY_DISABLED | STATUS_VRETRACE : 0;
      default:
        return 0xff;
    }
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    const s = this.s;
    value &= 0xff;
    switch (port) {
      case PORT_ATTR:
        if (s.attrFlipFlopData) {
          const i = s.attrIndex & ATTR_INDEX_MASK;
          if (i < ATTR_REGS) s.attr[i] = value;
        } else {
          s.attrIndex = value;
        }
        s.attrFlipFlopData = !s.attrFlipFlopData;
        return;
      case PORT_MISC_WRITE:
        s.misc = value;
        return;
      case PORT_SEQ_INDEX:
        s.seqIndex = value;
        return;
      case PORT_SEQ_DATA:
        if (s.seqIndex < SEQ_REGS) s.seq[s.seqIndex] = value;
        return;
      case PORT_GC_INDEX:
        s.gcIndex = value;
        return;
      case PORT_GC_DATA:
        if (s.gcIndex < GC_REGS) s.gc[s.gcIndex] = value;
        return;
      case VGA_CRTC_INDEX:
        s.crtcIndex = value;
        return;
      case VGA_CRTC_DATA:
        if (s.crtcIndex < CRTC_REGS) s.crtc[s.crtcIndex] = value;
        return;
      case PORT_DAC_READ_INDEX:
        s.dacReadIndex = value;
        s.dacComponent = 0;
        return;
      case PORT_DAC_WRITE_INDEX:
        s.dacWriteIndex = value;
        s.dacComponent = 0;
        return;
      case PORT_DAC_DATA:
        s.dac[(s.dacWriteIndex * 3 + s.dacComponent) % DAC_BYTES] = value & 0x3f;
        this.nextDacComponent('write');
        return;
      default:
        return;
    }
  }

  /** Sets the cursor location register pair to a cell offset (what INT 10h AH=02h does). */
  setCursorOffset(cell: number): void {
    this.s.crtc[CRTC_CURSOR_HIGH] = (cell >> 8) & 0xff;
    this.s.crtc[CRTC_CURSOR_LOW] = cell & 0xff;
  }

  /** Sets the cursor shape registers (what INT 10h AH=01h does). */
  setCursorShape(start: number, end: number): void {
    this.s.crtc[CRTC_CURSOR_START] = start & 0xff;
    this.s.crtc[CRTC_CURSOR_END] = end & 0xff;
  }

  /** Sets the display start address in cells (what INT 10h AH=05h, select page, does). */
  setStartOffset(cell: number): void {
    this.s.crtc[CRTC_START_HIGH] = (cell >> 8) & 0xff;
    this.s.crtc[CRTC_START_LOW] = cell & 0xff;
  }

  private nextDacComponent(dir: 'read' | 'write'): void {
    const s = this.s;
    s.dacComponent++;
    if (s.dacComponent < 3) return;
    s.dacComponent = 0;
    if (dir === 'read') s.dacReadIndex = (s.dacReadIndex + 1) & 0xff;
    else s.dacWriteIndex = (s.dacWriteIndex + 1) & 0xff;
  }

  // ---- Save / restore ----------------------------------------------------------------------------

  saveState(): VgaTextState {
    const s = this.s;
    return { ...s, crtc: [...s.crtc], seq: [...s.seq], gc: [...s.gc], attr: [...s.attr], dac: [...s.dac] };
  }

  loadState(state: VgaTextState): void {
    requireStateVersion(state, 1, 'the VGA');
    requireSaved(Array.isArray(state.crtc) && state.crtc.length === CRTC_REGS, 'the VGA', 'crtc');
    requireSaved(Array.isArray(state.dac) && state.dac.length === DAC_BYTES, 'the VGA', 'dac');
    this.s = { ...state, crtc: [...state.crtc], seq: [...state.seq], gc: [...state.gc], attr: [...state.attr], dac: [...state.dac] };
    this.last = undefined;
  }
}

/** Places the VGA register file on `bus` at 0x3C0-0x3DF. */
export function registerVgaText(bus: IoBus, vga: VgaText): void {
  bus.register(VGA_PORT_BASE, VGA_PORT_COUNT, vga);
}
