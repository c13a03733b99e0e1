/**
 * Sparklines and small line charts in SVG (no canvas: they render in happy-dom tests and print
 * crisply in screenshots). Each has an accessible name and its latest value as text.
 */

/** A sparkline of values in [0, max]. */
export function Sparkline({ values, max, label, width = 90, height = 22, color = '#0369a1' }: { values: readonly number[]; max: number; label: string; width?: number; height?: number; color?: string }) {
  const n = values.length;
  const top = Math.max(max, ...values, 1e-9);
  const pts = values.map((v, i) => `${n <= 1 ? width : (i / (n - 1)) * width},${height - (Math.max(0, v) / top) * (height - 2) - 1}`).join(' ');
  return (
    <svg role="img" aria-label={label} width={width} height={height} viewBox={`0 0 ${width} ${height}`} className="overflow-visible">
      <rect x={0} y={0} width={width} height={height} fill="#f1f5f9" />
      {n > 0 && <polyline points={`0,${height} ${pts} ${width},${height}`} fill={`${color}22`} stroke="none" />}
      {n > 0 && <polyline points={pts} fill="none" stroke={color} strokeWidth={1.4} />}
    </svg>
  );
}

/** A multi-series line chart with a legend. */
export function LineChart({ series, max, label, unit, width = 520, height = 140 }: { series: { name: string; values: readonly number[]; color: string }[]; max: number; label: string; unit: string; width?: number; height?: number }) {
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const top = Math.max(max, ...series.flatMap((s) => s.values), 1e-9);
  const x = (i: number, len: number) => (len <= 1 ? width : ((n - len + i) / Math.max(1, n - 1)) * width);
  return (
    <figure className="space-y-1">
      <figcaption className="text-xs font-medium text-slate-600">{label}</figcaption>
      <svg role="img" aria-label={label} width="100%" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" className="h-36 rounded border border-slate-200 bg-slate-50">
        {[0.25, 0.5, 0.75].map((f) => (
          <line key={f} x1={0} x2={width} y1={height * f} y2={height * f} stroke="#e2e8f0" />
        ))}
        {series.map((s) => (
          <polyline key={s.name} fill="none" stroke={s.color} strokeWidth={1.5} points={s.values.map((v, i) => `${x(i, s.values.length)},${height - (Math.max(0, v) / top) * (height - 4) - 2}`).join(' ')} />
        ))}
      </svg>
      <ul className="flex flex-wrap gap-3 text-xs text-slate-600">
        {series.map((s) => (
          <li key={s.name} className="flex items-center gap-1">
            <span className="inline-block h-2 w-3 rounded-sm" style={{ background: s.color }} />
            {s.name}: {s.values.length > 0 ? `${s.values[s.values.length - 1].toFixed(1)} ${unit}` : '—'}
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** A stable colour for series i. */
export function seriesColor(i: number): string {
  const PALETTE = ['#0369a1', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0f766e', '#a16207', '#4338ca'];
  return PALETTE[i % PALETTE.length];
}
