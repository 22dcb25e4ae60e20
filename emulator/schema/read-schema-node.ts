import { JSON_SCHEMA_TYPE_NAMES } from './check-json-schema.ts';
import type { SchemaKind } from './check-response-schema.ts';
import { isJsonRecord, type JsonRecord } from './json-record.ts';

/** Reads a schema node in either dialect (OpenAPI-style or JSON Schema) for the answer generator. */

export type JsonTypeName = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null';

/** Reads `type` in either dialect: lower-cased, arrays allowed, `nullable` folded in. */
export function readTypeNames(node: JsonRecord): JsonTypeName[] {
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

export function inferType(node: JsonRecord): JsonTypeName {
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

export function readBranches(options: { node: JsonRecord; kind: SchemaKind }): unknown[] {
  const anyOf = Array.isArray(options.node['anyOf']) ? options.node['anyOf'] : [];
  const oneOf =
    options.kind === 'json-schema' && Array.isArray(options.node['oneOf']) ? options.node['oneOf'] : [];
  return [...anyOf, ...oneOf];
}

export function isNullOnlySchema(options: { node: unknown; kind: SchemaKind }): boolean {
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

export function buildStubValue(options: { node: unknown; kind: SchemaKind }): unknown {
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

export function readCount(value: unknown): number | undefined {
  // Schema proto int64 fields arrive as JSON strings or numbers.
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 ? number : undefined;
}

export function readNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

export function readStringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}
