/**
 * The raw xl.cfg of a VM: the library file in an editor. Saving validates it in the engine (the
 * same parser `domus create` uses); errors and warnings come back as file:line:column messages,
 * and clicking one moves the cursor to that line.
 */
import { useRef, useState } from 'react';
import type { VmRow } from '../../lib/vm-rows';
import { messageOf, useStore } from '../../state/use-engine';
import { usePoll } from '../../state/use-poll';
import { Button } from '../ui/button';
import { TextArea } from '../ui/field';

/** Line number of a "file:line:column: message" problem, if it has one. */
export function problemLine(problem: string): number | undefined {
  const m = /:(\d+):(\d+)(?::|\b)/.exec(problem);
  return m ? Number(m[1]) : undefined;
}

/** Moves a textarea's cursor to the start of a 1-based line. */
function gotoLine(ta: HTMLTextAreaElement, line: number): void {
  const lines = ta.value.split('\n');
  let pos = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) pos += lines[i].length + 1;
  ta.focus();
  ta.setSelectionRange(pos, pos + (lines[line - 1]?.length ?? 0));
}

/** The page. */
export function ConfigTab({ row }: { row: VmRow }) {
  const store = useStore();
  const file = usePoll(row.library ? () => store.client.call('library.get', { name: row.name }) : undefined, [row.name, row.library?.file], 0);
  const [text, setText] = useState<string | undefined>();
  const [problems, setProblems] = useState<{ errors: string[]; warnings: string[] }>({ errors: [], warnings: [] });
  const [status, setStatus] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  if (!row.library) return <p className="p-4 text-sm text-slate-500">{row.name} was started without a library file, so there is no xl.cfg text to show. Its typed configuration is on the other pages.</p>;
  const loaded = file.value?.text;
  const shown = text ?? loaded ?? '';
  const save = async () => {
    setStatus('Checking…');
    try {
      const e = await store.client.call('library.save', { name: row.name, text: shown });
      setProblems({ errors: e.errors, warnings: e.warnings });
      setText(undefined);
      file.refresh();
      await store.refreshLibrary();
      setStatus(`Saved. ${e.warnings.length ? `${e.warnings.length} warning(s).` : 'No problems.'}${row.domain ? ' Changes apply when the VM next starts.' : ''}`);
    } catch (err) {
      const msg = messageOf(err);
      const lines = msg.split('\n').slice(1).filter((l) => l.trim() !== '');
      setProblems({ errors: lines.length ? lines : [msg], warnings: [] });
      setStatus('Not saved: the configuration has errors.');
    }
  };
  const list = (kind: 'errors' | 'warnings') =>
    problems[kind].map((p) => {
      const line = problemLine(p);
      return (
        <li key={p}>
          <button type="button" className="text-left font-mono text-xs hover:underline" onClick={() => { const ta = ref.current?.querySelector('textarea'); if (ta && line) gotoLine(ta, line); }}>
            {p}
          </button>
        </li>
      );
    });
  return (
    <div ref={ref} className="flex h-full flex-col gap-2 p-4">
      <p className="text-xs text-slate-500">
        <code>{row.library.file}</code> — the same file <code>domus create</code> and <code>xl</code> read.
      </p>
      <TextArea label={`xl.cfg of ${row.name}`} className="min-h-64 flex-1 [&>textarea]:flex-1" value={shown} onChange={(e) => setText(e.target.value)} rows={18} />
      <div className="flex items-center gap-2">
        <Button kind="primary" disabled={text === undefined} onClick={() => void save()}>Validate and save</Button>
        <Button disabled={text === undefined} onClick={() => { setText(undefined); setProblems({ errors: [], warnings: [] }); setStatus(''); }}>Revert</Button>
        <span role="status" className="text-xs text-slate-600">{status}</span>
      </div>
      {problems.errors.length > 0 && <ul aria-label="Errors" className="list-disc rounded border border-rose-300 bg-rose-50 py-1 pl-6 text-rose-800">{list('errors')}</ul>}
      {problems.warnings.length > 0 && <ul aria-label="Warnings" className="list-disc rounded border border-amber-300 bg-amber-50 py-1 pl-6 text-amber-900">{list('warnings')}</ul>}
      {file.error && <p className="text-xs text-rose-700">{file.error}</p>}
    </div>
  );
}
