import { backslashByte, describeBadEscape, describeByte, newlineByte, quoteByte, spaceByte, stepEscape } from './json-syntax.ts';

/**
 * What one read of a string's bytes came to. `position` is where the parser goes on; for `invalid`, the byte at
 * fault (a raw newline there still ends the line), and `problem` says what a syntax problem expected or found.
 */
export type StringReadResult =
  | { kind: 'more'; position: number }
  | { kind: 'done'; position: number; text: string }
  | { kind: 'invalid'; position: number; problem: string };

/**
 * Reads a JSON string (not an image's base64, which the blob reader takes) across chunks, from after its opening
 * quote to after its closing one. It keeps no reference to a chunk: bytes that cross a boundary are copied.
 */
export class JsonStringReader {
  private parts: string[] = [];
  /** Raw bytes of a string that crossed a chunk boundary, decoded as UTF-8 only once whole (a character may be split). */
  private pendingBytes: Buffer[] = [];
  /** The escape being read: undefined outside one, '' after the backslash, 'u', 'u0', … for a \uXXXX. */
  private escapeSequence: string | undefined;

  /** Forgets the string being read: at the start of the next one, or when its line turned out broken. */
  reset(): void {
    this.parts = [];
    this.pendingBytes = [];
    this.escapeSequence = undefined;
  }

  read(chunk: Buffer, position: number): StringReadResult {
    return this.escapeSequence === undefined ? this.readText(chunk, position) : this.readEscape(chunk, position);
  }

  private readText(chunk: Buffer, position: number): StringReadResult {
    const end = chunk.length;
    let index = position;
    while (index < end) {
      const byte = chunk[index]!;
      if (byte === quoteByte || byte === backslashByte || byte < spaceByte) break;
      index += 1;
    }
    if (index === end) {
      if (index > position) this.pendingBytes.push(Buffer.from(chunk.subarray(position, index)));
      return { kind: 'more', position: end };
    }
    if (this.pendingBytes.length === 0) {
      if (index > position) this.parts.push(chunk.toString('utf8', position, index));
    } else {
      this.pendingBytes.push(chunk.subarray(position, index));
      this.parts.push(Buffer.concat(this.pendingBytes).toString('utf8'));
      this.pendingBytes = [];
    }
    const byte = chunk[index]!;
    if (byte === backslashByte) {
      this.escapeSequence = '';
      return { kind: 'more', position: index + 1 };
    }
    if (byte === quoteByte) {
      const text = this.parts.length === 1 ? this.parts[0]! : this.parts.join('');
      this.parts = [];
      return { kind: 'done', position: index + 1, text };
    }
    const problem = byte === newlineByte ? 'the line ends inside a string' : `control character ${describeByte(byte)} inside a string`;
    return { kind: 'invalid', position: index, problem };
  }

  private readEscape(chunk: Buffer, position: number): StringReadResult {
    const sequence = this.escapeSequence ?? '';
    const step = stepEscape(sequence, chunk[position]!);
    if (step.kind === 'invalid') {
      this.escapeSequence = undefined;
      return { kind: 'invalid', position, problem: describeBadEscape(sequence, chunk[position]) };
    }
    if (step.kind === 'more') {
      this.escapeSequence = step.sequence;
    } else {
      this.escapeSequence = undefined;
      this.parts.push(step.character);
    }
    return { kind: 'more', position: position + 1 };
  }
}
