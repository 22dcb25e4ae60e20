import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { toGeminiCallError } from '../../pipeline/gemini/call-with-retry.ts';
import { createGeminiClient } from '../../pipeline/gemini/create-gemini-client.ts';

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
});
