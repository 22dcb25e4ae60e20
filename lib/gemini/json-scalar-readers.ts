import { canEndNumber, describeByte, stepNumber, type NumberStep } from './json-syntax.ts';

/**
 * What one read of a number or literal came to. `position` is where the parser goes on; for `invalid`, the byte at
 * fault, and `problem` says what was expected and found.
 */
export type ScalarReadResult =
  | { kind: 'more'; position: number }
  | { kind: 'done'; position: number; value: number | boolean | null }
  | { kind: 'invalid'; position: number; problem: string };

/** Reads a JSON number across chunks, from its first byte to the first byte after it (which it leaves unread). */
export class JsonNumberReader {
  private step: NumberStep = 'start';
  private text = '';

  reset(): void {
    this.step = 'start';
    this.text = '';
  }

  read(chunk: Buffer, position: number): ScalarReadResult {
    const end = chunk.length;
    let index = position;
    let step = this.step;
    while (index < end) {
      const next = stepNumber(step, chunk[index]!);
      if (next === undefined) {
        this.step = step;
        this.text += chunk.toString('latin1', position, index);
        if (!canEndNumber(step)) return { kind: 'invalid', position: index, problem: `expected a digit, found ${describeByte(chunk[index])}` };
        const text = this.text;
        this.text = '';
        return { kind: 'done', position: index, value: Number(text) };
      }
      step = next;
      index += 1;
    }
    this.step = step;
    this.text += chunk.toString('latin1', position, end);
    return { kind: 'more', position: end };
  }

  /** At the end of the file: the number read so far, when it can end there. */
  finish(): number | undefined {
    return canEndNumber(this.step) ? Number(this.text) : undefined;
  }
}

/** Reads `true`, `false` or `null` across chunks, from the byte after its first letter. */
export class JsonLiteralReader {
  private text = '';
  private value: boolean | null = null;
  private matched = 0;

  /** The literal its first letter begins; that letter is taken. */
  start(options: { text: string; value: boolean | null }): void {
    this.text = options.text;
    this.value = options.value;
    this.matched = 1;
  }

  read(chunk: Buffer, position: number): ScalarReadResult {
    if (chunk[position] !== this.text.charCodeAt(this.matched)) {
      return { kind: 'invalid', position, problem: `expected '${this.text}', found ${describeByte(chunk[position])}` };
    }
    this.matched += 1;
    if (this.matched === this.text.length) return { kind: 'done', position: position + 1, value: this.value };
    return { kind: 'more', position: position + 1 };
  }
}
