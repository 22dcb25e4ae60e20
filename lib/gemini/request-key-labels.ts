import { z } from 'zod';
import { isRecord } from '../../schemas/is-record.ts';
import { hashCanonical } from '../canonical-json.ts';

/**
 * Vertex AI batch prediction brings no key back with an answer, only the request as it was sent (LiteLLM #14044), so
 * a line's key rides in the request's `labels`, which the echoed request carries. Not a hash of the echoed request:
 * Vertex re-serialises what it echoes (its proto JSON), so its bytes need not be ours. A label value holds at most 63
 * characters of [a-z0-9_-] (Google's "Custom metadata labels" page), and a key is 64 hex digits: it goes in two halves.
 */
const labelNames = ['chargen_key_1', 'chargen_key_2'] as const;
const keyPattern = /^[0-9a-f]{64}$/;

/** The request with the key's labels added to any it has (a key that is not 64 hex digits cannot be carried). */
export function addKeyLabels(options: { key: string; request: Record<string, unknown> }): Record<string, unknown> {
  if (!keyPattern.test(options.key)) throw new Error(`request key ${options.key} is not 64 hex digits: it cannot ride in Vertex AI labels`);
  const labels = isRecord(options.request['labels']) ? options.request['labels'] : {};
  return { ...options.request, labels: { ...labels, [labelNames[0]]: options.key.slice(0, 32), [labelNames[1]]: options.key.slice(32) } };
}

const keyLabelsSchema = z.object({ labels: z.object({ [labelNames[0]]: z.string().regex(/^[0-9a-f]{32}$/), [labelNames[1]]: z.string().regex(/^[0-9a-f]{32}$/) }) });

/** The key an echoed request carries in its labels, if it carries one. */
export function readKeyFromLabels(request: unknown): string | undefined {
  const parsed = keyLabelsSchema.safeParse(request);
  return parsed.success ? `${parsed.data.labels[labelNames[0]]}${parsed.data.labels[labelNames[1]]}` : undefined;
}

/**
 * A request's content without chargen's key labels, hashed: what an echoed request that lost its labels is matched by
 * (a fallback: Vertex may re-serialise what it echoes, and then nothing matches and the line goes again).
 */
export function fingerprintEchoedRequest(request: unknown): string | undefined {
  if (!isRecord(request)) return undefined;
  const { labels, ...rest } = request;
  const others = isRecord(labels) ? Object.fromEntries(Object.entries(labels).filter(([name]) => !(labelNames as readonly string[]).includes(name))) : {};
  return hashCanonical(Object.keys(others).length > 0 ? { ...rest, labels: others } : rest);
}
