import { createHash } from 'node:crypto';

import { isJsonRecord, JSON_SCHEMA_TYPE_NAMES, resolveJsonSchemaReference, type SchemaKind } from './check-response-schema.ts';
import { compilePattern, generatePatternString } from './generate-pattern-string.ts';

export { checkResponseSchema } from './check-response-schema.ts';
export type { SchemaCheck, SchemaKind } from './check-response-schema.ts';

/**
 * Deterministic answers for Gemini structured output. Every choice is drawn
 * from sha256(seed, JSON path, label), so the same seed always yields the
 * same JSON text and neighbouring fields do not move in lock-step.
 *
 * Known limits:
 * - `pattern` is satisfied by trying the vocabulary candidates and then a
 *   small regex-driven generator; patterns with look-arounds or
 *   back-references that no candidate matches get a non-matching candidate.
 * - A schema whose required properties recurse forever cannot be satisfied
 *   finitely; past REFERENCE_HARD_LIMIT hops a type-shaped stub is returned.
 * - Sibling keywords next to `$ref`, `anyOf` or `oneOf` are not combined
 *   with the chosen target or branch.
 */

type JsonRecord = Record<string, unknown>;
type JsonTypeName = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null';
type ValueHint = { name: string | undefined; description: string | undefined };
type GenerationContext = { root: unknown; kind: SchemaKind };
type NodeRequest = {
  context: GenerationContext;
  node: unknown;
  seed: string;
  hint: ValueHint;
  depth: number;
  referenceDepth: number;
  minimal: boolean;
};
type NumericWindow = { low: number; high: number };

// Nesting depth after which recursive schemas only get their required parts.
const RECURSION_DEPTH_LIMIT = 8;
// `$ref` hops after which generation gives up on a schema that never bottoms out.
const REFERENCE_HARD_LIMIT = 32;
const DEFAULT_ARRAY_LENGTH: NumericWindow = { low: 2, high: 4 };
const ITEM_ATTEMPTS = 8;
const PATTERN_ATTEMPTS = 24;
// Extra entries for a dictionary-shaped object (only additionalProperties).
const DICTIONARY_ENTRY_COUNT = 2;
const TIMESTAMP_RANGE = { start: Date.UTC(2000, 0, 1), end: Date.UTC(2030, 0, 1) };


type Topic =
  | 'hair'
  | 'eyes'
  | 'skin'
  | 'colour'
  | 'description'
  | 'species'
  | 'archetype'
  | 'mood'
  | 'lighting'
  | 'background'
  | 'style'
  | 'pose'
  | 'clothing'
  | 'age'
  | 'build'
  | 'personality'
  | 'item'
  | 'trait'
  | 'name';

/** Matched in this order, so compound names resolve to the more specific topic. */
const TOPIC_KEYWORDS: ReadonlyArray<{ topic: Topic; keywords: ReadonlySet<string> }> = [
  { topic: 'hair', keywords: new Set(['hair', 'hairstyle', 'haircut', 'beard']) },
  { topic: 'eyes', keywords: new Set(['eye', 'eyes', 'iris', 'gaze']) },
  { topic: 'skin', keywords: new Set(['skin', 'complexion']) },
  { topic: 'colour', keywords: new Set(['colour', 'color', 'palette', 'hue', 'tint', 'swatch', 'hex']) },
  {
    topic: 'description',
    keywords: new Set(['description', 'summary', 'caption', 'overview', 'bio', 'biography', 'synopsis', 'prompt']),
  },
  { topic: 'species', keywords: new Set(['species', 'race', 'ancestry', 'creature']) },
  {
    topic: 'archetype',
    keywords: new Set(['archetype', 'role', 'class', 'occupation', 'profession', 'job', 'vocation']),
  },
  {
    topic: 'mood',
    keywords: new Set(['mood', 'expression', 'emotion', 'demeanor', 'demeanour', 'feeling', 'attitude']),
  },
  { topic: 'lighting', keywords: new Set(['lighting', 'light', 'illumination']) },
  {
    topic: 'background',
    keywords: new Set(['background', 'setting', 'environment', 'location', 'scene', 'backdrop', 'place']),
  },
  { topic: 'style', keywords: new Set(['style', 'medium', 'aesthetic', 'technique', 'rendering']) },
  { topic: 'pose', keywords: new Set(['pose', 'stance', 'posture', 'gesture', 'action']) },
  {
    topic: 'clothing',
    keywords: new Set([
      'clothing',
      'clothes',
      'outfit',
      'attire',
      'costume',
      'garment',
      'wear',
      'dress',
      'apparel',
      'headwear',
      'footwear',
      'armour',
      'armor',
    ]),
  },
  { topic: 'age', keywords: new Set(['age', 'aged']) },
  { topic: 'build', keywords: new Set(['build', 'physique', 'body', 'figure', 'frame']) },
  { topic: 'personality', keywords: new Set(['personality', 'temperament', 'disposition', 'nature']) },
  { topic: 'item', keywords: new Set(['item', 'weapon', 'prop', 'equipment', 'tool', 'object', 'gear']) },
  {
    topic: 'trait',
    keywords: new Set(['trait', 'feature', 'mark', 'marking', 'detail', 'accessory', 'accessories', 'characteristic']),
  },
  { topic: 'name', keywords: new Set(['name', 'nickname', 'alias']) },
];

const TOPIC_VALUES: Readonly<Record<Exclude<Topic, 'colour' | 'description'>, readonly string[]>> = {
  hair: [
    'short auburn curls',
    'long braided silver hair',
    'shaved sides with a black topknot',
    'messy blond fringe',
    'shoulder-length dark waves',
    'copper ponytail',
    'cropped white hair',
    'tousled chestnut bob',
  ],
  eyes: ['hazel', 'amber', 'steel grey', 'emerald green', 'deep brown', 'ice blue', 'violet', 'gold-flecked green'],
  skin: ['warm olive', 'pale and freckled', 'deep umber', 'golden tan', 'cool ebony', 'rosy fair', 'weathered bronze'],
  species: [
    'human',
    'elf',
    'dwarf',
    'orc',
    'android',
    'fox spirit',
    'dragonkin',
    'halfling',
    'cat-folk',
    'vampire',
  ],
  archetype: [
    'wandering knight',
    'street-smart rogue',
    'scholarly mage',
    'weary detective',
    'cheerful bard',
    'stoic ranger',
    'ambitious noble',
    'rebel mechanic',
    'reluctant hero',
    'wise mentor',
  ],
  mood: ['determined', 'serene', 'melancholic', 'playful', 'wary', 'confident', 'curious', 'stern', 'hopeful'],
  lighting: [
    'soft golden-hour light',
    'harsh overhead noon sun',
    'cool moonlight',
    'warm candlelight',
    'neon rim lighting',
    'overcast diffuse light',
    'dramatic chiaroscuro',
    'flickering firelight',
  ],
  background: [
    'misty pine forest',
    'rain-soaked city street',
    'sunlit library',
    'desert canyon at dusk',
    'starship bridge',
    'medieval market square',
    'snowy mountain pass',
    'plain studio backdrop',
  ],
  style: [
    'watercolour illustration',
    'cel-shaded anime',
    'oil painting',
    'flat vector art',
    'painterly digital art',
    'ink line art',
    'pixel art',
    'semi-realistic 3D render',
  ],
  pose: [
    'standing with arms crossed',
    'mid-stride walking',
    'seated cross-legged',
    'leaning on a staff in three-quarter view',
    'hands on hips',
    'looking back over one shoulder',
    'crouched and ready to spring',
    'waving in greeting',
  ],
  clothing: [
    'weathered leather armour',
    'a hooded travelling cloak',
    'a tailored navy suit',
    'patched work overalls',
    'an embroidered silk robe',
    'an oversized knit sweater',
    'chainmail under a red tabard',
    'a long grey duster coat',
  ],
  age: ['teenage', 'young adult', 'late twenties', 'in their thirties', 'middle-aged', 'elderly'],
  build: ['slender', 'stocky', 'athletic', 'broad-shouldered', 'wiry', 'lanky', 'compact and muscular'],
  personality: [
    'quick-witted and restless',
    'gentle but stubborn',
    'proud and secretive',
    'warm and talkative',
    'calm and calculating',
    'brash and loyal',
  ],
  item: [
    'a worn longsword',
    'a carved oak staff',
    'a brass spyglass',
    'a battered lute',
    'a leather-bound journal',
    'a twin-barrelled pistol',
    'a lantern on a chain',
  ],
  trait: [
    'freckles across the nose',
    'scar over the left eyebrow',
    'silver hoop earrings',
    'pointed ears',
    'a chipped front tooth',
    'tattooed forearms',
    'round spectacles',
    'a brass pocket watch',
    'ink-stained fingers',
    'a crooked smile',
  ],
  name: [
    'Aria Vell',
    'Tomas Reed',
    'Kael Ashdown',
    'Mira Quill',
    'Jun Hara',
    'Odile Fenwick',
    'Bram Holloway',
    'Sefa Morrow',
  ],
};

const GENERIC_ADJECTIVES = [
  'amber',
  'quiet',
  'bright',
  'ancient',
  'crimson',
  'gentle',
  'hollow',
  'silver',
  'wild',
  'distant',
  'velvet',
  'frozen',
];
const GENERIC_NOUNS = [
  'lantern',
  'harbour',
  'meadow',
  'compass',
  'ember',
  'willow',
  'signal',
  'orchard',
  'tide',
  'atlas',
  'feather',
  'summit',
];

/** Builds a value that satisfies `schema` (assumed to have passed checkResponseSchema). */
export function generateSchemaValue(options: { schema: unknown; kind: SchemaKind; seed: string }): unknown {
  return generateNodeValue({
    context: { root: options.schema, kind: options.kind },
    node: options.schema,
    seed: deriveSeed({ seed: options.seed, label: 'root' }),
    hint: { name: undefined, description: undefined },
    depth: 0,
    referenceDepth: 0,
    minimal: false,
  });
}

function generateNodeValue(request: NodeRequest): unknown {
  const { node, context } = request;
  if (!isJsonRecord(node)) {
    // `true` or an absent schema accepts anything; a short phrase is the most useful answer.
    return generateStringValue({ ...request, node: {} });
  }
  const hint = mergeHint({ hint: request.hint, node });
  const reference = context.kind === 'json-schema' ? node['$ref'] : undefined;
  if (typeof reference === 'string') {
    return generateReferencedValue({ ...request, hint, reference });
  }
  if (Object.hasOwn(node, 'const')) {
    return node['const'];
  }
  const branches = readBranches({ node, kind: context.kind });
  if (branches.length > 0) {
    return generateBranchValue({ ...request, hint, branches });
  }
  const enumValues = node['enum'];
  if (Array.isArray(enumValues) && enumValues.length > 0) {
    return pickEnumValue({ values: enumValues, seed: request.seed, minimal: isMinimal(request) });
  }
  const nodeRequest = { ...request, node, hint };
  switch (chooseType(nodeRequest)) {
    case 'object':
      return generateObjectValue(nodeRequest);
    case 'array':
      return generateArrayValue(nodeRequest);
    case 'integer':
      return generateNumberValue({ ...nodeRequest, integer: true });
    case 'number':
      return generateNumberValue({ ...nodeRequest, integer: false });
    case 'boolean':
      return pickIndex({ seed: request.seed, label: 'boolean', count: 2 }) === 1;
    case 'null':
      return null;
    case 'string':
      return generateStringValue(nodeRequest);
  }
}

function generateReferencedValue(request: NodeRequest & { reference: string }): unknown {
  const { root } = request.context;
  const target = isJsonRecord(root) ? resolveJsonSchemaReference({ root, reference: request.reference }) : undefined;
  if (request.referenceDepth >= REFERENCE_HARD_LIMIT) {
    return buildStubValue({ node: target, kind: request.context.kind });
  }
  return generateNodeValue(
    createChildRequest({ parent: request, changes: { node: target, referenceDepth: request.referenceDepth + 1 } }),
  );
}

function generateBranchValue(request: NodeRequest & { branches: readonly unknown[] }): unknown {
  const { branches, context } = request;
  const nullBranches = branches.filter((branch) => isNullOnlySchema({ node: branch, kind: context.kind }));
  if (isMinimal(request) && nullBranches.length > 0) {
    // Inside a recursion guard the smallest legal answer wins over an informative one.
    return null;
  }
  const informative = branches.filter((branch) => !nullBranches.includes(branch));
  const candidates = informative.length > 0 ? informative : branches;
  const index = pickIndex({ seed: request.seed, label: 'branch', count: candidates.length });
  return generateNodeValue(
    createChildRequest({
      parent: request,
      changes: { node: candidates[index], seed: deriveSeed({ seed: request.seed, label: `branch:${index}` }) },
    }),
  );
}

function generateObjectValue(request: NodeRequest & { node: JsonRecord }): JsonRecord {
  const { node, seed } = request;
  const minimal = isMinimal(request);
  const properties = isJsonRecord(node['properties']) ? node['properties'] : {};
  const required = new Set(readStringList(node['required']));
  const ordered = orderPropertyNames({
    declared: Object.keys(properties),
    ordering: readStringList(node['propertyOrdering']),
  });
  const included = limitPropertyNames({
    names: minimal ? ordered.filter((name) => required.has(name)) : ordered,
    required,
    maxProperties: readCount(node['maxProperties']),
  });
  const entries: Array<[string, unknown]> = included.map((name) => [
    name,
    generateNodeValue(
      createChildRequest({
        parent: request,
        changes: {
          node: properties[name],
          seed: deriveSeed({ seed, label: `property:${name}` }),
          hint: { name, description: undefined },
          depth: request.depth + 1,
          minimal,
        },
      }),
    ),
  ]);
  entries.push(...generateExtraEntries({ ...request, minimal, existing: entries.map(([name]) => name) }));
  // fromEntries defines own properties, so a property called "__proto__" stays data.
  return Object.fromEntries(entries);
}

function generateExtraEntries(request: NodeRequest & { node: JsonRecord; existing: readonly string[] }): Array<[string, unknown]> {
  const { node, existing } = request;
  const additional = node['additionalProperties'];
  if (additional === false) {
    return [];
  }
  const isDictionary =
    existing.length === 0 && isJsonRecord(additional) && Object.keys(additional).length > 0 && !request.minimal;
  const wanted = Math.max(readCount(node['minProperties']) ?? 0, isDictionary ? DICTIONARY_ENTRY_COUNT : 0);
  const target = Math.min(wanted, readCount(node['maxProperties']) ?? Number.POSITIVE_INFINITY);
  const entries: Array<[string, unknown]> = [];
  for (let index = 1; existing.length + entries.length < target; index += 1) {
    const name = `entry_${index}`;
    if (existing.includes(name)) {
      continue;
    }
    entries.push([
      name,
      generateNodeValue(
        createChildRequest({
          parent: request,
          changes: {
            node: isJsonRecord(additional) ? additional : {},
            seed: deriveSeed({ seed: request.seed, label: `property:${name}` }),
            depth: request.depth + 1,
          },
        }),
      ),
    ]);
  }
  return entries;
}

function orderPropertyNames(options: { declared: readonly string[]; ordering: readonly string[] }): string[] {
  const declared = new Set(options.declared);
  const ordered = [...new Set(options.ordering.filter((name) => declared.has(name)))];
  const listed = new Set(ordered);
  return [...ordered, ...options.declared.filter((name) => !listed.has(name))];
}

function limitPropertyNames(options: {
  names: readonly string[];
  required: ReadonlySet<string>;
  maxProperties: number | undefined;
}): string[] {
  const names = [...options.names];
  const limit = options.maxProperties;
  if (limit === undefined) {
    return names;
  }
  // Drop optional properties from the end first; required ones must stay.
  for (let index = names.length - 1; index >= 0 && names.length > limit; index -= 1) {
    const name = names[index];
    if (name !== undefined && !options.required.has(name)) {
      names.splice(index, 1);
    }
  }
  return names;
}

function generateArrayValue(request: NodeRequest & { node: JsonRecord }): unknown[] {
  const { node, seed } = request;
  const minimal = isMinimal(request);
  const prefixItems = request.context.kind === 'json-schema' && Array.isArray(node['prefixItems']) ? node['prefixItems'] : [];
  const itemSchema = node['items'];
  const minItems = readCount(node['minItems']) ?? 0;
  const upper = Math.min(
    readCount(node['maxItems']) ?? Number.POSITIVE_INFINITY,
    itemSchema === false ? prefixItems.length : Number.POSITIVE_INFINITY,
  );
  const length = chooseArrayLength({ seed, minItems, upper, prefixLength: prefixItems.length, minimal });
  const uniqueItems = node['uniqueItems'] === true;
  const values: unknown[] = [];
  const seen = new Set<string>();
  for (let index = 0; index < length; index += 1) {
    const schema = index < prefixItems.length ? prefixItems[index] : itemSchema;
    let value: unknown;
    let text = '';
    // Distinct elements read better, and uniqueItems demands them; retry a few seeds.
    for (let attempt = 0; attempt < ITEM_ATTEMPTS; attempt += 1) {
      value = generateNodeValue(
        createChildRequest({
          parent: request,
          changes: {
            node: schema,
            seed: deriveSeed({ seed, label: attempt === 0 ? `item:${index}` : `item:${index}:${attempt}` }),
            depth: request.depth + 1,
            minimal,
          },
        }),
      );
      text = JSON.stringify(value) ?? '';
      if (!seen.has(text)) {
        break;
      }
    }
    if (seen.has(text)) {
      // Small closed sets (enums, booleans) run out of luck quickly; take an unused member directly.
      const unused = findUnusedChoice({ schema, seen, seed: deriveSeed({ seed, label: `item:${index}` }) });
      if (unused !== undefined) {
        value = unused.value;
        text = unused.text;
      }
    }
    if (seen.has(text) && uniqueItems && values.length >= minItems) {
      break;
    }
    seen.add(text);
    values.push(value);
  }
  return values;
}

function findUnusedChoice(options: {
  schema: unknown;
  seen: ReadonlySet<string>;
  seed: string;
}): { value: unknown; text: string } | undefined {
  const { schema } = options;
  if (!isJsonRecord(schema)) {
    return undefined;
  }
  const enumValues = schema['enum'];
  const isBoolean = readTypeNames(schema).every((name) => name === 'boolean') && schema['type'] !== undefined;
  const choices = Array.isArray(enumValues) ? enumValues.filter((entry) => entry !== null) : isBoolean ? [false, true] : [];
  const start = pickIndex({ seed: options.seed, label: 'unused', count: choices.length });
  const rotated = [...choices.slice(start), ...choices.slice(0, start)];
  for (const choice of rotated) {
    const text = JSON.stringify(choice) ?? '';
    if (!options.seen.has(text)) {
      return { value: choice, text };
    }
  }
  return undefined;
}

function chooseArrayLength(options: {
  seed: string;
  minItems: number;
  upper: number;
  prefixLength: number;
  minimal: boolean;
}): number {
  const { minItems, upper } = options;
  if (options.minimal) {
    return minItems;
  }
  if (options.prefixLength > 0) {
    return Math.max(minItems, Math.min(options.prefixLength, upper));
  }
  const low = Math.min(Math.max(minItems, DEFAULT_ARRAY_LENGTH.low), upper);
  const high = Math.max(low, Math.min(upper, Math.max(DEFAULT_ARRAY_LENGTH.high, low)));
  return low + pickIndex({ seed: options.seed, label: 'length', count: high - low + 1 });
}

function generateNumberValue(request: NodeRequest & { node: JsonRecord; integer: boolean }): number {
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

function generateStringValue(request: NodeRequest & { node: JsonRecord }): string {
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

function findTopic(hint: ValueHint): Topic | undefined {
  // The property name is the strongest signal; the description only breaks ties when the name says nothing.
  for (const source of [hint.name, hint.description]) {
    const words = tokenizeWords(source ?? '');
    const forms = words.flatMap((word) => [word, word.replace(/s$/, ''), word.replace(/es$/, '')]);
    const match = TOPIC_KEYWORDS.find(({ keywords }) => forms.some((form) => keywords.has(form)));
    if (match !== undefined) {
      return match.topic;
    }
  }
  return undefined;
}

function tokenizeWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
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

function pickEnumValue(options: { values: readonly unknown[]; seed: string; minimal: boolean }): unknown {
  const nonNull = options.values.filter((value) => value !== null);
  if (nonNull.length === 0 || (options.minimal && nonNull.length < options.values.length)) {
    return null;
  }
  return nonNull[pickIndex({ seed: options.seed, label: 'enum', count: nonNull.length })];
}

function chooseType(request: NodeRequest & { node: JsonRecord }): JsonTypeName {
  const names = readTypeNames(request.node);
  const informative = names.filter((name) => name !== 'null');
  if (names.includes('null') && (informative.length === 0 || isMinimal(request))) {
    return 'null';
  }
  if (informative.length === 0) {
    return inferType(request.node);
  }
  return informative[pickIndex({ seed: request.seed, label: 'type', count: informative.length })] ?? 'string';
}

/** Reads `type` in either dialect: lower-cased, arrays allowed, `nullable` folded in. */
function readTypeNames(node: JsonRecord): JsonTypeName[] {
  const raw = node['type'];
  const names = (Array.isArray(raw) ? raw : [raw])
    .filter((name): name is string => typeof name === 'string')
    .map((name) => name.toLowerCase())
    .filter((name): name is JsonTypeName => JSON_SCHEMA_TYPE_NAMES.has(name));
  if (node['nullable'] === true && !names.includes('null')) {
    names.push('null');
  }
  return names;
}

function inferType(node: JsonRecord): JsonTypeName {
  const has = (...keys: string[]): boolean => keys.some((key) => Object.hasOwn(node, key));
  if (has('properties', 'additionalProperties', 'required', 'minProperties', 'maxProperties', 'propertyOrdering')) {
    return 'object';
  }
  if (has('items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems')) {
    return 'array';
  }
  if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum')) {
    return 'number';
  }
  return 'string';
}

function readBranches(options: { node: JsonRecord; kind: SchemaKind }): unknown[] {
  const anyOf = Array.isArray(options.node['anyOf']) ? options.node['anyOf'] : [];
  const oneOf =
    options.kind === 'json-schema' && Array.isArray(options.node['oneOf']) ? options.node['oneOf'] : [];
  return [...anyOf, ...oneOf];
}

function isNullOnlySchema(options: { node: unknown; kind: SchemaKind }): boolean {
  const { node } = options;
  if (!isJsonRecord(node)) {
    return false;
  }
  if (Object.hasOwn(node, 'const')) {
    return node['const'] === null;
  }
  if (Array.isArray(node['enum'])) {
    return node['enum'].length > 0 && node['enum'].every((value) => value === null);
  }
  const names = readTypeNames(node);
  return names.length > 0 && names.every((name) => name === 'null');
}

function buildStubValue(options: { node: unknown; kind: SchemaKind }): unknown {
  if (!isJsonRecord(options.node)) {
    return null;
  }
  const [type] = readTypeNames(options.node);
  switch (type ?? inferType(options.node)) {
    case 'object':
      return {};
    case 'array':
      return [];
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
  }
}

/** Copies only the NodeRequest fields, so helper-specific extras never leak into children. */
function createChildRequest(options: { parent: NodeRequest; changes: Partial<NodeRequest> }): NodeRequest {
  const { parent, changes } = options;
  return {
    context: parent.context,
    node: parent.node,
    seed: parent.seed,
    hint: parent.hint,
    depth: parent.depth,
    referenceDepth: parent.referenceDepth,
    minimal: parent.minimal,
    ...changes,
  };
}

function isMinimal(request: NodeRequest): boolean {
  // Only recursion is cut short: a deep but finite schema without $ref is generated in full.
  return request.minimal || (request.depth >= RECURSION_DEPTH_LIMIT && request.referenceDepth > 0);
}

function mergeHint(options: { hint: ValueHint; node: JsonRecord }): ValueHint {
  const { node, hint } = options;
  const description =
    typeof node['description'] === 'string'
      ? node['description']
      : typeof node['title'] === 'string'
        ? node['title']
        : hint.description;
  return { name: hint.name, description };
}

function readCount(value: unknown): number | undefined {
  // Schema proto int64 fields arrive as JSON strings or numbers.
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 ? number : undefined;
}

function readNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

function readStringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

function rotateValues(options: { values: readonly string[]; seed: string; label: string }): string[] {
  const start = pickIndex({ seed: options.seed, label: options.label, count: options.values.length });
  return [...options.values.slice(start), ...options.values.slice(0, start)];
}

function pickFrom(options: { values: readonly string[]; seed: string; label: string }): string {
  return options.values[pickIndex({ seed: options.seed, label: options.label, count: options.values.length })] ?? '';
}

function pickIndex(options: { seed: string; label: string; count: number }): number {
  if (options.count <= 1) {
    return 0;
  }
  return Math.min(options.count - 1, Math.floor(drawUnit(options) * options.count));
}

function drawUnit(options: { seed: string; label: string }): number {
  const digest = createHash('sha256').update(`${options.seed}\u0000${options.label}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

function deriveSeed(options: { seed: string; label: string }): string {
  return createHash('sha256').update(`${options.seed}\u0000${options.label}`).digest('hex');
}
