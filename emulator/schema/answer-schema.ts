import { checkResponseSchema, type SchemaKind } from './check-response-schema.ts';
import { generateNumberValue, type NumericWindow } from './generate-number-value.ts';
import { generateStringValue } from './generate-string-value.ts';
import { isJsonRecord, type JsonRecord } from './json-record.ts';
import { createChildRequest, isMinimal, mergeHint, type NodeRequest } from './node-request.ts';
import { buildStubValue, inferType, isNullOnlySchema, readBranches, readCount, readStringList, readTypeNames, type JsonTypeName } from './read-schema-node.ts';
import { resolveJsonSchemaReference } from './resolve-json-schema-reference.ts';
import { deriveSeed, pickIndex } from './seeded-choice.ts';

export { checkResponseSchema };
export type { SchemaCheck, SchemaKind } from './check-response-schema.ts';

/**
 * Deterministic answers for Gemini structured output. Every choice is drawn
 * from sha256(seed, JSON path, label), so the same seed always yields the
 * same JSON text and neighbouring fields do not move in lock-step.
 * This file walks the schema (references, branches, objects, arrays); the
 * leaves are in generate-string-value.ts and generate-number-value.ts, and
 * the words they draw from in answer-words.json.
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

// `$ref` hops after which generation gives up on a schema that never bottoms out.
const REFERENCE_HARD_LIMIT = 32;
const DEFAULT_ARRAY_LENGTH: NumericWindow = { low: 2, high: 4 };
const ITEM_ATTEMPTS = 8;
// Extra entries for a dictionary-shaped object (only additionalProperties).
const DICTIONARY_ENTRY_COUNT = 2;

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
