import { tokenizeWords } from './answer-words.ts';
import type { JsonRecord } from './json-record.ts';
import type { NodeRequest, ValueHint } from './node-request.ts';
import { readNumber } from './read-schema-node.ts';
import { drawUnit, pickIndex } from './seeded-choice.ts';

/** Numbers for the answer generator: within the schema's bounds, and near what the property's name suggests. */

export type NumericWindow = { low: number; high: number };

export function generateNumberValue(request: NodeRequest & { node: JsonRecord; integer: boolean }): number {
  const { node, integer, seed } = request;
  const bounds = readNumericBounds(node);
  let low = bounds.low;
  let high = bounds.high;
  if (integer) {
    low = bounds.lowIsStrict ? Math.floor(low) + 1 : Math.ceil(low);
    high = bounds.highIsStrict ? Math.ceil(high) - 1 : Math.floor(high);
  }
  const window = fitWindow({ low, high, preferred: choosePreferredNumbers({ hint: request.hint, integer }) });
  if (integer) {
    if (window.low > window.high) {
      return window.low;
    }
    return window.low + pickIndex({ seed, label: 'number', count: window.high - window.low + 1 });
  }
  const isAllowed = (value: number): boolean =>
    (bounds.lowIsStrict ? value > bounds.low : value >= bounds.low) &&
    (bounds.highIsStrict ? value < bounds.high : value <= bounds.high);
  const exact = window.low + drawUnit({ seed, label: 'number' }) * (window.high - window.low);
  const rounded = Math.round(exact * 100) / 100;
  if (isAllowed(rounded)) {
    return rounded;
  }
  return isAllowed(exact) ? exact : (window.low + window.high) / 2;
}

function readNumericBounds(node: JsonRecord): {
  low: number;
  high: number;
  lowIsStrict: boolean;
  highIsStrict: boolean;
} {
  let low = readNumber(node['minimum']) ?? Number.NEGATIVE_INFINITY;
  let high = readNumber(node['maximum']) ?? Number.POSITIVE_INFINITY;
  let lowIsStrict = false;
  let highIsStrict = false;
  const exclusiveMinimum = readNumber(node['exclusiveMinimum']);
  if (exclusiveMinimum !== undefined && exclusiveMinimum >= low) {
    low = exclusiveMinimum;
    lowIsStrict = true;
  }
  const exclusiveMaximum = readNumber(node['exclusiveMaximum']);
  if (exclusiveMaximum !== undefined && exclusiveMaximum <= high) {
    high = exclusiveMaximum;
    highIsStrict = true;
  }
  return { low, high, lowIsStrict, highIsStrict };
}

function choosePreferredNumbers(options: { hint: ValueHint; integer: boolean }): NumericWindow {
  const words = new Set(tokenizeWords(options.hint.name ?? ''));
  const has = (...candidates: string[]): boolean => candidates.some((word) => words.has(word));
  if (has('age', 'aged')) {
    return { low: 16, high: 70 };
  }
  if (has('year')) {
    return { low: 1950, high: 2030 };
  }
  if (has('count', 'number', 'quantity', 'amount', 'total')) {
    return { low: 1, high: 12 };
  }
  if (!options.integer && has('confidence', 'probability', 'certainty', 'ratio', 'score', 'weight', 'opacity')) {
    return { low: 0, high: 1 };
  }
  return options.integer ? { low: 1, high: 100 } : { low: 0, high: 100 };
}

/** Intersects the bounds with a plausible window, sliding the window when they do not overlap. */
function fitWindow(options: { low: number; high: number; preferred: NumericWindow }): NumericWindow {
  const { low, high, preferred } = options;
  const intersectionLow = Math.max(low, preferred.low);
  const intersectionHigh = Math.min(high, preferred.high);
  if (intersectionLow <= intersectionHigh) {
    return { low: intersectionLow, high: intersectionHigh };
  }
  const span = preferred.high - preferred.low;
  if (high < preferred.low) {
    return { low: Math.max(low, high - span), high };
  }
  return { low, high: Math.min(high, low + span) };
}
