import { findJsonSchemaProblem } from './check-json-schema.ts';
import { findOpenApiProblem } from './check-openapi-schema.ts';

export type SchemaKind = 'openapi' | 'json-schema';
export type SchemaCheck = { ok: true } | { ok: false; message: string };

/** Validates a response schema the way the Gemini API does before generating. */
export function checkResponseSchema(options: { schema: unknown; kind: SchemaKind }): SchemaCheck {
  const problem =
    options.kind === 'openapi' ? findOpenApiProblem(options.schema) : findJsonSchemaProblem(options.schema);
  return problem === undefined ? { ok: true } : { ok: false, message: problem };
}
