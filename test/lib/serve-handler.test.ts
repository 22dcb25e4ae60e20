import { describe, expect, it } from 'vitest';
import { serveHandler } from '../../lib/serve-handler.ts';

describe('serveHandler', () => {
  it('serves on loopback by default, on a free port, and names that address in its base URL', async () => {
    const served = await serveHandler({ handler: (_request, response) => response.end('served'), port: 0 });
    try {
      expect(served.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(served.baseUrl).toBe(`http://127.0.0.1:${(served.server.address() as { port: number }).port}`);
      expect(await (await fetch(served.baseUrl)).text()).toBe('served');
    } finally {
      await served.close();
    }
    expect(served.server.listening).toBe(false);
  });

  it('rejects when the port is taken, and leaves the first server serving', async () => {
    const first = await serveHandler({ handler: (_request, response) => response.end('first'), port: 0 });
    try {
      const port = Number(new URL(first.baseUrl).port);
      await expect(serveHandler({ handler: (_request, response) => response.end('second'), port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(await (await fetch(first.baseUrl)).text()).toBe('first');
    } finally {
      await first.close();
    }
  });
});
