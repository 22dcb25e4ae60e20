import { createServer, request as forward, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DroppingProxy {
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * A network that goes away for some calls: each request `drops` picks has its connection cut before any answer (as a
 * lost route or a dead Wi-Fi does); the rest reach `target` unchanged.
 */
export async function startDroppingProxy(options: { target: string; drops: (request: IncomingMessage) => boolean }): Promise<DroppingProxy> {
  const target = new URL(options.target);
  const server = createServer((request, response) => {
    if (options.drops(request)) {
      request.socket.destroy();
      return;
    }
    const upstream = forward(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: { ...request.headers, host: target.host } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A local port nothing listens on: connecting to it is refused at once, as with no network. */
export async function findClosedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
