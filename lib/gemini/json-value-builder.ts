import type { BlobReference } from '../../schemas/blob-reference.ts';
import { isSignatureName, setProperty, type ContainerFrame } from './json-syntax.ts';
import { readKeyFromLabels } from './request-key-labels.ts';

/** Deeper than this, a line is unreadable, so that what a file holds cannot grow the stack without bound. */
export const maxNestingDepth = 64;

/**
 * The value of the line being parsed, as it is built: the open arrays and objects, the root once closed, and the
 * line's `key` as soon as it is read (so that a line broken later still names it).
 */
export class JsonValueBuilder {
  private stack: ContainerFrame[] = [];
  private rootValue: unknown;
  private key: string | undefined;

  get root(): unknown {
    return this.rootValue;
  }

  get lineKey(): string | undefined {
    return this.key;
  }

  get frames(): readonly ContainerFrame[] {
    return this.stack;
  }

  get isEmpty(): boolean {
    return this.stack.length === 0;
  }

  top(): ContainerFrame | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** Drops the value; `forgetKey` too when the next line starts (a broken line keeps its key for its report). */
  reset(options: { forgetKey: boolean }): void {
    this.stack = [];
    this.rootValue = undefined;
    if (options.forgetKey) this.key = undefined;
  }

  /** Opens an array or object; false when that would nest deeper than the parser allows. */
  open(options: { isArray: boolean }): boolean {
    if (this.stack.length >= maxNestingDepth) return false;
    if (options.isArray) {
      this.stack.push({ isArray: true, value: [] });
      return true;
    }
    const parent = this.top();
    const parentName = parent === undefined || parent.isArray ? undefined : parent.propertyName;
    const inlineDataName = parentName === 'inlineData' || parentName === 'inline_data' ? parentName : undefined;
    this.stack.push({ isArray: false, value: {}, propertyName: '', inlineDataName });
    return true;
  }

  /** Closes the innermost container and attaches it; `root` when that was the line's value. */
  close(): 'root' | 'nested' {
    const frame = this.stack.pop()!;
    return this.attach(frame.value);
  }

  /** The property the next value of the innermost object goes to. */
  nameProperty(name: string): void {
    const frame = this.top();
    if (frame !== undefined && !frame.isArray) frame.propertyName = name;
  }

  /** Attaches a finished value where it belongs; `root` when it is the line's value. */
  attach(value: unknown): 'root' | 'nested' {
    const parent = this.top();
    if (parent === undefined) {
      this.rootValue = value;
      return 'root';
    }
    if (parent.isArray) {
      parent.value.push(value);
      return 'nested';
    }
    const name = parent.propertyName;
    // `blob` of an image part, and a signature that is not a string, are this reader's words for where bytes went;
    // the file may not forge one.
    if (parent.inlineDataName !== undefined && name === 'blob') return 'nested';
    if (parent.inlineDataName === undefined && isSignatureName(name)) return 'nested';
    setProperty(parent.value, name, value);
    if (this.stack.length === 1 && name === 'key') this.key = typeof value === 'string' && value !== '' ? value : undefined;
    // Vertex AI echoes the request, with the key in its labels, before the answer: a line broken later still names it.
    if (this.stack.length === 1 && name === 'request' && this.key === undefined) this.key = readKeyFromLabels(value);
    return 'nested';
  }

  /** Puts where a stored string's bytes went: `blob` beside an image's `data`, `{ blob }` in a signature's place. */
  attachBlob(options: { target: 'inline-data' | 'signature'; propertyName: string; reference: BlobReference }): void {
    const frame = this.top();
    if (frame === undefined || frame.isArray) return;
    if (options.target === 'signature') setProperty(frame.value, options.propertyName, { blob: options.reference });
    else setProperty(frame.value, 'blob', options.reference);
  }
}
