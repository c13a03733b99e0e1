/**
 * The raw xl.cfg of a VM: the library file in an editor. While you type, the engine checks the
 * text (`library.check`, the parser `domus create` uses, nothing written) a moment after the last
 * keystroke, and its errors and warnings are listed by line:column; clicking one puts the cursor
 * there. Saving validates again (`library.save` refuses text with errors).
 */
import { useEffect, useRef, useState } from 'react';
import { offsetOf, parseProblem, problemsOfRefusal } from '../../lib/cfg-problems';
import type { VmRow } from '../../lib/vm-rows';
import { messageOf, useStore } from '../../state/use-engine';
import { usePoll } from '../../state/use-poll';
import { Button } from '../ui/button';
import { TextArea } from '../ui/field';

/** Quiet time after the last keystroke before the text is checked, ms. */
export const CHECK_DEBOUNCE_MS = 400;

/** Errors and warnings, and the text they are about. */
interface Problems {
  errors: string[];
  warnings: string[];
  /** The text that was checked (undefined: the saved file). */
  text: string | undefined;
}

const NONE: Problems = { errors: [], warnings: [], text: undefined };

/** Moves a textarea's cursor to a 1-based line and column, selecting the rest of the line. */
function gotoProblem(ta: HTMLTextAreaElement, line: number, col: number | undefined): void {
  const start = offsetOf(ta.value, line, col ?? 1);
  const end = offsetOf(ta.value, line, Number.MAX_SAFE_INTEGER);
  ta.focus();
  ta.setSelectionRange(start, Math.max(start, end));
}

/** The page. */
export function ConfigTab({ row }: { row: VmRow }) {
  const store = useStore();
  const file = usePoll(row.library ? () => store.client.call('library.get', { name: row.name }) : undefined, [row.name, row.library?.file], 0);
  const [text, setText] = useState<string | undefined>();
  const [problems, setProblems] = useState<Problems>(NONE);
  const [checking, setChecking] = useState(false);
  const [status, setStatus] = useState('');
  const ref = useRef<HTMLDivElement>(null);

  // Check the edited text once typing pauses; a newer text makes older answers stale.
  useEffect(() => {
    if (text === undefined) return;
    let current = true;
    const t = setTimeout(() => {
      setChecking(true);
      store.client.call('library.check', { name: row.name, text }).then(
        (e) => {
          if (current) setProblems({ errors: e.errors, warnings: e.warnings, text });
        },
        (err: unknown) => {
          if (current) setProblems({ errors: [`The engine could not check the text: ${messageOf(err)}`], warnings: [], text });
        },
      ).finally(() => {
        if (current) setChecking(false);
      });
    }, CHECK_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(t);
    };
  }, [store, row.name, text]);

  if (!row.library) return <p className="p-4 text-sm text-slate-500">{row.name} was started without a library file, so there is no xl.cfg text to show. Its typed configuration is on the other pages.</p>;
  const loaded = file.value?.text;
  const shown = text ?? loaded ?? '';
  const fresh = problems.text === text;
  const blocked = text !== undefined && fresh && problems.errors.length > 0;

  const edit = (v: string) => {
    setText(v);
    setStatus('');
  };
  const save = async () => {
    setStatus('Saving…');
    try {
      const e = await store.client.call('library.save', { name: row.name, text: shown });
      setProblems({ errors: e.errors, warnings: e.warnings, text: undefined });
      setText(undefined);
      file.refresh();
      await store.refreshLibrary();
      setStatus(`Saved. ${e.warnings.length ? `${e.warnings.length} warning(s).` : 'No problems.'}${row.domain ? ' Changes apply when the VM next starts.' : ''}`);
    } catch (err) {
      setProblems({ errors: problemsOfRefusal(messageOf(err)), warnings: [], text });
      setStatus('Not saved: the configuration has errors.');
    }
  };
  const revert = () => {
    setText(undefined);
    setProblems(NONE);
    setStatus('');
  };

  const list = (kind: 'errors' | 'warnings') =>
    problems[kind].map((raw) => {
      const p = parseProblem(raw);
      const where = p.line !== undefined ? `${p.line}:${p.col ?? 1}` : undefined;
      return (
        <li key={raw}>
          <button
            type="button"
            title={raw}
            disabled={p.line === undefined}
            className="text-left font-mono text-xs enabled:hover:underline"
            onClick={() => {
              const ta = ref.current?.querySelector('textarea');
              if (ta && p.line !== undefined) gotoProblem(ta, p.line, p.col);
            }}
          >
            {where && <span className="mr-2 font-semibold">{where}</span>}
            {p.message}
          </button>
        </li>
      );
    });

  const verdict =
    text === undefined ? '' : checking || !fresh ? 'Checking…' : problems.errors.length > 0 ? `${problems.errors.length} error(s) — fix them before saving.` : problems.warnings.length > 0 ? `Valid, ${problems.warnings.length} warning(s).` : 'Valid.';

  return (
    <div ref={ref} className="flex h-full flex-col gap-2 p-4">
      <p className="text-xs text-slate-500">
        <code>{row.library.file}</code> — the same file <code>domus create</code> and <code>xl</code> read. It is checked as you type.
      </p>
      <TextArea label={`xl.cfg of ${row.name}`} className="min-h-64 flex-1 [&>textarea]:flex-1" value={shown} onChange={(e) => edit(e.target.value)} rows={18} aria-invalid={blocked} />
      <div className="flex items-center gap-2">
        <Button kind="primary" disabled={text === undefined || blocked} title={blocked ? 'The text has errors (listed below)' : undefined} onClick={() => void save()}>Validate and save</Button>
        <Button disabled={text === undefined} onClick={revert}>Revert</Button>
        <span aria-label="Check result" aria-live="polite" className={`text-xs ${blocked ? 'text-rose-700' : 'text-slate-600'}`}>{verdict}</span>
        <span role="status" className="text-xs text-slate-600">{status}</span>
      </div>
      {problems.errors.length > 0 && <ul aria-label="Errors" className="list-disc rounded border border-rose-300 bg-rose-50 py-1 pl-6 text-rose-800">{list('errors')}</ul>}
      {problems.warnings.length > 0 && <ul aria-label="Warnings" className="list-disc rounded border border-amber-300 bg-amber-50 py-1 pl-6 text-amber-900">{list('warnings')}</ul>}
      {file.error && <p className="text-xs text-rose-700">{file.error}</p>}
    </div>
  );
}
