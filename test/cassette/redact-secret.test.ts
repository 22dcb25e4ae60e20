import { describe, expect, it } from 'vitest';
import { hashRequestBody } from '../../emulator/cassette/hash-request-body.ts';
import { createStreamRedactor, redactBytes } from '../../lib/redact-secret.ts';
import { normalizeRequestTarget, rewriteHandedOutUrl } from '../../emulator/cassette/request-target.ts';

const secret = 'fakeKeySecretKey-0123';

describe('redacting a key from a streamed body', () => {
  it('catches the key however the chunks split it', () => {
    const text = `before ${secret} middle ${secret}${secret} after ${secret.slice(0, 5)}`;
    const expected = `before REDACTED middle REDACTEDREDACTED after ${secret.slice(0, 5)}`;
    for (let first = 0; first <= text.length; first += 1) {
      for (const second of [first, Math.min(first + 3, text.length), Math.min(first + 17, text.length)]) {
        const redactor = createStreamRedactor(secret);
        const bytes = Buffer.from(text);
        const parts = [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)].map((part) => redactor.push(part));
        expect(Buffer.concat([...parts, redactor.end()]).toString()).toBe(expected);
      }
    }
  });

  it('leaves bytes without the key as they are', () => {
    const bytes = Buffer.from([0, 255, 1, 2, 3]);
    expect(redactBytes(bytes, secret)).toEqual(bytes);
  });
});

describe('matching requests', () => {
  it('hashes JSON bodies without regard to key order, and other bodies by their bytes', () => {
    expect(hashRequestBody(Buffer.from('{"a":1,"b":{"c":[1,{"d":2,"e":3}]}}'))).toBe(hashRequestBody(Buffer.from('{ "b": {"c": [1, {"e": 3, "d": 2}]}, "a": 1 }')));
    expect(hashRequestBody(Buffer.from('{"a":[1,2]}'))).not.toBe(hashRequestBody(Buffer.from('{"a":[2,1]}')));
    expect(hashRequestBody(Buffer.from('{"a":1}\n{"b":2}'))).toMatch(/^sha256:/);
  });

  it('ignores the key and the order of query parameters', () => {
    expect(normalizeRequestTarget('/v1beta/files?pageToken=t&key=x&pageSize=10')).toBe('/v1beta/files?pageSize=10&pageToken=t');
  });

  it('moves an upload URL to another origin, dropping any key', () => {
    expect(rewriteHandedOutUrl({ url: 'https://example.com/upload/v1beta/files?upload_id=u1&key=k&upload_protocol=resumable', origin: 'http://127.0.0.1:9' }))
      .toBe('http://127.0.0.1:9/upload/v1beta/files?upload_id=u1&upload_protocol=resumable');
  });
});
