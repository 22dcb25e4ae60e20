/** What stands where a secret was, in recordings, logs and answers. */
export const redactedText = 'REDACTED';

export function redactText(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join(redactedText);
}

export function redactBytes(bytes: Buffer, secret: string): Buffer {
  if (secret === '') return bytes;
  const needle = Buffer.from(secret, 'utf8');
  let found = bytes.indexOf(needle);
  if (found === -1) return bytes;
  const replacement = Buffer.from(redactedText, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  while (found !== -1) {
    parts.push(bytes.subarray(start, found), replacement);
    start = found + needle.length;
    found = bytes.indexOf(needle, start);
  }
  parts.push(bytes.subarray(start));
  return Buffer.concat(parts);
}

export interface StreamRedactor {
  /** Redacts what can be redacted so far; holds back a tail that could be the start of the secret. */
  push(chunk: Buffer): Buffer;
  /** What was held back. */
  end(): Buffer;
}

/** Redacts a body that arrives in chunks, including a secret that is split across two chunks. */
export function createStreamRedactor(secret: string): StreamRedactor {
  const holdBack = Math.max(Buffer.byteLength(secret, 'utf8') - 1, 0);
  let held: Buffer = Buffer.alloc(0);
  return {
    push(chunk) {
      const redacted = redactBytes(held.length === 0 ? chunk : Buffer.concat([held, chunk]), secret);
      const keep = Math.min(holdBack, redacted.length);
      held = redacted.subarray(redacted.length - keep);
      return redacted.subarray(0, redacted.length - keep);
    },
    end() {
      const rest = held;
      held = Buffer.alloc(0);
      return rest;
    },
  };
}
