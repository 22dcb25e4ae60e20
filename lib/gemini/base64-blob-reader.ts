import { backslashByte, carriageReturnByte, describeBadEscape, formatPathSegment, newlineByte, quoteByte, spaceByte, stepEscape, type ContainerFrame } from './json-syntax.ts';


/**
 * `inline-data`: an image's `data`, replaced by `blob` beside it; `signature`: a part's `thoughtSignature` (about
 * 2.9 MB of base64 on a recorded gemini-3-pro-image answer), replaced by `{ blob }` under the same name, so that
 * neither ever lands in memory, the result cache or a sidecar.
 */
export type BlobTarget = 'inline-data' | 'signature';

/**
 * What one read of a base64 string came to. `end`: the closing quote is at `position`, call finish. `syntax-error`
 * says what was expected and found (the parser adds where); `not-base64` is a whole problem. For both, `position` is
 * the byte at fault.
 */
export type BlobReadResult =
  | { kind: 'more'; position: number }
  | { kind: 'end'; position: number }
  | { kind: 'syntax-error'; position: number; problem: string }
  | { kind: 'not-base64'; position: number; problem: string };

type Base64Failure = { problem: string; index: number };

const base64PieceBytes = 64 * 1024;
const invalidBase64Pattern = /[^A-Za-z0-9+/_-]/;
const notPaddingPattern = /[^=]/;

/** Raw text arrives as bytes (a non-ASCII one is part of a UTF-8 sequence); escaped text as UTF-16 code units. */
function describeBase64Intruder(code: number, isRaw: boolean): string {
  if (isRaw && (code === newlineByte || code === carriageReturnByte)) return 'a raw line break: the line was cut';
  if (code >= spaceByte && code < 0x7f) return `character '${String.fromCharCode(code)}'`;
  if (isRaw) return `byte 0x${code.toString(16).toUpperCase().padStart(2, '0')}`;
  return `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Names a base64 string for problems, e.g. `inlineData.data of candidates[0].content.parts[2]`, from the open containers. */
export function describeBlobLocation(options: { stack: readonly ContainerFrame[]; target: BlobTarget }): string {
  const { stack, target } = options;
  const frame = stack[stack.length - 1];
  const name = target === 'signature' ? (frame === undefined || frame.isArray ? 'thoughtSignature' : frame.propertyName) : frame === undefined || frame.isArray ? 'inlineData' : (frame.inlineDataName ?? 'inlineData');
  // The part is the top frame for a signature, the second from the top for inlineData; its place is what the
  // frames below it select.
  let path = '';
  for (const ancestor of stack.slice(0, target === 'signature' ? -1 : -2)) {
    path += ancestor.isArray ? `[${ancestor.value.length}]` : formatPathSegment(ancestor.propertyName);
  }
  path = path.startsWith('.') ? path.slice(1) : path;
  // Problems are read next to the yielded `response`, so paths inside it start from there.
  if (path === 'response') path = 'the response';
  else if (path.startsWith('response.')) path = path.slice('response.'.length);
  else if (path.startsWith('response[')) path = path.slice('response'.length);
  return `${name}${target === 'signature' ? '' : '.data'} of ${path === '' ? 'the line' : path}`;
}

/**
 * Decodes one base64 string of a result line as its bytes arrive and hands them to `emit`, from after its opening
 * quote to its closing one. It never keeps a reference to a chunk. Hashing is the sink's (off this thread).
 */
export class Base64BlobReader {
  /** Names the string in problems. */
  private readonly description: string;
  private readonly emit: (data: Buffer) => void;
  private bytes = 0;
  /** Base64 characters taken so far (escapes count as the one character they stand for), for offsets in problems. */
  private characters = 0;
  /** The 0–3 characters that do not yet make a whole 4-character group. */
  private carry = '';
  private paddingLength = 0;
  private paddingOffset = 0;
  /** The escape being read: undefined outside one, '' after the backslash, 'u', 'u0', … for a \uXXXX. */
  private escapeSequence: string | undefined;

  constructor(options: { description: string; emit: (data: Buffer) => void }) {
    this.description = options.description;
    this.emit = options.emit;
  }

  read(chunk: Buffer, position: number): BlobReadResult {
    return this.escapeSequence === undefined ? this.readText(chunk, position) : this.readEscape(chunk, position);
  }

  /** At the closing quote: the last group's bytes go out and the count of bytes is final, or it was not base64. */
  finish(): { ok: true; bytes: number } | { ok: false; problem: string } {
    const carried = this.carry.length;
    if (this.paddingLength > 0 && (carried < 2 || carried + this.paddingLength !== 4)) {
      return { ok: false, problem: `${this.description} is not base64 (misplaced '=' padding at offset ${this.paddingOffset})` };
    }
    if (carried === 1) {
      return { ok: false, problem: `${this.description} is not base64 (its ${this.characters} characters leave a lone character at the end)` };
    }
    if (carried > 0) this.emitData(Buffer.from(this.carry, 'base64'));
    return { ok: true, bytes: this.bytes };
  }

  /**
   * The hot path: native searches find the end quote and the next backslash, and everything between goes to the
   * base64 decoder as one slice, so no JavaScript loop touches the image bytes.
   */
  private readText(chunk: Buffer, position: number): BlobReadResult {
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
      if (failure !== undefined) return { kind: 'not-base64', position: piece + failure.index, problem: failure.problem };
    }
    if (sliceEnd < stop) {
      this.escapeSequence = '';
      return { kind: 'more', position: sliceEnd + 1 };
    }
    if (quote >= 0) return { kind: 'end', position: quote };
    return { kind: 'more', position: end };
  }

  private readEscape(chunk: Buffer, position: number): BlobReadResult {
    const sequence = this.escapeSequence ?? '';
    const step = stepEscape(sequence, chunk[position]!);
    if (step.kind === 'invalid') {
      this.escapeSequence = undefined;
      return { kind: 'syntax-error', position, problem: describeBadEscape(sequence, chunk[position]) };
    }
    if (step.kind === 'more') {
      this.escapeSequence = step.sequence;
      return { kind: 'more', position: position + 1 };
    }
    this.escapeSequence = undefined;
    const failure = this.takeBase64({ text: step.character, isRaw: false });
    if (failure !== undefined) return { kind: 'not-base64', position, problem: failure.problem };
    return { kind: 'more', position: position + 1 };
  }

  /** Takes base64 text; returns the problem, and where in the text it is, when the text is not base64. */
  private takeBase64(options: { text: string; isRaw: boolean }): Base64Failure | undefined {
    const { text } = options;
    if (this.paddingLength === 0) {
      if (this.decodeBase64(text)) return undefined;
      // The decoder skipped something: find what, for the problem, and keep the valid part before it.
      const index = invalidBase64Pattern.exec(text)?.index ?? 0;
      if (index > 0) this.decodeBase64(text.slice(0, index));
      const code = text.charCodeAt(index);
      if (code !== 0x3d) {
        return { index, problem: `${this.description} is not base64 (${describeBase64Intruder(code, options.isRaw)} at offset ${this.characters})` };
      }
      this.paddingOffset = this.characters;
      return this.takePadding({ text: text.slice(index), textOffset: index, isRaw: options.isRaw });
    }
    return this.takePadding({ text, textOffset: 0, isRaw: options.isRaw });
  }

  private takePadding(options: { text: string; textOffset: number; isRaw: boolean }): Base64Failure | undefined {
    const { text, textOffset } = options;
    const intruder = notPaddingPattern.exec(text);
    if (intruder !== null) {
      const code = text.charCodeAt(intruder.index);
      return {
        index: textOffset + intruder.index,
        problem: `${this.description} is not base64 (${describeBase64Intruder(code, options.isRaw)} at offset ${this.characters + intruder.index} follows the '=' padding)`,
      };
    }
    this.paddingLength += text.length;
    this.characters += text.length;
    return undefined;
  }

  /**
   * Decodes text and emits the bytes, carrying an incomplete group to the next call; emits nothing and returns false
   * when the text has a character outside the alphabet. Node's decoder skips such characters (and stops at '='), so
   * a short output is the signal, at no cost; the caller's regular expression then names the character.
   */
  private decodeBase64(text: string): boolean {
    let index = 0;
    let head: Buffer | undefined;
    let carry = this.carry;
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
    this.carry = carry + tail;
    this.characters += text.length;
    if (head !== undefined) this.emitData(head);
    if (body !== undefined) this.emitData(body);
    return true;
  }

  private emitData(data: Buffer): void {
    this.bytes += data.length;
    this.emit(data);
  }
}
