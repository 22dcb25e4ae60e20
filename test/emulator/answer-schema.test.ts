import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { checkResponseSchema, generateSchemaValue } from '../../emulator/schema/answer-schema.ts';
import type { SchemaKind } from '../../emulator/schema/answer-schema.ts';

type JsonRecord = Record<string, unknown>;

const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
const SEEDS = Array.from({ length: 50 }, (_, index) => `image-hash-${index}`);

const characterAnalysisSchema = z.object({
  archetype: z.string().describe('Narrative archetype the character fits'),
  species: z.string(),
  apparent_age: z.int().min(0).max(120),
  visual_traits: z.array(z.string()).min(1),
  clothing: z.string(),
  notable_features: z.array(z.string()),
  colour_palette: z.array(z.string().regex(HEX_COLOUR)).min(3).max(5),
  mood: z.enum(['calm', 'angry', 'joyful', 'melancholic', 'determined']),
  lighting: z.string(),
  background: z.string(),
  art_style: z.string(),
  pose: z.string(),
  accessories: z
    .object({
      headwear: z.string().nullable(),
      held_item: z.string().optional(),
    })
    .optional(),
  signature_weapon: z.string().nullable(),
  confidence: z.number().min(0).max(1),
});

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Test-only conversion from zod's JSON Schema to Gemini's Schema proto subset,
 * mirroring what a client has to do before sending `responseSchema`.
 */
function convertToOpenApiSchema(schema: unknown): unknown {
  if (!isRecord(schema)) {
    return schema;
  }
  let node: JsonRecord = { ...schema };
  let nullable = false;
  if (Array.isArray(node['anyOf'])) {
    const branches = node['anyOf'].filter((branch) => !(isRecord(branch) && branch['type'] === 'null'));
    nullable = branches.length < node['anyOf'].length;
    const { anyOf: _anyOf, ...rest } = node;
    const [onlyBranch] = branches;
    node = branches.length === 1 && isRecord(onlyBranch) ? { ...rest, ...onlyBranch } : { ...rest, anyOf: branches };
  }
  if (Array.isArray(node['type'])) {
    const types = node['type'].filter((type) => type !== 'null');
    nullable = nullable || types.length < node['type'].length;
    const { type: _type, ...rest } = node;
    node = types.length === 1 ? { ...rest, type: types[0] } : { ...rest, anyOf: types.map((type) => ({ type })) };
  }
  const converted: JsonRecord = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'additionalProperties' || key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      continue;
    }
    if (key === 'type' && typeof value === 'string') {
      converted['type'] = value.toUpperCase();
    } else if (key === 'const') {
      converted['enum'] = [value];
    } else if (key === 'properties' && isRecord(value)) {
      converted['properties'] = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [name, convertToOpenApiSchema(child)]),
      );
      converted['propertyOrdering'] = Object.keys(value);
    } else if (key === 'items') {
      converted['items'] = convertToOpenApiSchema(value);
    } else if (key === 'anyOf' && Array.isArray(value)) {
      converted['anyOf'] = value.map((branch) => convertToOpenApiSchema(branch));
    } else {
      converted[key] = value;
    }
  }
  if (nullable) {
    converted['nullable'] = true;
  }
  return converted;
}

function generateText(options: { schema: unknown; kind: SchemaKind; seed: string }): string {
  return JSON.stringify(generateSchemaValue(options));
}

function expectRejected(options: { schema: unknown; kind: SchemaKind }): string {
  const check = checkResponseSchema(options);
  if (check.ok) {
    throw new Error(`expected rejection of ${JSON.stringify(options.schema)}`);
  }
  return check.message;
}

const characterJsonSchema = z.toJSONSchema(characterAnalysisSchema);
const characterOpenApiSchema = convertToOpenApiSchema(characterJsonSchema);

describe('character analysis schema', () => {
  const variants: Array<{ kind: SchemaKind; schema: unknown }> = [
    { kind: 'json-schema', schema: characterJsonSchema },
    { kind: 'openapi', schema: characterOpenApiSchema },
  ];

  for (const { kind, schema } of variants) {
    describe(kind, () => {
      it('passes the check', () => {
        expect(checkResponseSchema({ schema, kind })).toEqual({ ok: true });
      });

      it('generates values the zod schema accepts for 50 seeds', () => {
        for (const seed of SEEDS) {
          const value = generateSchemaValue({ schema, kind, seed });
          const parsed = characterAnalysisSchema.safeParse(value);
          expect(parsed.error?.issues, `seed ${seed}`).toBeUndefined();
        }
      });

      it('fills optional and nullable fields with informative values', () => {
        for (const seed of SEEDS) {
          const value = characterAnalysisSchema.parse(generateSchemaValue({ schema, kind, seed }));
          expect(value.accessories).toBeDefined();
          expect(value.accessories?.headwear).not.toBeNull();
          expect(value.accessories?.held_item).toBeTypeOf('string');
          expect(value.signature_weapon).not.toBeNull();
        }
      });

      it('picks plausible values from the property names', () => {
        for (const seed of SEEDS) {
          const value = characterAnalysisSchema.parse(generateSchemaValue({ schema, kind, seed }));
          expect(value.apparent_age).toBeGreaterThanOrEqual(16);
          expect(value.apparent_age).toBeLessThanOrEqual(70);
          expect(value.colour_palette.every((colour) => HEX_COLOUR.test(colour))).toBe(true);
          expect(new Set(value.colour_palette).size).toBe(value.colour_palette.length);
          expect(value.species).not.toBe(value.archetype);
          expect(value.species.length).toBeGreaterThan(0);
        }
      });

      it('is deterministic per seed and varies across seeds', () => {
        const texts = SEEDS.map((seed) => generateText({ schema, kind, seed }));
        expect(SEEDS.map((seed) => generateText({ schema, kind, seed }))).toEqual(texts);
        expect(new Set(texts).size).toBe(SEEDS.length);
      });

      it('keeps the declared property order', () => {
        const value = generateSchemaValue({ schema, kind, seed: 'order' });
        expect(Object.keys(value as JsonRecord)).toEqual(Object.keys(characterAnalysisSchema.shape));
      });
    });
  }
});

describe('generateSchemaValue', () => {
  it('follows propertyOrdering rather than declaration order', () => {
    const schema = {
      type: 'OBJECT',
      properties: { alpha: { type: 'STRING' }, beta: { type: 'INTEGER' }, gamma: { type: 'BOOLEAN' } },
      propertyOrdering: ['gamma', 'alpha', 'beta'],
    };
    expect(checkResponseSchema({ schema, kind: 'openapi' })).toEqual({ ok: true });
    const value = generateSchemaValue({ schema, kind: 'openapi', seed: 'ordering' });
    expect(Object.keys(value as JsonRecord)).toEqual(['gamma', 'alpha', 'beta']);
    expect(generateText({ schema, kind: 'openapi', seed: 'ordering' }).indexOf('"gamma"')).toBe(1);
  });

  it('honours enum, numeric bounds, lengths and item counts', () => {
    const schema = {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['draft', 'final'] },
        small_integer: { type: 'integer', minimum: 5, maximum: 7 },
        open_interval: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 0.05 },
        far_integer: { type: 'integer', minimum: 1000 },
        negative_number: { type: 'number', maximum: -50 },
        exact_items: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 },
        single_item: { type: 'array', items: { type: 'string' }, maxItems: 1 },
        many_items: { type: 'array', items: { type: 'integer' }, minItems: 6 },
        bounded_text: { type: 'string', minLength: 30, maxLength: 32 },
        short_text: { type: 'string', maxLength: 4 },
      },
      required: ['status'],
      additionalProperties: false,
    };
    expect(checkResponseSchema({ schema, kind: 'json-schema' })).toEqual({ ok: true });
    const statuses = new Set<unknown>();
    for (const seed of SEEDS) {
      const value = generateSchemaValue({ schema, kind: 'json-schema', seed }) as JsonRecord;
      expect(Object.keys(value)).toEqual(Object.keys(schema.properties));
      statuses.add(value['status']);
      expect(['draft', 'final']).toContain(value['status']);
      expect([5, 6, 7]).toContain(value['small_integer']);
      expect(value['open_interval']).toBeGreaterThan(0);
      expect(value['open_interval']).toBeLessThan(0.05);
      expect(Number.isInteger(value['far_integer'])).toBe(true);
      expect(value['far_integer']).toBeGreaterThanOrEqual(1000);
      expect(value['negative_number']).toBeLessThanOrEqual(-50);
      expect(value['exact_items']).toHaveLength(3);
      expect(value['single_item']).toHaveLength(1);
      expect((value['many_items'] as unknown[]).length).toBeGreaterThanOrEqual(6);
      const boundedText = value['bounded_text'] as string;
      expect(boundedText.length).toBeGreaterThanOrEqual(30);
      expect(boundedText.length).toBeLessThanOrEqual(32);
      expect((value['short_text'] as string).length).toBeLessThanOrEqual(4);
    }
    expect(statuses.size).toBe(2);
  });

  it('uses two to four items for unbounded arrays, with distinct elements', () => {
    const schema = { type: 'ARRAY', items: { type: 'STRING' } };
    const lengths = new Set<number>();
    for (const seed of SEEDS) {
      const value = generateSchemaValue({ schema, kind: 'openapi', seed }) as string[];
      lengths.add(value.length);
      expect(new Set(value).size).toBe(value.length);
    }
    expect([...lengths].sort()).toEqual([2, 3, 4]);
  });

  it('keeps uniqueItems arrays unique even with a tiny enum', () => {
    const schema = {
      type: 'array',
      items: { type: 'string', enum: ['red', 'green', 'blue'] },
      minItems: 3,
      maxItems: 3,
      uniqueItems: true,
    };
    for (const seed of SEEDS) {
      const value = generateSchemaValue({ schema, kind: 'json-schema', seed }) as string[];
      expect([...value].sort()).toEqual(['blue', 'green', 'red']);
    }
  });

  it('honours prefixItems and items: false', () => {
    const tuple = z.tuple([z.string(), z.int().min(1).max(3), z.boolean()]);
    const schema = z.toJSONSchema(tuple);
    expect(checkResponseSchema({ schema, kind: 'json-schema' })).toEqual({ ok: true });
    for (const seed of SEEDS.slice(0, 10)) {
      expect(tuple.safeParse(generateSchemaValue({ schema, kind: 'json-schema', seed })).success).toBe(true);
    }
  });

  it('satisfies string patterns, formats and const', () => {
    const schema = z.object({
      code: z.string().regex(/^[A-Z]{3}-\d{4}$/),
      prefixed: z.string().startsWith('chr_'),
      created_at: z.iso.datetime(),
      birthday: z.iso.date(),
      contact: z.email(),
      identifier: z.uuid(),
      homepage: z.url(),
      kind: z.literal('portrait'),
    });
    const jsonSchema = z.toJSONSchema(schema);
    expect(checkResponseSchema({ schema: jsonSchema, kind: 'json-schema' })).toEqual({ ok: true });
    for (const seed of SEEDS) {
      const parsed = schema.safeParse(generateSchemaValue({ schema: jsonSchema, kind: 'json-schema', seed }));
      expect(parsed.error?.issues, `seed ${seed}`).toBeUndefined();
    }
  });

  it('never answers null when a non-null choice exists', () => {
    const schema = {
      type: 'object',
      properties: {
        type_list: { type: ['null', 'string'] },
        any_of: { anyOf: [{ type: 'null' }, { type: 'integer' }, { type: 'boolean' }] },
        one_of: { oneOf: [{ type: 'null' }, { type: 'string', enum: ['left', 'right'] }] },
        enum_with_null: { enum: [null, 'on', 'off'] },
        nullable_flag: { type: 'string', nullable: true },
        only_null: { type: 'null' },
      },
    };
    const anyOfTypes = new Set<string>();
    for (const seed of SEEDS) {
      const value = generateSchemaValue({ schema, kind: 'json-schema', seed }) as JsonRecord;
      expect(value['type_list']).toBeTypeOf('string');
      expect(value['any_of']).not.toBeNull();
      anyOfTypes.add(typeof value['any_of']);
      expect(['left', 'right']).toContain(value['one_of']);
      expect(['on', 'off']).toContain(value['enum_with_null']);
      expect(value['nullable_flag']).toBeTypeOf('string');
      expect(value['only_null']).toBeNull();
    }
    expect([...anyOfTypes].sort()).toEqual(['boolean', 'number']);
  });

  it('resolves $ref into $defs and definitions', () => {
    const address = z.object({ street: z.string(), city: z.string() });
    const schema = z.object({ home: address, work: address });
    const jsonSchema = z.toJSONSchema(schema, { reused: 'ref' });
    expect(JSON.stringify(jsonSchema)).toContain('#/$defs/');
    expect(checkResponseSchema({ schema: jsonSchema, kind: 'json-schema' })).toEqual({ ok: true });
    expect(schema.safeParse(generateSchemaValue({ schema: jsonSchema, kind: 'json-schema', seed: 'refs' })).success).toBe(
      true,
    );

    const legacy = {
      type: 'object',
      properties: { shade: { $ref: '#/definitions/shade' }, tag: { $ref: '#tag' } },
      required: ['shade', 'tag'],
      definitions: {
        shade: { type: 'string', enum: ['light', 'dark'] },
        tag: { $anchor: 'tag', type: 'integer', minimum: 40, maximum: 42 },
      },
    };
    expect(checkResponseSchema({ schema: legacy, kind: 'json-schema' })).toEqual({ ok: true });
    const value = generateSchemaValue({ schema: legacy, kind: 'json-schema', seed: 'legacy' }) as JsonRecord;
    expect(['light', 'dark']).toContain(value['shade']);
    expect([40, 41, 42]).toContain(value['tag']);
    expect(Object.keys(value)).toEqual(['shade', 'tag']);
  });

  it('terminates on self-referential schemas', () => {
    type TreeNode = { name: string; children: TreeNode[] };
    const treeNode: z.ZodType<TreeNode> = z.object({
      name: z.string(),
      get children() {
        return z.array(treeNode);
      },
    });
    const treeSchema = z.toJSONSchema(treeNode);
    expect(JSON.stringify(treeSchema)).toContain('"$ref":"#"');
    expect(checkResponseSchema({ schema: treeSchema, kind: 'json-schema' })).toEqual({ ok: true });
    const tree = generateSchemaValue({ schema: treeSchema, kind: 'json-schema', seed: 'tree' });
    expect(treeNode.safeParse(tree).success).toBe(true);
    // The guard cuts recursion at nesting depth 8; an unguarded tree would overflow the stack.
    expect(measureDepth(tree)).toBeLessThanOrEqual(12);
    expect(measureDepth(tree)).toBeGreaterThan(2);

    const linked = {
      $defs: {
        link: {
          type: 'object',
          properties: { label: { type: 'string' }, next: { $ref: '#/$defs/link' } },
          required: ['label'],
        },
      },
      $ref: '#/$defs/link',
    };
    const chain = generateSchemaValue({ schema: linked, kind: 'json-schema', seed: 'chain' });
    expect(measureDepth(chain)).toBeLessThanOrEqual(12);
    expect(measureDepth(chain)).toBeGreaterThan(2);

    // Required recursion has no finite answer; generation must still stop.
    const endless = { type: 'object', properties: { again: { $ref: '#' } }, required: ['again'] };
    expect(() => generateSchemaValue({ schema: endless, kind: 'json-schema', seed: 'endless' })).not.toThrow();
  });

  it('builds dictionaries from additionalProperties and never adds keys when it is false', () => {
    const dictionary = { type: 'object', additionalProperties: { type: 'integer', minimum: 1, maximum: 9 } };
    const entries = Object.values(generateSchemaValue({ schema: dictionary, kind: 'json-schema', seed: 'map' }) as JsonRecord);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((entry) => typeof entry === 'number' && entry >= 1 && entry <= 9)).toBe(true);

    const closed = { type: 'object', properties: { only: { type: 'string' } }, additionalProperties: false, minProperties: 3 };
    expect(Object.keys(generateSchemaValue({ schema: closed, kind: 'json-schema', seed: 'closed' }) as JsonRecord)).toEqual([
      'only',
    ]);
  });

  it('reads int64 bounds sent as strings in the openapi dialect', () => {
    const schema = { type: 'ARRAY', items: { type: 'STRING' }, minItems: '5', maxItems: '5' };
    expect(checkResponseSchema({ schema, kind: 'openapi' })).toEqual({ ok: true });
    expect(generateSchemaValue({ schema, kind: 'openapi', seed: 'int64' })).toHaveLength(5);
  });
});

describe('checkResponseSchema (openapi)', () => {
  it('rejects additionalProperties with the proto parser wording', () => {
    const message = expectRejected({
      kind: 'openapi',
      schema: {
        type: 'OBJECT',
        properties: {
          first: { type: 'STRING' },
          nested: { type: 'OBJECT', properties: { inner: { type: 'STRING' } }, additionalProperties: false },
        },
      },
    });
    expect(message).toBe(
      `Invalid JSON payload received. Unknown name "additionalProperties" at 'generation_config.response_schema.properties[1].value': Cannot find field.`,
    );
  });

  it('rejects $ref', () => {
    const message = expectRejected({
      kind: 'openapi',
      schema: { type: 'ARRAY', items: { $ref: '#/$defs/item' } },
    });
    expect(message).toBe(
      `Invalid JSON payload received. Unknown name "$ref" at 'generation_config.response_schema.items': Cannot find field.`,
    );
  });

  it('rejects an unknown type name, and a lowercase one as proto enum parsing does', () => {
    const message = expectRejected({
      kind: 'openapi',
      schema: { type: 'OBJECT', properties: { name: { type: 'strng' } } },
    });
    expect(message).toBe(
      `Invalid value at 'generation_config.response_schema.properties[0].value.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "strng"`,
    );
    expect(
      checkResponseSchema({ kind: 'openapi', schema: { type: 'OBJECT', properties: { name: { type: 'string' } } } }),
    ).toEqual({
      ok: false,
      message: `Invalid value at 'generation_config.response_schema.properties[0].value.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "string"`,
    });
  });

  it('rejects a type list, which the proto field cannot hold', () => {
    expect(expectRejected({ kind: 'openapi', schema: { type: ['STRING', 'NULL'] } })).toContain(
      'Proto field is not repeating, cannot start list.',
    );
  });

  it('rejects required names that are not properties', () => {
    const message = expectRejected({
      kind: 'openapi',
      schema: {
        type: 'OBJECT',
        properties: { pet: { type: 'OBJECT', properties: { name: { type: 'STRING' } }, required: ['name', 'age'] } },
      },
    });
    expect(message).toBe(
      '* GenerateContentRequest.generation_config.response_schema.properties[pet].required[1]: property is not defined',
    );
  });

  it('rejects empty objects, arrays without items and enums on non-strings', () => {
    expect(expectRejected({ kind: 'openapi', schema: { type: 'OBJECT' } })).toContain(
      'properties: should be non-empty for OBJECT type',
    );
    expect(expectRejected({ kind: 'openapi', schema: { type: 'ARRAY' } })).toContain('items: missing field.');
    expect(expectRejected({ kind: 'openapi', schema: { type: 'INTEGER', enum: ['1'] } })).toContain(
      'enum: only allowed for STRING type',
    );
  });

  it('treats property names as data, not field names', () => {
    const schema = {
      type: 'OBJECT',
      properties: { additionalProperties: { type: 'STRING' }, $ref: { type: 'STRING' } },
      required: ['additionalProperties'],
    };
    expect(checkResponseSchema({ schema, kind: 'openapi' })).toEqual({ ok: true });
  });

  it('rejects a schema that is not an object', () => {
    expect(expectRejected({ kind: 'openapi', schema: 'STRING' })).toContain("Invalid value at 'generation_config.response_schema'");
  });
});

describe('checkResponseSchema (json-schema)', () => {
  const base = { type: 'object', properties: { name: { type: 'string' } } };

  it('rejects allOf, not and if with a JSON pointer', () => {
    expect(expectRejected({ kind: 'json-schema', schema: { ...base, allOf: [{ required: ['name'] }] } })).toBe(
      'Invalid JSON payload received. Unknown or unsupported keyword "allOf" in response_json_schema at #.',
    );
    expect(
      expectRejected({
        kind: 'json-schema',
        schema: { type: 'object', properties: { name: { type: 'string', not: { const: '' } } } },
      }),
    ).toBe('Invalid JSON payload received. Unknown or unsupported keyword "not" in response_json_schema at #/properties/name.');
    expect(
      expectRejected({
        kind: 'json-schema',
        schema: { ...base, if: { properties: { name: { const: 'x' } } }, then: { required: ['name'] } },
      }),
    ).toContain('"if"');
  });

  it('rejects unsupported keywords nested in $defs and array items', () => {
    expect(
      expectRejected({
        kind: 'json-schema',
        schema: { $defs: { tag: { type: 'string', contentEncoding: 'base64' } }, $ref: '#/$defs/tag' },
      }),
    ).toContain('"contentEncoding" in response_json_schema at #/$defs/tag.');
    expect(
      expectRejected({
        kind: 'json-schema',
        schema: { type: 'array', items: { type: 'array', contains: { type: 'string' } } },
      }),
    ).toContain('at #/items.');
  });

  it('accepts property names that look like keywords', () => {
    const schema = {
      type: 'object',
      properties: { allOf: { type: 'string' }, 'if/then': { type: 'boolean' } },
      $defs: { not: { type: 'string' } },
    };
    expect(checkResponseSchema({ schema, kind: 'json-schema' })).toEqual({ ok: true });
  });

  it('allows boolean schemas only under items and additionalProperties', () => {
    expect(expectRejected({ kind: 'json-schema', schema: true })).toContain('must be a JSON object');
    expect(expectRejected({ kind: 'json-schema', schema: { type: 'object', properties: { name: true } } })).toContain(
      '#/properties/name',
    );
    expect(
      checkResponseSchema({
        kind: 'json-schema',
        schema: { type: 'object', properties: { list: { type: 'array', items: true } }, additionalProperties: true },
      }),
    ).toEqual({ ok: true });
  });

  it('rejects unknown type names and unresolvable references', () => {
    expect(expectRejected({ kind: 'json-schema', schema: { type: 'strng' } })).toContain('"type"');
    expect(expectRejected({ kind: 'json-schema', schema: { ...base, properties: { x: { $ref: '#/$defs/missing' } } } })).toContain(
      'Unresolvable $ref "#/$defs/missing"',
    );
  });

  it('accepts what z.toJSONSchema emits for common zod types', () => {
    const common = {
      string: z.string(),
      number: z.number(),
      int: z.int(),
      positive: z.number().positive(),
      boolean: z.boolean(),
      enum: z.enum(['a', 'b']),
      array: z.array(z.string()).min(1).max(4),
      object: z.object({ inner: z.string() }),
      optional: z.object({ maybe: z.string().optional() }),
      nullable: z.string().nullable(),
      nullableObject: z.object({ inner: z.string() }).nullable(),
      literal: z.literal('fixed'),
      union: z.union([z.string(), z.int()]),
      discriminated: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('a') }),
        z.object({ kind: z.literal('b'), size: z.number() }),
      ]),
      tuple: z.tuple([z.string(), z.number()]),
      defaulted: z.string().default('x'),
      described: z.string().describe('a description'),
      email: z.email(),
      datetime: z.iso.datetime(),
      lengthBounded: z.string().min(2).max(8),
      regex: z.string().regex(/^[a-z]+$/),
    };
    for (const [label, type] of Object.entries(common)) {
      const schema = z.toJSONSchema(z.object({ value: type }));
      expect(checkResponseSchema({ schema, kind: 'json-schema' }), label).toEqual({ ok: true });
      const generated = generateSchemaValue({ schema, kind: 'json-schema', seed: label });
      expect(z.object({ value: type }).safeParse(generated).success, label).toBe(true);
    }
  });

  it('rejects the keywords some zod types emit that Gemini does not document', () => {
    // z.record emits propertyNames and .multipleOf emits multipleOf; neither is in Gemini's list.
    expect(
      expectRejected({ kind: 'json-schema', schema: z.toJSONSchema(z.record(z.string(), z.number())) }),
    ).toContain('"propertyNames"');
    expect(expectRejected({ kind: 'json-schema', schema: z.toJSONSchema(z.number().multipleOf(5)) })).toContain(
      '"multipleOf"',
    );
  });
});

function measureDepth(value: unknown): number {
  if (Array.isArray(value)) {
    return 1 + Math.max(0, ...value.map((entry) => measureDepth(entry)));
  }
  if (isRecord(value)) {
    return 1 + Math.max(0, ...Object.values(value).map((entry) => measureDepth(entry)));
  }
  return 0;
}
