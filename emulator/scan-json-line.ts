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
  const positions = new Map<string, JsonPosition>();
  let offset = 0;

  // Typed on the name, so that the compiler knows a call never returns.
  const fail: (detail?: string) => never = (detail) => {
    if (offset >= text.length) throw new ScanError(text.length, 'unexpected end of input');
    throw new ScanError(offset, `unexpected character: '${text[offset]}'${detail ? `; expected ${detail}` : ''}`);
  };
  const skipWhitespace = () => {
    while (offset < text.length && whitespace.has(text[offset] as string)) offset += 1;
  };
  const expect = (character: string) => {
    skipWhitespace();
    if (text[offset] !== character) fail(`'${character}'`);
    offset += 1;
  };

  const readString = (): string => {
    const start = offset;
    offset += 1;
    for (;;) {
      const character = text[offset];
      if (character === undefined) fail();
      if (character === '"') break;
      if (character === '\\') {
        escapePattern.lastIndex = offset;
        if (!escapePattern.test(text)) fail('an escape sequence');
        offset = escapePattern.lastIndex;
      } else if (character < ' ') {
        fail("'\"'");
      } else {
        offset += 1;
      }
    }
    offset += 1;
    return decodeString(text.slice(start, offset));
  };

  const readValue = (path: RequestPathStep[], key?: number): void => {
    skipWhitespace();
    positions.set(JSON.stringify(path), { ...(key !== undefined ? { key } : {}), value: offset });
    const character = text[offset];
    if (character === '{') return readObject(path);
    if (character === '[') return readArray(path);
    if (character === '"') return void readString();
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, offset)) {
        offset += literal.length;
        return;
      }
    }
    numberPattern.lastIndex = offset;
    if (!numberPattern.test(text)) fail('a value');
    offset = numberPattern.lastIndex;
  };

  /** An object's members or an array's items, separated by commas, up to the closing bracket. */
  const readSequence = (close: '}' | ']', readItem: (index: number) => void): void => {
    offset += 1;
    skipWhitespace();
    if (text[offset] === close) {
      offset += 1;
      return;
    }
    for (let index = 0; ; index += 1) {
      readItem(index);
      skipWhitespace();
      if (text[offset] === ',') offset += 1;
      else if (text[offset] === close) break;
      else fail(`',' or '${close}'`);
    }
    offset += 1;
  };

  const readObject = (path: RequestPathStep[]): void =>
    readSequence('}', () => {
      skipWhitespace();
      if (text[offset] !== '"') fail("'\"'");
      const keyOffset = offset;
      const name = readString();
      expect(':');
      readValue([...path, name], keyOffset);
    });

  const readArray = (path: RequestPathStep[]): void => readSequence(']', (index) => readValue([...path, index]));

  try {
    readValue([]);
    skipWhitespace();
    if (offset < text.length) fail('the end of the line');
  } catch (error) {
    if (error instanceof ScanError) return { ok: false, offset: error.offset, detail: error.detail };
    throw error;
  }
  return { ok: true, locate: (path) => positions.get(JSON.stringify(path)) };
}
