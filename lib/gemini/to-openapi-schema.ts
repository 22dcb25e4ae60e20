import { isRecord } from '../../schemas/is-record.ts';
import { ChargenError } from '../errors.ts';

/**
 * Converts the JSON Schema that zod 4's `z.toJSONSchema` writes into Gemini's OpenAPI-subset `responseSchema`:
 * uppercase types, `nullable` instead of a null type, `propertyOrdering` from the declared order, and only the
 * fields the Schema message has (the API rejects any other field by name). `$ref`s are inlined.
 */
const keptFields = new Set(['format', 'title', 'description', 'enum', 'maxItems', 'minItems', 'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum']);

/** A schema chargen wrote that has no form in Gemini's Schema message: chargen's own mistake, never the user's. */
export class SchemaConversionError extends ChargenError {
  constructor(message: string) {
    super({ code: 'schema-conversion-failed', message });
  }
}

function resolveReference(root: Record<string, unknown>, reference: string): unknown {
  if (!reference.startsWith('#/')) throw new SchemaConversionError(`unsupported $ref ${reference}`);
  let node: unknown = root;
  for (const segment of reference.slice(2).split('/')) {
    node = isRecord(node) ? node[segment.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  if (node === undefined) throw new SchemaConversionError(`$ref ${reference} points nowhere`);
  return node;
}

function convertNode(node: unknown, root: Record<string, unknown>, depth: number): Record<string, unknown> {
  if (depth > 32) throw new SchemaConversionError('the schema nests too deeply (recursive $ref?)');
  if (!isRecord(node)) throw new SchemaConversionError(`expected a schema object, got ${JSON.stringify(node)}`);
  if (typeof node['$ref'] === 'string') return convertNode(resolveReference(root, node['$ref']), root, depth + 1);

  const variants = (node['anyOf'] ?? node['oneOf']) as unknown;
  if (Array.isArray(variants)) {
    const nonNull = variants.filter((variant) => !(isRecord(variant) && variant['type'] === 'null'));
    const nullable = nonNull.length < variants.length;
    if (nonNull.length === 1) {
      const single = convertNode(nonNull[0], root, depth + 1);
      return { ...single, ...(typeof node['description'] === 'string' ? { description: node['description'] } : {}), ...(nullable ? { nullable: true } : {}) };
    }
    return { anyOf: nonNull.map((variant) => convertNode(variant, root, depth + 1)), ...(nullable ? { nullable: true } : {}) };
  }

  const output: Record<string, unknown> = {};
  let type = node['type'];
  if (Array.isArray(type)) {
    const nonNull = type.filter((entry) => entry !== 'null');
    if (nonNull.length !== 1) throw new SchemaConversionError(`a type list ${JSON.stringify(type)} has no OpenAPI form`);
    if (nonNull.length < type.length) output['nullable'] = true;
    type = nonNull[0];
  }
  if (node['const'] !== undefined) {
    output['type'] = 'STRING';
    output['enum'] = [String(node['const'])];
  } else if (typeof type === 'string') {
    output['type'] = type.toUpperCase();
  } else if (Array.isArray(node['enum'])) {
    output['type'] = 'STRING';
  }
  for (const [field, value] of Object.entries(node)) {
    if (keptFields.has(field)) output[field] = value;
  }
  if (typeof node['exclusiveMinimum'] === 'number') output['minimum'] = node['exclusiveMinimum'];
  if (typeof node['exclusiveMaximum'] === 'number') output['maximum'] = node['exclusiveMaximum'];
  if (Array.isArray(output['enum'])) {
    output['enum'] = (output['enum'] as unknown[]).map(String);
    output['format'] = 'enum';
  }
  if (isRecord(node['properties'])) {
    const properties: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(node['properties'])) properties[name] = convertNode(child, root, depth + 1);
    output['properties'] = properties;
    output['propertyOrdering'] = Object.keys(properties);
  }
  if (node['items'] !== undefined) output['items'] = convertNode(node['items'], root, depth + 1);
  return output;
}

export function toOpenApiSchema(jsonSchema: Record<string, unknown>): Record<string, unknown> {
  return convertNode(jsonSchema, jsonSchema, 0);
}
