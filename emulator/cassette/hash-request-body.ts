import { createHash } from 'node:crypto';
import { canonicalizeJson } from './canonicalize-json.ts';
import { parseJsonBytes } from './parse-json-bytes.ts';

/**
 * The body part of a replay match: JSON is hashed in canonical form because a replaying client may serialise the
 * same request with its keys in another order; anything else (upload chunks) by its bytes.
 */
export function hashRequestBody(bytes: Uint8Array): string {
  const json = parseJsonBytes(bytes);
  if (json !== undefined) return `json-sha256:${computeSha256(canonicalizeJson(json.value))}`;
  return `sha256:${computeSha256(bytes)}`;
}

export function computeSha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
