import type { JsonValue, RecordedBody } from './cassette-schema.ts';
import { decodeUtf8, parseJsonBytes } from './parse-json-bytes.ts';

/**
 * A small body as the cassette shows it: parsed JSON where JSON is meant (so a reader sees structure, not an
 * escaped string), UTF-8 text as text, anything else base64.
 */
export function encodeInlineBody(options: { bytes: Buffer; allowJson: boolean }): RecordedBody {
  if (options.bytes.length === 0) return { encoding: 'empty' };
  if (options.allowJson) {
    const json = parseJsonBytes(options.bytes);
    // JSON.parse only ever yields JSON values.
    if (json !== undefined) return { encoding: 'json', json: json.value as JsonValue };
  }
  const text = decodeUtf8(options.bytes);
  if (text !== undefined && !text.includes('\u0000')) return { encoding: 'text', text };
  return { encoding: 'base64', base64: options.bytes.toString('base64') };
}
