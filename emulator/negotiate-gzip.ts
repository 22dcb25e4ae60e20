import type { IncomingMessage, ServerResponse } from 'node:http';

// Kept on the response itself, so what one request negotiated never reaches another.
const gzipNegotiated = Symbol('chargen.emulator.gzipNegotiated');
type NegotiatedResponse = ServerResponse & { [gzipNegotiated]?: true };

/** Whether an Accept-Encoding header allows gzip: `gzip`, `x-gzip` or `*`, with a quality above 0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let wildcard = false;
  for (const entry of header.split(',')) {
    const [name = '', ...parameters] = entry.split(';').map((part) => part.trim().toLowerCase());
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    const allowed = quality === undefined || Number(quality.slice(2)) > 0;
    if (name === 'gzip' || name === 'x-gzip') return allowed;
    if (name === '*') wildcard = allowed;
  }
  return wildcard;
}

/**
 * The front end's choice for one answer: gzip when the quirk is on and the client accepts it. Node's fetch (undici)
 * always sends `accept-encoding: gzip, deflate`, so the SDK gets gzip; node:http sends nothing, so gets plain bytes.
 */
export function negotiateGzip(options: { request: IncomingMessage; response: ServerResponse; enabled: boolean }): void {
  if (options.enabled && acceptsGzip(options.request.headers['accept-encoding'])) {
    (options.response as NegotiatedResponse)[gzipNegotiated] = true;
  }
}

export function isGzipNegotiated(response: ServerResponse): boolean {
  return (response as NegotiatedResponse)[gzipNegotiated] === true;
}
