/**
 * The Screen view of an HVM guest: its VGA text screen (mode 3, 80 × 25) drawn with the 16 VGA
 * colours, blinking cells and the cursor, read from the engine a few times a second while the
 * view is shown (useScreen). Guests started from a kernel directly have no BIOS and no VGA; the
 * view says so and points at the serial console.
 */
import { memo, useEffect, useRef, useState } from 'react';
import type { TextScreen } from '../../../src-engine/api/types';
import { saveTextFile } from '../../api/host';
import { attrStyle, screenRuns, screenText } from '../../lib/vga-text';
import { useStore } from '../../state/use-engine';
import { SCREEN_REFRESH_MS, useScreen } from '../../state/use-screen';
import { Button } from '../ui/button';

/** Line height of the cells, in em. */
const LINE_EM = 1.2;
/** Advance of a monospace glyph, in em (DejaVu Sans Mono, Menlo, Consolas: 0.6). */
const GLYPH_EM = 0.6;
/** Padding around the cells (p-2 on each side) plus the view's own (p-3), px. */
const FRAME_PX = 2 * 8 + 2 * 12;
/** Smallest font the screen shrinks to, px (below it the view scrolls). */
const MIN_FONT_PX = 8;

/** The font size at which `cols` × `rows` cells fit a box, never above `wanted`. */
export function fitFont(box: { width: number; height: number }, cols: number, rows: number, wanted: number): number {
  const byHeight = (box.height - FRAME_PX) / (rows * LINE_EM);
  const byWidth = (box.width - FRAME_PX) / (cols * GLYPH_EM);
  return Math.max(MIN_FONT_PX, Math.min(wanted, Math.floor(Math.min(byHeight, byWidth))));
}

/** The cells of one screen (re-rendered only when the screen changed). */
export const VgaCells = memo(function VgaCells({ screen, label, fontSize, testId }: { screen: TextScreen; label: string; fontSize: number; testId?: string }) {
  const rows = screenRuns(screen);
  return (
    <pre aria-label={label} data-testid={testId} className="m-auto inline-block bg-black p-2 font-mono" style={{ fontSize, lineHeight: LINE_EM, width: `calc(${screen.cols}ch + 1rem)` }}>
      {rows.map((runs, r) => (
        <div key={r} data-row={r}>
          {runs.map((run, i) => {
            const st = attrStyle(run.attr);
            const cls = [run.cursor ? 'vga-cursor' : '', st.blink ? 'vga-blink' : ''].join(' ').trim();
            return (
              <span key={i} className={cls || undefined} style={{ color: st.fg, background: st.bg }}>
                {run.text}
              </span>
            );
          })}
        </div>
      ))}
    </pre>
  );
});

/** The view. `domid` undefined: not running. */
export function VgaScreen({ name, domid, running, fontSize }: { name: string; domid: number | undefined; running: boolean; fontSize: number }) {
  const store = useStore();
  const { screen, error, paused } = useScreen(store, domid, running);
  // The whole screen fits the view (up to the console font size): 25 rows in a short pane too.
  const boxRef = useRef<HTMLDivElement>(null);
  const [box, setBox] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = boxRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => setBox({ width: el.clientWidth, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const font = screen && box.height > 0 ? fitFont(box, screen.cols, screen.rows, fontSize) : fontSize;
  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

  let body;
  if (domid === undefined) body = <p role="status">{name} is not running. Run it to see its screen.</p>;
  else if (screen === null) {
    body = (
      <p role="status" className="max-w-xl">
        {name} has no VGA screen: it was started from a kernel directly (<code>kernel=</code>), which skips the BIOS. Its output is on the serial console. Boot it from a disk or an ISO
        (<code>disk=</code>, <code>boot=</code>) to see the screen here.
      </p>
    );
  } else if (screen === undefined) body = <p role="status">{error ? `The screen of ${name} cannot be read: ${error}` : `Reading the screen of ${name}…`}</p>;
  else body = <VgaCells screen={screen} label={`VGA screen of ${name}`} fontSize={font} testId={`screen-${name}`} />;

  return (
    <div className="absolute inset-0 flex flex-col bg-slate-900 text-sm text-slate-300">
      {/* m-auto on the content, not justify-center here: a screen taller than the view scrolls instead of losing its top rows. */}
      <div ref={boxRef} className="flex min-h-0 flex-1 overflow-auto p-3">
        {screen ? body : <div className="m-auto">{body}</div>}
      </div>
      {screen && (
        <div className="flex items-center gap-2 bg-slate-800 px-2 py-0.5 text-[11px]">
          <span aria-label="Screen facts" className="tabular-nums">
            {screen.cols}×{screen.rows} text · cursor {screen.cursor.visible ? `row ${screen.cursor.row + 1}, column ${screen.cursor.col + 1}` : 'hidden'}
          </span>
          <span role="status" className="text-slate-400">
            {error ? `Not refreshed: ${error}` : paused ? 'Paused while the page is hidden' : running ? `Live, ${Math.round(1000 / SCREEN_REFRESH_MS)} reads a second` : 'Last screen (not running)'}
          </span>
          <span className="flex-1" />
          <Button title="Copy the screen as text" onClick={() => void navigator.clipboard?.writeText(screenText(screen))}>Copy text</Button>
          <Button title="Save the screen as a text file" onClick={() => void saveTextFile(`${name}-screen-${stamp()}.txt`, screenText(screen))}>Save text</Button>
        </div>
      )}
    </div>
  );
}
