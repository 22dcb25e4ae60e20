import { createServer, request as forward, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CuttingProxy {
  baseUrl: string;
  /** How many answers were cut. */
  cuts(): number;
  close(): Promise<void>;
}

/**
 * A connection that breaks part-way through an answer: each request `cuts` picks gets the answer's status and headers
 * (its full content-length included) and about half its body, then the connection is destroyed, as a dropped
 * download looks to a client; the rest reach `target` unchanged.
 */
export async function startCuttingProxy(options: { target: string; cuts: (request: IncomingMessage) => boolean }): Promise<CuttingProxy> {
  const target = new URL(options.target);
  let cuts = 0;
  const server = createServer((request, response) => {
    const cut = options.cuts(request);
    const upstream = forward(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: { ...request.headers, host: target.host, 'accept-encoding': 'identity' } },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!cut) return void answer.pipe(response);
        cuts += 1;
        const half = Math.floor(Number(answer.headers['content-length'] ?? 0) / 2);
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= half) return;
          const part = chunk.subarray(0, half - sent);
          sent += part.length;
          response.write(part, () => {
            if (sent >= half) response.socket?.destroy();
          });
        });
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
