import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkResponseSchema, generateSchemaValue } from '../../emulator/schema/answer-schema.ts';
import { analysisFieldNames, analysisRecordSchema } from '../../schemas/analysis.ts';
import { toOpenApiSchema } from '../../lib/gemini/to-openapi-schema.ts';

const jsonSchema = z.toJSONSchema(analysisRecordSchema) as Record<string, unknown>;
const openApiSchema = toOpenApiSchema(jsonSchema);

describe('the AnalysisRecord response schema', () => {
  it('carries every field, with its description, in both forms', () => {
    expect(analysisFieldNames).toEqual([
      'archetype', 'species', 'apparent_age', 'visual_traits', 'clothing', 'notable_features',
      'colour_palette', 'mood', 'lighting', 'background', 'art_style', 'pose',
    ]);
    const jsonProperties = jsonSchema['properties'] as Record<string, { description?: string }>;
    const openApiProperties = openApiSchema['properties'] as Record<string, { description?: string; type: string }>;
    for (const field of analysisFieldNames) {
      expect(jsonProperties[field]?.description, field).toBe(analysisRecordSchema.shape[field].description);
      expect(openApiProperties[field]?.description, field).toBe(analysisRecordSchema.shape[field].description);
      expect(openApiProperties[field]?.type, field).toMatch(/^[A-Z]+$/);
    }
    expect(openApiSchema['propertyOrdering']).toEqual(analysisFieldNames);
    expect(openApiSchema['required']).toEqual(analysisFieldNames);
    expect(JSON.stringify(openApiSchema)).not.toMatch(/additionalProperties|\$schema|"string"|"integer"/);
  });

  it('is accepted by the API (as the emulator checks it) in both forms, and answers validate under the zod schema', () => {
    expect(checkResponseSchema({ schema: openApiSchema, kind: 'openapi' })).toEqual({ ok: true });
    expect(checkResponseSchema({ schema: jsonSchema, kind: 'json-schema' })).toEqual({ ok: true });
    for (let seed = 0; seed < 25; seed += 1) {
      expect(() => analysisRecordSchema.parse(generateSchemaValue({ schema: openApiSchema, kind: 'openapi', seed: `s${seed}` }))).not.toThrow();
      expect(() => analysisRecordSchema.parse(generateSchemaValue({ schema: jsonSchema, kind: 'json-schema', seed: `s${seed}` }))).not.toThrow();
    }
  });

  it('converts nullable, enum, $ref and exclusive bounds into the OpenAPI subset', () => {
    const shared = z.object({ name: z.string() });
    const schema = z.object({
      maybe: z.string().nullable(),
      choice: z.enum(['a', 'b']),
      first: shared,
      second: shared,
      positive: z.number().positive(),
    });
    const converted = toOpenApiSchema(z.toJSONSchema(schema, { reused: 'ref' }) as Record<string, unknown>);
    const properties = converted['properties'] as Record<string, Record<string, unknown>>;
    expect(properties['maybe']).toMatchObject({ type: 'STRING', nullable: true });
    expect(properties['choice']).toMatchObject({ type: 'STRING', format: 'enum', enum: ['a', 'b'] });
    expect(properties['second']).toMatchObject({ type: 'OBJECT', properties: { name: { type: 'STRING' } } });
    expect(properties['positive']).toMatchObject({ type: 'NUMBER', minimum: 0 });
    expect(checkResponseSchema({ schema: converted, kind: 'openapi' })).toEqual({ ok: true });
  });
});
