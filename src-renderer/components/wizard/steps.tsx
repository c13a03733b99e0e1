/**
 * The frame of a step-by-step wizard: a list of the steps (the current one marked with
 * aria-current), the step's heading, its problems, and Back / Next / Finish.
 */
import type { ReactNode } from 'react';
import { Button } from '../ui/button';

/** The frame. */
export function WizardFrame({ steps, current, problems, onBack, onNext, finishLabel, onFinish, busy, children }: { steps: readonly string[]; current: number; problems: readonly string[]; onBack: () => void; onNext: () => void; finishLabel: string; onFinish: () => void; busy?: boolean; children: ReactNode }) {
  const last = current === steps.length - 1;
  return (
    <div className="flex min-h-[26rem] gap-4">
      <ol aria-label="Steps" className="w-44 shrink-0 space-y-1 border-r border-slate-200 pr-3 text-sm">
        {steps.map((s, i) => (
          <li key={s} aria-current={i === current ? 'step' : undefined} className={i === current ? 'font-semibold text-sky-800' : i < current ? 'text-slate-700' : 'text-slate-400'}>
            {i + 1}. {s}
          </li>
        ))}
      </ol>
      <div className="flex min-w-0 flex-1 flex-col gap-3">
        <h3 className="text-base font-semibold text-slate-800">{steps[current]}</h3>
        <div className="flex-1 space-y-3">{children}</div>
        {problems.length > 0 && (
          <ul role="alert" className="list-disc rounded border border-amber-300 bg-amber-50 py-1 pl-6 text-xs text-amber-900">
            {problems.map((p) => <li key={p}>{p}</li>)}
          </ul>
        )}
        <div className="flex justify-end gap-2 border-t border-slate-200 pt-3">
          <Button disabled={current === 0 || busy} onClick={onBack}>Back</Button>
          {last ? (
            <Button kind="primary" disabled={problems.length > 0 || busy} onClick={onFinish}>{finishLabel}</Button>
          ) : (
            <Button kind="primary" disabled={problems.length > 0 || busy} onClick={onNext}>Next</Button>
          )}
        </div>
      </div>
    </div>
  );
}
