import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedHandler {
  server: Server;
  /** e.g. `http://127.0.0.1:41234`: pass it as the SDK's `httpOptions.baseUrl`. */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * Serves a handler on host:port, the one serve-on-a-port helper (the browser view, the cassette servers and the
 * emulator use it): it binds to loopback (127.0.0.1) unless told otherwise, and port 0 picks a free one.
 */
export async function serveHandler(options: { handler: RequestListener; port: number; host?: string | undefined }): Promise<ServedHandler> {
  const server = createServer(options.handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    baseUrl: `http://${shownHost}:${address.port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
