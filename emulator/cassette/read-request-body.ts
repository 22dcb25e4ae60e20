import type { IncomingMessage } from 'node:http';

/**
 * The whole request body. Requests are matched (and recorded) by a hash of their body, so it is read in full; the
 * largest the SDK sends is one 8 MiB upload chunk.
 */
export async function readRequestBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
