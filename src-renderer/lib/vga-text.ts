/**
 * The VGA text screen as the GUI draws it: the 16-colour palette, what an attribute byte means,
 * and a screen cut into runs of cells that share an attribute (one DOM node per run instead of
 * one per cell), with the cursor cell kept apart so it can be drawn.
 *
 * Attribute byte of mode 3 with the attribute controller's blink enable set (its reset state,
 * IBM VGA Technical Reference, Attribute Mode Control register bit 3): bits 0-3 foreground,
 * bits 4-6 background, bit 7 blink.
 */
import type { TextScreen } from '../../src-engine/api/types';

/** The VGA's default text palette (DAC values 0-15 of mode 3), as CSS colours. */
export const VGA_PALETTE: readonly string[] = [
  '#000000', // 0 black
  '#0000aa', // 1 blue
  '#00aa00', // 2 green
  '#00aaaa', // 3 cyan
  '#aa0000', // 4 red
  '#aa00aa', // 5 magenta
  '#aa5500', // 6 brown
  '#aaaaaa', // 7 light grey
  '#555555', // 8 dark grey
  '#5555ff', // 9 light blue
  '#55ff55', // 10 light green
  '#55ffff', // 11 light cyan
  '#ff5555', // 12 light red
  '#ff55ff', // 13 light magenta
  '#ffff55', // 14 yellow
  '#ffffff', // 15 white
];

/** Mode 3 geometry (the engine says so in every TextScreen; these are the defaults). */
export const VGA_COLS = 80;
export const VGA_ROWS = 25;
/** The BIOS's default attribute: light grey on black. */
export const VGA_DEFAULT_ATTR = 0x07;

/** Attribute bits. */
const FG_MASK = 0x0f;
const BG_SHIFT = 4;
const BG_MASK = 0x07;
const BLINK_BIT = 0x80;

/** Colours and blink of one attribute byte. */
export interface VgaAttrStyle {
  fg: string;
  bg: string;
  blink: boolean;
}

/** What an attribute byte shows. */
export function attrStyle(attr: number): VgaAttrStyle {
  return { fg: VGA_PALETTE[attr & FG_MASK], bg: VGA_PALETTE[(attr >> BG_SHIFT) & BG_MASK], blink: (attr & BLINK_BIT) !== 0 };
}

/** Cells of one row that share an attribute; `cursor` marks the one cell under the cursor. */
export interface VgaRun {
  text: string;
  attr: number;
  cursor: boolean;
}

/** The screen's rows as runs (the cursor cell is a run of its own when the cursor is visible). */
export function screenRuns(s: TextScreen): VgaRun[][] {
  const rows: VgaRun[][] = [];
  for (let r = 0; r < s.rows; r++) {
    const line = (s.lines[r] ?? '').padEnd(s.cols, ' ');
    const runs: VgaRun[] = [];
    for (let c = 0; c < s.cols; c++) {
      const attr = s.attrs[r * s.cols + c] ?? VGA_DEFAULT_ATTR;
      const cursor = s.cursor.visible && s.cursor.row === r && s.cursor.col === c;
      const last = runs[runs.length - 1];
      if (last && !cursor && !last.cursor && last.attr === attr) last.text += line[c];
      else runs.push({ text: line[c], attr, cursor });
    }
    rows.push(runs);
  }
  return rows;
}

/** A cheap identity of a screen's contents, to skip re-rendering an unchanged screen. */
export function screenKey(s: TextScreen): string {
  return `${s.cols}x${s.rows}|${s.cursor.row},${s.cursor.col},${s.cursor.visible ? 1 : 0}|${s.lines.join('\n')}|${s.attrs.join(',')}`;
}

/** The screen as plain text (trailing blanks and empty last rows dropped), for copying. */
export function screenText(s: TextScreen): string {
  const lines = s.lines.map((l) => l.replace(/\s+$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}
