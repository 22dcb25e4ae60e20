import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import { createGeminiClient } from '../../lib/gemini/create-gemini-client.ts';
import { createRetryAfterFetch } from '../../lib/gemini/retry-after-fetch.ts';

describe('Retry-After through the SDK', () => {
  it('turns a Retry-After header into the retry delay the SDK error carries', async () => {
    // A server that only ever says "slow down": the real API may answer so through a proxy or load balancer.
    const server = createServer((_request, response) => {
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '9' });
      response.end('overloaded');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = createGeminiClient({ apiKey: 'k', baseUrl: `http://127.0.0.1:${port}` });
      const caught = await client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'x' }).catch((error: unknown) => error);
      const error = toGeminiCallError('generateContent', caught);
      expect(error.status).toBe(503);
      expect(error.isRetryable).toBe(true);
      expect(error.retryDelayMilliseconds).toBe(9000);
    } finally {
      server.close();
    }
  });

  it.each([
    ['without a RetryInfo', { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }, '3s'],
    ['with a RetryInfo of its own', { error: { code: 429, details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '4s' }] } }, '4s'],
  ])('rebuilds a gzip-encoded answer %s as plain JSON, claiming neither gzip nor the encoded length', async (_label, body, expectedDelay) => {
    const encoded = gzipSync(JSON.stringify(body));
    const server = createServer((_request, response) => {
      response.writeHead(429, { 'content-type': 'application/json; charset=UTF-8', 'content-encoding': 'gzip', 'content-length': String(encoded.length), 'retry-after': '3' });
      response.end(encoded);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await createRetryAfterFetch(fetch)(`http://127.0.0.1:${port}/v1beta/files`);
      expect(response.status).toBe(429);
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(response.headers.get('content-length')).toBeNull();
      const rebuilt = (await response.json()) as { error: { details: { retryDelay?: string }[] } };
      expect(rebuilt.error.details.map((detail) => detail.retryDelay)).toEqual([expectedDelay]);
    } finally {
      server.close();
    }
  });
});
