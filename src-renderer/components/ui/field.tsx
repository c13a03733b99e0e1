/** Labelled form fields: the label is a real <label>, so screen readers and getByLabel find it. */
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

const INPUT = 'w-full rounded border border-slate-300 bg-white px-2 py-1 text-sm focus:border-sky-500 focus:outline-none disabled:bg-slate-100';

/** A labelled text or number input. */
export function TextField({ label, hint, error, className = '', ...rest }: InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode; error?: string }) {
  const id = useId();
  return (
    <div className={`flex flex-col gap-0.5 ${className}`}>
      <label htmlFor={id} className="text-xs font-medium text-slate-600">
        {label}
      </label>
      <input id={id} className={`${INPUT} ${error ? 'border-rose-500' : ''}`} aria-invalid={error ? true : undefined} aria-describedby={error || hint ? `${id}-d` : undefined} {...rest} />
      {(error || hint) && (
        <span id={`${id}-d`} className={`text-xs ${error ? 'text-rose-700' : 'text-slate-500'}`}>
          {error ?? hint}
        </span>
      )}
    </div>
  );
}

/** A labelled number input that reports numbers; `ariaLabel` names it fully where the visible label is short (tables). */
export function NumberField({ label, ariaLabel, value, onValue, min, max, step, hint, disabled, className }: { label: string; ariaLabel?: string; value: number; onValue: (v: number) => void; min?: number; max?: number; step?: number; hint?: ReactNode; disabled?: boolean; className?: string }) {
  return (
    <TextField
      label={label}
      aria-label={ariaLabel}
      type="number"
      value={Number.isFinite(value) ? value : ''}
      min={min}
      max={max}
      step={step}
      hint={hint}
      disabled={disabled}
      className={className}
      onChange={(e) => onValue(e.target.value === '' ? NaN : Number(e.target.value))}
    />
  );
}

/** A labelled select. */
export function SelectField({ label, children, className = '', ...rest }: SelectHTMLAttributes<HTMLSelectElement> & { label: string; children: ReactNode }) {
  const id = useId();
  return (
    <div className={`flex flex-col gap-0.5 ${className}`}>
      <label htmlFor={id} className="text-xs font-medium text-slate-600">
        {label}
      </label>
      <select id={id} className={INPUT} {...rest}>
        {children}
      </select>
    </div>
  );
}

/** A labelled multi-line text area (monospace: configs, grub.cfg). */
export function TextArea({ label, className = '', ...rest }: TextareaHTMLAttributes<HTMLTextAreaElement> & { label: string }) {
  const id = useId();
  return (
    <div className={`flex flex-col gap-0.5 ${className}`}>
      <label htmlFor={id} className="text-xs font-medium text-slate-600">
        {label}
      </label>
      <textarea id={id} spellCheck={false} className={`${INPUT} font-mono text-xs leading-5`} {...rest} />
    </div>
  );
}

/** A labelled checkbox. */
export function CheckField({ label, checked, onChange, disabled }: { label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean }) {
  return (
    <label className="inline-flex items-center gap-1.5 text-sm text-slate-700">
      <input type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}
