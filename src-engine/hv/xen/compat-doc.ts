/**
 * The generated part of docs/xen-abi.md: the compatibility list derived from the hypercall table,
 * the sub-operation tables, the xenstore message types, the structure layouts and the per-domain
 * limits. test/unit/xen/xen-abi-doc.test.ts keeps the document in step (DOMUS_UPDATE_DOCS=1
 * rewrites the section between the markers).
 */
import { ALL_LAYOUTS } from './abi/layouts';
import { DEFAULT_MAX_EVTCHN_PORTS, DEFAULT_MAX_GRANT_FRAMES, DEFAULT_MAX_MAPTRACK } from './abi/xen-constants';
import { HYPERCALLS } from './hypercalls/hypercall-table';
import type { AbiStatus } from './hypercalls/types';
import { XS_QUOTA } from './xenstore/xs-tree';
import { XS_TYPE_NAMES } from './xenstore/xs-protocol';

/** Marker lines around the generated section. */
export const COMPAT_BEGIN = '<!-- compatibility:begin (generated from src-engine/hv/xen; DOMUS_UPDATE_DOCS=1 rewrites it) -->';
export const COMPAT_END = '<!-- compatibility:end -->';

/** What each status means, for the legend. */
const LEGEND: Record<AbiStatus, string> = {
  supported: 'implemented with Xen\'s semantics and error numbers',
  partial: 'implemented; the note says what is missing',
  'not-yet': 'answers -ENOSYS for now',
  'pv-only': 'classic-PV interface: -ENOSYS for PVH guests, as in Xen',
  privileged: 'control-domain interface: -EPERM (Domus guests are never privileged)',
};

/** Xenstore message types and what the engine's xenstored does with them. */
const XS_NOTES: Record<number, string> = {
  0: '"print" logs the text; other controls EACCES',
  4: 'fires once at once, then on changes at or below the path (read permission checked)',
  6: `up to ${XS_QUOTA.transactionsPerConnection} per connection`,
  7: 'commit checks every node the transaction touched: EAGAIN on conflict',
  8: 'EACCES: the engine introduces domains itself',
  9: 'EACCES',
  11: `creates missing parents; values up to ${XS_QUOTA.maxValueBytes} bytes for a domU`,
  14: 'owner or domain 0; a domU cannot give a node away',
  18: 'EACCES',
  19: 'EACCES',
};

function row(cells: readonly (string | number)[]): string {
  return `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** The generated section, markers included. */
export function renderXenCompatibility(): string {
  const out: string[] = [COMPAT_BEGIN, '', '### Status legend', ''];
  for (const [s, text] of Object.entries(LEGEND)) out.push(`- **${s}**: ${text}`);
  out.push('', '### Hypercalls', '', row(['nr', 'hypercall', 'header', 'caller', 'status', 'note']), row(['---', '---', '---', '---', '---', '---']));
  for (const h of HYPERCALLS) out.push(row([h.nr, `\`${h.name}\``, `public/${h.header}`, h.caller, h.status, h.note]));
  out.push('', 'Any other number answers -ENOSYS.');
  for (const h of HYPERCALLS) {
    if (h.subops === undefined) continue;
    out.push('', `### ${h.name} sub-operations`, '', row(['nr', 'operation', 'status', 'note']), row(['---', '---', '---', '---']));
    for (const o of h.subops) out.push(row([o.nr, `\`${o.name}\``, o.status, o.note]));
  }
  out.push('', '### Xenstore messages', '', row(['type', 'message', 'note']), row(['---', '---', '---']));
  for (const [t, name] of Object.entries(XS_TYPE_NAMES)) out.push(row([t, `\`${name}\``, XS_NOTES[Number(t)] ?? '']));
  out.push('', '### Structure layouts', '', 'Checked against the installed headers by test/unit/xen/layouts.test.ts.', '');
  out.push(row(['structure', 'header', 'bytes (32-bit)', 'bytes (64-bit)']), row(['---', '---', '---', '---']));
  for (const l of ALL_LAYOUTS) out.push(row([`\`${l.name}\``, `public/${l.header}`, l.size32, l.size64]));
  out.push('', '### Per-domain limits (Xen/xl defaults)', '', row(['limit', 'value']), row(['---', '---']));
  const limits: [string, number][] = [
    ['event channel ports (max_event_channels)', DEFAULT_MAX_EVTCHN_PORTS],
    ['grant frames (max_grant_frames)', DEFAULT_MAX_GRANT_FRAMES],
    ['grant map handles (max_maptrack_frames x 256)', DEFAULT_MAX_MAPTRACK],
    ['xenstore nodes per domain', XS_QUOTA.entriesPerDomain],
    ['xenstore value bytes', XS_QUOTA.maxValueBytes],
    ['xenstore permissions per node', XS_QUOTA.permsPerNode],
    ['xenstore watches per domain', XS_QUOTA.watchesPerDomain],
    ['xenstore transactions per connection', XS_QUOTA.transactionsPerConnection],
  ];
  for (const [k, v] of limits) out.push(row([k, v]));
  out.push('', COMPAT_END);
  return out.join('\n');
}
