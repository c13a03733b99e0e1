/**
 * JavaScript expressions for flags and conditions over the lazy-flags locals of a compiled
 * region (fo = op, fr = result, fa/fb = operands, fx = aux; lazy-flags.ts defines the record).
 * When the compiler knows which operation set the flags (it was emitted earlier in the same
 * block), the expression is that operation's formula, e.g. `jne` after `cmp` is `fr !== 0`;
 * otherwise it calls the value-based evaluators of flags-runtime.ts, optionally behind a guess
 * (`fo === guess ? formula : call`).
 */
import { LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_MUL, LF_SAR, LF_SBB, LF_SHL, LF_SHR, LF_SUB, SZ16, SZ32, SZ8 } from '../lazy-flags';

/** Flags operation not known at compile time. */
export const UNKNOWN = -1;

const SIGN_SHIFT = [7, 15, 31];

/** The generic call for CF (0/1). */
export const CF_CALL = 'cfOf(fo, fa, fb, fr, fx, s[10])';

function condCall(cc: number): string {
  return `(condOf(fo, fa, fb, fr, fx, s[10], ${cc}) !== 0)`;
}

/** CF as a 0/1 expression when op `op` (kind << 2 | size) is known, or null. */
export function knownCf(op: number): string | null {
  const sz = op & 3;
  const u = sz === SZ32;
  switch (op >> 2) {
    case LF_ADD:
      return u ? '((fr >>> 0) < (fa >>> 0) ? 1 : 0)' : '(fr < fa ? 1 : 0)';
    case LF_ADC:
      return u ? '(fx ? ((fr >>> 0) <= (fa >>> 0) ? 1 : 0) : ((fr >>> 0) < (fa >>> 0) ? 1 : 0))' : '(fx ? (fr <= fa ? 1 : 0) : (fr < fa ? 1 : 0))';
    case LF_SUB:
      return u ? '((fa >>> 0) < (fb >>> 0) ? 1 : 0)' : '(fa < fb ? 1 : 0)';
    case LF_SBB:
      return u ? '(fx ? ((fa >>> 0) <= (fb >>> 0) ? 1 : 0) : ((fa >>> 0) < (fb >>> 0) ? 1 : 0))' : '(fx ? (fa <= fb ? 1 : 0) : (fa < fb ? 1 : 0))';
    case LF_LOGIC:
      return '0';
    case LF_INC:
    case LF_DEC:
    case LF_SHL:
    case LF_SHR:
    case LF_SAR:
    case LF_MUL:
      return '(fx & 1)';
    default:
      return null;
  }
}

/** OF as a 0/1 expression for a known op, or null. */
function knownOf(op: number): string | null {
  const sh = SIGN_SHIFT[op & 3];
  switch (op >> 2) {
    case LF_ADD:
    case LF_ADC:
      return `((((fa ^ fr) & (fb ^ fr)) >>> ${sh}) & 1)`;
    case LF_SUB:
    case LF_SBB:
      return `((((fa ^ fb) & (fa ^ fr)) >>> ${sh}) & 1)`;
    case LF_LOGIC:
      return '0';
    case LF_INC:
      return `(fr === ${(1 << sh) | 0} ? 1 : 0)`;
    case LF_DEC:
      return `(fr === ${((1 << sh) - 1) | 0} ? 1 : 0)`;
    case LF_SHL:
      return `(((fr >>> ${sh}) ^ fx) & 1)`;
    case LF_SHR:
    case LF_SAR:
      return `(((fa ^ fr) >>> ${sh}) & 1)`;
    case LF_MUL:
      return '(fx & 1)';
    default:
      return null;
  }
}

/** Sign-extends a local to int32 for signed compares of 8/16-bit operands. */
function signed(name: string, sz: number): string {
  if (sz === SZ8) return `((${name} << 24) >> 24)`;
  if (sz === SZ16) return `((${name} << 16) >> 16)`;
  return name;
}

/** Condition `cc` as a boolean expression for a known op, or null. */
function knownCond(op: number, cc: number): string | null {
  const kind = op >> 2;
  const sz = op & 3;
  const sf = `((fr >>> ${SIGN_SHIFT[sz]}) & 1)`;
  if (kind === LF_SUB) {
    const u = sz === SZ32;
    const ua = u ? '(fa >>> 0)' : 'fa';
    const ub = u ? '(fb >>> 0)' : 'fb';
    const sa = signed('fa', sz);
    const sb = signed('fb', sz);
    switch (cc) {
      case 0x2: return `(${ua} < ${ub})`;
      case 0x3: return `(${ua} >= ${ub})`;
      case 0x4: return '(fr === 0)';
      case 0x5: return '(fr !== 0)';
      case 0x6: return `(${ua} <= ${ub})`;
      case 0x7: return `(${ua} > ${ub})`;
      case 0x8: return `(${sf} !== 0)`;
      case 0x9: return `(${sf} === 0)`;
      case 0xc: return `(${sa} < ${sb})`;
      case 0xd: return `(${sa} >= ${sb})`;
      case 0xe: return `(${sa} <= ${sb})`;
      case 0xf: return `(${sa} > ${sb})`;
      default: break;
    }
  }
  if (kind === LF_LOGIC) {
    switch (cc) {
      case 0x0: case 0x2: return 'false';
      case 0x1: case 0x3: return 'true';
      case 0x4: case 0x6: return '(fr === 0)';
      case 0x5: case 0x7: return '(fr !== 0)';
      case 0x8: case 0xc: return `(${sf} !== 0)`;
      case 0x9: case 0xd: return `(${sf} === 0)`;
      case 0xe: return `(fr === 0 || ${sf} !== 0)`;
      case 0xf: return `(fr !== 0 && ${sf} === 0)`;
      default: break;
    }
  }
  const cf = knownCf(op);
  const of = knownOf(op);
  if (cf === null || of === null) return null;
  const zf = '(fr === 0 ? 1 : 0)';
  const pf = '(PARITY[fr & 255])';
  let v: string;
  switch (cc >> 1) {
    case 0: v = of; break;
    case 1: v = cf; break;
    case 2: v = zf; break;
    case 3: v = `(${cf} | ${zf})`; break;
    case 4: v = sf; break;
    case 5: v = pf; break;
    case 6: v = `(${sf} ^ ${of})`; break;
    default: v = `((${sf} ^ ${of}) | ${zf})`; break;
  }
  return (cc & 1) === 0 ? `(${v} !== 0)` : `(${v} === 0)`;
}

/**
 * Condition `cc` as a boolean expression. `known` is the flags op set earlier in the block (or
 * UNKNOWN); `guess` the op most likely pending when it is unknown (or UNKNOWN).
 */
export function condExpr(cc: number, known: number, guess: number): string {
  if (known !== UNKNOWN && known !== 0) {
    const k = knownCond(known, cc);
    if (k !== null) return k;
  }
  if (known === UNKNOWN && guess !== UNKNOWN && guess !== 0) {
    const g = knownCond(guess, cc);
    if (g !== null) return `(fo === ${guess} ? ${g} : ${condCall(cc)})`;
  }
  return condCall(cc);
}

/** CF as a 0/1 expression (see condExpr for `known` and `guess`). */
export function cfExpr(known: number, guess: number): string {
  if (known !== UNKNOWN && known !== 0) {
    const k = knownCf(known);
    if (k !== null) return k;
  }
  if (known === UNKNOWN && guess !== UNKNOWN && guess !== 0) {
    const g = knownCf(guess);
    if (g !== null) return `(fo === ${guess} ? ${g} : ${CF_CALL})`;
  }
  return CF_CALL;
}
