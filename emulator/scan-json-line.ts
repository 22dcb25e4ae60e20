import type { RequestPathStep } from '../schemas/generate-content-request.ts';

/** Where a field's key and value start in the line (0-based offsets). */
export interface JsonPosition {
  key?: number;
  value: number;
}

export type JsonLineScan =
  | { ok: true; locate(path: readonly RequestPathStep[]): JsonPosition | undefined }
  | { ok: false; offset: number; detail: string };

class ScanError extends Error {
  constructor(readonly offset: number, readonly detail: string) {
    super(detail);
  }
}

const whitespace = new Set([' ', '\t', '\n', '\r']);
const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const escapePattern = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;
const escapedCharacters: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** The text of a string literal already checked to be one (its escapes decoded). */
function decodeString(literal: string): string {
  return literal
    .slice(1, -1)
    .replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_match, code: string) => (code.length === 5 ? String.fromCharCode(Number.parseInt(code.slice(1), 16)) : (escapedCharacters[code] ?? code)));
}

/**
 * A JSON reader that keeps positions, for the one thing JSON.parse cannot say: where in a line a problem is. The
 * batch parser's 400 names a column ("Error on line 1: invalid JSON, near column 23: unexpected character: '[';
 * expected '{'", inspect_ai #5100), so the emulator scans a line with this only once it knows the line is bad.
 */
export function scanJsonLine(text: string): JsonLineScan {
  const scanner: Scanner = { text, offset: 0, positions: new Map() };
  try {
    readValue(scanner, []);
    skipWhitespace(scanner);
    if (scanner.offset < text.length) fail(scanner, 'the end of the line');
  } catch (error) {
    if (error instanceof ScanError) return { ok: false, offset: error.offset, detail: error.detail };
    throw error;
  }
  const { positions } = scanner;
  return { ok: true, locate: (path) => positions.get(JSON.stringify(path)) };
}

/** One scan's state: the line, how far it has read, and where each value it passed starts. */
interface Scanner {
  text: string;
  offset: number;
  positions: Map<string, JsonPosition>;
}

// Declared with its `never`, so that the compiler knows a call never returns.
function fail(scanner: Scanner, detail?: string): never {
  const { text, offset } = scanner;
  if (offset >= text.length) throw new ScanError(text.length, 'unexpected end of input');
  throw new ScanError(offset, `unexpected character: '${text[offset]}'${detail ? `; expected ${detail}` : ''}`);
}

function skipWhitespace(scanner: Scanner): void {
  while (scanner.offset < scanner.text.length && whitespace.has(scanner.text[scanner.offset] as string)) scanner.offset += 1;
}

function expectCharacter(scanner: Scanner, character: string): void {
  skipWhitespace(scanner);
  if (scanner.text[scanner.offset] !== character) fail(scanner, `'${character}'`);
  scanner.offset += 1;
}

function readString(scanner: Scanner): string {
  const { text } = scanner;
  const start = scanner.offset;
  scanner.offset += 1;
  for (;;) {
    const character = text[scanner.offset];
    if (character === undefined) fail(scanner);
    if (character === '"') break;
    if (character === '\\') {
      escapePattern.lastIndex = scanner.offset;
      if (!escapePattern.test(text)) fail(scanner, 'an escape sequence');
      scanner.offset = escapePattern.lastIndex;
    } else if (character < ' ') {
      fail(scanner, "'\"'");
    } else {
      scanner.offset += 1;
    }
  }
  scanner.offset += 1;
  return decodeString(text.slice(start, scanner.offset));
}

function readValue(scanner: Scanner, path: RequestPathStep[], key?: number): void {
  const { text } = scanner;
  skipWhitespace(scanner);
  scanner.positions.set(JSON.stringify(path), { ...(key !== undefined ? { key } : {}), value: scanner.offset });
  const character = text[scanner.offset];
  if (character === '{') return readObject(scanner, path);
  if (character === '[') return readArray(scanner, path);
  if (character === '"') return void readString(scanner);
  for (const literal of ['true', 'false', 'null']) {
    if (text.startsWith(literal, scanner.offset)) {
      scanner.offset += literal.length;
      return;
    }
  }
  numberPattern.lastIndex = scanner.offset;
  if (!numberPattern.test(text)) fail(scanner, 'a value');
  scanner.offset = numberPattern.lastIndex;
}

/** An object's members or an array's items, separated by commas, up to the closing bracket. */
function readSequence(scanner: Scanner, close: '}' | ']', readItem: (index: number) => void): void {
  const { text } = scanner;
  scanner.offset += 1;
  skipWhitespace(scanner);
  if (text[scanner.offset] === close) {
    scanner.offset += 1;
    return;
  }
  for (let index = 0; ; index += 1) {
    readItem(index);
    skipWhitespace(scanner);
    if (text[scanner.offset] === ',') scanner.offset += 1;
    else if (text[scanner.offset] === close) break;
    else fail(scanner, `',' or '${close}'`);
  }
  scanner.offset += 1;
}

function readObject(scanner: Scanner, path: RequestPathStep[]): void {
  readSequence(scanner, '}', () => {
    skipWhitespace(scanner);
    if (scanner.text[scanner.offset] !== '"') fail(scanner, "'\"'");
    const keyOffset = scanner.offset;
    const name = readString(scanner);
    expectCharacter(scanner, ':');
    readValue(scanner, [...path, name], keyOffset);
  });
}

function readArray(scanner: Scanner, path: RequestPathStep[]): void {
  readSequence(scanner, ']', (index) => readValue(scanner, [...path, index]));
}
