/**
 * The pieces of JSON's grammar the streaming result-line parser reads with, byte by byte: byte classes, escapes,
 * number steps, and the words its problems use. Pure: no state, no I/O.
 */

export const tabByte = 0x09;
export const newlineByte = 0x0a;
export const carriageReturnByte = 0x0d;
export const spaceByte = 0x20;
export const quoteByte = 0x22;
export const commaByte = 0x2c;
export const minusByte = 0x2d;
export const plusByte = 0x2b;
export const dotByte = 0x2e;
export const zeroByte = 0x30;
export const nineByte = 0x39;
export const colonByte = 0x3a;
export const openBracketByte = 0x5b;
export const backslashByte = 0x5c;
export const closeBracketByte = 0x5d;
export const openBraceByte = 0x7b;
export const closeBraceByte = 0x7d;
export const byteOrderMark = [0xef, 0xbb, 0xbf] as const;

const identifierPattern = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Steps of the JSON number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
export type NumberStep = 'start' | 'minus' | 'zero' | 'integer' | 'dot' | 'fraction' | 'exponent' | 'exponent-sign' | 'exponent-digits';

/** One open array or object of the line being parsed. */
export type ContainerFrame =
  | { readonly isArray: true; readonly value: unknown[] }
  | {
      readonly isArray: false;
      readonly value: Record<string, unknown>;
      propertyName: string;
      /** `inlineData` or `inline_data` when this object is the value of such a property: its `data` string is an image. */
      readonly inlineDataName: string | undefined;
    };

/** Where an escape is after one more byte: more bytes needed, the character it stands for, or not an escape. */
export type EscapeStep = { kind: 'more'; sequence: string } | { kind: 'character'; character: string } | { kind: 'invalid' };

/**
 * Gives a value its property the way JSON.parse does: an own data property, the last duplicate winning. Plain
 * assignment would call the `__proto__` setter and swap the object's prototype, so that one key is defined instead.
 */
export function setProperty(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

export function isSignatureName(name: string): boolean {
  return name === 'thoughtSignature' || name === 'thought_signature';
}

export function isWhitespace(byte: number): boolean {
  return byte === spaceByte || byte === tabByte || byte === carriageReturnByte;
}

export function isDigit(byte: number): boolean {
  return byte >= zeroByte && byte <= nineByte;
}

function isExponentMark(byte: number): boolean {
  return byte === 0x65 || byte === 0x45;
}

function isHexDigit(byte: number): boolean {
  return isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

export function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'the end of the file';
  if (byte === newlineByte) return 'the end of the line';
  if (byte >= spaceByte && byte < 0x7f) return `'${String.fromCharCode(byte)}'`;
  return `byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

export function formatPathSegment(name: string): string {
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

/** Takes one byte of an escape: `sequence` is '' after the backslash, 'u', 'u0', … inside a \uXXXX. */
export function stepEscape(sequence: string, byte: number): EscapeStep {
  if (sequence === '') {
    if (byte === 0x75) return { kind: 'more', sequence: 'u' };
    const character = readSimpleEscape(byte);
    return character === undefined ? { kind: 'invalid' } : { kind: 'character', character };
  }
  if (!isHexDigit(byte)) return { kind: 'invalid' };
  const extended = sequence + String.fromCharCode(byte);
  if (extended.length < 5) return { kind: 'more', sequence: extended };
  return { kind: 'character', character: String.fromCharCode(Number.parseInt(extended.slice(1), 16)) };
}

/** What a bad escape byte is, in the words of a syntax problem (`expected …, found …`). */
export function describeBadEscape(sequence: string, byte: number | undefined): string {
  const expected = sequence === '' ? 'an escape letter after \\' : 'four hex digits after \\u';
  return `expected ${expected}, found ${describeByte(byte)}`;
}

/** The step after one more byte of a number; undefined when the byte cannot go on with it. */
export function stepNumber(step: NumberStep, byte: number): NumberStep | undefined {
  const digit = isDigit(byte);
  switch (step) {
    case 'start':
      return byte === minusByte ? 'minus' : byte === zeroByte ? 'zero' : 'integer';
    case 'minus':
      return byte === zeroByte ? 'zero' : digit ? 'integer' : undefined;
    case 'zero':
      return byte === dotByte ? 'dot' : isExponentMark(byte) ? 'exponent' : undefined;
    case 'integer':
      return digit ? 'integer' : byte === dotByte ? 'dot' : isExponentMark(byte) ? 'exponent' : undefined;
    case 'dot':
      return digit ? 'fraction' : undefined;
    case 'fraction':
      return digit ? 'fraction' : isExponentMark(byte) ? 'exponent' : undefined;
    case 'exponent':
      return digit ? 'exponent-digits' : byte === plusByte || byte === minusByte ? 'exponent-sign' : undefined;
    case 'exponent-sign':
    case 'exponent-digits':
      return digit ? 'exponent-digits' : undefined;
  }
}

export function canEndNumber(step: NumberStep): boolean {
  return step === 'zero' || step === 'integer' || step === 'fraction' || step === 'exponent-digits';
}
