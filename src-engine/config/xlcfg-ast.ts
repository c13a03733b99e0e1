/**
 * The parsed form of an xl.cfg file. Values are what libxlu's parser builds (tools/libs/util/
 * libxlu_cfg_y.y): an atom (a quoted string or a bare number, both kept as text, because xl
 * converts numbers only when a key is read) or a list of values, lists nesting freely.
 * The document keeps its source text and each statement's span, so that a writer can change
 * some keys and leave everything else, comments included, byte for byte as it was.
 */
import type { SourcePos } from './xlcfg-problems';

/** An atom: a quoted string or a bare NUMBER token. */
export interface XlAtom {
  kind: 'atom';
  /** The decoded text (escapes resolved for strings; the token itself for numbers). */
  text: string;
  /** How it was written: "string" for '...' or "...", "number" for a bare NUMBER token. */
  form: 'string' | 'number';
  pos: SourcePos;
}

/** A list `[ v, v, ... ]`; items may be atoms or lists. */
export interface XlList {
  kind: 'list';
  items: XlValue[];
  /** Position of the opening bracket. */
  pos: SourcePos;
}

/** Any xl.cfg value. */
export type XlValue = XlAtom | XlList;

/** One `key = value` or `key += value` statement. */
export interface XlStatement {
  key: string;
  op: '=' | '+=';
  value: XlValue;
  /** The file (or "command line") the statement comes from. */
  file: string;
  keyPos: SourcePos;
  /** Source span of the statement, from the key to the end of the value (exclusive). */
  start: number;
  end: number;
  /**
   * Span of what ends the statement: a `;`, a newline (with any comment before it), or nothing
   * at the end of the file (then termStart === termEnd === end of text).
   */
  termStart: number;
  termEnd: number;
  termKind: ';' | 'newline' | 'eof';
}

/** A parsed xl.cfg text. */
export interface XlCfgDocument {
  file: string;
  source: string;
  statements: XlStatement[];
}

/** The value a key ends up with after every `=` and `+=` is applied, as xl sees it. */
export interface XlSetting {
  key: string;
  value: XlValue;
  /** The operator of the last statement for this key (xl refuses `+=` on numbers). */
  op: '=' | '+=';
  /** The statements that produced the value, in order; the last one defines its position. */
  statements: XlStatement[];
}

/**
 * Values as callers build them: strings, non-negative integers (written as numbers), booleans
 * (written as 1 or 0) and lists of those.
 */
export type XlValueInput = string | number | boolean | readonly XlValueInput[];
