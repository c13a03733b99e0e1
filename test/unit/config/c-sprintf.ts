/**
 * A tiny C sprintf for the golden-output tests, written independently of the formatters under
 * test: it knows %[-][width][.prec] with s, c, d, u, lu, x and f (f via toFixed, so tests must
 * avoid exact .5 ties, which C rounds to even; c-format.test.ts checks those against gcc).
 */
export function sprintf(fmt: string, ...args: Array<string | number>): string {
  let i = 0;
  return fmt.replace(/%(-?)(0?)(\d*)(?:\.(\d+))?(l?[sducxf%])/g, (_m, minus: string, zero: string, width: string, prec: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const arg = args[i++];
    let s: string;
    switch (conv.replace('l', '')) {
      case 's':
      case 'c':
        s = String(arg);
        break;
      case 'd':
      case 'u':
        s = String(Math.trunc(Number(arg)));
        break;
      case 'x':
        s = Number(arg).toString(16);
        break;
      case 'f':
        s = Number(arg).toFixed(prec === undefined ? 6 : Number(prec));
        break;
      default:
        throw new Error(`unsupported conversion %${conv}`);
    }
    const w = width === '' ? 0 : Number(width);
    if (s.length >= w) return s;
    if (minus) return s + ' '.repeat(w - s.length);
    return (zero ? '0' : ' ').repeat(w - s.length) + s;
  });
}
