/**
 * Parses the part of ECMAScript regular-expression syntax that schema `pattern`s usually use (literals, classes,
 * escapes, groups, alternation, quantifiers, anchors) into a tree `generatePatternString` renders. Look-arounds,
 * back-references and Unicode property escapes throw UnsupportedPatternError.
 */

export type CodePointRange = readonly [number, number];

export type PatternNode =
  | { kind: 'empty' }
  | { kind: 'characters'; ranges: readonly CodePointRange[] }
  | { kind: 'sequence'; items: readonly PatternNode[] }
  | { kind: 'alternation'; options: readonly PatternNode[] }
  | { kind: 'repeat'; node: PatternNode; minimum: number; maximum: number };

type ParseState = { text: string; position: number };

export class UnsupportedPatternError extends Error {}

const DIGIT_RANGES: readonly CodePointRange[] = [[0x30, 0x39]];
const WORD_RANGES: readonly CodePointRange[] = [
  [0x61, 0x7a],
  [0x41, 0x5a],
  [0x30, 0x39],
  [0x5f, 0x5f],
];
const LETTER_RANGES: readonly CodePointRange[] = [
  [0x61, 0x7a],
  [0x41, 0x5a],
];
const SPACE_RANGES: readonly CodePointRange[] = [[0x20, 0x20]];
const NON_WORD_RANGES: readonly CodePointRange[] = [
  [0x20, 0x20],
  [0x2d, 0x2d],
];
// `.` may match almost anything; letters and digits keep the output readable.
const ANY_CHARACTER_RANGES: readonly CodePointRange[] = [
  [0x61, 0x7a],
  [0x30, 0x39],
];
// Negated classes are complemented within printable ASCII so output stays printable.
const PRINTABLE_RANGE: CodePointRange = [0x20, 0x7e];

// Unbounded quantifiers (`*`, `+`, `{n,}`) add at most this many repetitions.
const UNBOUNDED_EXTRA_REPETITIONS = 3;

const CONTROL_ESCAPES: Readonly<Record<string, number>> = {
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  f: 0x0c,
  v: 0x0b,
  '0': 0x00,
};

export function parsePattern(pattern: string): PatternNode {
  const state: ParseState = { text: pattern, position: 0 };
  const tree = parseAlternation(state);
  if (state.position < state.text.length) {
    throw new UnsupportedPatternError(`unexpected "${state.text[state.position]}"`);
  }
  return tree;
}

function parseAlternation(state: ParseState): PatternNode {
  const options = [parseSequence(state)];
  while (state.text[state.position] === '|') {
    state.position += 1;
    options.push(parseSequence(state));
  }
  const [only] = options;
  return options.length === 1 && only !== undefined ? only : { kind: 'alternation', options };
}

function parseSequence(state: ParseState): PatternNode {
  const items: PatternNode[] = [];
  while (state.position < state.text.length) {
    const character = state.text[state.position];
    if (character === '|' || character === ')') {
      break;
    }
    items.push(parseQuantifier({ state, atom: parseAtom(state) }));
  }
  return { kind: 'sequence', items };
}

function parseAtom(state: ParseState): PatternNode {
  const character = state.text[state.position];
  switch (character) {
    case '(':
      return parseGroup(state);
    case '[':
      return parseClass(state);
    case '.':
      state.position += 1;
      return { kind: 'characters', ranges: ANY_CHARACTER_RANGES };
    case '^':
    case '$':
      // Anchors produce nothing; a misplaced one is caught by the final RegExp test.
      state.position += 1;
      return { kind: 'empty' };
    case '\\':
      return parseEscape(state);
    case '*':
    case '+':
    case '?':
      throw new UnsupportedPatternError('quantifier without target');
    default:
      return parseLiteral(state);
  }
}

function parseLiteral(state: ParseState): PatternNode {
  const codePoint = state.text.codePointAt(state.position);
  if (codePoint === undefined) {
    throw new UnsupportedPatternError('unexpected end');
  }
  state.position += String.fromCodePoint(codePoint).length;
  return { kind: 'characters', ranges: [[codePoint, codePoint]] };
}

function parseGroup(state: ParseState): PatternNode {
  state.position += 1;
  if (state.text.startsWith('?:', state.position)) {
    state.position += 2;
  } else if (state.text.startsWith('?<', state.position) && !/^\?<[=!]/.test(state.text.slice(state.position))) {
    const closing = state.text.indexOf('>', state.position);
    if (closing < 0) {
      throw new UnsupportedPatternError('unterminated group name');
    }
    state.position = closing + 1;
  } else if (state.text[state.position] === '?') {
    throw new UnsupportedPatternError('look-around or inline flags');
  }
  const inner = parseAlternation(state);
  if (state.text[state.position] !== ')') {
    throw new UnsupportedPatternError('unterminated group');
  }
  state.position += 1;
  return inner;
}

function parseQuantifier(options: { state: ParseState; atom: PatternNode }): PatternNode {
  const { state, atom } = options;
  const character = state.text[state.position];
  let bounds: { minimum: number; maximum: number } | undefined;
  if (character === '*') {
    state.position += 1;
    bounds = { minimum: 0, maximum: UNBOUNDED_EXTRA_REPETITIONS };
  } else if (character === '+') {
    state.position += 1;
    bounds = { minimum: 1, maximum: 1 + UNBOUNDED_EXTRA_REPETITIONS };
  } else if (character === '?') {
    state.position += 1;
    bounds = { minimum: 0, maximum: 1 };
  } else if (character === '{') {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(state.text.slice(state.position));
    if (match !== null) {
      state.position += match[0].length;
      const minimum = Number(match[1]);
      const upper = match[3];
      const maximum =
        match[2] === undefined
          ? minimum
          : upper === undefined || upper === ''
            ? minimum + UNBOUNDED_EXTRA_REPETITIONS
            : Number(upper);
      if (maximum < minimum) {
        throw new UnsupportedPatternError('quantifier range out of order');
      }
      bounds = { minimum, maximum };
    }
  }
  if (bounds === undefined) {
    return atom;
  }
  if (state.text[state.position] === '?') {
    // Lazy and greedy quantifiers match the same strings.
    state.position += 1;
  }
  return { kind: 'repeat', node: atom, ...bounds };
}

function parseEscape(state: ParseState): PatternNode {
  const letter = state.text[state.position + 1];
  if (letter === undefined) {
    throw new UnsupportedPatternError('trailing backslash');
  }
  if (letter === 'b' || letter === 'B') {
    state.position += 2;
    return { kind: 'empty' };
  }
  if (/[1-9]/.test(letter) || letter === 'k') {
    throw new UnsupportedPatternError('back-reference');
  }
  return { kind: 'characters', ranges: readEscapeRanges({ state, insideClass: false }) };
}

/** Reads an escape starting at the backslash and returns the code points it stands for. */
function readEscapeRanges(options: { state: ParseState; insideClass: boolean }): readonly CodePointRange[] {
  const { state } = options;
  const letter = state.text[state.position + 1];
  if (letter === undefined) {
    throw new UnsupportedPatternError('trailing backslash');
  }
  state.position += 2;
  switch (letter) {
    case 'd':
      return DIGIT_RANGES;
    case 'D':
      return LETTER_RANGES;
    case 'w':
      return WORD_RANGES;
    case 'W':
      return NON_WORD_RANGES;
    case 's':
      return SPACE_RANGES;
    case 'S':
      return LETTER_RANGES;
    case 'p':
    case 'P':
    case 'c':
      throw new UnsupportedPatternError('Unicode property or control escape');
    case 'x':
      return createSingleRange(readHexDigits({ state, count: 2 }));
    case 'u': {
      if (state.text[state.position] === '{') {
        const closing = state.text.indexOf('}', state.position);
        if (closing < 0) {
          throw new UnsupportedPatternError('unterminated code point escape');
        }
        const codePoint = Number.parseInt(state.text.slice(state.position + 1, closing), 16);
        state.position = closing + 1;
        return createSingleRange(codePoint);
      }
      return createSingleRange(readHexDigits({ state, count: 4 }));
    }
    case 'b':
      if (options.insideClass) {
        return createSingleRange(0x08);
      }
      throw new UnsupportedPatternError('word boundary inside range');
    default: {
      const control = CONTROL_ESCAPES[letter];
      return createSingleRange(control ?? letter.codePointAt(0) ?? 0);
    }
  }
}

function readHexDigits(options: { state: ParseState; count: number }): number {
  const digits = options.state.text.slice(options.state.position, options.state.position + options.count);
  if (!new RegExp(`^[0-9a-fA-F]{${options.count}}$`).test(digits)) {
    throw new UnsupportedPatternError('malformed hexadecimal escape');
  }
  options.state.position += options.count;
  return Number.parseInt(digits, 16);
}

function createSingleRange(codePoint: number): readonly CodePointRange[] {
  return [[codePoint, codePoint]];
}

function parseClass(state: ParseState): PatternNode {
  state.position += 1;
  const negated = state.text[state.position] === '^';
  if (negated) {
    state.position += 1;
  }
  const ranges: CodePointRange[] = [];
  while (state.text[state.position] !== ']') {
    if (state.position >= state.text.length) {
      throw new UnsupportedPatternError('unterminated character class');
    }
    const start = readClassMember(state);
    const isRange =
      state.text[state.position] === '-' &&
      state.text[state.position + 1] !== ']' &&
      state.position + 1 < state.text.length;
    const [startRange] = start;
    if (isRange && start.length === 1 && startRange !== undefined && startRange[0] === startRange[1]) {
      state.position += 1;
      const end = readClassMember(state);
      const [endRange] = end;
      if (end.length !== 1 || endRange === undefined || endRange[0] !== endRange[1]) {
        throw new UnsupportedPatternError('class escape used as range end');
      }
      if (endRange[0] < startRange[0]) {
        throw new UnsupportedPatternError('range out of order');
      }
      ranges.push([startRange[0], endRange[0]]);
    } else {
      ranges.push(...start);
    }
  }
  state.position += 1;
  const chosen = negated ? complementRanges(ranges) : ranges;
  if (chosen.length === 0) {
    throw new UnsupportedPatternError('empty character class');
  }
  return { kind: 'characters', ranges: chosen };
}

function readClassMember(state: ParseState): readonly CodePointRange[] {
  if (state.text[state.position] === '\\') {
    return readEscapeRanges({ state, insideClass: true });
  }
  const codePoint = state.text.codePointAt(state.position);
  if (codePoint === undefined) {
    throw new UnsupportedPatternError('unterminated character class');
  }
  state.position += String.fromCodePoint(codePoint).length;
  return createSingleRange(codePoint);
}

function complementRanges(excluded: readonly CodePointRange[]): CodePointRange[] {
  const [low, high] = PRINTABLE_RANGE;
  const allowed: CodePointRange[] = [];
  let runStart: number | undefined;
  for (let codePoint = low; codePoint <= high; codePoint += 1) {
    const isExcluded = excluded.some(([start, end]) => codePoint >= start && codePoint <= end);
    if (!isExcluded && runStart === undefined) {
      runStart = codePoint;
    }
    if (isExcluded && runStart !== undefined) {
      allowed.push([runStart, codePoint - 1]);
      runStart = undefined;
    }
  }
  if (runStart !== undefined) {
    allowed.push([runStart, high]);
  }
  return allowed;
}
