import { isJsonRecord, type JsonRecord } from './json-record.ts';

/** How the real API parses and then checks a `responseSchema` (the OpenAPI-style Schema proto); its messages as recorded. */

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

export function findOpenApiProblem(schema: unknown): string | undefined {
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
