import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DroppingProxy {
  baseUrl: string;
  /** How many answers `cuts` cut part-way. */
  cuts(): number;
  close(): Promise<void>;
}

/** Sends the answer's status and headers (its whole content-length included) and about half its body, then drops the connection. */
function sendHalfThenDrop(answer: IncomingMessage, response: ServerResponse): void {
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
}

/**
 * A network that goes away for some calls: each request `drops` picks has its connection cut before any answer (as a
 * lost route or a dead Wi-Fi does); each one `cuts` picks gets its answer's status, headers and about half its body,
 * then the connection is cut (as a download dropped part-way looks to a client); the rest reach `target` unchanged,
 * `observes` seeing each.
 */
export async function startDroppingProxy(options: {
  target: string;
  drops?: (request: IncomingMessage) => boolean;
  cuts?: (request: IncomingMessage) => boolean;
  /** Sees each forwarded request with its whole body, once sent on (what a client put on the wire). */
  observes?: (request: IncomingMessage, body: Buffer) => void;
}): Promise<DroppingProxy> {
  const target = new URL(options.target);
  let cuts = 0;
  const server = createServer((request, response) => {
    if (options.drops?.(request)) {
      request.socket.destroy();
      return;
    }
    const cut = options.cuts?.(request) === true;
    const headers = { ...request.headers, host: target.host, ...(cut ? { 'accept-encoding': 'identity' } : {}) };
    const upstream = forward({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      if (!cut) return void answer.pipe(response);
      cuts += 1;
      sendHalfThenDrop(answer, response);
    });
    upstream.on('error', () => response.destroy());
    if (options.observes) {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => options.observes?.(request, Buffer.concat(chunks)));
    }
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

/** A local port nothing listens on: connecting to it is refused at once, as with no network. */
export async function findClosedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
