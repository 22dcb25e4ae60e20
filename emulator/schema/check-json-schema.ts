import { compilePattern } from './generate-pattern-string.ts';
import { isJsonRecord, type JsonRecord } from './json-record.ts';
import { resolveJsonSchemaReference } from './resolve-json-schema-reference.ts';

/** How the emulator checks a `responseJsonSchema`: the keywords Gemini documents and those zod writes, each of the right kind. */

/** Keywords Gemini documents for responseJsonSchema. */
const DOCUMENTED_JSON_SCHEMA_KEYWORDS = [
  '$id',
  '$defs',
  '$ref',
  '$anchor',
  'type',
  'format',
  'title',
  'description',
  'enum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'anyOf',
  'oneOf',
  'properties',
  'additionalProperties',
  'required',
  'propertyOrdering',
] as const;

/**
 * Keywords that are annotations or simple bounds the generator honours; they
 * appear in `z.toJSONSchema` output, so refusing them would refuse ordinary
 * zod schemas. `definitions` is the pre-2019 spelling of `$defs`.
 */
const TOLERATED_JSON_SCHEMA_KEYWORDS = [
  '$schema',
  '$comment',
  'definitions',
  'default',
  'examples',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'minProperties',
  'maxProperties',
  'nullable',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'uniqueItems',
  'deprecated',
  'readOnly',
  'writeOnly',
] as const;

export const JSON_SCHEMA_KEYWORDS: ReadonlySet<string> = new Set<string>([
  ...DOCUMENTED_JSON_SCHEMA_KEYWORDS,
  ...TOLERATED_JSON_SCHEMA_KEYWORDS,
]);

export const JSON_SCHEMA_TYPE_NAMES: ReadonlySet<string> = new Set([
  'string',
  'number',
  'integer',
  'boolean',
  'array',
  'object',
  'null',
]);

const JSON_SCHEMA_CHILD_KEYWORDS: ReadonlySet<string> = new Set(['items', 'additionalProperties']);
const JSON_SCHEMA_CHILD_LIST_KEYWORDS: ReadonlySet<string> = new Set(['prefixItems', 'anyOf', 'oneOf']);
const JSON_SCHEMA_CHILD_MAP_KEYWORDS: ReadonlySet<string> = new Set(['properties', '$defs', 'definitions']);
const JSON_SCHEMA_COUNT_KEYWORDS: ReadonlySet<string> = new Set([
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
]);
const JSON_SCHEMA_NUMBER_KEYWORDS: ReadonlySet<string> = new Set([
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
]);
const JSON_SCHEMA_STRING_KEYWORDS: ReadonlySet<string> = new Set([
  '$id',
  '$anchor',
  '$ref',
  '$schema',
  '$comment',
  'format',
  'title',
  'description',
  'pattern',
]);
const JSON_SCHEMA_BOOLEAN_KEYWORDS: ReadonlySet<string> = new Set([
  'nullable',
  'uniqueItems',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const JSON_SCHEMA_STRING_LIST_KEYWORDS: ReadonlySet<string> = new Set(['required', 'propertyOrdering']);

export function findJsonSchemaProblem(schema: unknown): string | undefined {
  if (!isJsonRecord(schema)) {
    return `Invalid JSON payload received. response_json_schema must be a JSON object, got ${JSON.stringify(schema) ?? 'undefined'}.`;
  }
  return findJsonSchemaNodeProblem({ node: schema, pointer: '#', root: schema });
}

function findJsonSchemaNodeProblem(options: { node: JsonRecord; pointer: string; root: JsonRecord }): string | undefined {
  const { node, pointer, root } = options;
  for (const [key, value] of Object.entries(node)) {
    const keyPointer = `${pointer}/${escapePointerSegment(key)}`;
    if (!JSON_SCHEMA_KEYWORDS.has(key)) {
      return `Invalid JSON payload received. Unknown or unsupported keyword "${key}" in response_json_schema at ${pointer}.`;
    }
    const problem = findJsonSchemaKeywordProblem({ key, value, pointer: keyPointer, root });
    if (problem !== undefined) {
      return problem;
    }
  }
  return undefined;
}

function findJsonSchemaKeywordProblem(options: {
  key: string;
  value: unknown;
  pointer: string;
  root: JsonRecord;
}): string | undefined {
  const { key, value, pointer, root } = options;
  const invalid = `Invalid JSON payload received. Invalid value for "${key}" in response_json_schema at ${pointer}.`;
  if (key === 'type') {
    const names = Array.isArray(value) ? value : [value];
    const isValid =
      names.length > 0 && names.every((name) => typeof name === 'string' && JSON_SCHEMA_TYPE_NAMES.has(name));
    return isValid ? undefined : invalid;
  }
  if (JSON_SCHEMA_STRING_KEYWORDS.has(key) && typeof value !== 'string') {
    return invalid;
  }
  if (key === 'pattern' && typeof value === 'string' && compilePattern(value) === undefined) {
    return `Invalid JSON payload received. Invalid regular expression "${value}" in response_json_schema at ${pointer}.`;
  }
  if (key === '$ref' && typeof value === 'string' && resolveJsonSchemaReference({ root, reference: value }) === undefined) {
    return `Invalid JSON payload received. Unresolvable $ref "${value}" in response_json_schema at ${pointer}.`;
  }
  if (JSON_SCHEMA_BOOLEAN_KEYWORDS.has(key) && typeof value !== 'boolean') {
    return invalid;
  }
  if (JSON_SCHEMA_COUNT_KEYWORDS.has(key) && !(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
    return invalid;
  }
  if (JSON_SCHEMA_NUMBER_KEYWORDS.has(key) && typeof value !== 'number') {
    return invalid;
  }
  if (JSON_SCHEMA_STRING_LIST_KEYWORDS.has(key)) {
    return Array.isArray(value) && value.every((entry) => typeof entry === 'string') ? undefined : invalid;
  }
  if (key === 'enum' || key === 'examples') {
    return Array.isArray(value) ? undefined : invalid;
  }
  return findJsonSchemaChildProblem({ key, value, pointer, root, invalid });
}

/** Keywords whose value is a subschema, a list of them, or a map of names to them. */
function findJsonSchemaChildProblem(options: {
  key: string;
  value: unknown;
  pointer: string;
  root: JsonRecord;
  invalid: string;
}): string | undefined {
  const { key, value, pointer, root, invalid } = options;
  if (JSON_SCHEMA_CHILD_KEYWORDS.has(key)) {
    // Boolean schemas only make sense where they allow or forbid extra entries.
    if (typeof value === 'boolean') {
      return undefined;
    }
    return isJsonRecord(value) ? findJsonSchemaNodeProblem({ node: value, pointer, root }) : invalid;
  }
  if (JSON_SCHEMA_CHILD_LIST_KEYWORDS.has(key)) {
    if (!Array.isArray(value) || value.length === 0) {
      return invalid;
    }
    for (const [index, child] of value.entries()) {
      const childPointer = `${pointer}/${index}`;
      const problem = isJsonRecord(child)
        ? findJsonSchemaNodeProblem({ node: child, pointer: childPointer, root })
        : `Invalid JSON payload received. Invalid value for "${key}" in response_json_schema at ${childPointer}.`;
      if (problem !== undefined) {
        return problem;
      }
    }
    return undefined;
  }
  if (JSON_SCHEMA_CHILD_MAP_KEYWORDS.has(key)) {
    if (!isJsonRecord(value)) {
      return invalid;
    }
    // Keys of these maps are property or definition names, never keywords.
    for (const [name, child] of Object.entries(value)) {
      const childPointer = `${pointer}/${escapePointerSegment(name)}`;
      const problem = isJsonRecord(child)
        ? findJsonSchemaNodeProblem({ node: child, pointer: childPointer, root })
        : `Invalid JSON payload received. Invalid value for "${key}" in response_json_schema at ${childPointer}.`;
      if (problem !== undefined) {
        return problem;
      }
    }
  }
  return undefined;
}

function escapePointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
