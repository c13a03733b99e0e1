/** Buttons and icon-less toolbar buttons; every one has a visible label or an aria-label. */
import type { ButtonHTMLAttributes, ReactNode } from 'react';

/** Looks of a button. */
export type ButtonKind = 'primary' | 'normal' | 'danger' | 'ghost';

const KIND_CLASS: Record<ButtonKind, string> = {
  primary: 'bg-sky-700 text-white hover:bg-sky-600 border-sky-800',
  normal: 'bg-white text-slate-800 hover:bg-slate-100 border-slate-300',
  danger: 'bg-rose-700 text-white hover:bg-rose-600 border-rose-800',
  ghost: 'bg-transparent text-slate-700 hover:bg-slate-200 border-transparent',
};

/** A button. */
export function Button({ kind = 'normal', className = '', children, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { kind?: ButtonKind; children: ReactNode }) {
  return (
    <button
      type="button"
      className={`inline-flex items-center gap-1 rounded border px-2.5 py-1 text-sm shadow-sm focus-visible:outline-2 focus-visible:outline-sky-500 disabled:cursor-not-allowed disabled:opacity-45 ${KIND_CLASS[kind]} ${className}`}
      {...rest}
    >
      {children}
    </button>
  );
}
