import { compilePattern } from './generate-pattern-string.ts';

export type SchemaKind = 'openapi' | 'json-schema';
export type SchemaCheck = { ok: true } | { ok: false; message: string };

type JsonRecord = Record<string, unknown>;

/** Fields of google.ai.generativelanguage.v1beta.Schema, as camelCase JSON names. */
export const OPENAPI_SCHEMA_FIELDS: ReadonlySet<string> = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

/**
 * Names of the Schema.Type enum. Proto-JSON parses enum names case-sensitively, and public reports show the real
 * API rejecting `"string"`; the SDK upper-cases types itself, so only hand-written requests (JSONL lines) meet this.
 */
export const OPENAPI_TYPE_NAMES: ReadonlySet<string> = new Set([
  'TYPE_UNSPECIFIED',
  'STRING',
  'NUMBER',
  'INTEGER',
  'BOOLEAN',
  'ARRAY',
  'OBJECT',
  'NULL',
]);

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

const SCHEMA_PROTO_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1beta.Schema';
const TYPE_ENUM_PROTO_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1beta.Type';
const OPENAPI_PARSE_ROOT = 'generation_config.response_schema';
const OPENAPI_FIELD_ROOT = 'GenerateContentRequest.generation_config.response_schema';

const OPENAPI_STRING_FIELDS: ReadonlySet<string> = new Set(['format', 'title', 'description', 'pattern']);
const OPENAPI_INT64_FIELDS: ReadonlySet<string> = new Set([
  'maxItems',
  'minItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
]);
const OPENAPI_DOUBLE_FIELDS: ReadonlySet<string> = new Set(['minimum', 'maximum']);
const OPENAPI_STRING_LIST_FIELDS: ReadonlySet<string> = new Set(['enum', 'required', 'propertyOrdering']);

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

/** Validates a response schema the way the Gemini API does before generating. */
export function checkResponseSchema(options: { schema: unknown; kind: SchemaKind }): SchemaCheck {
  const problem =
    options.kind === 'openapi' ? findOpenApiProblem(options.schema) : findJsonSchemaProblem(options.schema);
  return problem === undefined ? { ok: true } : { ok: false, message: problem };
}

export function isJsonRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function findOpenApiProblem(schema: unknown): string | undefined {
  if (Array.isArray(schema)) {
    return `Invalid JSON payload received. Unknown name "response_schema" at 'generation_config': Proto field is not repeating, cannot start list.`;
  }
  if (!isJsonRecord(schema)) {
    return describeInvalidValue({ path: OPENAPI_PARSE_ROOT, protoType: SCHEMA_PROTO_TYPE, value: schema });
  }
  // Proto parsing fails before any semantic validation runs, as in the real API.
  return (
    findOpenApiParseProblem({ node: schema, path: OPENAPI_PARSE_ROOT }) ??
    findOpenApiSemanticProblem({ node: schema, path: OPENAPI_FIELD_ROOT })
  );
}

function findOpenApiParseProblem(options: { node: JsonRecord; path: string }): string | undefined {
  const { node, path } = options;
  for (const [key, value] of Object.entries(node)) {
    if (!OPENAPI_SCHEMA_FIELDS.has(key)) {
      return `Invalid JSON payload received. Unknown name "${key}" at '${path}': Cannot find field.`;
    }
    const fieldPath = `${path}.${convertToSnakeCase(key)}`;
    const problem = findOpenApiFieldProblem({ key, value, path, fieldPath });
    if (problem !== undefined) {
      return problem;
    }
  }
  return undefined;
}

function findOpenApiFieldProblem(options: {
  key: string;
  value: unknown;
  path: string;
  fieldPath: string;
}): string | undefined {
  const { key, value, path, fieldPath } = options;
  if (value === null) {
    // Proto JSON treats null as "field absent".
    return undefined;
  }
  const isRepeated = OPENAPI_STRING_LIST_FIELDS.has(key) || key === 'anyOf';
  if (Array.isArray(value) && !isRepeated && key !== 'example' && key !== 'default') {
    return `Invalid JSON payload received. Unknown name "${key}" at '${path}': Proto field is not repeating, cannot start list.`;
  }
  if (key === 'type') {
    const isKnown = typeof value === 'string' && OPENAPI_TYPE_NAMES.has(value);
    return isKnown ? undefined : describeInvalidValue({ path: fieldPath, protoType: TYPE_ENUM_PROTO_TYPE, value });
  }
  if (OPENAPI_STRING_FIELDS.has(key)) {
    return typeof value === 'string' ? undefined : describeInvalidValue({ path: fieldPath, protoType: 'TYPE_STRING', value });
  }
  if (key === 'nullable') {
    return typeof value === 'boolean' ? undefined : describeInvalidValue({ path: fieldPath, protoType: 'TYPE_BOOL', value });
  }
  if (OPENAPI_INT64_FIELDS.has(key)) {
    return isInt64Json(value) ? undefined : describeInvalidValue({ path: fieldPath, protoType: 'TYPE_INT64', value });
  }
  if (OPENAPI_DOUBLE_FIELDS.has(key)) {
    return isDoubleJson(value) ? undefined : describeInvalidValue({ path: fieldPath, protoType: 'TYPE_DOUBLE', value });
  }
  if (OPENAPI_STRING_LIST_FIELDS.has(key)) {
    return findStringListProblem({ value, path: fieldPath });
  }
  if (key === 'properties') {
    return findOpenApiPropertiesProblem({ value, path: fieldPath });
  }
  if (key === 'items') {
    return isJsonRecord(value)
      ? findOpenApiParseProblem({ node: value, path: fieldPath })
      : describeInvalidValue({ path: fieldPath, protoType: SCHEMA_PROTO_TYPE, value });
  }
  if (key === 'anyOf') {
    const branches = Array.isArray(value) ? value : [value];
    for (const [index, branch] of branches.entries()) {
      const problem = findChildSchemaProblem({ node: branch, path: `${fieldPath}[${index}]` });
      if (problem !== undefined) {
        return problem;
      }
    }
  }
  // `example` and `default` are google.protobuf.Value: anything goes.
  return undefined;
}

function findChildSchemaProblem(options: { node: unknown; path: string }): string | undefined {
  return isJsonRecord(options.node)
    ? findOpenApiParseProblem({ node: options.node, path: options.path })
    : describeInvalidValue({ path: options.path, protoType: SCHEMA_PROTO_TYPE, value: options.node });
}

function findOpenApiPropertiesProblem(options: { value: unknown; path: string }): string | undefined {
  if (!isJsonRecord(options.value)) {
    return describeInvalidValue({ path: options.path, protoType: SCHEMA_PROTO_TYPE, value: options.value });
  }
  // Map entries are addressed by position, the way the real parser reports them.
  for (const [index, [, child]] of Object.entries(options.value).entries()) {
    const problem = findChildSchemaProblem({ node: child, path: `${options.path}[${index}].value` });
    if (problem !== undefined) {
      return problem;
    }
  }
  return undefined;
}

function findStringListProblem(options: { value: unknown; path: string }): string | undefined {
  const entries = Array.isArray(options.value) ? options.value : [options.value];
  for (const [index, entry] of entries.entries()) {
    if (typeof entry !== 'string') {
      return describeInvalidValue({ path: `${options.path}[${index}]`, protoType: 'TYPE_STRING', value: entry });
    }
  }
  return undefined;
}

/** Checks the rules the API enforces after parsing; only runs on a parsed tree. */
function findOpenApiSemanticProblem(options: { node: JsonRecord; path: string }): string | undefined {
  const { node, path } = options;
  const type = typeof node['type'] === 'string' ? node['type'].toUpperCase() : undefined;
  const properties = isJsonRecord(node['properties']) ? node['properties'] : {};
  const propertyNames = Object.keys(properties);
  if (type === 'OBJECT' && propertyNames.length === 0) {
    return `* ${path}.properties: should be non-empty for OBJECT type`;
  }
  if (type === 'ARRAY' && !isJsonRecord(node['items'])) {
    return `* ${path}.items: missing field.`;
  }
  if (Array.isArray(node['enum']) && type !== undefined && type !== 'STRING') {
    return `* ${path}.enum: only allowed for STRING type`;
  }
  if (Array.isArray(node['required'])) {
    for (const [index, name] of node['required'].entries()) {
      if (typeof name === 'string' && !Object.hasOwn(properties, name)) {
        return `* ${path}.required[${index}]: property is not defined`;
      }
    }
  }
  for (const [name, child] of Object.entries(properties)) {
    const problem = isJsonRecord(child)
      ? findOpenApiSemanticProblem({ node: child, path: `${path}.properties[${name}]` })
      : undefined;
    if (problem !== undefined) {
      return problem;
    }
  }
  const items = node['items'];
  if (isJsonRecord(items)) {
    const problem = findOpenApiSemanticProblem({ node: items, path: `${path}.items` });
    if (problem !== undefined) {
      return problem;
    }
  }
  const branches = Array.isArray(node['anyOf']) ? node['anyOf'] : [];
  for (const [index, branch] of branches.entries()) {
    const problem = isJsonRecord(branch)
      ? findOpenApiSemanticProblem({ node: branch, path: `${path}.any_of[${index}]` })
      : undefined;
    if (problem !== undefined) {
      return problem;
    }
  }
  return undefined;
}

function findJsonSchemaProblem(schema: unknown): string | undefined {
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

/**
 * Resolves `#`, `#/json/pointer`, `#anchor` and `$id` references inside one
 * document; remote references are not fetched, so they stay unresolved.
 */
export function resolveJsonSchemaReference(options: { root: JsonRecord; reference: string }): unknown {
  const rootId = typeof options.root['$id'] === 'string' ? options.root['$id'] : undefined;
  const reference =
    rootId !== undefined && rootId !== '' && options.reference.startsWith(rootId)
      ? options.reference.slice(rootId.length)
      : options.reference;
  if (reference === '' || reference === '#') {
    return options.root;
  }
  if (reference.startsWith('#/')) {
    return followJsonPointer({ root: options.root, pointer: reference.slice(1) });
  }
  if (reference.startsWith('#')) {
    return findSubschema({ node: options.root, matches: (node) => node['$anchor'] === reference.slice(1) });
  }
  return findSubschema({ node: options.root, matches: (node) => node['$id'] === reference });
}

function followJsonPointer(options: { root: unknown; pointer: string }): unknown {
  let current: unknown = options.root;
  for (const rawSegment of options.pointer.split('/').slice(1)) {
    const segment = decodeURIComponent(rawSegment).replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) {
      current = /^\d+$/.test(segment) ? current[Number(segment)] : undefined;
    } else if (isJsonRecord(current) && Object.hasOwn(current, segment)) {
      current = current[segment];
    } else {
      return undefined;
    }
    if (current === undefined) {
      return undefined;
    }
  }
  return current;
}

function findSubschema(options: { node: unknown; matches: (node: JsonRecord) => boolean }): JsonRecord | undefined {
  const { node, matches } = options;
  if (Array.isArray(node)) {
    for (const entry of node) {
      const found = findSubschema({ node: entry, matches });
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  }
  if (!isJsonRecord(node)) {
    return undefined;
  }
  if (matches(node)) {
    return node;
  }
  for (const [key, value] of Object.entries(node)) {
    // `enum`, `const`, `default` and `examples` hold data that may look like schemas.
    if (key === 'enum' || key === 'const' || key === 'default' || key === 'examples') {
      continue;
    }
    const found = findSubschema({ node: value, matches });
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

function describeInvalidValue(options: { path: string; protoType: string; value: unknown }): string {
  return `Invalid value at '${options.path}' (${options.protoType}), ${JSON.stringify(options.value) ?? 'undefined'}`;
}

function isInt64Json(value: unknown): boolean {
  return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));
}

function isDoubleJson(value: unknown): boolean {
  return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)));
}

function convertToSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

function escapePointerSegment(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
