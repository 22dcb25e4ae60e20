const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as JSON when they are UTF-8 JSON text, otherwise `undefined` (binary, JSONL with several lines, empty). */
export function parseJsonBytes(bytes: Uint8Array): { value: unknown } | undefined {
  if (bytes.length === 0) return undefined;
  const text = decodeUtf8(bytes);
  if (text === undefined) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** The bytes as text when they are valid UTF-8, otherwise `undefined`. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
