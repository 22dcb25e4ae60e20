import { createHash, randomUUID, type Hash } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecord } from '../../schemas/is-record.ts';
import type { ResultLine, ResultLineReader } from './read-result-lines.ts';

/** Where an image of a result now lives: `<blobDirectory>/<sha256>`, `bytes` long. */
export interface BlobReference {
  sha256: string;
  bytes: number;
}

export interface StreamingReaderOptions {
  /** Where decoded inlineData bytes go, as `<blobDirectory>/<sha256>` (hex, no extension). Created if missing. */
  blobDirectory: string;
  /** Cap on the bytes of one line outside inlineData.data strings (text, metadata); default 16 MiB. Over it: the line is unreadable, the reader goes on. */
  maxLineTextBytes?: number;
  /** Read chunk size (default 1 MiB); tests set it tiny to split tokens everywhere. */
  chunkBytes?: number;
}

const defaultMaxLineTextBytes = 16 * 1024 * 1024;
const defaultChunkBytes = 1024 * 1024;
const base64PieceBytes = 64 * 1024;
const maxNestingDepth = 64;
const temporaryBlobPrefix = 'partial-';

const tabByte = 0x09;
const newlineByte = 0x0a;
const carriageReturnByte = 0x0d;
const spaceByte = 0x20;
const quoteByte = 0x22;
const commaByte = 0x2c;
const minusByte = 0x2d;
const plusByte = 0x2b;
const dotByte = 0x2e;
const zeroByte = 0x30;
const nineByte = 0x39;
const colonByte = 0x3a;
const openBracketByte = 0x5b;
const backslashByte = 0x5c;
const closeBracketByte = 0x5d;
const openBraceByte = 0x7b;
const closeBraceByte = 0x7d;
const byteOrderMark = [0xef, 0xbb, 0xbf] as const;

const invalidBase64Pattern = /[^A-Za-z0-9+/_-]/;
const notPaddingPattern = /[^=]/;
const identifierPattern = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Where the parser is: which bytes it accepts next. */
type ParserMode =
  | 'value'
  | 'first-array-value'
  | 'first-property'
  | 'property'
  | 'colon'
  | 'after-value'
  | 'after-line-value'
  | 'string'
  | 'blob'
  | 'number'
  | 'literal'
  | 'skip-line';

/** Steps of the JSON number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
type NumberStep = 'start' | 'minus' | 'zero' | 'integer' | 'dot' | 'fraction' | 'exponent' | 'exponent-sign' | 'exponent-digits';

type ContainerFrame =
  | { readonly isArray: true; readonly value: unknown[] }
  | {
      readonly isArray: false;
      readonly value: Record<string, unknown>;
      propertyName: string;
      /** `inlineData` or `inline_data` when this object is the value of such a property: its `data` string is an image. */
      readonly inlineDataName: string | undefined;
    };

interface BlobInProgress {
  readonly hash: Hash;
  /**
   * `inline-data`: an image's `data`, replaced by `blob` beside it; `signature`: a part's `thoughtSignature` (about
   * 2.9 MB of base64 on a recorded gemini-3-pro-image answer), replaced by `{ blob }` under the same name, so that
   * neither ever lands in memory, the result cache or a sidecar.
   */
  readonly target: 'inline-data' | 'signature';
  readonly propertyName: string;
  /** Names the string in problems, e.g. `inlineData.data of candidates[0].content.parts[2]`. */
  readonly description: string;
  /** Line byte offset of the first byte inside the quotes: these bytes do not count against the text cap. */
  readonly startOffset: number;
  bytes: number;
  /** Base64 characters taken so far (escapes count as the one character they stand for), for offsets in problems. */
  characters: number;
  /** The 0–3 characters that do not yet make a whole 4-character group. */
  carry: string;
  paddingLength: number;
  paddingOffset: number;
}

type ParserEvent =
  | { type: 'blob-start' }
  | { type: 'blob-data'; data: Buffer[] }
  | { type: 'blob-end'; sha256: string }
  | { type: 'line'; result: ResultLine };

/**
 * Gives a value its property the way JSON.parse does: an own data property, the last duplicate winning. Plain
 * assignment would call the `__proto__` setter and swap the object's prototype, so that one key is defined instead.
 */
function setProperty(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

function isSignatureName(name: string): boolean {
  return name === 'thoughtSignature' || name === 'thought_signature';
}

function isWhitespace(byte: number): boolean {
  return byte === spaceByte || byte === tabByte || byte === carriageReturnByte;
}

function isDigit(byte: number): boolean {
  return byte >= zeroByte && byte <= nineByte;
}

function isExponentMark(byte: number): boolean {
  return byte === 0x65 || byte === 0x45;
}

function isHexDigit(byte: number): boolean {
  return isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'the end of the file';
  if (byte === newlineByte) return 'the end of the line';
  if (byte >= spaceByte && byte < 0x7f) return `'${String.fromCharCode(byte)}'`;
  return `byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Raw text arrives as bytes (a non-ASCII one is part of a UTF-8 sequence); escaped text as UTF-16 code units. */
function describeBase64Intruder(code: number, isRaw: boolean): string {
  if (isRaw && (code === newlineByte || code === carriageReturnByte)) return 'a raw line break: the line was cut';
  if (code >= spaceByte && code < 0x7f) return `character '${String.fromCharCode(code)}'`;
  if (isRaw) return `byte 0x${code.toString(16).toUpperCase().padStart(2, '0')}`;
  return `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function formatPathSegment(name: string): string {
  return identifierPattern.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** The character a one-letter escape (`\n`, `\/`, …) stands for; undefined for letters JSON does not allow. */
function readSimpleEscape(byte: number): string | undefined {
  switch (byte) {
    case quoteByte:
      return '"';
    case backslashByte:
      return '\\';
    case 0x2f:
      return '/';
    case 0x62:
      return '\b';
    case 0x66:
      return '\f';
    case 0x6e:
      return '\n';
    case 0x72:
      return '\r';
    case 0x74:
      return '\t';
    default:
      return undefined;
  }
}

function classifyLine(options: { root: unknown; lineNumber: number }): ResultLine {
  const { root, lineNumber } = options;
  if (!isRecord(root) || typeof root['key'] !== 'string' || root['key'] === '') {
    return { kind: 'unreadable', lineNumber, problem: 'no string "key"' };
  }
  const key = root['key'];
  const failure = root['error'] ?? root['status'];
  if (failure !== undefined && failure !== null) return { kind: 'error', key, error: failure, lineNumber };
  const response = root['response'];
  if (isRecord(response)) return { kind: 'response', key, response, lineNumber };
  return { kind: 'unreadable', lineNumber, key, problem: 'neither a "response" object nor an "error"' };
}

/**
 * An incremental JSON Lines parser over byte chunks. It is synchronous so that its hot loops stay simple: each call
 * returns what happened in that chunk as events (image bytes to write, finished lines), and the caller does the
 * awaiting. It never keeps a reference to a chunk, so the caller may reuse its read buffer.
 */
class ResultLineParser {
  private readonly maxLineTextBytes: number;
  private events: ParserEvent[] = [];
  private mode: ParserMode = 'value';
  private byteOrderMarkMatched = 0;

  private lineNumber = 1;
  /** Bytes of the current line that came in earlier chunks. */
  private lineBytesBefore = 0;
  /** Where the current line starts in the current chunk (0 when it started in an earlier one). */
  private lineStartInChunk = 0;
  /** Bytes of this line's finished image strings, which the text cap leaves out. */
  private lineBlobBytes = 0;
  private lineKey: string | undefined;
  private stack: ContainerFrame[] = [];
  private root: unknown;

  private stringIsKey = false;
  private stringParts: string[] = [];
  /** Raw bytes of a string that crossed a chunk boundary, decoded as UTF-8 only once whole (a character may be split). */
  private stringBytes: Buffer[] = [];
  /** The escape being read: undefined outside one, '' after the backslash, 'u', 'u0', … for a \uXXXX. */
  private escapeSequence: string | undefined;
  private blob: BlobInProgress | undefined;
  private numberStep: NumberStep = 'start';
  private numberText = '';
  private literalText = '';
  private literalValue: boolean | null = null;
  private literalMatched = 0;

  constructor(options: { maxLineTextBytes: number }) {
    this.maxLineTextBytes = options.maxLineTextBytes;
  }

  parseChunk(chunk: Buffer): ParserEvent[] {
    this.events = [];
    this.lineStartInChunk = 0;
    let position = this.skipByteOrderMark(chunk);
    while (position < chunk.length) position = this.step(chunk, position);
    if (this.mode !== 'skip-line' && this.countTextBytes(chunk.length) > this.maxLineTextBytes) {
      this.failLine(this.describeTextCap(), chunk.length);
    }
    this.lineBytesBefore = this.offsetAt(chunk.length);
    return this.events;
  }

  /** The end of the file: the last line may lack its newline, or be cut short. */
  finish(): ParserEvent[] {
    this.events = [];
    this.lineStartInChunk = 0;
    if (this.byteOrderMarkMatched > 0 && this.byteOrderMarkMatched < byteOrderMark.length) {
      this.failLine(`not valid JSON: expected a JSON value, found byte 0xEF (at byte 0 of the line)`, 0);
      return this.events;
    }
    if (this.mode === 'number' && this.canEndNumber()) this.attachValue(Number(this.numberText));
    if (this.mode === 'after-line-value') {
      this.completeLine(0);
    } else if (this.mode !== 'skip-line' && !(this.mode === 'value' && this.stack.length === 0)) {
      this.failLine('the file ends inside this line (truncated)', 0);
    }
    return this.events;
  }

  private skipByteOrderMark(chunk: Buffer): number {
    let position = 0;
    while (this.byteOrderMarkMatched >= 0 && this.byteOrderMarkMatched < byteOrderMark.length && position < chunk.length) {
      if (chunk[position] === byteOrderMark[this.byteOrderMarkMatched]) {
        this.byteOrderMarkMatched += 1;
        position += 1;
      } else if (this.byteOrderMarkMatched > 0) {
        this.byteOrderMarkMatched = -1;
        this.lineStartInChunk = position;
        return this.failLine(`not valid JSON: expected a JSON value, found byte 0xEF (at byte 0 of the line)`, position);
      } else {
        this.byteOrderMarkMatched = -1;
      }
    }
    this.lineStartInChunk = position;
    return position;
  }

  private step(chunk: Buffer, position: number): number {
    switch (this.mode) {
      case 'skip-line':
        return this.skipLine(chunk, position);
      case 'blob':
        return this.escapeSequence === undefined ? this.readBlob(chunk, position) : this.readBlobEscape(chunk, position);
      case 'string':
        return this.escapeSequence === undefined ? this.readString(chunk, position) : this.readStringEscape(chunk, position);
      case 'number':
        return this.readNumber(chunk, position);
      case 'literal':
        return this.readLiteral(chunk, position);
      default:
        return this.readStructure(chunk, position);
    }
  }

  private offsetAt(position: number): number {
    return this.lineBytesBefore + position - this.lineStartInChunk;
  }

  private countTextBytes(position: number): number {
    const offset = this.offsetAt(position);
    const openBlobBytes = this.blob === undefined ? 0 : offset - this.blob.startOffset;
    return offset - this.lineBlobBytes - openBlobBytes;
  }

  private describeTextCap(): string {
    return `the line has more than ${this.maxLineTextBytes} bytes outside inlineData.data (text and metadata)`;
  }

  private startNextLine(position: number): void {
    this.lineNumber += 1;
    this.lineBytesBefore = 0;
    this.lineStartInChunk = position;
    this.lineBlobBytes = 0;
    this.lineKey = undefined;
    this.stack = [];
    this.root = undefined;
    this.mode = 'value';
  }

  /** Reports the line and skips to its end: a raw newline cannot occur inside valid JSON text, so it always ends it. */
  private failLine(problem: string, position: number): number {
    const result: Extract<ResultLine, { kind: 'unreadable' }> = { kind: 'unreadable', lineNumber: this.lineNumber, problem };
    if (this.lineKey !== undefined) result.key = this.lineKey;
    this.events.push({ type: 'line', result });
    this.stack = [];
    this.root = undefined;
    this.blob = undefined;
    this.stringParts = [];
    this.stringBytes = [];
    this.escapeSequence = undefined;
    this.numberText = '';
    this.mode = 'skip-line';
    return position;
  }

  private failSyntax(expected: string, chunk: Buffer, position: number): number {
    return this.failLine(`not valid JSON: expected ${expected}, found ${describeByte(chunk[position])} (at byte ${this.offsetAt(position)} of the line)`, position);
  }

  private completeLine(position: number): void {
    if (this.countTextBytes(position) > this.maxLineTextBytes) {
      this.failLine(this.describeTextCap(), position);
      return;
    }
    const result = classifyLine({ root: this.root, lineNumber: this.lineNumber });
    this.events.push({ type: 'line', result });
    this.mode = 'skip-line';
  }

  private skipLine(chunk: Buffer, position: number): number {
    const newline = chunk.indexOf(newlineByte, position);
    if (newline < 0) return chunk.length;
    this.startNextLine(newline + 1);
    return newline + 1;
  }

  private readStructure(chunk: Buffer, position: number): number {
    const byte = chunk[position]!;
    if (isWhitespace(byte)) return position + 1;
    if (byte === newlineByte) {
      if (this.mode === 'after-line-value') {
        this.completeLine(position);
        return position;
      }
      if (this.mode === 'value' && this.stack.length === 0) {
        this.startNextLine(position + 1);
        return position + 1;
      }
    }
    switch (this.mode) {
      case 'value':
        return this.startValue(chunk, position, 'a JSON value');
      case 'first-array-value':
        if (byte === closeBracketByte) return this.closeContainer(position);
        return this.startValue(chunk, position, "a value or ']'");
      case 'first-property':
        if (byte === closeBraceByte) return this.closeContainer(position);
        if (byte === quoteByte) return this.startString({ isKey: true, position: position + 1 });
        return this.failSyntax("a property name in double quotes or '}'", chunk, position);
      case 'property':
        if (byte === quoteByte) return this.startString({ isKey: true, position: position + 1 });
        return this.failSyntax('a property name in double quotes', chunk, position);
      case 'colon':
        if (byte === colonByte) {
          this.mode = 'value';
          return position + 1;
        }
        return this.failSyntax("':' after the property name", chunk, position);
      case 'after-value': {
        const frame = this.stack[this.stack.length - 1]!;
        if (byte === commaByte) {
          this.mode = frame.isArray ? 'value' : 'property';
          return position + 1;
        }
        if (byte === (frame.isArray ? closeBracketByte : closeBraceByte)) return this.closeContainer(position);
        return this.failSyntax(frame.isArray ? "',' or ']'" : "',' or '}'", chunk, position);
      }
      default:
        return this.failSyntax('the end of the line after the JSON value', chunk, position);
    }
  }

  private startValue(chunk: Buffer, position: number, expected: string): number {
    const byte = chunk[position]!;
    switch (byte) {
      case openBraceByte:
        return this.openContainer({ isArray: false, position });
      case openBracketByte:
        return this.openContainer({ isArray: true, position });
      case quoteByte: {
        const frame = this.stack[this.stack.length - 1];
        if (frame !== undefined && !frame.isArray && frame.inlineDataName !== undefined && frame.propertyName === 'data') {
          return this.startBlob({ position: position + 1, target: 'inline-data', propertyName: 'data' });
        }
        if (frame !== undefined && !frame.isArray && frame.inlineDataName === undefined && isSignatureName(frame.propertyName)) {
          return this.startBlob({ position: position + 1, target: 'signature', propertyName: frame.propertyName });
        }
        return this.startString({ isKey: false, position: position + 1 });
      }
      case 0x74:
        return this.startLiteral({ text: 'true', value: true, position });
      case 0x66:
        return this.startLiteral({ text: 'false', value: false, position });
      case 0x6e:
        return this.startLiteral({ text: 'null', value: null, position });
      default:
        if (byte === minusByte || isDigit(byte)) {
          this.mode = 'number';
          this.numberStep = 'start';
          this.numberText = '';
          return position;
        }
        return this.failSyntax(expected, chunk, position);
    }
  }

  private openContainer(options: { isArray: boolean; position: number }): number {
    if (this.stack.length >= maxNestingDepth) {
      return this.failLine(`the JSON is nested deeper than ${maxNestingDepth} levels (at byte ${this.offsetAt(options.position)} of the line)`, options.position);
    }
    if (options.isArray) {
      this.stack.push({ isArray: true, value: [] });
      this.mode = 'first-array-value';
    } else {
      const parent = this.stack[this.stack.length - 1];
      const parentName = parent === undefined || parent.isArray ? undefined : parent.propertyName;
      const inlineDataName = parentName === 'inlineData' || parentName === 'inline_data' ? parentName : undefined;
      this.stack.push({ isArray: false, value: {}, propertyName: '', inlineDataName });
      this.mode = 'first-property';
    }
    return options.position + 1;
  }

  private closeContainer(position: number): number {
    const frame = this.stack.pop()!;
    this.attachValue(frame.value);
    return position + 1;
  }

  private attachValue(value: unknown): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent === undefined) {
      this.root = value;
      this.mode = 'after-line-value';
      return;
    }
    this.mode = 'after-value';
    if (parent.isArray) {
      parent.value.push(value);
      return;
    }
    const name = parent.propertyName;
    // `blob` of an image part, and a signature that is not a string, are this reader's words for where bytes went;
    // the file may not forge one.
    if (parent.inlineDataName !== undefined && name === 'blob') return;
    if (parent.inlineDataName === undefined && isSignatureName(name)) return;
    setProperty(parent.value, name, value);
    if (this.stack.length === 1 && name === 'key') this.lineKey = typeof value === 'string' && value !== '' ? value : undefined;
  }

  private startString(options: { isKey: boolean; position: number }): number {
    this.mode = 'string';
    this.stringIsKey = options.isKey;
    this.stringParts = [];
    this.stringBytes = [];
    this.escapeSequence = undefined;
    return options.position;
  }

  private readString(chunk: Buffer, position: number): number {
    const end = chunk.length;
    let index = position;
    while (index < end) {
      const byte = chunk[index]!;
      if (byte === quoteByte || byte === backslashByte || byte < spaceByte) break;
      index += 1;
    }
    if (index === end) {
      if (index > position) this.stringBytes.push(Buffer.from(chunk.subarray(position, index)));
      return end;
    }
    if (this.stringBytes.length === 0) {
      if (index > position) this.stringParts.push(chunk.toString('utf8', position, index));
    } else {
      this.stringBytes.push(chunk.subarray(position, index));
      this.stringParts.push(Buffer.concat(this.stringBytes).toString('utf8'));
      this.stringBytes = [];
    }
    const byte = chunk[index]!;
    if (byte === backslashByte) {
      this.escapeSequence = '';
      return index + 1;
    }
    if (byte === quoteByte) {
      this.finishString();
      return index + 1;
    }
    const problem = byte === newlineByte ? 'the line ends inside a string' : `control character ${describeByte(byte)} inside a string`;
    return this.failLine(`not valid JSON: ${problem} (at byte ${this.offsetAt(index)} of the line)`, index);
  }

  private finishString(): void {
    const text = this.stringParts.length === 1 ? this.stringParts[0]! : this.stringParts.join('');
    this.stringParts = [];
    if (this.stringIsKey) {
      const frame = this.stack[this.stack.length - 1];
      if (frame !== undefined && !frame.isArray) frame.propertyName = text;
      this.mode = 'colon';
    } else {
      this.attachValue(text);
    }
  }

  /** Takes one byte of an escape; returns the character once complete, '' while more is needed, undefined when the byte cannot go on. */
  private advanceEscape(byte: number): string | undefined {
    const sequence = this.escapeSequence ?? '';
    if (sequence === '') {
      if (byte === 0x75) {
        this.escapeSequence = 'u';
        return '';
      }
      this.escapeSequence = undefined;
      return readSimpleEscape(byte);
    }
    if (!isHexDigit(byte)) {
      this.escapeSequence = undefined;
      return undefined;
    }
    const extended = sequence + String.fromCharCode(byte);
    if (extended.length < 5) {
      this.escapeSequence = extended;
      return '';
    }
    this.escapeSequence = undefined;
    return String.fromCharCode(Number.parseInt(extended.slice(1), 16));
  }

  private describeBadEscape(chunk: Buffer, position: number, sequence: string): string {
    const expected = sequence === '' ? 'an escape letter after \\' : 'four hex digits after \\u';
    return `not valid JSON: expected ${expected}, found ${describeByte(chunk[position])} (at byte ${this.offsetAt(position)} of the line)`;
  }

  private readStringEscape(chunk: Buffer, position: number): number {
    const sequence = this.escapeSequence ?? '';
    const character = this.advanceEscape(chunk[position]!);
    if (character === undefined) return this.failLine(this.describeBadEscape(chunk, position, sequence), position);
    if (character !== '') this.stringParts.push(character);
    return position + 1;
  }

  private readNumber(chunk: Buffer, position: number): number {
    const end = chunk.length;
    let index = position;
    let step = this.numberStep;
    while (index < end) {
      const byte = chunk[index]!;
      const digit = isDigit(byte);
      let next: NumberStep | undefined;
      switch (step) {
        case 'start':
          next = byte === minusByte ? 'minus' : byte === zeroByte ? 'zero' : 'integer';
          break;
        case 'minus':
          next = byte === zeroByte ? 'zero' : digit ? 'integer' : undefined;
          break;
        case 'zero':
          next = byte === dotByte ? 'dot' : isExponentMark(byte) ? 'exponent' : undefined;
          break;
        case 'integer':
          next = digit ? 'integer' : byte === dotByte ? 'dot' : isExponentMark(byte) ? 'exponent' : undefined;
          break;
        case 'dot':
          next = digit ? 'fraction' : undefined;
          break;
        case 'fraction':
          next = digit ? 'fraction' : isExponentMark(byte) ? 'exponent' : undefined;
          break;
        case 'exponent':
          next = digit ? 'exponent-digits' : byte === plusByte || byte === minusByte ? 'exponent-sign' : undefined;
          break;
        case 'exponent-sign':
        case 'exponent-digits':
          next = digit ? 'exponent-digits' : undefined;
          break;
      }
      if (next === undefined) {
        this.numberStep = step;
        this.numberText += chunk.toString('latin1', position, index);
        if (!this.canEndNumber()) return this.failSyntax('a digit', chunk, index);
        const text = this.numberText;
        this.numberText = '';
        this.attachValue(Number(text));
        return index;
      }
      step = next;
      index += 1;
    }
    this.numberStep = step;
    this.numberText += chunk.toString('latin1', position, end);
    return end;
  }

  private canEndNumber(): boolean {
    const step = this.numberStep;
    return step === 'zero' || step === 'integer' || step === 'fraction' || step === 'exponent-digits';
  }

  private startLiteral(options: { text: string; value: boolean | null; position: number }): number {
    this.mode = 'literal';
    this.literalText = options.text;
    this.literalValue = options.value;
    this.literalMatched = 1;
    return options.position + 1;
  }

  private readLiteral(chunk: Buffer, position: number): number {
    if (chunk[position] !== this.literalText.charCodeAt(this.literalMatched)) {
      return this.failSyntax(`'${this.literalText}'`, chunk, position);
    }
    this.literalMatched += 1;
    if (this.literalMatched === this.literalText.length) this.attachValue(this.literalValue);
    return position + 1;
  }

  private describeBlobLocation(target: BlobInProgress['target']): string {
    const frame = this.stack[this.stack.length - 1];
    const name = target === 'signature' ? (frame === undefined || frame.isArray ? 'thoughtSignature' : frame.propertyName) : frame === undefined || frame.isArray ? 'inlineData' : (frame.inlineDataName ?? 'inlineData');
    // The part is the top frame for a signature, the second from the top for inlineData; its place is what the
    // frames below it select.
    let path = '';
    for (const ancestor of this.stack.slice(0, target === 'signature' ? -1 : -2)) {
      path += ancestor.isArray ? `[${ancestor.value.length}]` : formatPathSegment(ancestor.propertyName);
    }
    path = path.startsWith('.') ? path.slice(1) : path;
    // Problems are read next to the yielded `response`, so paths inside it start from there.
    if (path === 'response') path = 'the response';
    else if (path.startsWith('response.')) path = path.slice('response.'.length);
    else if (path.startsWith('response[')) path = path.slice('response'.length);
    return `${name}${target === 'signature' ? '' : '.data'} of ${path === '' ? 'the line' : path}`;
  }

  private startBlob(options: { position: number; target: BlobInProgress['target']; propertyName: string }): number {
    const { position } = options;
    this.mode = 'blob';
    this.escapeSequence = undefined;
    this.blob = {
      hash: createHash('sha256'),
      target: options.target,
      propertyName: options.propertyName,
      description: this.describeBlobLocation(options.target),
      startOffset: this.offsetAt(position),
      bytes: 0,
      characters: 0,
      carry: '',
      paddingLength: 0,
      paddingOffset: 0,
    };
    this.events.push({ type: 'blob-start' });
    return position;
  }

  /**
   * The hot path: native searches find the end quote and the next backslash, and everything between goes to the
   * base64 decoder as one slice, so no JavaScript loop touches the image bytes.
   */
  private readBlob(chunk: Buffer, position: number): number {
    const end = chunk.length;
    const quote = chunk.indexOf(quoteByte, position);
    const stop = quote < 0 ? end : quote;
    const backslash = stop > position ? chunk.subarray(position, stop).indexOf(backslashByte) : -1;
    const sliceEnd = backslash < 0 ? stop : position + backslash;
    // In pieces of at most 64 KiB: a string of a megabyte is allocated outside V8's heap and freed only by a full
    // collection, which let the resident size climb by some 75 MB on image-sized lines.
    for (let piece = position; piece < sliceEnd; piece += base64PieceBytes) {
      const pieceEnd = Math.min(sliceEnd, piece + base64PieceBytes);
      const failure = this.takeBase64({ text: chunk.toString('latin1', piece, pieceEnd), isRaw: true });
      if (failure !== undefined) return this.failLine(failure.problem, piece + failure.index);
    }
    if (sliceEnd < stop) {
      this.escapeSequence = '';
      return sliceEnd + 1;
    }
    if (quote >= 0) return this.finishBlob(quote);
    return end;
  }

  private readBlobEscape(chunk: Buffer, position: number): number {
    const sequence = this.escapeSequence ?? '';
    const character = this.advanceEscape(chunk[position]!);
    if (character === undefined) return this.failLine(this.describeBadEscape(chunk, position, sequence), position);
    if (character !== '') {
      const failure = this.takeBase64({ text: character, isRaw: false });
      if (failure !== undefined) return this.failLine(failure.problem, position);
    }
    return position + 1;
  }

  /** Takes base64 text; returns the problem, and where in the text it is, when the text is not base64. */
  private takeBase64(options: { text: string; isRaw: boolean }): { problem: string; index: number } | undefined {
    const blob = this.blob!;
    const { text } = options;
    if (blob.paddingLength === 0) {
      if (this.decodeBase64(text)) return undefined;
      // The decoder skipped something: find what, for the problem, and keep the valid part before it.
      const index = invalidBase64Pattern.exec(text)?.index ?? 0;
      if (index > 0) this.decodeBase64(text.slice(0, index));
      const code = text.charCodeAt(index);
      if (code !== 0x3d) {
        return { index, problem: `${blob.description} is not base64 (${describeBase64Intruder(code, options.isRaw)} at offset ${blob.characters})` };
      }
      blob.paddingOffset = blob.characters;
      return this.takePadding({ text: text.slice(index), textOffset: index, isRaw: options.isRaw });
    }
    return this.takePadding({ text, textOffset: 0, isRaw: options.isRaw });
  }

  private takePadding(options: { text: string; textOffset: number; isRaw: boolean }): { problem: string; index: number } | undefined {
    const { text, textOffset } = options;
    const blob = this.blob!;
    const intruder = notPaddingPattern.exec(text);
    if (intruder !== null) {
      const code = text.charCodeAt(intruder.index);
      return {
        index: textOffset + intruder.index,
        problem: `${blob.description} is not base64 (${describeBase64Intruder(code, options.isRaw)} at offset ${blob.characters + intruder.index} follows the '=' padding)`,
      };
    }
    blob.paddingLength += text.length;
    blob.characters += text.length;
    return undefined;
  }

  /**
   * Decodes text and emits the bytes, carrying an incomplete group to the next call; emits nothing and returns false
   * when the text has a character outside the alphabet. Node's decoder skips such characters (and stops at '='), so
   * a short output is the signal, at no cost; the caller's regular expression then names the character.
   */
  private decodeBase64(text: string): boolean {
    const blob = this.blob!;
    let index = 0;
    let head: Buffer | undefined;
    let carry = blob.carry;
    if (carry.length > 0) {
      index = Math.min(4 - carry.length, text.length);
      const start = text.slice(0, index);
      if (invalidBase64Pattern.test(start)) return false;
      carry += start;
      if (carry.length === 4) {
        head = Buffer.from(carry, 'base64');
        carry = '';
      }
    }
    const bodyEnd = index + ((text.length - index) & ~3);
    let body: Buffer | undefined;
    if (bodyEnd > index) {
      body = Buffer.from(index === 0 && bodyEnd === text.length ? text : text.slice(index, bodyEnd), 'base64');
      if (body.length !== ((bodyEnd - index) / 4) * 3) return false;
    }
    const tail = text.slice(bodyEnd);
    if (invalidBase64Pattern.test(tail)) return false;
    blob.carry = carry + tail;
    blob.characters += text.length;
    if (head !== undefined) this.emitBlobData(head);
    if (body !== undefined) this.emitBlobData(body);
    return true;
  }

  private emitBlobData(data: Buffer): void {
    const blob = this.blob!;
    blob.hash.update(data);
    blob.bytes += data.length;
    // The pieces of one chunk go out as one write.
    const last = this.events[this.events.length - 1];
    if (last?.type === 'blob-data') last.data.push(data);
    else this.events.push({ type: 'blob-data', data: [data] });
  }

  private finishBlob(quote: number): number {
    const blob = this.blob!;
    const carried = blob.carry.length;
    if (blob.paddingLength > 0 && (carried < 2 || carried + blob.paddingLength !== 4)) {
      return this.failLine(`${blob.description} is not base64 (misplaced '=' padding at offset ${blob.paddingOffset})`, quote);
    }
    if (carried === 1) {
      return this.failLine(`${blob.description} is not base64 (its ${blob.characters} characters leave a lone character at the end)`, quote);
    }
    if (carried > 0) this.emitBlobData(Buffer.from(blob.carry, 'base64'));
    const sha256 = blob.hash.digest('hex');
    this.events.push({ type: 'blob-end', sha256 });
    this.lineBlobBytes += this.offsetAt(quote) - blob.startOffset;
    this.blob = undefined;
    const frame = this.stack[this.stack.length - 1];
    if (frame !== undefined && !frame.isArray) {
      const reference: BlobReference = { sha256, bytes: blob.bytes };
      if (blob.target === 'signature') setProperty(frame.value, blob.propertyName, { blob: reference });
      else setProperty(frame.value, 'blob', reference);
    }
    this.mode = 'after-value';
    return quote + 1;
  }
}

interface TemporaryBlob {
  readonly path: string;
  readonly handle: FileHandle;
  /** The write in flight: one may run while the next chunk is parsed, never more, so memory stays flat. */
  pendingWrite: Promise<void>;
  isClosed: boolean;
  sha256: string | undefined;
}

async function writeFully(handle: FileHandle, pieces: Buffer[]): Promise<void> {
  const data = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written);
    written += bytesWritten;
  }
}

/** The image files of the line being read: temporary until the line turns out whole, then named by their hash. */
class LineBlobFiles {
  private readonly directory: string;
  private blobs: TemporaryBlob[] = [];

  constructor(directory: string) {
    this.directory = directory;
  }

  async apply(event: Exclude<ParserEvent, { type: 'line' }>): Promise<void> {
    if (event.type === 'blob-start') {
      const path = join(this.directory, `${temporaryBlobPrefix}${randomUUID()}`);
      const handle = await open(path, 'wx');
      this.blobs.push({ path, handle, pendingWrite: Promise.resolve(), isClosed: false, sha256: undefined });
      return;
    }
    const blob = this.blobs[this.blobs.length - 1]!;
    await blob.pendingWrite;
    if (event.type === 'blob-data') {
      const write = writeFully(blob.handle, event.data);
      // Awaited before the next write or at the end; this only keeps an early failure from counting as unhandled.
      write.catch(() => undefined);
      blob.pendingWrite = write;
    } else {
      blob.isClosed = true;
      await blob.handle.close();
      blob.sha256 = event.sha256;
    }
  }

  /**
   * Names each finished image by its hash, replacing a file of that name: the new bytes hash to it by construction,
   * while a kept file may have been changed on disk since (which is why its answer was asked again).
   */
  async keep(): Promise<void> {
    const blobs = this.blobs;
    this.blobs = [];
    for (const blob of blobs) {
      if (blob.sha256 === undefined) await unlink(blob.path);
      else await rename(blob.path, join(this.directory, blob.sha256));
    }
  }

  /** Removes the line's temporary files; also the clean-up when reading stops early, so it never throws. */
  async discard(): Promise<void> {
    const blobs = this.blobs;
    this.blobs = [];
    for (const blob of blobs) {
      await blob.pendingWrite.catch(() => undefined);
      if (!blob.isClosed) await blob.handle.close().catch(() => undefined);
      await unlink(blob.path).catch(() => undefined);
    }
  }
}

async function* readStreamingResultLines(options: { path: string; blobDirectory: string; maxLineTextBytes: number; chunkBytes: number }): AsyncIterable<ResultLine> {
  await mkdir(options.blobDirectory, { recursive: true });
  const file = await open(options.path, 'r');
  const blobFiles = new LineBlobFiles(options.blobDirectory);
  const parser = new ResultLineParser({ maxLineTextBytes: options.maxLineTextBytes });
  try {
    const chunk = Buffer.allocUnsafe(options.chunkBytes);
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      const events = bytesRead === 0 ? parser.finish() : parser.parseChunk(chunk.subarray(0, bytesRead));
      for (const event of events) {
        if (event.type !== 'line') {
          await blobFiles.apply(event);
          continue;
        }
        if (event.result.kind === 'unreadable') await blobFiles.discard();
        else await blobFiles.keep();
        yield event.result;
      }
      if (bytesRead === 0) break;
    }
  } finally {
    await blobFiles.discard();
    await file.close();
  }
}

/**
 * A result reader for files too large for lines to be strings: images (inlineData / inline_data `data`) are decoded
 * straight to `<blobDirectory>/<sha256>` as their bytes arrive and replaced by `blob: { sha256, bytes }`; the rest of
 * each line is parsed incrementally, with the same verdicts as readResultLines. A broken line is reported and the
 * reader picks up at the next one.
 */
export function createStreamingResultReader(options: StreamingReaderOptions): ResultLineReader {
  const maxLineTextBytes = options.maxLineTextBytes ?? defaultMaxLineTextBytes;
  const chunkBytes = options.chunkBytes ?? defaultChunkBytes;
  if (!Number.isSafeInteger(maxLineTextBytes) || maxLineTextBytes < 1) throw new RangeError(`maxLineTextBytes must be a positive integer, not ${maxLineTextBytes}`);
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, not ${chunkBytes}`);
  return (path) => readStreamingResultLines({ path, blobDirectory: options.blobDirectory, maxLineTextBytes, chunkBytes });
}
