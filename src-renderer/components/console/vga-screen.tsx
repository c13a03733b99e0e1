/**
 * The VGA text screen of an HVM guest (80 × 25 cells of character and attribute, CGA colours).
 * The engine does not stream the screen yet; until it does, the tab says so. The renderer is
 * ready: give it cells and it draws them.
 */

/** CGA/VGA text-mode palette: attribute nibble -> colour. */
export const CGA_PALETTE = ['#000000', '#0000aa', '#00aa00', '#00aaaa', '#aa0000', '#aa00aa', '#aa5500', '#aaaaaa', '#555555', '#5555ff', '#55ff55', '#55ffff', '#ff5555', '#ff55ff', '#ffff55', '#ffffff'];
/** Text mode 3 geometry. */
export const VGA_COLS = 80;
export const VGA_ROWS = 25;

/** Code page 437 for the printable ASCII range; other bytes show as themselves or a dot. */
function glyph(ch: number): string {
  if (ch >= 0x20 && ch < 0x7f) return String.fromCharCode(ch);
  return ch === 0 ? ' ' : '·';
}

/** One screen: cells as [char, attr] pairs row by row. */
export function VgaCells({ cells, label }: { cells: Uint8Array; label: string }) {
  const rows = [];
  for (let r = 0; r < VGA_ROWS; r++) {
    const spans = [];
    for (let c = 0; c < VGA_COLS; c++) {
      const i = (r * VGA_COLS + c) * 2;
      const attr = cells[i + 1] ?? 0x07;
      spans.push(
        <span key={c} style={{ color: CGA_PALETTE[attr & 15], background: CGA_PALETTE[(attr >> 4) & 7] }}>
          {glyph(cells[i] ?? 0x20)}
        </span>,
      );
    }
    rows.push(<div key={r}>{spans}</div>);
  }
  return (
    <div role="img" aria-label={label} className="inline-block bg-black p-2 font-mono text-[13px] leading-4 whitespace-pre">
      {rows}
    </div>
  );
}

/** The VGA tab. */
export function VgaScreen({ name }: { name: string }) {
  return (
    <div className="absolute inset-0 flex flex-col items-center justify-center gap-3 bg-slate-900 p-4 text-sm text-slate-300">
      <p role="status">The VGA text screen of {name} is not streamed by the engine yet. Its serial console works; the screen will appear here when the engine sends it.</p>
    </div>
  );
}
