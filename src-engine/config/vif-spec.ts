/**
 * vif= entries (xl-network-configuration(5)), split the way xl does it (tools/xl/xl_parse.c,
 * parse_nic_config): the string is cut at commas (empty pieces skipped, like strtok), leading
 * spaces dropped, each piece is KEY=VALUE or one of the flags `trusted` / `untrusted`.
 * Domus has no network devices yet, so entries are kept as parsed; mac= and type= are checked.
 */
import type { VifConfig } from '../api/domain-config';

/** Keys xl's parse_nic_config knows (colo_* keys are accepted by prefix). */
const VIF_KEYS = new Set([
  'type', 'mac', 'bridge', 'netdev', 'gatewaydev', 'ip', 'script', 'backend', 'vifname', 'model',
  'rate', 'forwarddev', 'accel', 'devid', 'mtu', 'vlan',
]);
const VIF_FLAGS = new Set(['trusted', 'untrusted']);
/** A MAC address: six hex octets (xl reads each with strtoul(.., 16) and skips one separator). */
const MAC_RE = /^[0-9a-fA-F]{1,2}(?:[:-][0-9a-fA-F]{1,2}){5}$/;

/** Result of parsing one vif entry: the entry, errors (refused) and warnings (kept). */
export interface VifParseResult {
  vif: VifConfig;
  errors: string[];
  warnings: string[];
}

/** Parses one NET_SPEC_STRING. */
export function parseVifSpec(spec: string): VifParseResult {
  const params: Record<string, string> = {};
  const flags: string[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const piece of spec.split(',')) {
    const token = piece.replace(/^ +/, '');
    if (token === '') continue;
    const eq = token.indexOf('=');
    if (eq < 0) {
      flags.push(token);
      if (!VIF_FLAGS.has(token)) warnings.push(`unrecognized argument \`${token}' in vif \`${spec}' (kept, ignored)`);
      continue;
    }
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    params[key] = value;
    if (key === 'mac' && !MAC_RE.test(value)) errors.push(`Invalid parameter \`mac' in vif \`${spec}': ${value} is not a MAC address like 00:16:3e:12:34:56`);
    else if (key === 'type' && value !== 'vif' && value !== 'ioemu') errors.push(`Invalid parameter \`type' in vif \`${spec}': use vif or ioemu`);
    else if (!VIF_KEYS.has(key) && !key.startsWith('colo_')) warnings.push(`unrecognized argument \`${token}' in vif \`${spec}' (kept, ignored)`);
  }
  return { vif: { params, flags, spec }, errors, warnings };
}

/** Writes a vif back: its original text if it still says the same, else key=value pairs. */
export function formatVifSpec(vif: VifConfig): string {
  const canonical = [...Object.entries(vif.params).map(([k, v]) => `${k}=${v}`), ...vif.flags].join(',');
  const again = parseVifSpec(vif.spec).vif;
  const same =
    JSON.stringify(again.params) === JSON.stringify(vif.params) && again.flags.join(',') === vif.flags.join(',');
  return same ? vif.spec : canonical;
}
