import type { IncomingMessage } from 'node:http';

/** The origin the client reached this server at, so URLs handed back lead to this server whatever its port. */
export function findRequestOrigin(request: IncomingMessage): string {
  const host = request.headers.host;
  if (host !== undefined && host !== '') return `http://${host}`;
  const address = request.socket.localAddress ?? '127.0.0.1';
  const shownAddress = address.includes(':') ? `[${address}]` : address;
  return `http://${shownAddress}:${request.socket.localPort ?? 80}`;
}
