import { createHash } from 'node:crypto';

import { findTopic, GENERIC_ADJECTIVES, GENERIC_NOUNS, TOPIC_VALUES } from './answer-words.ts';
import { compilePattern, generatePatternString } from './generate-pattern-string.ts';
import type { JsonRecord } from './json-record.ts';
import type { NodeRequest } from './node-request.ts';
import { readCount } from './read-schema-node.ts';
import { deriveSeed, drawUnit, pickFrom, rotateValues } from './seeded-choice.ts';

/** Strings for the answer generator: a format's shape, the topic's words, fitted to the length and the pattern. */

const PATTERN_ATTEMPTS = 24;
const TIMESTAMP_RANGE = { start: Date.UTC(2000, 0, 1), end: Date.UTC(2030, 0, 1) };

export function generateStringValue(request: NodeRequest & { node: JsonRecord }): string {
  const { node, seed } = request;
  const minLength = readCount(node['minLength']);
  const maxLength = readCount(node['maxLength']);
  const fitted = listStringCandidates(request).map((text) => fitLength({ text, minLength, maxLength, seed }));
  const [preferred = ''] = fitted;
  const pattern = typeof node['pattern'] === 'string' ? node['pattern'] : undefined;
  const expression = pattern === undefined ? undefined : compilePattern(pattern);
  if (pattern === undefined || expression === undefined) {
    return preferred;
  }
  const matching = fitted.find((text) => expression.test(text));
  if (matching !== undefined) {
    return matching;
  }
  for (let attempt = 0; attempt < PATTERN_ATTEMPTS; attempt += 1) {
    const generated = generatePatternString({ pattern, seed: deriveSeed({ seed, label: `pattern:${attempt}` }) });
    if (generated !== undefined && isWithinLength({ text: generated, minLength, maxLength })) {
      return generated;
    }
  }
  // Documented limit: an unmatched pattern still gets a plausible string.
  return preferred;
}

/** Candidate strings, best first; later ones are fallbacks for `pattern`. */
function listStringCandidates(request: NodeRequest & { node: JsonRecord }): string[] {
  const { node, seed, hint } = request;
  const format = typeof node['format'] === 'string' ? node['format'].toLowerCase() : '';
  const candidates = listFormatCandidates({ format, seed });
  const topic = findTopic(hint);
  if (topic === 'colour') {
    candidates.push(...[0, 1, 2].map((index) => buildHexColour(deriveSeed({ seed, label: `colour:${index}` }))));
  } else if (topic === 'description') {
    candidates.push(composeDescription(seed));
  } else if (topic !== undefined) {
    candidates.push(...rotateValues({ values: TOPIC_VALUES[topic], seed, label: topic }));
  }
  candidates.push(
    `${pickFrom({ values: GENERIC_ADJECTIVES, seed, label: 'adjective' })} ${pickFrom({ values: GENERIC_NOUNS, seed, label: 'noun' })}`,
  );
  return candidates;
}

function listFormatCandidates(options: { format: string; seed: string }): string[] {
  const { format, seed } = options;
  const unit = drawUnit({ seed, label: 'format' });
  const timestamp = new Date(
    TIMESTAMP_RANGE.start + Math.floor((unit * (TIMESTAMP_RANGE.end - TIMESTAMP_RANGE.start)) / 1000) * 1000,
  )
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  const digest = createHash('sha256').update(`${seed}\u0000format-digest`).digest('hex');
  const [first = 'aria', last = 'vell'] = pickFrom({ values: TOPIC_VALUES.name, seed, label: 'email' })
    .toLowerCase()
    .split(' ');
  const noun = pickFrom({ values: GENERIC_NOUNS, seed, label: 'format-noun' });
  switch (format) {
    case 'date-time':
      return [timestamp];
    case 'date':
      return [timestamp.slice(0, 10)];
    case 'time':
      return [timestamp.slice(11, 19), timestamp.slice(11)];
    case 'email':
    case 'idn-email':
      return [`${first}.${last}@example.com`];
    case 'uuid':
      return [buildUuid(digest)];
    case 'uri':
    case 'url':
    case 'iri':
    case 'uri-reference':
    case 'iri-reference':
      return [`https://example.com/${noun}/${digest.slice(0, 8)}`];
    case 'hostname':
    case 'idn-hostname':
      return [`${noun}.example.com`];
    case 'ipv4':
      return [`192.0.2.${1 + (Number.parseInt(digest.slice(0, 2), 16) % 254)}`];
    case 'ipv6':
      return [`2001:db8::${digest.slice(0, 4)}`];
    case 'duration':
      return [`PT${1 + (Number.parseInt(digest.slice(0, 2), 16) % 59)}M`];
    default:
      return [];
  }
}

function buildUuid(digest: string): string {
  const variant = '89ab'[Number.parseInt(digest.slice(16, 17), 16) % 4] ?? '8';
  return [
    digest.slice(0, 8),
    digest.slice(8, 12),
    `4${digest.slice(13, 16)}`,
    `${variant}${digest.slice(17, 20)}`,
    digest.slice(20, 32),
  ].join('-');
}

function buildHexColour(seed: string): string {
  return `#${createHash('sha256').update(seed).digest('hex').slice(0, 6)}`;
}

function composeDescription(seed: string): string {
  const pick = (topic: keyof typeof TOPIC_VALUES): string =>
    pickFrom({ values: TOPIC_VALUES[topic], seed, label: `description:${topic}` });
  const sentence = `${addArticle(pick('mood'))} ${pick('species')} ${pick('archetype')} in ${pick('clothing')}, ${pick('pose')}, against ${addArticle(pick('background'))}.`;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function addArticle(phrase: string): string {
  return `${/^[aeiou]/i.test(phrase) ? 'an' : 'a'} ${phrase}`;
}

function fitLength(options: {
  text: string;
  minLength: number | undefined;
  maxLength: number | undefined;
  seed: string;
}): string {
  const { minLength, maxLength, seed } = options;
  let text = options.text;
  for (let index = 0; minLength !== undefined && countCodePoints(text) < minLength; index += 1) {
    const word = pickFrom({ values: GENERIC_NOUNS, seed, label: `padding:${index}` });
    text = text === '' ? word : `${text} ${word}`;
  }
  if (maxLength !== undefined && countCodePoints(text) > maxLength) {
    const cut = Array.from(text).slice(0, maxLength).join('');
    const trimmed = cut.trimEnd();
    text = minLength === undefined || countCodePoints(trimmed) >= minLength ? trimmed : cut;
  }
  return text;
}

function isWithinLength(options: { text: string; minLength: number | undefined; maxLength: number | undefined }): boolean {
  const length = countCodePoints(options.text);
  return (options.minLength === undefined || length >= options.minLength) && (options.maxLength === undefined || length <= options.maxLength);
}

function countCodePoints(text: string): number {
  return Array.from(text).length;
}
