import { describe, expect, it } from 'vitest';
import { parseXlCfg, documentSettings } from '../../../src-engine/config/xlcfg-parser';
import { XlCfgError, formatProblem } from '../../../src-engine/config/xlcfg-problems';
import type { XlValue } from '../../../src-engine/config/xlcfg-ast';

/** A value as plain data: atoms as their text, lists as arrays. */
function plain(v: XlValue): unknown {
  return v.kind === 'atom' ? v.text : v.items.map(plain);
}

function settings(text: string): Record<string, unknown> {
  const { document } = parseXlCfg(text, 't.cfg');
  return Object.fromEntries([...documentSettings(document)].map(([k, s]) => [k, plain(s.value)]));
}

/** The error lines of a refused text. */
function errors(text: string): string[] {
  try {
    parseXlCfg(text, 't.cfg');
  } catch (e) {
    expect(e).toBeInstanceOf(XlCfgError);
    return (e as XlCfgError).problems.filter((p) => p.severity === 'error').map(formatProblem);
  }
  throw new Error(`accepted: ${JSON.stringify(text)}`);
}

describe('xl.cfg grammar: what xl accepts', () => {
  it('reads strings in both quotes, numbers kept as text, and keys with . and _', () => {
    expect(settings(`name = "a b"\nkernel='/boot/k'\nmemory = 512\nx.y_z1 = 0x1f\n`)).toEqual({
      name: 'a b',
      kernel: '/boot/k',
      memory: '512',
      'x.y_z1': '0x1f',
    });
  });

  it('keeps NUMBER tokens as the lexer saw them, letters a-f and x included', () => {
    expect(settings('a = 12abc\nb = 0x10\nc = 007\n')).toEqual({ a: '12abc', b: '0x10', c: '007' });
  });

  it('decodes the escapes libxlu knows', () => {
    expect(settings(String.raw`a = "q\"s\'b\\n\n t\t r\r a\a b\b f\f v\v"` + '\n')).toEqual({
      a: 'q"s\'b\\n\n t\t r\r a\x07 b\b f\f v\v',
    });
    expect(settings(String.raw`a = 'it\'s'` + '\n')).toEqual({ a: "it's" });
  });

  it('separates statements by newlines or semicolons; the last one needs no terminator', () => {
    expect(settings('name="h0"; type="hvm"\n;;\nvcpus=2')).toEqual({ name: 'h0', type: 'hvm', vcpus: '2' });
    expect(settings('')).toEqual({});
    expect(settings('\n\n# only a comment\n')).toEqual({});
  });

  it('treats a comment as the end of the line, after a value too', () => {
    expect(settings('memory = 128 # MiB\n#x = 1\nvcpus = 2 #\n')).toEqual({ memory: '128', vcpus: '2' });
  });

  it('parses lists: empty, trailing comma, newlines and comments inside, nested', () => {
    expect(settings('a = []\nb = [ ]\nc = [ "x", ]\n')).toEqual({ a: [], b: [], c: ['x'] });
    const multi = 'disk = [\n  # system\n  "a",\n\n  "b" # data\n  ,\n  "c",\n]\n';
    expect(settings(multi)).toEqual({ disk: ['a', 'b', 'c'] });
    expect(settings('v = [ [ "1", 2 ], [], [ [ "deep" ] ] ]\n')).toEqual({ v: [['1', '2'], [], [['deep']]] });
    expect(settings('v = [\n]\n')).toEqual({ v: [] });
  });

  it('applies = and += in order, as xl does', () => {
    expect(settings('a = "x"\na += "y"\na += "z"\n')).toEqual({ a: 'xyz' });
    expect(settings('l = [ "1" ]\nl += [ "2", "3" ]\n')).toEqual({ l: ['1', '2', '3'] });
    expect(settings('l = [ "1" ]\nl = [ "9" ]\nl += [ "2" ]\n')).toEqual({ l: ['9', '2'] });
    expect(settings('n += "only"\n')).toEqual({ n: 'only' });
    expect(settings('a = "x"\na = "y"\n')).toEqual({ a: 'y' });
  });

  it('keeps the order of first appearance and records every statement', () => {
    const { document } = parseXlCfg('b = 1\na = 2\nb = 3\n', 't.cfg');
    expect([...documentSettings(document).keys()]).toEqual(['b', 'a']);
    expect(document.statements.map((s) => s.key)).toEqual(['b', 'a', 'b']);
    expect(document.statements[1].keyPos).toEqual({ line: 2, col: 1, offset: 6 });
  });

  it('accepts UTF-8 inside strings', () => {
    expect(settings('name = "café ☕"\n')).toEqual({ name: 'café ☕' });
  });

  it('warns that xl drops an octal escape, and drops it too', () => {
    const { document, warnings } = parseXlCfg('a = "x\\012y"\n', 't.cfg');
    expect(plain(documentSettings(document).get('a')!.value)).toBe('xy');
    expect(warnings.map(formatProblem)).toEqual([
      't.cfg:1:5: warning: the escape \\012 in string "x\\012y" is dropped by xl (a libxlu quirk): the string will not contain that character',
    ]);
  });
});

describe('xl.cfg grammar: what xl refuses, with positions', () => {
  it('refuses uppercase keys and bare words', () => {
    expect(errors('Name = "x"\n')).toEqual([
      "t.cfg:1:1: `Name': keys are lowercase letters, digits, '.' and '_', starting with a letter; other words must be quoted",
    ]);
    expect(errors('type = hvm\n')).toEqual([
      't.cfg:1:8: expected a value: a "quoted string", a number or a [list]; the bare word `hvm\' must be quoted, e.g. "hvm" (key type)',
    ]);
    expect(errors('nographic = true\n')[0]).toContain('write booleans as 1 or 0 (key nographic)');
  });

  it('refuses negative, fractional and unit-suffixed bare numbers', () => {
    expect(errors('cap = -1\n')).toEqual(['t.cfg:1:7: `-1\': bare numbers cannot be negative; quote it, e.g. "-1" (key cap)']);
    expect(errors('memory = 1.5\n')[0]).toMatch(/^t\.cfg:1:11: unexpected `\.5': this looks like Python/);
    expect(errors('memory = 512M\n')).toEqual([
      "t.cfg:1:13: `M' right after a number: numbers take no units (memory= is in MiB) and hex digits are lowercase (key memory)",
    ]);
    expect(errors('memory = 0x1F\n')[0]).toMatch(/^t\.cfg:1:13: `F' right after a number/);
    expect(errors('memory = 512k\n')).toEqual(["t.cfg:1:13: `512k': numbers take no units or suffixes (memory= is in MiB); write 512 (key memory)"]);
    expect(errors('a = "x" ~\n')[0]).toBe('t.cfg:1:9: unexpected character "~" in `~\' (key a)');
  });

  it('refuses unterminated strings and strings across lines', () => {
    expect(errors('name = "abc\n')[0]).toMatch(/^t\.cfg:1:8: unterminated string "abc: close it with " on the same line/);
    expect(errors('name = "a\nb"\n')[0]).toMatch(/^t\.cfg:1:8: unterminated string/);
  });

  it('refuses escapes xl refuses', () => {
    expect(errors('a = "\\q"\n')).toEqual([
      't.cfg:1:5: invalid escape \\q in string "\\q": xl accepts \\" \\\' \\\\ \\a \\b \\f \\n \\r \\t \\v only',
    ]);
    expect(errors('a = "\\x41"\n')[0]).toMatch(/^t\.cfg:1:5: \\x escapes are refused by xl/);
    expect(errors('a = "\\1a"\n')[0]).toMatch(/^t\.cfg:1:5: invalid numeric escape/);
  });

  it('refuses CRLF line endings once, and a final comment without a newline', () => {
    expect(errors('a = 1\r\nb = 2\r\n')).toEqual([
      't.cfg:1:6: carriage return: xl.cfg files must use LF line endings, not CRLF (convert the file, e.g. with dos2unix)',
    ]);
    expect(errors('a = 1\n# end')).toEqual(['t.cfg:2:1: the comment on the last line has no newline at its end: xl refuses that, add a newline']);
  });

  it('refuses a missing operator or value, and two statements on one line', () => {
    expect(errors('memory 512\n')).toEqual(["t.cfg:1:8: expected '=' or '+=' after the key, found the number 512 (key memory)"]);
    expect(errors('memory =\n')).toEqual(['t.cfg:1:9: expected a value: a "quoted string", a number or a [list] on the same line as the key (key memory)']);
    expect(errors('memory =\n  512\n')[0]).toBe('t.cfg:1:9: expected a value: a "quoted string", a number or a [list] on the same line as the key (key memory)');
    expect(errors('a = 1 b = 2\n')).toEqual(["t.cfg:1:7: expected the end of the line or ';' after the value, found the word `b' (key a)"]);
    expect(errors('= 1\n')).toEqual(["t.cfg:1:1: expected a key at the start of a statement, found '='"]);
  });

  it('refuses malformed lists', () => {
    expect(errors('l = [ , ]\n')).toEqual([
      "t.cfg:1:7: expected a value: a \"quoted string\", a number or a [list]; found ',' (empty list items are not allowed) (key l)",
    ]);
    expect(errors('l = [ "a",, "b" ]\n')[0]).toMatch(/^t\.cfg:1:11: .*empty list items/);
    expect(errors('l = [ "a" "b" ]\n')).toEqual(["t.cfg:1:11: expected ',' or ']' in the list, found a string (key l)"]);
    expect(errors('l = [ "a",\n  "b"\n')).toEqual(["t.cfg:3:1: the list is not closed: missing ']' before the end of the file (key l)"]);
  });

  it('refuses += between a list and a string', () => {
    expect(errors('a = "x"\na += [ "y" ]\n')).toEqual(['t.cfg:2:1: can\'t add [list] to "string" or vice versa with += (key a)']);
  });

  it('reports every error of the file, one per line, and recovers at the next line', () => {
    const errs = errors('a = 1\nB = 2\nc = x\nl = [ "a",\n "b" "c",\n "d" ]\nok = 3\nd 4\n');
    expect(errs.map((e) => e.split(':').slice(0, 3).join(':'))).toEqual(['t.cfg:2:1', 't.cfg:3:5', 't.cfg:5:6', 't.cfg:8:3']);
  });

  it('flags Python-looking configs', () => {
    const errs = errors('import os\nmemory = int(512)\n');
    expect(errs).toContain("t.cfg:1:8: expected '=' or '+=' after the key, found the word `os' (key import)");
    expect(errs.some((e) => /^t\.cfg:2:13: unexpected `\(512\)': this looks like Python/.test(e))).toBe(true);
  });
});
