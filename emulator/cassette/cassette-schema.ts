import { z } from 'zod';

export const cassetteFileName = 'cassette.json';
export const bodiesDirectoryName = 'bodies';
/** Bodies above this size (images, result files, upload chunks) go to `bodies/<sha256>` beside the cassette. */
export const inlineBodyLimitBytes = 64 * 1024;
export { redactedText } from '../../lib/redact-secret.ts';
/**
 * Stands for the origin of whichever server answers from the cassette: the recording proxy's port is gone by the
 * time the cassette is replayed, so upload URLs are stored against this and filled in with the replay server's own.
 */
export const baseUrlPlaceholder = '{baseUrl}';

const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 as 64 lowercase hex digits');

const jsonValueSchema = z.json();
export type JsonValue = z.infer<typeof jsonValueSchema>;

export const recordedBodySchema = z.discriminatedUnion('encoding', [
  z.strictObject({ encoding: z.literal('empty') }),
  z.strictObject({ encoding: z.literal('json'), json: jsonValueSchema }),
  z.strictObject({ encoding: z.literal('text'), text: z.string() }),
  z.strictObject({ encoding: z.literal('base64'), base64: z.base64() }),
  z.strictObject({ encoding: z.literal('file'), sha256: sha256HexSchema, bytes: z.number().int().nonnegative() }),
]);
export type RecordedBody = z.infer<typeof recordedBodySchema>;

/** Lowercase header names; only the headers that matter to the protocol are kept. */
const recordedHeadersSchema = z.record(z.string().regex(/^[a-z0-9-]+$/, 'expected a lowercase header name'), z.string());

export const recordedRequestSchema = z.strictObject({
  method: z.string().regex(/^[A-Z]+$/, 'expected an uppercase HTTP method'),
  /** Path and query as the client sent them, with any `key=` parameter redacted. */
  url: z.string().startsWith('/'),
  headers: recordedHeadersSchema,
  /** What replay matches on: `json-sha256:` of the canonical JSON (key order ignored) or `sha256:` of the bytes. */
  bodyHash: z.string().regex(/^(json-sha256|sha256):[0-9a-f]{64}$/, 'expected json-sha256:<hex> or sha256:<hex>'),
  body: recordedBodySchema,
});
export type RecordedRequest = z.infer<typeof recordedRequestSchema>;

export const recordedResponseSchema = z.strictObject({
  status: z.number().int().min(100).max(599),
  headers: recordedHeadersSchema,
  body: recordedBodySchema,
});
export type RecordedResponse = z.infer<typeof recordedResponseSchema>;

export const interactionSchema = z.strictObject({ request: recordedRequestSchema, response: recordedResponseSchema });
export type Interaction = z.infer<typeof interactionSchema>;

export const cassetteSchema = z.strictObject({
  version: z.literal(1),
  /** The upstream base URL the cassette was recorded against, for the reader; replay never contacts it. */
  recordedAgainst: z.string(),
  /** In the order the requests arrived. */
  interactions: z.array(interactionSchema),
});
export type Cassette = z.infer<typeof cassetteSchema>;
