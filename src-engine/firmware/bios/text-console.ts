/**
 * The BIOS's view of the 80x25 colour text screen: cells in video memory at 0xB8000 (8 pages of
 * 4 KiB), the cursor and page bookkeeping in the BDA, and the CRTC cursor/start registers at
 * ports 0x3D4/0x3D5. INT 10h and the POST messages write through it, like a VGA BIOS does.
 *
 * References: IBM VGA Technical Reference (CRTC), RBIL INT 10h, SeaVGABIOS vgabios.c
 * (teletype: BEL ignored, BS, LF, CR; scroll by one line at the bottom with attribute 07h).
 */
import type { IoSize } from '../../machine/device';
import type { GuestPhysMemory } from '../../machine/guest-memory';
import {
  CRTC_CURSOR_END, CRTC_CURSOR_HIGH, CRTC_CURSOR_LOW, CRTC_CURSOR_START, CRTC_START_HIGH, CRTC_START_LOW,
  VGA_BLANK_CELL, VGA_CRTC_DATA, VGA_CRTC_INDEX, VGA_DEFAULT_ATTR, VGA_TEXT_BASE, VGA_TEXT_COLS, VGA_TEXT_ROWS,
} from '../../machine/vga-text';
import { BDA, BDA_BASE } from './layout';

/** Text modes the BIOS can set: 2 and 3 (80x25, grey / colour). 0 and 1 map to 80x25 as well. */
export const TEXT_MODES: ReadonlySet<number> = new Set([0, 1, 2, 3]);
/** The mode after POST. */
export const DEFAULT_TEXT_MODE = 3;
/** Bytes per text page in mode 3 (80 * 25 * 2 rounded up to 4 KiB, as the BDA says). */
export const TEXT_PAGE_BYTES = 0x1000;
/** Display pages in the 32 KiB colour window. */
export const TEXT_PAGES = 8;
/** Cursor shape after POST: CH start line 0x0E, CL end line 0x0F (underline in a 16-line cell). */
export const DEFAULT_CURSOR_SHAPE = 0x0e0f;
/** Control characters the teletype interprets. */
const BEL = 0x07;
const BS = 0x08;
const LF = 0x0a;
const CR = 0x0d;

/** What the console needs: memory and port output. */
export interface TextConsoleIo {
  readonly memory: GuestPhysMemory;
  ioWrite(port: number, size: IoSize, value: number): void;
}

/** A cursor position. */
export interface TextPos {
  row: number;
  col: number;
}

/** Text output through video memory, the BDA and the CRTC. */
export class TextConsole {
  constructor(private readonly io: TextConsoleIo) {}

  private get mem(): GuestPhysMemory {
    return this.io.memory;
  }

  // ---- BDA state ---------------------------------------------------------------------------------

  get mode(): number {
    return this.mem.readU8(BDA_BASE + BDA.videoMode);
  }

  get activePage(): number {
    return this.mem.readU8(BDA_BASE + BDA.activePage);
  }

  get cols(): number {
    return VGA_TEXT_COLS;
  }

  get rows(): number {
    return VGA_TEXT_ROWS;
  }

  /** Cursor of `page` from the BDA. */
  cursor(page = this.activePage): TextPos {
    const w = this.mem.readU16(BDA_BASE + BDA.cursorPos + 2 * (page & 7));
    return { row: w >> 8, col: w & 0xff };
  }

  /** Moves the cursor of `page` (and the hardware cursor if the page is displayed). */
  setCursor(page: number, pos: TextPos): void {
    page &= 7;
    this.mem.writeU16(BDA_BASE + BDA.cursorPos + 2 * page, ((pos.row & 0xff) << 8) | (pos.col & 0xff));
    if (page === this.activePage) {
      this.crtc(CRTC_CURSOR_HIGH, CRTC_CURSOR_LOW, (page * TEXT_PAGE_BYTES) / 2 + pos.row * this.cols + pos.col);
    }
  }

  /** Cursor shape word (CH start line, CL end line). */
  get cursorShape(): number {
    return this.mem.readU16(BDA_BASE + BDA.cursorShape);
  }

  setCursorShape(shape: number): void {
    this.mem.writeU16(BDA_BASE + BDA.cursorShape, shape & 0xffff);
    this.crtcByte(CRTC_CURSOR_START, (shape >> 8) & 0xff);
    this.crtcByte(CRTC_CURSOR_END, shape & 0xff);
  }

  /** Shows display page `page` (0-7). */
  setActivePage(page: number): void {
    page &= 7;
    this.mem.writeU8(BDA_BASE + BDA.activePage, page);
    this.mem.writeU16(BDA_BASE + BDA.videoPageStart, page * TEXT_PAGE_BYTES);
    this.crtc(CRTC_START_HIGH, CRTC_START_LOW, (page * TEXT_PAGE_BYTES) / 2);
    this.setCursor(page, this.cursor(page));
  }

  /** Sets text mode `mode` (0-3): BDA video fields, cursor home on every page, page 0 shown. */
  setMode(mode: number, clear: boolean): void {
    const m = this.mem;
    m.writeU8(BDA_BASE + BDA.videoMode, mode);
    m.writeU16(BDA_BASE + BDA.videoCols, this.cols);
    m.writeU16(BDA_BASE + BDA.videoPageSize, TEXT_PAGE_BYTES);
    m.writeU8(BDA_BASE + BDA.videoRows, this.rows - 1);
    for (let p = 0; p < TEXT_PAGES; p++) m.writeU16(BDA_BASE + BDA.cursorPos + 2 * p, 0);
    if (clear) {
      const blank = new Uint8Array(TEXT_PAGE_BYTES * TEXT_PAGES);
      for (let i = 0; i < blank.length; i += 2) {
        blank[i] = VGA_BLANK_CELL & 0xff;
        blank[i + 1] = VGA_BLANK_CELL >> 8;
      }
      m.write(VGA_TEXT_BASE, blank);
    }
    this.setCursorShape(DEFAULT_CURSOR_SHAPE);
    this.setActivePage(0);
  }

  // ---- Cells ---------------------------------------------------------------------------------------

  private cellAddr(page: number, row: number, col: number): number {
    return VGA_TEXT_BASE + (page & 7) * TEXT_PAGE_BYTES + (row * this.cols + col) * 2;
  }

  /** The character and attribute at a cell: (attr << 8) | char. */
  readCell(page: number, pos: TextPos): number {
    return this.mem.readU16(this.cellAddr(page, pos.row, pos.col));
  }

  /**
   * Writes `count` cells from `pos` onwards (continuing on the next rows, stopping at the page end)
   * without moving the cursor; `attr` undefined keeps each cell's attribute.
   */
  writeCells(page: number, pos: TextPos, ch: number, attr: number | undefined, count: number): void {
    let index = pos.row * this.cols + pos.col;
    const end = Math.min(index + count, this.cols * this.rows);
    for (; index < end; index++) {
      const addr = this.cellAddr(page, 0, 0) + index * 2;
      this.mem.writeU8(addr, ch & 0xff);
      if (attr !== undefined) this.mem.writeU8(addr + 1, attr & 0xff);
    }
  }

  /**
   * Scrolls the window [top..bottom] x [left..right] of `page` up (lines > 0) or down (lines < 0)
   * by |lines|; `lines` 0 (or more than the window's height) blanks the window. New lines get `attr`.
   */
  scroll(page: number, lines: number, attr: number, top: number, left: number, bottom: number, right: number): void {
    bottom = Math.min(bottom, this.rows - 1);
    right = Math.min(right, this.cols - 1);
    if (top > bottom || left > right) return;
    const height = bottom - top + 1;
    const width = right - left + 1;
    const n = lines === 0 || Math.abs(lines) >= height ? height : Math.abs(lines);
    const up = lines >= 0;
    const blank = ((attr & 0xff) << 8) | 0x20;
    const rowCells = (r: number) => this.mem.read(this.cellAddr(page, r, left), width * 2);
    for (let i = 0; i < height; i++) {
      const dst = up ? top + i : bottom - i;
      const src = up ? dst + n : dst - n;
      const inside = up ? src <= bottom : src >= top;
      if (inside) {
        this.mem.write(this.cellAddr(page, dst, left), rowCells(src));
      } else {
        const row = new Uint8Array(width * 2);
        for (let k = 0; k < width; k++) {
          row[2 * k] = blank & 0xff;
          row[2 * k + 1] = blank >> 8;
        }
        this.mem.write(this.cellAddr(page, dst, left), row);
      }
    }
  }

  /**
   * Teletype output of one character on `page` (BEL ignored, BS, LF, CR; wraps and scrolls);
   * `attr` undefined keeps the cell's attribute.
   */
  teletype(page: number, ch: number, attr?: number): void {
    const pos = this.cursor(page);
    switch (ch) {
      case BEL:
        return;
      case BS:
        if (pos.col > 0) pos.col--;
        break;
      case CR:
        pos.col = 0;
        break;
      case LF:
        pos.row++;
        break;
      default:
        this.writeCells(page, pos, ch, attr, 1);
        pos.col++;
        break;
    }
    if (pos.col >= this.cols) {
      pos.col = 0;
      pos.row++;
    }
    if (pos.row >= this.rows) {
      this.scroll(page, 1, VGA_DEFAULT_ATTR, 0, 0, this.rows - 1, this.cols - 1);
      pos.row = this.rows - 1;
    }
    this.setCursor(page, pos);
  }

  /** Writes a line of text on the active page (the POST's messages); "\n" starts a new line. */
  print(text: string): void {
    const page = this.activePage;
    for (const c of text) {
      if (c === '\n') {
        this.teletype(page, CR);
        this.teletype(page, LF);
      } else {
        this.teletype(page, c.charCodeAt(0) & 0xff, VGA_DEFAULT_ATTR);
      }
    }
  }

  // ---- CRTC ----------------------------------------------------------------------------------------

  private crtcByte(index: number, value: number): void {
    this.io.ioWrite(VGA_CRTC_INDEX, 1, index);
    this.io.ioWrite(VGA_CRTC_DATA, 1, value & 0xff);
  }

  private crtc(high: number, low: number, value: number): void {
    this.crtcByte(high, (value >> 8) & 0xff);
    this.crtcByte(low, value & 0xff);
  }
}
