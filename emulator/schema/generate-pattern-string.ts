import { createHash } from 'node:crypto';

import { parsePattern, UnsupportedPatternError, type CodePointRange, type PatternNode } from './parse-pattern.ts';

/**
 * A small generator of strings that match an ECMAScript regular expression.
 * It covers what schema `pattern`s usually contain (literals, classes,
 * escapes, groups, alternation, quantifiers, anchors). Look-arounds,
 * back-references and Unicode property escapes are out of reach: for those
 * `generatePatternString` answers `undefined` and the caller keeps its own
 * candidate.
 */

/** Compiles a schema pattern the way a JSON Schema validator would (Unicode mode first). */
export function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    try {
      return new RegExp(pattern);
    } catch {
      return undefined;
    }
  }
}

/**
 * Returns a string matching `pattern`, chosen deterministically from `seed`,
 * or `undefined` when the pattern uses constructs this generator does not
 * model or when the produced string fails the real regular expression.
 */
export function generatePatternString(options: { pattern: string; seed: string }): string | undefined {
  const expression = compilePattern(options.pattern);
  if (expression === undefined) {
    return undefined;
  }
  let tree: PatternNode;
  try {
    tree = parsePattern(options.pattern);
  } catch (error) {
    if (error instanceof UnsupportedPatternError) {
      return undefined;
    }
    throw error;
  }
  const draw = createDraw(options.seed);
  const text = renderNode({ node: tree, draw });
  return expression.test(text) ? text : undefined;
}

function createDraw(seed: string): (count: number) => number {
  // The counter lives in this closure only, so every call of the exported
  // function starts the same sequence for the same seed.
  let counter = 0;
  return (count: number): number => {
    counter += 1;
    const digest = createHash('sha256').update(`${seed}\u0000pattern\u0000${counter}`).digest();
    return digest.readUIntBE(0, 6) % Math.max(1, count);
  };
}

function renderNode(options: { node: PatternNode; draw: (count: number) => number }): string {
  const { node, draw } = options;
  switch (node.kind) {
    case 'empty':
      return '';
    case 'characters':
      return String.fromCodePoint(pickCodePoint({ ranges: node.ranges, draw }));
    case 'sequence':
      return node.items.map((item) => renderNode({ node: item, draw })).join('');
    case 'alternation': {
      const option = node.options[draw(node.options.length)];
      return option === undefined ? '' : renderNode({ node: option, draw });
    }
    case 'repeat': {
      const count = node.minimum + draw(node.maximum - node.minimum + 1);
      let text = '';
      for (let index = 0; index < count; index += 1) {
        text += renderNode({ node: node.node, draw });
      }
      return text;
    }
  }
}

function pickCodePoint(options: { ranges: readonly CodePointRange[]; draw: (count: number) => number }): number {
  const total = options.ranges.reduce((sum, [low, high]) => sum + (high - low + 1), 0);
  let offset = options.draw(total);
  for (const [low, high] of options.ranges) {
    const size = high - low + 1;
    if (offset < size) {
      return low + offset;
    }
    offset -= size;
  }
  throw new UnsupportedPatternError('empty character set');
}
