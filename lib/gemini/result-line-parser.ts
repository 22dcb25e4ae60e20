import { Base64BlobReader, describeBlobLocation, type BlobTarget } from './base64-blob-reader.ts';
import { JsonLiteralReader, JsonNumberReader, type ScalarReadResult } from './json-scalar-readers.ts';
import { JsonStringReader } from './json-string-reader.ts';
import { byteOrderMark, closeBraceByte, closeBracketByte, colonByte, commaByte, describeByte, isDigit, isSignatureName, isWhitespace, minusByte, newlineByte, openBraceByte, openBracketByte, quoteByte } from './json-syntax.ts';
import { JsonValueBuilder, maxNestingDepth } from './json-value-builder.ts';
import { classifyResultLine } from './classify-result-line.ts';
import type { ResultLine } from './read-result-lines.ts';
import type { BlobReference } from '../../schemas/blob-reference.ts';

/** What the parser saw in a chunk: an image's bytes to write (start, data, end), or a finished line. */
export type ParserEvent =
  | { type: 'blob-start' }
  | { type: 'blob-data'; data: Buffer[] }
  /** `reference.sha256` is empty here: the sink that hashes the bytes fills it in before the line goes out. */
  | { type: 'blob-end'; reference: BlobReference }
  | { type: 'line'; result: ResultLine };

/** Where the parser is: which bytes it accepts next. */
type ParserMode = 'value' | 'first-array-value' | 'first-property' | 'property' | 'colon' | 'after-value' | 'after-line-value' | 'string' | 'blob' | 'number' | 'literal' | 'skip-line';

interface BlobInProgress {
  readonly reader: Base64BlobReader;
  readonly target: BlobTarget;
  readonly propertyName: string;
  /** Line byte offset of the first byte inside the quotes: these bytes do not count against the text cap. */
  readonly startOffset: number;
}

const byteOrderMarkProblem = 'not valid JSON: expected a JSON value, found byte 0xEF (at byte 0 of the line)';

/**
 * An incremental JSON Lines parser over byte chunks. It is synchronous so that its hot loops stay simple: each call
 * returns what happened in that chunk as events (image bytes to write, finished lines), and the caller does the
 * awaiting. It never keeps a reference to a chunk, so the caller may reuse its read buffer. Strings are read by
 * JsonStringReader, images' and signatures' base64 by Base64BlobReader; this class keeps the line and its structure.
 * (Some 360 lines, over the ~300 aimed at: the line's framing and its structure's state machine call each other at
 * every byte, and an interface between them would sit on the hot path.)
 */
export class ResultLineParser {
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
  private readonly value = new JsonValueBuilder();

  private readonly stringReader = new JsonStringReader();
  private stringIsKey = false;
  private blob: BlobInProgress | undefined;
  private readonly numberReader = new JsonNumberReader();
  private readonly literalReader = new JsonLiteralReader();

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
      this.failLine(byteOrderMarkProblem, 0);
      return this.events;
    }
    const number = this.mode === 'number' ? this.numberReader.finish() : undefined;
    if (number !== undefined) this.attachValue(number);
    if (this.mode === 'after-line-value') {
      this.completeLine(0);
    } else if (this.mode !== 'skip-line' && !(this.mode === 'value' && this.value.isEmpty)) {
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
        return this.failLine(byteOrderMarkProblem, position);
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
        return this.readBlob(chunk, position);
      case 'string':
        return this.readString(chunk, position);
      case 'number':
        return this.takeScalar(this.numberReader.read(chunk, position));
      case 'literal':
        return this.takeScalar(this.literalReader.read(chunk, position));
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
    this.value.reset({ forgetKey: true });
    this.mode = 'value';
  }

  /** Reports the line and skips to its end: a raw newline cannot occur inside valid JSON text, so it always ends it. */
  private failLine(problem: string, position: number): number {
    const result: Extract<ResultLine, { kind: 'unreadable' }> = { kind: 'unreadable', lineNumber: this.lineNumber, problem };
    if (this.value.lineKey !== undefined) result.key = this.value.lineKey;
    this.events.push({ type: 'line', result });
    this.value.reset({ forgetKey: false });
    this.blob = undefined;
    this.stringReader.reset();
    this.numberReader.reset();
    this.mode = 'skip-line';
    return position;
  }

  /** A syntax problem: what was expected and found, and where in the line. */
  private failJson(problem: string, position: number): number {
    return this.failLine(`not valid JSON: ${problem} (at byte ${this.offsetAt(position)} of the line)`, position);
  }

  private failSyntax(expected: string, chunk: Buffer, position: number): number {
    return this.failJson(`expected ${expected}, found ${describeByte(chunk[position])}`, position);
  }

  private completeLine(position: number): void {
    if (this.countTextBytes(position) > this.maxLineTextBytes) {
      this.failLine(this.describeTextCap(), position);
      return;
    }
    const result = classifyResultLine({ root: this.value.root, lineNumber: this.lineNumber });
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
      if (this.mode === 'value' && this.value.isEmpty) {
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
      case 'after-value':
        return this.readAfterValue(chunk, position);
      default:
        return this.failSyntax('the end of the line after the JSON value', chunk, position);
    }
  }

  private readAfterValue(chunk: Buffer, position: number): number {
    const byte = chunk[position]!;
    const frame = this.value.top()!;
    if (byte === commaByte) {
      this.mode = frame.isArray ? 'value' : 'property';
      return position + 1;
    }
    if (byte === (frame.isArray ? closeBracketByte : closeBraceByte)) return this.closeContainer(position);
    return this.failSyntax(frame.isArray ? "',' or ']'" : "',' or '}'", chunk, position);
  }

  private startValue(chunk: Buffer, position: number, expected: string): number {
    const byte = chunk[position]!;
    switch (byte) {
      case openBraceByte:
        return this.openContainer({ isArray: false, position });
      case openBracketByte:
        return this.openContainer({ isArray: true, position });
      case quoteByte: {
        const frame = this.value.top();
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
          this.numberReader.reset();
          return position;
        }
        return this.failSyntax(expected, chunk, position);
    }
  }

  private openContainer(options: { isArray: boolean; position: number }): number {
    if (!this.value.open({ isArray: options.isArray })) {
      return this.failLine(`the JSON is nested deeper than ${maxNestingDepth} levels (at byte ${this.offsetAt(options.position)} of the line)`, options.position);
    }
    this.mode = options.isArray ? 'first-array-value' : 'first-property';
    return options.position + 1;
  }

  private closeContainer(position: number): number {
    this.mode = this.value.close() === 'root' ? 'after-line-value' : 'after-value';
    return position + 1;
  }

  private attachValue(value: unknown): void {
    this.mode = this.value.attach(value) === 'root' ? 'after-line-value' : 'after-value';
  }

  private startString(options: { isKey: boolean; position: number }): number {
    this.mode = 'string';
    this.stringIsKey = options.isKey;
    this.stringReader.reset();
    return options.position;
  }

  private readString(chunk: Buffer, position: number): number {
    const result = this.stringReader.read(chunk, position);
    if (result.kind === 'invalid') return this.failJson(result.problem, result.position);
    if (result.kind === 'done') {
      if (this.stringIsKey) {
        this.value.nameProperty(result.text);
        this.mode = 'colon';
      } else {
        this.attachValue(result.text);
      }
    }
    return result.position;
  }

  private takeScalar(result: ScalarReadResult): number {
    if (result.kind === 'invalid') return this.failJson(result.problem, result.position);
    if (result.kind === 'done') this.attachValue(result.value);
    return result.position;
  }

  private startLiteral(options: { text: string; value: boolean | null; position: number }): number {
    this.mode = 'literal';
    this.literalReader.start(options);
    return options.position + 1;
  }

  private startBlob(options: { position: number; target: BlobTarget; propertyName: string }): number {
    const { position, target } = options;
    this.mode = 'blob';
    const reader = new Base64BlobReader({ description: describeBlobLocation({ stack: this.value.frames, target }), emit: (data) => this.emitBlobData(data) });
    this.blob = { reader, target, propertyName: options.propertyName, startOffset: this.offsetAt(position) };
    this.events.push({ type: 'blob-start' });
    return position;
  }

  private emitBlobData(data: Buffer): void {
    // The pieces of one chunk go out as one write.
    const last = this.events[this.events.length - 1];
    if (last?.type === 'blob-data') last.data.push(data);
    else this.events.push({ type: 'blob-data', data: [data] });
  }

  private readBlob(chunk: Buffer, position: number): number {
    const result = this.blob!.reader.read(chunk, position);
    switch (result.kind) {
      case 'more':
        return result.position;
      case 'syntax-error':
        return this.failJson(result.problem, result.position);
      case 'not-base64':
        return this.failLine(result.problem, result.position);
      case 'end':
        return this.finishBlob(result.position);
    }
  }

  private finishBlob(quote: number): number {
    const blob = this.blob!;
    const finished = blob.reader.finish();
    if (!finished.ok) return this.failLine(finished.problem, quote);
    const reference: BlobReference = { sha256: '', bytes: finished.bytes };
    this.events.push({ type: 'blob-end', reference });
    this.lineBlobBytes += this.offsetAt(quote) - blob.startOffset;
    this.blob = undefined;
    this.value.attachBlob({ target: blob.target, propertyName: blob.propertyName, reference });
    this.mode = 'after-value';
    return quote + 1;
  }
}
