import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { HttpProblem } from './http-problem.ts';

const maxBodyBytes = 16 * 1024;

/** `host:port` of an Origin header (lowercased by URL), or undefined for `null` or anything unparsable. */
function readOriginHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** The host a request was addressed to, without its port. */
export function readHostName(header: string | undefined): string | undefined {
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header ?? '');
  return match?.[1]?.toLowerCase();
}

/** Actions change things (and can spend money): only from this server's own page. */
export function checkActionOrigin(request: IncomingMessage): void {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw new HttpProblem(403, 'forbidden', 'Actions are taken only from the chargen UI page itself.');
  if (origin !== undefined && readOriginHost(origin) !== request.headers.host?.toLowerCase()) {
    throw new HttpProblem(403, 'forbidden', 'Actions are taken only from the chargen UI page itself.');
  }
}

/** An action's JSON body, at most 16 KiB. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) throw new HttpProblem(415, 'usage', 'Send the action as application/json.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new HttpProblem(413, 'usage', 'The request body is too large.');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new HttpProblem(400, 'usage', 'The request body is not JSON.');
  }
}

/** A body or query read with its schema; every problem in one 400. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpProblem(400, 'usage', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
  }
  return parsed.data;
}
