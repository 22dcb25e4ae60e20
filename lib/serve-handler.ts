import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedHandler {
  /** e.g. `http://127.0.0.1:41234`: pass it as the SDK's `httpOptions.baseUrl`. */
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves a handler on 127.0.0.1 (port 0 picks a free one). */
export async function serveHandler(options: { handler: RequestListener; port: number }): Promise<ServedHandler> {
  const server = createServer(options.handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
